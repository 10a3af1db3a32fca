#!/usr/bin/env bash
# Installs the Debian 12 packages the build, the tests and the benchmarks need. Idempotent: it
# asks apt only for what is missing, so a second run costs a dpkg query.
set -euo pipefail

packages=(
  g++ cmake ninja-build ccache pkg-config git
  libsimdjson-dev libyaml-cpp-dev libcurl4-openssl-dev libssl-dev nlohmann-json3-dev
  libboost-dev zlib1g-dev  # zlib: the server's gzip and the cache snapshots' CRC and deflate
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-14
  libclang-rt-14-dev  # libFuzzer and the clang sanitizer runtimes (scripts/fuzz.sh)
  # The Python module (python/, KUBE_INFORMER_BUILD_PYTHON) and its tests, for /usr/bin/python3.
  python3-dev pybind11-dev python3-pytest python3-setuptools python3-pip python3-venv
  # node's built-in http2 module is the loopback HTTP/2 server of tests/client/http2_test.cc
  # (skipped without it) and bench/h2_watches.sh.
  nodejs
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
fi

# The real kubectl for the kubectl end-to-end tests (tests/server/kubectl_*_e2e.sh), best effort:
# those tests skip themselves when it is missing.
if ! command -v kubectl >/dev/null 2>&1; then
  echo "install-deps: installing kubectl"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    kubectl || echo "install-deps: kubectl is not available here; the kubectl end-to-end tests skip"
fi
