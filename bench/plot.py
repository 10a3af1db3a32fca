#!/usr/bin/python3
"""Draws the end-to-end chart (docs/images/benchmarks.svg) from bench/e2e.py's JSON files.

Usage: plot.py --out docs/images/benchmarks.svg bench/results/DATE-10000.json bench/results/DATE-100000.json

Six panels, one bar per client for each N, log scale: sync throughput (objects/s), resident
memory per cached object, watch throughput into one handler, p99 write->handler latency at the
fixed rate (ours with protobuf, the default, and with JSON, beside the peers), `kinf get` against
`kubectl get` (whole processes), and Lister queries (the label index against the scan). A series
without any value is left out. Needs gnuplot (Debian: gnuplot-nox).
"""
import argparse
import json
import os
import subprocess
import tempfile

OURS = "#1f6feb"
OURS_JSON = "#7aa7f0"
OURS_DROP = "#a5c8f7"
NODE = "#2da44e"
KUBECTL = "#bf8700"
KUBECTL_LIGHT = "#e3b341"
PYTHON = "#cf222e"


def medians(entry, key, scale=1):
    return lambda r: ((r["medians"].get(entry) or {}).get(key) or 0) * scale or None


def lister(case, key):
    return lambda r: ((r.get("lister") or {}).get("cases", {}).get(case) or {}).get(key)


PANELS = [  # (title, [(series label, value(run), color)])
    ("Time to synced: objects/s (higher is better)", [
        ("kube-informer (protobuf)", medians("ours", "objects_per_second"), OURS),
        ("kube-informer (JSON)", medians("ours_json", "objects_per_second"), OURS_JSON),
        ("kube-informer, managedFields dropped", medians("ours_drop_managed_fields",
                                                        "objects_per_second"), OURS_DROP),
        ("client-node informer", medians("node", "objects_per_second"), NODE),
        ("kubectl get -o json", medians("kubectl", "objects_per_second"), KUBECTL),
        ("python client", medians("python", "objects_per_second"), PYTHON),
    ]),
    ("RSS per cached object, KB (lower is better)", [
        ("kube-informer (protobuf)", medians("ours", "rss_per_object", 1e-3), OURS),
        ("kube-informer (JSON)", medians("ours_json", "rss_per_object", 1e-3), OURS_JSON),
        ("kube-informer, managedFields dropped", medians("ours_drop_managed_fields",
                                                        "rss_per_object", 1e-3), OURS_DROP),
        ("client-node informer", medians("node", "rss_per_object", 1e-3), NODE),
        ("python client", medians("python", "rss_per_object", 1e-3), PYTHON),
    ]),
    ("Watch events/s into one handler (higher is better)", [
        ("kube-informer (protobuf)", medians("ours_watch", "throughput_events_per_second"), OURS),
        ("kube-informer (JSON)", medians("ours_watch_json", "throughput_events_per_second"),
         OURS_JSON),
        ("client-node informer", medians("node_watch", "throughput_events_per_second"), NODE),
        ("python client", medians("python_watch", "throughput_events_per_second"), PYTHON),
    ]),
    ("p99 latency write->handler at 10,000/s asked, ms (lower is better)", [
        ("kube-informer (protobuf)", medians("ours_watch", "latency_p99_us", 1e-3), OURS),
        ("kube-informer (JSON)", medians("ours_watch_json", "latency_p99_us", 1e-3), OURS_JSON),
        ("client-node informer", medians("node_watch", "latency_p99_us", 1e-3), NODE),
        ("python client", medians("python_watch", "latency_p99_us", 1e-3), PYTHON),
    ]),
    ("get pods -A, whole process, seconds (lower is better)", [
        ("kinf get -o name", medians("cli_kinf_name", "seconds"), OURS),
        ("kubectl get -o name", medians("cli_kubectl_name", "seconds"), KUBECTL),
        ("kinf get -o json", medians("cli_kinf_json", "seconds"), OURS_JSON),
        ("kubectl get -o json", medians("cli_kubectl_json", "seconds"), KUBECTL_LIGHT),
    ]),
    ("Lister ns + label queries/s, one reader (higher is better)", [
        ("label index", lister("index_1", "per_thread_per_s"), OURS),
        ("label index beside a writer", lister("index+writer_1", "per_thread_per_s"), OURS_JSON),
        ("scan (no index)", lister("scan_1", "per_thread_per_s"), KUBECTL),
    ]),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("results", nargs="+")
    args = ap.parse_args()
    runs = sorted((json.load(open(p)) for p in args.results), key=lambda r: r["pods"])
    tmp = tempfile.mkdtemp(prefix="kinf-plot-")
    first = runs[0]
    load = first.get("load_average_at_start")
    load_text = f", load {load[0]:.1f}" if load else ""
    script = [
        "set terminal svg size 1500,820 dynamic font 'sans,11' background rgb 'white'",
        f"set output '{os.path.abspath(args.out)}'",
        "set style data histogram",
        "set style histogram clustered gap 1",
        "set style fill solid 0.85 border -1",
        "set logscale y",
        "set grid ytics",
        "set xtics nomirror",
        "set format y '%.0s%c'",
        "set multiplot layout 2,3 title "
        f"'kube-informer end to end vs peers ({first['date'][:10]}, {first['commit']}, "
        f"{first['machine']['cores']} cores{load_text}; median of {first['repetitions']})'",
    ]
    for i, (title, series) in enumerate(PANELS):
        cols = [s for s in series if any(s[1](r) for r in runs)]
        script.append(f"set title '{title}'")
        if not cols:
            script.append("set key off")
            script.append("unset logscale y")
            script.append("plot [0:1] [0:1] NaN notitle")
            script.append("set logscale y")
            continue
        dat = os.path.join(tmp, f"panel{i}.dat")
        with open(dat, "w") as f:
            f.write("N " + " ".join(f'"{c[0]}"' for c in cols) + "\n")
            for r in runs:
                row = [f"\"{r['pods']:,} Pods\""]
                for c in cols:
                    v = c[1](r)
                    row.append(f"{v:.6g}" if v else "NaN")
                f.write(" ".join(row) + "\n")
        script.append("set key top right font ',8' samplen 1")
        plots = []
        for j, c in enumerate(cols):
            xt = ":xtic(1)" if j == 0 else ""
            plots.append(f"'{dat}' using {j + 2}{xt} title columnheader({j + 2}) lc rgb '{c[2]}'")
        script.append("plot " + ", ".join(plots))
    script.append("unset multiplot")
    gp = os.path.join(tmp, "chart.gp")
    with open(gp, "w") as f:
        f.write("\n".join(script) + "\n")
    subprocess.run(["gnuplot", gp], check=True)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
