#!/usr/bin/python3
"""Prints the Markdown results table of docs/benchmarks.md from bench/e2e.py's JSON files.

Usage: table.py bench/results/DATE-10000.json bench/results/DATE-100000.json

Each peer cell is "value (ratio)", the ratio saying how many times better ours is (ours/peer for
rates, peer/ours for times, memory and latency).
"""
import json
import sys

ROWS = [  # label, ours entry, ours key, peer kind, peer key, scale, higher is better
    ("time to synced (s)", "ours", "sync_seconds", "sync", "sync_seconds", 1, False),
    ("sync, objects/s", "ours", "objects_per_second", "sync", "objects_per_second", 1, True),
    ("sync, MB/s of JSON", "ours", "json_mb_per_second", "sync", "json_mb_per_second", 1, True),
    ("RSS per cached object (KB)", "ours", "rss_per_object", "sync", "rss_per_object", 1e-3, False),
    ("RSS per object / its JSON", "ours", "rss_per_object_to_json", "sync", "rss_per_object_to_json", 1, False),
    ("  with `DropManagedFields`", "ours_drop_managed_fields", "rss_per_object_to_json", None, None, 1, False),
    ("peak RSS during the list (MB)", "ours", "peak_rss_list", "sync", "peak_rss", 1e-6, False),
    ("peak during list / synced cache", "ours", "peak_list_over_synced", None, None, 1, False),
    ("peak during 410 relist / synced cache", "ours", "peak_relist_over_synced", None, None, 1, False),
    ("watch p50 latency (ms)", "ours_watch", "latency_p50_us", "watch", "latency_p50_us", 1e-3, False),
    ("watch p99 latency (ms)", "ours_watch", "latency_p99_us", "watch", "latency_p99_us", 1e-3, False),
    ("watch events/s into one handler", "ours_watch", "throughput_events_per_second", "watch",
     "throughput_events_per_second", 1, True),
    ("Lister ns + label queries/s", "ours", "lister_queries_per_second", None, None, 1, True),
    ("50 informers x 2 handlers: threads", "ours_factory", "threads", None, None, 1, False),
    ("50 informers x 2 handlers: RSS (MB)", "ours_factory", "rss_delta", None, None, 1e-6, False),
]
PEERS = [("client-node", "node", "node_watch"), ("kubectl", "kubectl", None),
         ("python", "python", "python_watch")]


def fmt(v):
    if v is None:
        return "—"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def main():
    runs = sorted((json.load(open(p)) for p in sys.argv[1:]), key=lambda r: r["pods"])
    head = "| figure | N | ours | " + " | ".join(p[0] for p in PEERS) + " |"
    print(head)
    print("|---|---:|---:|" + "---:|" * len(PEERS))
    for label, entry, key, kind, peer_key, scale, higher in ROWS:
        for r in runs:
            m = r["medians"]
            ours = (m.get(entry) or {}).get(key)
            cells = []
            for _, sync_name, watch_name in PEERS:
                name = sync_name if kind == "sync" else watch_name if kind == "watch" else None
                v = (m.get(name) or {}).get(peer_key) if name else None
                if v is None:
                    cells.append("—")
                    continue
                ratio = (ours / v if higher else v / ours) if ours and v else None
                cells.append(f"{fmt(v * scale)} ({fmt(ratio)}x)" if ratio else fmt(v * scale))
            print(f"| {label} | {r['pods']:,} | **{fmt(ours * scale if ours is not None else None)}** | "
                  + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
