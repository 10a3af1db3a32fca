#!/usr/bin/python3
"""Draws the end-to-end chart (docs/images/benchmarks.svg) from bench/e2e.py's JSON files.

Usage: plot.py --out docs/images/benchmarks.svg bench/results/DATE-10000.json bench/results/DATE-100000.json

Four panels, one bar per client for each N, log scale: sync throughput (objects/s), resident
memory per cached object, watch throughput into one handler, and p99 write->handler latency at
the fixed rate. Needs gnuplot (Debian: gnuplot-nox).
"""
import argparse
import json
import os
import subprocess
import tempfile

CLIENTS = [  # (label, sync entry, watch entry)
    ("kube-informer", "ours", "ours_watch"),
    ("kube-informer, managedFields dropped", "ours_drop_managed_fields", None),
    ("client-node informer", "node", "node_watch"),
    ("kubectl get -o json", "kubectl", None),
    ("python client", "python", "python_watch"),
]
PANELS = [  # (title, entry kind, key, scale)
    ("Time to synced: objects/s (higher is better)", "sync", "objects_per_second", 1),
    ("RSS per cached object, KB (lower is better)", "sync", "rss_per_object", 1e-3),
    ("Watch events/s into one handler (higher is better)", "watch", "throughput_events_per_second", 1),
    ("p99 latency write->handler at 10,000/s, ms (lower is better)", "watch", "latency_p99_us", 1e-3),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("results", nargs="+")
    args = ap.parse_args()
    runs = sorted((json.load(open(p)) for p in args.results), key=lambda r: r["pods"])
    tmp = tempfile.mkdtemp(prefix="kinf-plot-")
    script = [
        "set terminal svg size 1100,760 dynamic font 'sans,11' background rgb 'white'",
        f"set output '{os.path.abspath(args.out)}'",
        "set style data histogram",
        "set style histogram clustered gap 1",
        "set style fill solid 0.85 border -1",
        "set logscale y",
        "set grid ytics",
        "set key off",
        "set xtics nomirror",
        "set format y '%.0s%c'",
        "set multiplot layout 2,2 title "
        f"'kube-informer end to end vs peers ({runs[0]['date'][:10]}, {runs[0]['commit']}, "
        f"{runs[0]['machine']['cores']} cores; median of {runs[0]['repetitions']})'",
    ]
    colors = ["#1f6feb", "#7aa7f0", "#2da44e", "#bf8700", "#cf222e"]
    for i, (title, kind, key, scale) in enumerate(PANELS):
        dat = os.path.join(tmp, f"panel{i}.dat")
        def value(r, c):
            entry = r["medians"].get(c[1] if kind == "sync" else c[2]) or {}
            return entry.get(key)

        # Clients this figure has (a client without any value would leave gnuplot no points).
        cols = [c for c in CLIENTS if (c[1] if kind == "sync" else c[2])
                and any(value(r, c) for r in runs)]
        with open(dat, "w") as f:
            f.write("N " + " ".join(f'"{c[0]}"' for c in cols) + "\n")
            for r in runs:
                row = [f"\"{r['pods']:,} Pods\""]
                for c in cols:
                    v = value(r, c)
                    row.append(f"{v * scale:.6g}" if v else "NaN")
                f.write(" ".join(row) + "\n")
        if i == 0:
            script.append("set key top right font ',9' samplen 1")
        else:
            script.append("set key off")
        script.append(f"set title '{title}'")
        plots = []
        for j, c in enumerate(cols):
            color = colors[CLIENTS.index(c)]
            xt = ":xtic(1)" if j == 0 else ""
            plots.append(f"'{dat}' using {j + 2}{xt} title columnheader({j + 2}) lc rgb '{color}'")
        script.append("plot " + ", ".join(plots))
    script.append("unset multiplot")
    gp = os.path.join(tmp, "chart.gp")
    with open(gp, "w") as f:
        f.write("\n".join(script) + "\n")
    subprocess.run(["gnuplot", gp], check=True)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
