#!/usr/bin/env bash
# The end-to-end benchmark, in one command (docs/benchmarks.md):
#
#   bench/run.sh            N = 10,000 and 100,000, 3 repetitions, our informer and the peers
#   bench/run.sh --quick    N = 2,000, 1 repetition (a smoke run of the harness, a few minutes)
#   bench/run.sh --pods 5000 --reps 1 --peers node   (any e2e.py flags after the options)
#
# Installs what it needs (python3-kubernetes and gnuplot-nox from Debian when missing, the Node
# peer from its lock file), builds informer_bench, kinf and lister_bench in Release in
# build-bench/ (override with BUILD_DIR=...), runs bench/e2e.py for each N (our informer with
# protobuf and with JSON, the peers, `kinf get` against `kubectl get`, lister_bench), writes
# bench/results/<date>-<N>.json, prints the Markdown tables (bench/table.py), and draws
# docs/images/benchmarks.svg from the JSON (bench/plot.py).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
build="${BUILD_DIR:-$root/build-bench}"
sizes=(10000 100000)
reps=3
extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) sizes=(2000); reps=1; extra+=(--latency-events 2000 --burst-events 10000 --peer-burst-events 5000) ;;
    --pods) sizes=("$2"); shift ;;
    --reps) reps="$2"; shift ;;
    --no-plot) no_plot=1 ;;
    *) extra+=("$1") ;;
  esac
  shift
done

# --- what the peers and the chart need -------------------------------------------------------
missing=()
/usr/bin/python3 -c 'import kubernetes' 2>/dev/null || missing+=(python3-kubernetes)
command -v gnuplot >/dev/null || missing+=(gnuplot-nox)
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "installing ${missing[*]}"
  if [[ $(id -u) -eq 0 ]]; then apt-get install -y "${missing[@]}"; else sudo apt-get install -y "${missing[@]}"; fi
fi
command -v kubectl >/dev/null || { echo "kubectl is not installed" >&2; exit 1; }
if [[ ! -d "$here/peers/node/node_modules/@kubernetes/client-node" ]]; then
  (cd "$here/peers/node" && npm ci --no-audit --no-fund)
fi

# --- build -----------------------------------------------------------------------------------
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" \
    -DKUBE_INFORMER_BUILD_TESTS=OFF -DKUBE_INFORMER_BUILD_EXAMPLES=OFF
fi
cmake --build "$build" -j"$(nproc)" --target informer_bench kinf lister_bench

# --- run -------------------------------------------------------------------------------------
mkdir -p "$here/results"
stamp="$(date -u +%Y-%m-%d)"
outputs=()
for n in "${sizes[@]}"; do
  out="$here/results/$stamp-$n.json"
  /usr/bin/python3 "$here/e2e.py" --bin "$build/bench/informer_bench" --pods "$n" \
    --reps "$reps" --out "$out" --kinf "$build/tools/kinf/kinf" \
    --lister-bin "$build/bench/lister_bench" "${extra[@]}"
  outputs+=("$out")
done
/usr/bin/python3 "$here/table.py" "${outputs[@]}"
if [[ -z "${no_plot:-}" ]]; then
  mkdir -p "$root/docs/images"
  /usr/bin/python3 "$here/plot.py" --out "$root/docs/images/benchmarks.svg" "${outputs[@]}"
fi
