#!/usr/bin/env bash
# Many watches over one client against node's loopback HTTP/2 server (docs/benchmarks.md,
# "HTTP/2: many watches, few connections"). Each run gets a fresh server; binaries alternate.
#
#   bench/h2_watches.sh [--watches N] [--reps R] [--max-streams S] LABEL=BINARY [LABEL=BINARY...]
#
# BINARY is bench/h2_watches (build with -DKUBE_INFORMER_BUILD_BENCHMARKS=ON); append
# ",--no-client-stats" to a binary built on a library without HttpClient::Stats.
# Prints one JSON line per run, then the medians per label.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
watches=1000 reps=3 max_streams=250
bins=()
while (($#)); do
  case $1 in
    --watches) watches=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --max-streams) max_streams=$2; shift 2 ;;
    *) bins+=("$1"); shift ;;
  esac
done
((${#bins[@]})) || { echo "usage: $0 [--watches N] [--reps R] [--max-streams S] LABEL=BINARY..." >&2; exit 2; }
command -v node >/dev/null || { echo "node is not installed (scripts/install-deps.sh)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 1 \
  -subj /CN=127.0.0.1 -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null

results="$tmp/results"
: >"$results"
for ((rep = 1; rep <= reps; ++rep)); do
  for spec in "${bins[@]}"; do
    label=${spec%%=*}
    bin=${spec#*=}
    extra=()
    if [[ $bin == *,--no-client-stats ]]; then bin=${bin%,--no-client-stats}; extra=(--no-client-stats); fi
    coproc server { exec node "$here/../tests/client/testdata/h2_server.mjs" "$tmp/cert.pem" \
      "$tmp/key.pem" "$max_streams" h2; }
    read -r port <&"${server[0]}"
    line=$("$bin" "https://127.0.0.1:$port" "$tmp/cert.pem" "$watches" "${extra[@]}" 2>"$tmp/err") ||
      line="{\"failed\":\"$(tr -d '"\n' <"$tmp/err")\"}"
    exec {server[1]}>&-  # the server exits when its stdin closes
    wait "$server_PID" 2>/dev/null || true
    echo "$label $line" | tee -a "$results"
  done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$results" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    label, js = line.split(' ', 1)
    runs.setdefault(label, []).append(json.loads(js))
print(f"{'label':<8} {'runs':>4} {'TCP conns':>9} {'TLS handshakes':>14} {'RSS MiB':>8} "
      f"{'RSS growth MiB':>14} {'s to all events':>15}")
for label, all_runs in runs.items():
    for r in all_runs:
        if 'failed' in r:
            print(f"{label}: a run failed: {r['failed']}")
    rs = [r for r in all_runs if 'failed' not in r]
    if not rs:
        continue
    med = lambda f: statistics.median(f(r) for r in rs)
    print(f"{label:<8} {len(rs):>4} {med(lambda r: r['server']['tcp']):>9} "
          f"{med(lambda r: r['server']['connections']):>14} {med(lambda r: r['rss_kib']) / 1024:>8.1f} "
          f"{med(lambda r: r['rss_growth_kib']) / 1024:>14.1f} "
          f"{med(lambda r: r['seconds_to_all_events']):>15.2f}")
PY
