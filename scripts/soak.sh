#!/usr/bin/env bash
# The long soak test (docs/reliability.md): informers against the embedded server under churn and
# faults, checking every cache against the server at intervals and recording memory, threads and
# descriptors. Writes docs/soak/<date>.csv and plots it into docs/images/soak.svg.
#
#   scripts/soak.sh [MINUTES]      (default 30; extra informer_soak flags via SOAK_ARGS)
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=${1:-30}
scripts/install-deps.sh
command -v gnuplot >/dev/null || apt-get install -y -q gnuplot-nox >/dev/null

build_dir=${BUILD_DIR:-build-soak}
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" \
  -DKUBE_INFORMER_BUILD_BENCHMARKS=OFF -DKUBE_INFORMER_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build_dir" -j"$(nproc)" --target informer_soak

mkdir -p docs/soak
csv="docs/soak/$(date -u +%Y-%m-%d).csv"
# shellcheck disable=SC2086
"$build_dir/tests/soak/informer_soak" --duration=$((minutes * 60)) --csv="$csv" \
  --max-rss-growth-pct=10 ${SOAK_ARGS:-} | tee "${csv%.csv}.log"
scripts/plot-soak.sh "$csv" docs/images/soak.svg
echo "soak: $csv, docs/images/soak.svg"
