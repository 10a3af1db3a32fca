#!/usr/bin/python3
"""End-to-end benchmark driver: our informer and the peers against one server.

Starts `informer_bench serve` with N Pods, then, for each repetition, runs every measurement in
a fresh process: our informer (`informer_bench client sync|watch|factory`; built-in kinds read in
protobuf, the library's default, and again in JSON with `--json`, side by side; sync also with
the managedFields transform), the @kubernetes/client-node informer, `kubectl get pods -A -o json`,
and the official Python client. With `--kinf`, the command-line figure: `kinf get pods -A -o
name|json` against `kubectl get pods -A -o name|json`, whole processes (wall and CPU time).
With `--lister-bin`, `lister_bench` at the same N (an in-memory store: no server). Writes the
medians (and every raw run) as JSON and prints a table with our ratio to each peer. bench/run.sh
is the one command around it.

Usage: e2e.py --bin PATH/informer_bench --pods N [--reps R] [--out FILE] [--peers node,kubectl,python]
              [--kinf PATH/kinf] [--lister-bin PATH/lister_bench]
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PYTHON = "/usr/bin/python3"  # Debian's, which has python3-kubernetes (not pyenv's)


def control(sock, command):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(sock)
        s.sendall((command + "\n").encode())
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.decode().strip()


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    return None


def peak_rss_of(cmd, timeout, **kw):
    """Runs cmd, returning (stdout, stderr, wall seconds, peak RSS in bytes, returncode)."""
    start = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen(cmd, stdout=out, stderr=err, **kw)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                p.kill()
            time.sleep(0.005)
        wall = time.monotonic() - start
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (out.read().decode(), err.read().decode(), wall, usage.ru_maxrss * 1024,
                p.returncode)


def run_measured(cmd, timeout, **kw):
    """Runs cmd with stdout in a file: (stdout bytes, stderr text, wall s, CPU s (user + sys),
    peak RSS bytes, returncode). The peak comes from /usr/bin/time when it is there: wait4's
    ru_maxrss also counts the forked copy of this Python process before the exec (about 100 MB
    once it holds a few outputs), which swamps a small command's own peak."""
    start = time.monotonic()
    timing = tempfile.NamedTemporaryFile(prefix="kinf-e2e-time-", delete=False)
    timing.close()
    if os.path.exists("/usr/bin/time"):
        cmd = ["/usr/bin/time", "-f", "%M", "-o", timing.name] + cmd
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen(cmd, stdout=out, stderr=err, **kw)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                p.kill()
            time.sleep(0.002)
        wall = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        peak = usage.ru_maxrss * 1024
        try:
            with open(timing.name) as f:
                peak = int(f.read().split()[-1]) * 1024
        except (OSError, ValueError, IndexError):
            pass
        os.unlink(timing.name)
        return (out.read(), err.read().decode(errors="replace"), wall,
                usage.ru_utime + usage.ru_stime, peak, os.waitstatus_to_exitcode(status))


def cli_figure(cmd, output, expected, timeout):
    """One `get pods -A -o OUTPUT` process (kinf or kubectl): its wall and CPU time and peak RSS,
    checked to have printed `expected` Pods. None when it failed."""
    out, err, wall, cpu, peak, rc = run_measured(cmd, timeout)
    if rc != 0:
        sys.stderr.write(f"{cmd} exited {rc}: {err[-2000:]}\n")
        return None
    if output == "name":
        n = out.count(b"\npod/") + (1 if out.startswith(b"pod/") else 0)
    else:  # kinf writes minified JSON, kubectl indented
        n = out.count(b'"kind":"Pod"') + out.count(b'"kind": "Pod"')
    if n != expected:
        sys.stderr.write(f"{cmd} printed {n} Pods, want {expected}\n")
        return None
    return {"objects": n, "seconds": wall, "cpu_seconds": cpu, "peak_rss": peak,
            "output_bytes": len(out), "objects_per_second": n / wall}


def lister_figures(lister_bin, pods, reps):
    """lister_bench at N = pods: its medians per case and reader count."""
    out, err, wall, cpu, peak, rc = run_measured(
        [lister_bin, "--pods", str(pods), "--reps", str(reps), "--seconds", "1"], 900)
    text = out.decode()
    data = last_json(text) if rc == 0 else None
    if data is None:
        sys.stderr.write(f"lister_bench failed: {err[-2000:]}\n")
        return None
    cases = {}
    for run in data["runs"]:
        cases.setdefault(f"{run['case']}_{run['readers']}", []).append(run)
    result = {}
    for name, runs in cases.items():
        result[name] = {k: statistics.median(r[k] for r in runs)
                        for k in ("per_thread_per_s", "per_cpu_s", "writes_per_s", "results")}
    return {"cases": result, "text": text.strip().splitlines()[:-1]}


def watch_peer(cmd, sock, rate, latency_events, burst_events, timeout=300):
    """`cmd` ends with the kubeconfig. Latency (the peer prints "ready", then the server writes at `rate`), then throughput (the
    server writes the burst first; the peer replays it from the version before). One JSON."""
    p = subprocess.Popen(cmd[:-1] + ["latency", cmd[-1], str(latency_events)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in p.stdout:
        line = line.strip()
        lines.append(line)
        if line == "ready":
            control(sock, f"write {rate} {latency_events}")
    p.wait()
    result = last_json("\n".join(lines))
    if result is None:
        sys.stderr.write(f"{cmd} latency failed: {p.stderr.read()[-2000:]}\n")
        return None
    rv0 = control(sock, "rv")
    control(sock, f"write 0 {burst_events}")
    out, err, wall, peak, rc = peak_rss_of(cmd[:-1] + ["throughput", cmd[-1], rv0, str(burst_events)],
                                           timeout)
    t = last_json(out) if rc == 0 else None
    if t is None:
        sys.stderr.write(f"{cmd} throughput failed: {err[-2000:]}\n")
        return None
    result.update(t)
    return result


def tick_configmap(url, stop):
    """Keeps the global resourceVersion moving (a ConfigMap no Pod informer sees), so that a
    compaction always leaves the Pod informer's version behind and its re-watch gets 410."""
    import urllib.request
    path = f"{url}/api/v1/namespaces/bench-crd/configmaps"
    n = 0
    while not stop.is_set():
        n += 1
        body = json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": "tick"}, "data": {"n": str(n)}}).encode()
        for method, target in (("PUT", path + "/tick"), ("POST", path)):
            try:
                req = urllib.request.Request(target, data=body, method=method,
                                             headers={"Content-Type": "application/json"})
                urllib.request.urlopen(req, timeout=5).read()
                break
            except Exception:  # 404 on the first PUT: create it
                continue
        stop.wait(0.2)


def median_of(runs):
    """Per-key median over a list of flat dicts (numbers only)."""
    runs = [r for r in runs if r]
    if not runs:
        return None
    out = {}
    for key in runs[0]:
        values = [r[key] for r in runs if isinstance(r.get(key), (int, float))]
        if values:
            out[key] = statistics.median(values)
        else:
            out[key] = runs[0][key]
    out["repetitions"] = len(runs)
    return out


def build_result(args, raw, total_pods, json_bytes, lister=None):
    medians = {name: median_of(runs) for name, runs in raw.items()}
    result = {
        "suite": "kube-informer end-to-end (issue #6)",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": args.commit,
        "machine": machine(),
        "pods": args.pods,
        "objects": total_pods,
        "json_bytes": json_bytes,
        "json_bytes_per_pod": json_bytes / total_pods,
        "repetitions": args.reps,
        "slow_peer_repetitions": args.slow_peer_reps or args.reps,
        "load_average_at_start": args.load_at_start,
        "load_average_at_end": os.getloadavg(),
        "watch": {"rate": args.rate, "latency_events": args.latency_events,
                  "burst_events": args.burst_events, "peer_burst_events": args.peer_burst_events,
                  "protobuf_burst_events": args.protobuf_burst_events or args.burst_events},
        "medians": medians,
        "raw": raw,
    }
    if lister:
        result["lister"] = lister
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
    return result


def machine():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = 0
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) * 1024
    return {"cpu": model, "cores": os.cpu_count(), "memory_bytes": mem,
            "kernel": platform.release(), "os": "Debian " + open("/etc/debian_version").read().strip()}


def commit():
    try:
        head = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except OSError:
        return "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--client-bin", default="", help="informer_bench for our client (default --bin)")
    ap.add_argument("--pods", type=int, default=10000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", default="")
    ap.add_argument("--peers", default="node,kubectl,python")
    ap.add_argument("--slow-peer-reps", type=int, default=0,
                    help="run kubectl and python in only the first N repetitions (0: every one); "
                         "at 100,000 Pods each of their runs takes minutes")
    ap.add_argument("--rate", type=int, default=10000)
    ap.add_argument("--latency-events", type=int, default=10000)
    ap.add_argument("--burst-events", type=int, default=50000)
    ap.add_argument("--peer-burst-events", type=int, default=20000)
    ap.add_argument("--protobuf-burst-events", type=int, default=0,
                    help="the burst our protobuf watch replays (0: --burst-events)")
    ap.add_argument("--kinf", default="", help="kinf binary: the command-line figure")
    ap.add_argument("--lister-bin", default="", help="lister_bench binary: the Lister figures")
    args = ap.parse_args()
    # Before the first partial result is written: the results file is tracked, and writing it
    # would otherwise mark the tree dirty.
    args.commit = commit()
    args.load_at_start = os.getloadavg()
    peers = [p for p in args.peers.split(",") if p]

    tmp = tempfile.mkdtemp(prefix="kinf-e2e-")
    sock = os.path.join(tmp, "control.sock")
    kubeconfig = os.path.join(tmp, "kubeconfig")
    server = subprocess.Popen([args.bin, "serve", "--pods", str(args.pods), "--control", sock,
                               "--kubeconfig", kubeconfig], stdout=subprocess.PIPE, text=True)
    ready = server.stdout.readline().split()
    if not ready or ready[0] != "ready":
        sys.exit("the server did not start")
    info = dict(kv.split("=", 1) for kv in ready[1:])
    json_bytes = int(info["json_bytes"])
    total_pods = args.pods + 100  # the 100 watch Pods in bench-watch
    print(f"server {info['url']}: {args.pods} Pods (+100 watch Pods), "
          f"{json_bytes / 1e6:.1f} MB of JSON, server RSS {int(info['rss']) / 1e6:.0f} MB",
          flush=True)

    raw = {}
    lister_result = {}

    def record(name, result):
        raw.setdefault(name, []).append(result)
        if result is None:
            print(f"  {name}: FAILED", flush=True)

    ours = [args.client_bin or args.bin, "client"]
    common = ["--kubeconfig", kubeconfig, "--control", sock, "--json-bytes", str(json_bytes)]
    try:
        for rep in range(args.reps):
            print(f"repetition {rep + 1}/{args.reps}", flush=True)
            for name, extra in (("ours", []), ("ours_json", ["--json"]),
                                ("ours_drop_managed_fields", ["--drop-managed-fields"])):
                import threading
                stop = threading.Event()
                ticker = threading.Thread(target=tick_configmap, args=(info["url"], stop))
                ticker.start()
                try:
                    out, err, wall, peak, rc = peak_rss_of(ours + ["sync"] + common + extra, 900)
                finally:
                    stop.set()
                    ticker.join()
                r = last_json(out) if rc == 0 else None
                if r is None:
                    sys.stderr.write(err[-2000:])
                record(name, r)
            for name, extra, burst in (
                    ("ours_watch", [], args.protobuf_burst_events or args.burst_events),
                    ("ours_watch_json", ["--json"], args.burst_events)):
                out, err, wall, peak, rc = peak_rss_of(
                    ours + ["watch", "--rate", str(args.rate), "--latency-events",
                            str(args.latency_events), "--burst-events", str(burst)]
                    + common + extra, 600)
                r = last_json(out) if rc == 0 else None
                if r is None:
                    sys.stderr.write(err[-2000:])
                record(name, r)
            out, err, wall, peak, rc = peak_rss_of(ours + ["factory"] + common, 600)
            r = last_json(out) if rc == 0 else None
            if r is None:
                sys.stderr.write(err[-2000:])
            record("ours_factory", r)

            if "node" in peers:
                node_dir = os.path.join(HERE, "peers", "node")
                out, err, wall, peak, rc = peak_rss_of(
                    ["node", "--expose-gc", "--max-old-space-size=8192", "peer.mjs", "sync",
                     kubeconfig, str(total_pods)], 900, cwd=node_dir)
                r = last_json(out) if rc == 0 else None
                if r:
                    r["peak_rss"] = peak
                    r["json_mb_per_second"] = json_bytes / 1e6 / r["sync_seconds"]
                    r["rss_per_object_to_json"] = r["rss_per_object"] * r["objects"] / json_bytes
                else:
                    sys.stderr.write(err[-2000:])
                record("node", r)
                record("node_watch", watch_peer(
                    ["node", os.path.join(node_dir, "peer.mjs"), kubeconfig],
                    sock, args.rate, args.latency_events, args.peer_burst_events))
            if args.kinf:
                for output in ("name", "json"):
                    record(f"cli_kinf_{output}", cli_figure(
                        [args.kinf, "get", "pods", "-A", "-o", output, "--kubeconfig", kubeconfig],
                        output, total_pods, 900))
            slow_peers_now = args.slow_peer_reps <= 0 or rep < args.slow_peer_reps
            if "kubectl" in peers and slow_peers_now:
                # `kubectl get -o json` is both the kubectl sync figure and the CLI's json one.
                c = cli_figure(["kubectl", "--kubeconfig", kubeconfig, "get", "pods", "-A", "-o",
                                "json"], "json", total_pods, 900)
                r = None
                if c:
                    r = {"objects": c["objects"], "sync_seconds": c["seconds"],
                         "objects_per_second": c["objects_per_second"],
                         "json_mb_per_second": json_bytes / 1e6 / c["seconds"],
                         "peak_rss": c["peak_rss"]}
                record("kubectl", r)
                if args.kinf:
                    record("cli_kubectl_json", c)
                    record("cli_kubectl_name", cli_figure(
                        ["kubectl", "--kubeconfig", kubeconfig, "get", "pods", "-A", "-o", "name"],
                        "name", total_pods, 900))
            if "python" in peers and slow_peers_now:
                out, err, wall, peak, rc = peak_rss_of(
                    [PYTHON, os.path.join(HERE, "peers", "python", "peer.py"), "sync", kubeconfig], 1800)
                r = last_json(out) if rc == 0 else None
                if r:
                    r["peak_rss"] = peak
                    r["json_mb_per_second"] = json_bytes / 1e6 / r["sync_seconds"]
                    r["rss_per_object_to_json"] = r["rss_per_object"] * r["objects"] / json_bytes
                else:
                    sys.stderr.write(err[-2000:])
                record("python", r)
                record("python_watch", watch_peer(
                    [PYTHON, os.path.join(HERE, "peers", "python", "peer.py"), kubeconfig],
                    sock, args.rate, args.latency_events, args.peer_burst_events))
            build_result(args, raw, total_pods, json_bytes)  # partial results survive a crash
        if args.lister_bin:
            print("lister_bench", flush=True)
            lister = lister_figures(args.lister_bin, args.pods, args.reps)
            if lister is None:
                record("lister", None)
            else:
                lister_result["lister"] = lister
    finally:
        try:
            control(sock, "quit")
        except OSError:
            pass
        server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)

    result = build_result(args, raw, total_pods, json_bytes, lister_result.get("lister"))
    print_table(result)
    failed = [name for name, runs in raw.items() if any(r is None for r in runs)]
    if failed:
        sys.exit("failed runs: " + ", ".join(failed))


def fmt(v, unit=""):
    if v is None:
        return "—"
    if abs(v) >= 100:
        return f"{v:,.0f}{unit}"
    if abs(v) >= 10:
        return f"{v:.1f}{unit}"
    return f"{v:.2f}{unit}"


def print_table(result):
    m = result["medians"]
    g = lambda name, key: (m.get(name) or {}).get(key)
    rows = [
        # label, (client, key) ours, peer key per peer, scale, higher_is_better
        ("time to synced (s)", "sync", "sync_seconds", 1, False),
        ("sync objects/s", "sync", "objects_per_second", 1, True),
        ("sync JSON MB/s", "sync", "json_mb_per_second", 1, True),
        ("RSS per object (KB)", "sync", "rss_per_object", 1e-3, False),
        ("RSS per object / JSON", "sync", "rss_per_object_to_json", 1, False),
        ("peak RSS, list (MB)", "sync", "peak_rss", 1e-6, False),
        ("watch p50 latency @rate (us)", "watch", "latency_p50_us", 1, False),
        ("watch p99 latency @rate (us)", "watch", "latency_p99_us", 1, False),
        ("watch events/s", "watch", "throughput_events_per_second", 1, True),
    ]
    cols = [("node", "node_watch"), ("kubectl", None), ("python", "python_watch")]
    print()
    print(f"{result['pods']:,} Pods + 100 watch Pods, {result['json_bytes'] / 1e6:.1f} MB JSON, "
          f"median of {result['repetitions']}; {result['date']} {result['commit']}")
    header = f"{'figure':32} {'ours':>12}" + "".join(f" {c[0]:>12} {'ratio':>7}" for c in cols)
    print(header)
    print("-" * len(header))
    for label, kind, key, scale, higher in rows:
        our_key = "peak_rss_list" if key == "peak_rss" else key
        ours = g("ours" if kind == "sync" else "ours_watch", our_key)
        line = f"{label:32} {fmt(ours * scale if ours is not None else None):>12}"
        for sync_name, watch_name in cols:
            name = sync_name if kind == "sync" else watch_name
            v = g(name, key) if name else None
            ratio = None
            if v and ours:
                ratio = (ours / v) if higher else (v / ours)
            line += f" {fmt(v * scale if v is not None else None):>12} {fmt(ratio, 'x'):>7}"
        print(line)
    print("(ratio: how many times better ours is; peaks of peers are whole-process VmHWM)")
    extra = [
        ("with DropManagedFields: RSS/object (KB)", g("ours_drop_managed_fields", "rss_per_object"), 1e-3),
        ("with DropManagedFields: RSS / JSON", g("ours_drop_managed_fields", "rss_per_object_to_json"), 1),
        ("with DropManagedFields: sync objects/s", g("ours_drop_managed_fields", "objects_per_second"), 1),
        ("peak during initial list / synced cache", g("ours", "peak_list_over_synced"), 1),
        ("peak during relist after 410 / synced cache", g("ours", "peak_relist_over_synced"), 1),
        ("relist after 410 (s)", g("ours", "relist_seconds"), 1),
        ("Lister ns+label queries/s", g("ours", "lister_queries_per_second"), 1),
        ("Lister matches per query", g("ours", "lister_matches_per_query"), 1),
        ("factory: informers", g("ours_factory", "informers"), 1),
        ("factory: process threads", g("ours_factory", "threads"), 1),
        ("factory: RSS delta (MB)", g("ours_factory", "rss_delta"), 1e-6),
        ("server write rate in throughput run (/s)", g("ours_watch", "server_write_rate"), 1),
        ("JSON (--json): time to synced (s)", g("ours_json", "sync_seconds"), 1),
        ("JSON (--json): sync objects/s", g("ours_json", "objects_per_second"), 1),
        ("JSON (--json): RSS per object (KB)", g("ours_json", "rss_per_object"), 1e-3),
        ("JSON (--json): watch events/s", g("ours_watch_json", "throughput_events_per_second"), 1),
        ("JSON (--json): watch p99 (us)", g("ours_watch_json", "latency_p99_us"), 1),
        ("kinf get -A -o name (s)", g("cli_kinf_name", "seconds"), 1),
        ("kinf get -A -o name, CPU (s)", g("cli_kinf_name", "cpu_seconds"), 1),
        ("kubectl get -A -o name (s)", g("cli_kubectl_name", "seconds"), 1),
        ("kinf get -A -o json (s)", g("cli_kinf_json", "seconds"), 1),
        ("kinf get -A -o json, CPU (s)", g("cli_kinf_json", "cpu_seconds"), 1),
        ("kubectl get -A -o json (s)", g("cli_kubectl_json", "seconds"), 1),
    ]
    for label, v, scale in extra:
        print(f"{label:44} {fmt(v * scale if v is not None else None):>12}")


if __name__ == "__main__":
    main()
