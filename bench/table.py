#!/usr/bin/python3
"""Prints the Markdown results tables of docs/benchmarks.md from bench/e2e.py's JSON files.

Usage: table.py bench/results/DATE-10000.json bench/results/DATE-100000.json

Three tables: the informer figures (ours with protobuf, the library's default, and with JSON side
by side, then the peers), the command line (`kinf get` against `kubectl get`), and the Lister
figures (when the run had `--lister-bin`). Each peer cell is "value (ratio)", the ratio saying how
many times better ours (protobuf) is (ours/peer for rates, peer/ours for times, memory and
latency); the JSON column's ratio is protobuf against JSON the same way.
"""
import json
import sys

ROWS = [  # label, ours entry, ours key, JSON entry, peer kind, peer key, scale, higher is better
    ("time to synced (s)", "ours", "sync_seconds", "ours_json", "sync", "sync_seconds", 1, False),
    ("sync, objects/s", "ours", "objects_per_second", "ours_json", "sync", "objects_per_second",
     1, True),
    ("sync, MB/s of JSON", "ours", "json_mb_per_second", "ours_json", "sync",
     "json_mb_per_second", 1, True),
    ("RSS per cached object (KB)", "ours", "rss_per_object", "ours_json", "sync",
     "rss_per_object", 1e-3, False),
    ("RSS per object / its JSON", "ours", "rss_per_object_to_json", "ours_json", "sync",
     "rss_per_object_to_json", 1, False),
    ("  with `DropManagedFields`", "ours_drop_managed_fields", "rss_per_object_to_json", None,
     None, None, 1, False),
    ("peak RSS during the list (MB)", "ours", "peak_rss_list", "ours_json", "sync", "peak_rss",
     1e-6, False),
    ("peak during list / synced cache", "ours", "peak_list_over_synced", "ours_json", None, None,
     1, False),
    ("peak during 410 relist / synced cache", "ours", "peak_relist_over_synced", "ours_json",
     None, None, 1, False),
    ("watch p50 latency (ms)", "ours_watch", "latency_p50_us", "ours_watch_json", "watch",
     "latency_p50_us", 1e-3, False),
    ("watch p99 latency (ms)", "ours_watch", "latency_p99_us", "ours_watch_json", "watch",
     "latency_p99_us", 1e-3, False),
    ("watch events/s into one handler", "ours_watch", "throughput_events_per_second",
     "ours_watch_json", "watch", "throughput_events_per_second", 1, True),
    ("50 informers x 2 handlers: threads", "ours_factory", "threads", None, None, None, 1, False),
    ("50 informers x 2 handlers: RSS (MB)", "ours_factory", "rss_delta", None, None, None, 1e-6,
     False),
]
PEERS = [("client-node", "node", "node_watch"), ("kubectl", "kubectl", None),
         ("python", "python", "python_watch")]
CLI_ROWS = [  # label, kinf entry, kubectl entry, key, scale, higher is better
    ("`get pods -A -o name`, wall (s)", "cli_kinf_name", "cli_kubectl_name", "seconds", 1, False),
    ("`get pods -A -o name`, CPU (s)", "cli_kinf_name", "cli_kubectl_name", "cpu_seconds", 1,
     False),
    ("`get pods -A -o name`, peak RSS (MB)", "cli_kinf_name", "cli_kubectl_name", "peak_rss", 1e-6,
     False),
    ("`get pods -A -o json`, wall (s)", "cli_kinf_json", "cli_kubectl_json", "seconds", 1, False),
    ("`get pods -A -o json`, CPU (s)", "cli_kinf_json", "cli_kubectl_json", "cpu_seconds", 1,
     False),
    ("`get pods -A -o json`, peak RSS (MB)", "cli_kinf_json", "cli_kubectl_json", "peak_rss", 1e-6,
     False),
]
LISTER_ROWS = [  # label, case, key
    ("scan (no label index), 1 reader", "scan_1", "per_thread_per_s"),
    ("ns + label via the index, 1 reader", "index_1", "per_thread_per_s"),
    ("ns + label via the index, per reader CPU s", "index_1", "per_cpu_s"),
    ("ns + label via the index, 2 readers (each)", "index_2", "per_thread_per_s"),
    ("ns + label via the index, 1 reader beside a writer", "index+writer_1", "per_thread_per_s"),
    ("Get by key, 1 reader", "get_1", "per_thread_per_s"),
    ("Get by key, per reader CPU s", "get_1", "per_cpu_s"),
    ("Get by key, 1 reader beside a writer", "get+writer_1", "per_thread_per_s"),
]


def fmt(v):
    if v is None:
        return "—"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def cell(v, ours, scale, higher):
    if v is None:
        return "—"
    ratio = (ours / v if higher else v / ours) if ours and v else None
    return f"{fmt(v * scale)} ({fmt(ratio)}x)" if ratio else fmt(v * scale)


def main():
    runs = sorted((json.load(open(p)) for p in sys.argv[1:]), key=lambda r: r["pods"])
    print("| figure | N | ours (protobuf) | ours, JSON | " + " | ".join(p[0] for p in PEERS) + " |")
    print("|---|---:|---:|---:|" + "---:|" * len(PEERS))
    for label, entry, key, json_entry, kind, peer_key, scale, higher in ROWS:
        for r in runs:
            m = r["medians"]
            ours = (m.get(entry) or {}).get(key)
            json_v = (m.get(json_entry) or {}).get(key) if json_entry else None
            cells = [cell(json_v, ours, scale, higher)]
            for _, sync_name, watch_name in PEERS:
                name = sync_name if kind == "sync" else watch_name if kind == "watch" else None
                cells.append(cell((m.get(name) or {}).get(peer_key) if name else None, ours, scale,
                                  higher))
            print(f"| {label} | {r['pods']:,} | **{fmt(ours * scale if ours is not None else None)}** | "
                  + " | ".join(cells) + " |")

    cli_runs = [r for r in runs if r["medians"].get("cli_kinf_name")]
    if cli_runs:
        print()
        print("| command (whole process) | N | `kinf` | `kubectl` |")
        print("|---|---:|---:|---:|")
        for label, ours_entry, peer_entry, key, scale, higher in CLI_ROWS:
            for r in cli_runs:
                m = r["medians"]
                ours = (m.get(ours_entry) or {}).get(key)
                peer = (m.get(peer_entry) or {}).get(key)
                print(f"| {label} | {r['pods']:,} | **{fmt(ours * scale if ours is not None else None)}** | "
                      f"{cell(peer, ours, scale, higher)} |")

    lister_runs = [r for r in runs if r.get("lister")]
    if lister_runs:
        print()
        print("| Lister queries/s (`lister_bench`, wall clock per reader thread) | N | ours |")
        print("|---|---:|---:|")
        for label, case, key in LISTER_ROWS:
            for r in lister_runs:
                v = (r["lister"]["cases"].get(case) or {}).get(key)
                print(f"| {label} | {r['pods']:,} | {fmt(v)} |")


if __name__ == "__main__":
    main()
