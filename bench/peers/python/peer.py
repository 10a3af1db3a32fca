#!/usr/bin/python3
"""The official Python client (Debian's python3-kubernetes) as a peer in bench/e2e.py.

  peer.py sync KUBECONFIG
      list_pod_for_all_namespaces (typed models, the client's default), time and RSS per object.
  peer.py latency KUBECONFIG EVENTS
      list then watch namespace bench-watch; prints "ready", then records write->handler
      latency of EVENTS updates written at the fixed rate.
  peer.py throughput KUBECONFIG RV0 EVENTS
      EVENTS updates were written after RV0: watch from RV0 and time their replay.

Prints one JSON object as its last line. The write time comes in an annotation as
CLOCK_MONOTONIC nanoseconds (time.monotonic_ns reads the same clock).
"""
import gc
import json
import sys
import time

from kubernetes import client, config, watch

ANNOTATION = "bench.kube-informer.io/written-ns"


def rss():
    gc.collect()
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def percentile(v, p):
    if not v:
        return 0
    s = sorted(v)
    return s[min(len(s) - 1, int(p * len(s)))]


def sync(api):
    before = rss()
    start = time.monotonic()
    pods = api.list_pod_for_all_namespaces()
    seconds = time.monotonic() - start
    cache = {(p.metadata.namespace, p.metadata.name): p for p in pods.items}
    after = rss()
    n = len(cache)
    print(json.dumps({"figure": "sync", "objects": n, "sync_seconds": seconds,
                      "objects_per_second": n / seconds, "rss_before": before,
                      "rss_synced": after, "rss_per_object": (after - before) / n}))


def latency(api, events):
    listed = api.list_namespaced_pod("bench-watch")
    w = watch.Watch()
    stream = w.stream(api.list_namespaced_pod, "bench-watch",
                      resource_version=listed.metadata.resource_version, timeout_seconds=120)
    print("ready", flush=True)  # a watch resumes from the list's version: nothing is missed
    lat, count = [], 0
    for event in stream:
        now = time.monotonic_ns()
        if event["type"] != "MODIFIED":
            continue
        ann = event["object"].metadata.annotations or {}
        if ANNOTATION in ann:
            lat.append(now - int(ann[ANNOTATION]))
        count += 1
        if count == events:
            break
    w.stop()
    print(json.dumps({"figure": "watch", "latency_events": count,
                      "latency_p50_us": percentile(lat, 0.5) / 1e3,
                      "latency_p99_us": percentile(lat, 0.99) / 1e3,
                      "latency_max_us": percentile(lat, 1.0) / 1e3}))


def throughput(api, rv0, events):
    """The updates were written after rv0: watch from there and time their replay."""
    t0 = time.monotonic_ns()
    w = watch.Watch()
    count, last = 0, t0
    for event in w.stream(api.list_namespaced_pod, "bench-watch", resource_version=rv0,
                          timeout_seconds=120):
        last = time.monotonic_ns()
        if event["type"] == "MODIFIED":
            count += 1
            if count == events:
                break
    w.stop()
    print(json.dumps({"figure": "watch", "throughput_events": count,
                      "throughput_events_per_second": count / max(1e-9, (last - t0) / 1e9)}))


def main():
    mode, kubeconfig = sys.argv[1], sys.argv[2]
    config.load_kube_config(config_file=kubeconfig)
    # The generated Pods omit containerStatuses[].imageID, which the models' client-side
    # validation rejects; each model builds its own Configuration(), so switch it off there.
    init = client.Configuration.__init__

    def init_without_validation(self, *a, **kw):
        init(self, *a, **kw)
        self.client_side_validation = False

    client.Configuration.__init__ = init_without_validation
    conf = client.Configuration.get_default_copy()
    api = client.CoreV1Api(client.ApiClient(conf))
    if mode == "sync":
        sync(api)
    elif mode == "latency":
        latency(api, int(sys.argv[3]))
    elif mode == "throughput":
        throughput(api, sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit("usage: peer.py sync|latency|throughput KUBECONFIG ...")


if __name__ == "__main__":
    main()
