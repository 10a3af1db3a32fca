#!/usr/bin/python3
"""Process start to `synced` of `kinf sync pods -A` against one `kinf serve`, beside simdjson's
parse speed over the same list body, measured in the same run (docs/benchmarks.md, "Parallel
decode").

One `kinf serve` is seeded with N generated Pods (bench/python_sync.py's Pod, about 1.7 KB of JSON
with managedFields). The JSON list body is fetched once and saved; `pipeline_profile decode-file`
parses it with simdjson's DOM (and `DecodeList`). Then, interleaved per repetition, each `kinf`
binary given (e.g. the one before a change and the one after) runs `kinf sync pods -A` in JSON
and in protobuf: the time from spawning the process to its `synced N` line, and the process's
VmRSS and VmHWM at that moment (the whole process: binary, libraries, threads, cache). Medians of
--reps.

Usage: bench/kinf_sync_e2e.py --kinf OLD --kinf NEW --profile build/bench/pipeline_profile
       [--pods 100000] [--reps 3] [--taskset CPUS]
"""
import argparse
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from python_sync import pod  # noqa: E402


def proc_status(pid: int) -> dict:
    out = {}
    for line in open(f"/proc/{pid}/status"):
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM"):
            out[k] = int(v.split()[0]) * 1024
    return out


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(stat_path: str) -> tuple:
    """(comm, user + system CPU seconds) from a /proc/.../stat file."""
    text = open(stat_path).read()
    comm = text[text.index("(") + 1:text.rindex(")")]
    fields = text[text.rindex(")") + 2:].split()
    return comm, (int(fields[11]) + int(fields[12])) / TICK


def threads_cpu(pid: int) -> dict:
    """CPU seconds per thread name of process `pid`."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            comm, secs = cpu_seconds(f"/proc/{pid}/task/{tid}/stat")
        except OSError:
            continue
        out[comm] = out.get(comm, 0) + secs
    return out


def sync_once(kinf: str, kubeconfig: str, protobuf: bool, taskset: str, server_pid: int) -> dict:
    cmd = [kinf, "sync", "pods", "-A", "--kubeconfig", kubeconfig,
           f"--protobuf={'true' if protobuf else 'false'}"]
    if taskset:
        cmd = ["taskset", "-c", taskset] + cmd
    server_cpu0 = cpu_seconds(f"/proc/{server_pid}/stat")[1]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        for line in p.stdout:
            m = re.match(r"synced (\d+)", line)
            if m:
                secs = time.perf_counter() - t0
                st = proc_status(p.pid)
                threads = threads_cpu(p.pid)
                return {"seconds": secs, "objects": int(m.group(1)), "rss": st["VmRSS"],
                        "hwm": st["VmHWM"], "threads": threads,
                        "client_cpu": sum(threads.values()),
                        "server_cpu": cpu_seconds(f"/proc/{server_pid}/stat")[1] - server_cpu0}
        raise RuntimeError(f"{kinf}: no `synced` line")
    finally:
        p.kill()
        p.wait()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kinf", action="append", required=True)
    ap.add_argument("--profile", required=True, help="pipeline_profile (for decode-file)")
    ap.add_argument("--pods", type=int, default=100000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--taskset", default="", help="run the clients on these CPUs only")
    args = ap.parse_args()

    work = pathlib.Path(tempfile.mkdtemp(prefix="kinf-e2e-"))
    manifest = work / "pods.json"
    namespaces = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"ns-{k}"}}
                  for k in range(20)]
    manifest.write_text(json.dumps({"apiVersion": "v1", "kind": "List",
                                    "items": namespaces + [pod(i) for i in range(args.pods)]}))
    kubeconfig = work / "kubeconfig"
    log = open(work / "server.log", "w")
    server = subprocess.Popen([args.kinf[-1], "serve", "--listen", "127.0.0.1:0", "--seed",
                               str(manifest), "--history-mib", "4096",
                               "--write-kubeconfig", str(kubeconfig)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 600
        while "kubeconfig written to" not in (work / "server.log").read_text():
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((work / "server.log").read_text())
            time.sleep(0.1)
        url = re.search(r"server: \"?([^\s\"]+)", kubeconfig.read_text()).group(1)
        req = urllib.request.Request(url + "/api/v1/pods", headers={"Accept": "application/json"})
        body = urllib.request.urlopen(req, timeout=600).read()
        (work / "body.json").write_bytes(body)
        items = json.loads(body)["items"]
        json_bytes = sum(len(json.dumps(i, separators=(",", ":"), ensure_ascii=False).encode())
                         for i in items)
        del items
        results = {}
        dom = []
        for _ in range(args.reps):
            out = subprocess.run([args.profile, "decode-file", str(work / "body.json")],
                                 capture_output=True, text=True, check=True).stdout
            dom.append(float(re.search(r"dom_MBps=(\d+)", out).group(1)))
            for k, kinf in enumerate(args.kinf):
                for protobuf in (False, True):
                    key = f"{k}:{'protobuf' if protobuf else 'json'}"
                    results.setdefault(key, []).append(
                        sync_once(kinf, str(kubeconfig), protobuf, args.taskset, server.pid))
    finally:
        server.terminate()
        server.wait()

    load = open("/proc/loadavg").read().split()[:3]
    print(f"# {args.pods} Pods, body {len(body) / 1e6:.1f} MB, objects' JSON "
          f"{json_bytes / 1e6:.1f} MB; medians of {args.reps}; load average {' '.join(load)}")
    print(f"# simdjson DOM over the body: {statistics.median(dom):.0f} MB/s (runs {dom})")
    for k, kinf in enumerate(args.kinf):
        print(f"# [{k}] {kinf}")
    print("| binary | encoding | seconds to synced | MB/s of JSON | / simdjson | RSS at synced "
          "| RSS / JSON | VmHWM / JSON |")
    print("|---|---|---|---|---|---|---|---|")
    dom_med = statistics.median(dom)
    for key, runs in results.items():
        secs = statistics.median(r["seconds"] for r in runs)
        rss = statistics.median(r["rss"] for r in runs)
        hwm = statistics.median(r["hwm"] for r in runs)
        mbps = json_bytes / 1e6 / secs
        each = ", ".join("%.3f" % r["seconds"] for r in runs)
        binary, encoding = key.split(":")
        print(f"| {binary} | {encoding} | {secs:.3f} (runs {each}) | {mbps:.0f} | "
              f"{mbps / dom_med:.2f} | {rss / 1e6:.0f} MB | {rss / json_bytes:.3f} | "
              f"{hwm / json_bytes:.3f} |")
    print("\nCPU seconds to synced (medians): client by thread name, and the server meanwhile")
    for key, runs in results.items():
        names = sorted({n for r in runs for n in r["threads"]})
        per = {n: statistics.median(r["threads"].get(n, 0) for r in runs) for n in names}
        client = statistics.median(r["client_cpu"] for r in runs)
        srv = statistics.median(r["server_cpu"] for r in runs)
        secs = statistics.median(r["seconds"] for r in runs)
        print(f"{key}: wall {secs:.2f} s; client {client:.2f} CPU-s "
              f"({', '.join(f'{n} {v:.2f}' for n, v in per.items() if v >= 0.01)}); "
              f"server {srv:.2f} CPU-s; (client + server) / 2 cores = {(client + srv) / 2:.2f} s")


if __name__ == "__main__":
    main()
