#!/usr/bin/env bash
# The README's demo: installs what the build needs, builds the `kinf` tool and the example, starts
# the embedded API server with demo Deployments and live churn, and runs the seed's Deployment
# informer example against it. Ctrl-C stops both.
#
# Environment (optional): BUILD_DIR (default build), CHURN (changes per second, default 2),
# CHURN_RESOURCES (what churns, in turn; default deployments,pods, so the example prints
# Deployment adds, updates and deletes about once a second), DEMO_SECONDS (stop by itself after
# this many seconds; default: run until interrupted).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

build_dir=${BUILD_DIR:-build}
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null
cmake --build "$build_dir" -j"$(nproc)" --target kinf deployment_informer

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$build_dir/tools/kinf/kinf" serve --listen 127.0.0.1:0 --seed demo \
  --churn "${CHURN:-2}" --churn-resources "${CHURN_RESOURCES:-deployments,pods}" \
  --write-kubeconfig "$work/kubeconfig" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  grep -q '^listening on ' "$work/server.log" 2>/dev/null && [[ -s "$work/kubeconfig" ]] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then cat "$work/server.log" >&2; exit 1; fi
  sleep 0.1
done
echo "# embedded API server: $(head -n1 "$work/server.log" | sed 's/^listening on //') (kubeconfig $work/kubeconfig)"
echo "# running examples/deployment_informer.cpp against it; Ctrl-C to stop"

if [[ -n "${DEMO_SECONDS:-}" ]]; then
  timeout --signal=INT "$DEMO_SECONDS" "$build_dir/examples/deployment_informer" \
    --kubeconfig "$work/kubeconfig" || [[ $? -eq 124 ]]
else
  "$build_dir/examples/deployment_informer" --kubeconfig "$work/kubeconfig"
fi
