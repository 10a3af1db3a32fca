#!/usr/bin/env bash
# Compiles the library targets with clang-14 and -Werror=thread-safety (g++ ignores the
# KUBE_GUARDED_BY annotations). Compile-only: nothing is run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B build-clang -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++-14 \
  "${launcher[@]}" -DKUBE_INFORMER_BUILD_TESTS=OFF -DKUBE_INFORMER_BUILD_BENCHMARKS=OFF \
  -DKUBE_INFORMER_BUILD_EXAMPLES=OFF -DKUBE_INFORMER_WERROR=ON
cmake --build build-clang -j"$(nproc)"
echo "thread-safety analysis: clean"
