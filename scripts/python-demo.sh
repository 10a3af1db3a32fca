#!/usr/bin/env bash
# The README's Python demo: installs what the build needs, builds `kinf`, installs the
# kube_informer module with pip into a virtual environment (build-python/venv, over Debian's
# /usr/bin/python3; no PyPI needed), starts the embedded API server with the demo Deployments and
# live churn, and runs python/examples/deployment_informer.py against it. Ctrl-C stops both.
#
# Environment (optional): BUILD_DIR (default build), CHURN (changes per second, default 2),
# DEMO_SECONDS (stop by itself after this many seconds; default: run until interrupted).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

build_dir=${BUILD_DIR:-build}
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null
cmake --build "$build_dir" -j"$(nproc)" --target kinf

venv=build-python/venv
if [[ ! -x "$venv/bin/python" ]]; then /usr/bin/python3 -m venv --system-site-packages "$venv"; fi
"$venv/bin/pip" install -q --no-build-isolation ./python

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$build_dir/tools/kinf/kinf" serve --listen 127.0.0.1:0 --seed demo \
  --churn "${CHURN:-2}" --churn-resources deployments,pods \
  --write-kubeconfig "$work/kubeconfig" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  grep -q '^listening on ' "$work/server.log" 2>/dev/null && [[ -s "$work/kubeconfig" ]] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then cat "$work/server.log" >&2; exit 1; fi
  sleep 0.1
done
echo "# embedded API server: $(head -n1 "$work/server.log" | sed 's/^listening on //') (kubeconfig $work/kubeconfig)"
echo "# running python/examples/deployment_informer.py against it; Ctrl-C to stop"
seconds=()
if [[ -n "${DEMO_SECONDS:-}" ]]; then seconds=(--seconds "$DEMO_SECONDS"); fi
"$venv/bin/python" python/examples/deployment_informer.py --kubeconfig "$work/kubeconfig" "${seconds[@]}"
