#!/usr/bin/python3
"""Syncing N Pods into a Python-visible cache: the kube_informer module vs `json.loads` of the
raw list (what a hand-written Python list+watch starts from), side by side against one `kinf serve`.

Each measurement runs in a fresh process; the table gives medians over --reps runs:
  module:  SharedInformerFactory (JSON; module-protobuf: protobuf, the default) -> start -> wait_for_handlers_sync (list, decode, cache, and one
           Python on_add per Pod returned); RSS growth of the process.
  raw:     GET /api/v1/pods (JSON) with urllib, json.loads, then a dict by namespace/name; RSS
           growth.
  python:  the official client's typed list_pod_for_all_namespaces, when `kubernetes` imports
           (Debian: python3-kubernetes); skipped otherwise.

Then watch events: one Python handler on ConfigMaps that `kinf serve --churn 100000` changes as
fast as it can; handler calls per second over --watch-seconds.

Usage: PYTHONPATH=build/python bench/python_sync.py [--kinf build/tools/kinf/kinf] [--pods N]
       [--reps R] [--watch-seconds S] [--skip-official]
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def pod(i: int) -> dict:
    """A Pod of about 1.7 KB of JSON: labels, an owner, two containers, status, managedFields."""
    name = f"pod-{i:06d}"
    app = f"app-{i % 50}"
    container = {
        "name": "main", "image": f"registry.example.com/{app}:1.{i % 7}",
        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
        "env": [{"name": f"VAR_{k}", "value": f"value-{k}-{i}"} for k in range(4)],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                      "limits": {"cpu": "500m", "memory": "256Mi"}},
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080},
                           "periodSeconds": 10},
    }
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "namespace": f"ns-{i % 20}",
            "labels": {"app": app, "tier": "web" if i % 2 else "api", "pod-template-hash": "5d9f"},
            "annotations": {"example.com/revision": str(i % 11)},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                 "name": f"{app}-5d9f", "uid": f"uid-{i % 50:08d}",
                                 "controller": True, "blockOwnerDeletion": True}],
            "managedFields": [{"manager": "kube-controller-manager", "operation": "Update",
                               "apiVersion": "v1", "fieldsType": "FieldsV1",
                               "fieldsV1": {"f:metadata": {"f:labels": {"f:app": {}}},
                                            "f:spec": {"f:containers": {}}}}],
        },
        "spec": {"nodeName": f"node-{i % 100}", "containers": [container, dict(container,
                                                                                 name="sidecar")],
                 "restartPolicy": "Always", "serviceAccountName": "default"},
        "status": {"phase": "Running", "podIP": f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}",
                   "conditions": [{"type": "Ready", "status": "True"}]},
    }


MODULE = r"""
import json, resource, sys, time, kube_informer as ki
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096
cfg = ki.load_kubeconfig(sys.argv[1])
base = rss()
t0 = time.perf_counter()
client = ki.Client(cfg, protobuf=sys.argv[2] == "protobuf")
adds = [0]
def on_add(o):
    adds[0] += 1
with ki.SharedInformerFactory(client) as f:
    pods = f.core.v1.pods
    pods.add_event_handler(on_add=on_add)
    f.start()
    assert f.wait_for_handlers_sync(600)
    secs = time.perf_counter() - t0
    n = len(pods.lister)
    print(json.dumps({"seconds": secs, "objects": n, "adds": adds[0], "rss": rss() - base}))
"""

RAW = r"""
import json, sys, time, urllib.request, yaml
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096
server = yaml.safe_load(open(sys.argv[1]))["clusters"][0]["cluster"]["server"]
base = rss()
t0 = time.perf_counter()
req = urllib.request.Request(server + "/api/v1/pods", headers={"Accept": "application/json"})
body = urllib.request.urlopen(req, timeout=600).read()
items = json.loads(body)["items"]
del body
cache = {p["metadata"]["namespace"] + "/" + p["metadata"]["name"]: p for p in items}
secs = time.perf_counter() - t0
print(json.dumps({"seconds": secs, "objects": len(cache), "rss": rss() - base}))
"""

WATCH = r"""
import json, sys, time, kube_informer as ki
n = [0]
def h(*a):
    n[0] += 1
with ki.SharedInformerFactory(ki.Client(ki.load_kubeconfig(sys.argv[1]), protobuf=False)) as f:
    cm = f.core.v1.configmaps
    cm.add_event_handler(h, h, h)
    f.start()
    assert f.wait_for_cache_sync(60)
    time.sleep(1)
    a, w, t = n[0], cm.stats()["watch_events"], time.perf_counter()
    time.sleep(float(sys.argv[2]))
    secs = time.perf_counter() - t
    st = cm.stats()
    print(json.dumps({"calls_per_s": (n[0] - a) / secs, "events_per_s": (st["watch_events"] - w) / secs,
                      "backlog": st["handlers"][0]["queue_depth"]}))
"""

OFFICIAL = r"""
import json, sys, time
from kubernetes import client, config
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096
config.load_kube_config(sys.argv[1])
base = rss()
t0 = time.perf_counter()
items = client.CoreV1Api().list_pod_for_all_namespaces().items
cache = {p.metadata.namespace + "/" + p.metadata.name: p for p in items}
secs = time.perf_counter() - t0
print(json.dumps({"seconds": secs, "objects": len(cache), "rss": rss() - base}))
"""


def run(code: str, kubeconfig: str, arg: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, kubeconfig, arg], capture_output=True, text=True,
                         timeout=1200, env=os.environ.copy())
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kinf", default=str(ROOT / "build" / "tools" / "kinf" / "kinf"))
    ap.add_argument("--pods", type=int, default=10000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--watch-seconds", type=float, default=3)
    ap.add_argument("--skip-official", action="store_true",
                    help="leave out the official client (minutes and gigabytes at 100,000 Pods)")
    args = ap.parse_args()

    work = pathlib.Path(tempfile.mkdtemp(prefix="kinf-pybench-"))
    manifest = work / "pods.json"
    namespaces = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"ns-{k}"}}
                  for k in range(20)]
    items = namespaces + [pod(i) for i in range(args.pods)]
    manifest.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    json_bytes = sum(len(json.dumps(p, separators=(",", ":"))) for p in items[20:])
    kubeconfig = work / "kubeconfig"
    log = open(work / "server.log", "w")
    server = subprocess.Popen([args.kinf, "serve", "--listen", "127.0.0.1:0", "--seed",
                               str(manifest), "--history-mib", "4096",
                               "--write-kubeconfig", str(kubeconfig)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 600
        while "kubeconfig written to" not in (work / "server.log").read_text():
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((work / "server.log").read_text())
            time.sleep(0.1)
        measures = {"module": (MODULE, "json"), "module-protobuf": (MODULE, "protobuf"),
                    "raw": (RAW, "")}
        try:
            if args.skip_official:
                raise subprocess.CalledProcessError(0, "--skip-official")
            subprocess.run([sys.executable, "-c", "import kubernetes"], check=True,
                           capture_output=True)
            measures["python"] = (OFFICIAL, "")
        except subprocess.CalledProcessError:
            print("# the official client: skipped (--skip-official, or python3-kubernetes missing)")
        results = {name: [] for name in measures}
        for _ in range(args.reps):
            for name, (code, arg) in measures.items():  # interleaved: noise hits all alike
                results[name].append(run(code, str(kubeconfig), arg))
    finally:
        server.terminate()
        server.wait()

    def med(name, key):
        return statistics.median(r[key] for r in results[name])

    print(f"# {args.pods} Pods, {json_bytes / args.pods:.0f} bytes of JSON each, "
          f"medians of {args.reps} runs, each in a fresh process")
    print(f"| measurement | {' | '.join(results)} |")
    print(f"|---|{'---|' * len(results)}")
    print("| seconds to a synced cache | " +
          " | ".join(f"{med(n, 'seconds'):.3f}" for n in results) + " |")
    print("| Pods/s | " + " | ".join(f"{args.pods / med(n, 'seconds'):,.0f}" for n in results) +
          " |")
    print("| RSS growth, MB | " + " | ".join(f"{med(n, 'rss') / 1e6:.0f}" for n in results) + " |")
    base = med("module", "seconds")
    print("| time / module's | " + " | ".join(f"{med(n, 'seconds') / base:.1f}x" for n in results)
          + " |")
    adds = statistics.median(r["adds"] for r in results["module"])
    print(f"# module: {adds:.0f} on_add calls delivered to one Python handler during the sync "
          f"({adds / base:,.0f}/s, list and decode included)")

    # Watch events: the server churns ConfigMaps as fast as it can (--churn 100000); one Python
    # handler counts its calls over --watch-seconds. A growing backlog means the handler, not the
    # server, sets the pace.
    kubeconfig = work / "kubeconfig-watch"
    log = open(work / "server-watch.log", "w")
    server = subprocess.Popen([args.kinf, "serve", "--listen", "127.0.0.1:0", "--churn", "100000",
                               "--churn-resources", "configmaps",
                               "--write-kubeconfig", str(kubeconfig)], stdout=log, stderr=log)
    try:
        while "kubeconfig written to" not in (work / "server-watch.log").read_text():
            if server.poll() is not None:
                raise RuntimeError((work / "server-watch.log").read_text())
            time.sleep(0.1)
        runs = [run(WATCH, str(kubeconfig), str(args.watch_seconds)) for _ in range(args.reps)]
    finally:
        server.terminate()
        server.wait()
    print(f"# watch: {statistics.median(r['calls_per_s'] for r in runs):,.0f} handler calls/s "
          f"(server sent {statistics.median(r['events_per_s'] for r in runs):,.0f} events/s; "
          f"backlog at the end {statistics.median(r['backlog'] for r in runs):,.0f})")


if __name__ == "__main__":
    main()
