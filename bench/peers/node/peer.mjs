// The @kubernetes/client-node informer as a peer in the end-to-end benchmark (bench/e2e.py).
//
//   node --expose-gc peer.mjs sync KUBECONFIG EXPECTED_PODS
//     informer over all Pods; time from start() to the last initial "add", RSS per object.
//   node peer.mjs latency KUBECONFIG EVENTS
//     informer over namespace bench-watch; prints "ready", then records write->handler latency
//     of EVENTS updates written at the fixed rate.
//   node peer.mjs throughput KUBECONFIG RV0 EVENTS
//     EVENTS updates were written after RV0: lists at RV0 (Exact) and times their replay.
// Prints one JSON object as its last line. Latency uses the write time the server puts in an
// annotation (CLOCK_MONOTONIC ns; process.hrtime.bigint() reads the same clock).
import * as k8s from '@kubernetes/client-node';

const [mode, kubeconfig, a, b] = process.argv.slice(2);
const kc = new k8s.KubeConfig();
kc.loadFromFile(kubeconfig);
// The bench server speaks plain HTTP on 127.0.0.1; client-node 1.x refuses http:// unless
// skipTLSVerify is set (there is no TLS to verify).
kc.loadFromOptions({clusters: kc.clusters.map((c) => ({...c, skipTLSVerify: true})),
  users: kc.users, contexts: kc.contexts, currentContext: kc.currentContext});
const api = kc.makeApiClient(k8s.CoreV1Api);
const ANNOTATION = 'bench.kube-informer.io/written-ns';

function rss() {
  if (global.gc) { global.gc(); global.gc(); }
  return process.memoryUsage().rss;
}

async function sync(expected) {
  const before = rss();
  const informer = k8s.makeInformer(kc, '/api/v1/pods', () => api.listPodForAllNamespaces());
  let adds = 0;
  const start = process.hrtime.bigint();
  const done = new Promise((resolve) => {
    informer.on('add', () => { if (++adds === expected) resolve(); });
  });
  informer.on('error', (err) => { console.error('informer error', err); });
  await informer.start();
  await done;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const after = rss();
  await informer.stop();
  console.log(JSON.stringify({figure: 'sync', objects: adds, sync_seconds: seconds,
    objects_per_second: adds / seconds, rss_before: before, rss_synced: after,
    rss_per_object: (after - before) / adds}));
  process.exit(0);
}

function percentile(v, p) {
  if (!v.length) return 0;
  const s = Float64Array.from(v).sort();
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

const timeout = (s) => new Promise((r) => setTimeout(r, s * 1000));

// Prints "ready" once watching; the driver then writes at the fixed rate.
async function latency(events) {
  const informer = k8s.makeInformer(kc, '/api/v1/namespaces/bench-watch/pods',
    () => api.listNamespacedPod({namespace: 'bench-watch'}));
  const lat = [];
  let count = 0, resolveDone;
  const done = new Promise((r) => { resolveDone = r; });
  informer.on('update', (obj) => {
    const now = process.hrtime.bigint();
    const w = obj.metadata?.annotations?.[ANNOTATION];
    if (w) lat.push(Number(now - BigInt(w)));
    if (++count === events) resolveDone();
  });
  informer.on('error', (err) => { console.error('informer error', err); });
  await informer.start();
  await timeout(0.2);  // the watch request is open
  console.log('ready');
  await Promise.race([done, timeout(60)]);
  console.log(JSON.stringify({figure: 'watch', latency_events: count,
    latency_p50_us: percentile(lat, 0.5) / 1e3, latency_p99_us: percentile(lat, 0.99) / 1e3,
    latency_max_us: percentile(lat, 1.0) / 1e3}));
  process.exit(0);
}

// The burst is already written: list the state before it (Exact) and take the replay.
async function throughput(rv0, events) {
  const informer = k8s.makeInformer(kc, '/api/v1/namespaces/bench-watch/pods',
    () => api.listNamespacedPod({namespace: 'bench-watch', resourceVersion: rv0,
                                 resourceVersionMatch: 'Exact'}));
  let count = 0, last = 0n, resolveDone;
  const done = new Promise((r) => { resolveDone = r; });
  informer.on('update', () => {
    last = process.hrtime.bigint();
    if (++count === events) resolveDone();
  });
  informer.on('error', (err) => { console.error('informer error', err); });
  const t0 = process.hrtime.bigint();
  await informer.start();
  await Promise.race([done, timeout(120)]);
  const seconds = Number((last || process.hrtime.bigint()) - t0) / 1e9;
  console.log(JSON.stringify({figure: 'watch', throughput_events: count,
    throughput_events_per_second: count / seconds}));
  process.exit(0);
}

if (mode === 'sync') await sync(Number(a));
else if (mode === 'latency') await latency(Number(a));
else if (mode === 'throughput') await throughput(a, Number(b));
else { console.error('usage: peer.mjs sync|latency|throughput KUBECONFIG ...'); process.exit(2); }
