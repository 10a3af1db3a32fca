#!/usr/bin/env bash
# Compiles the library targets with clang-14 and -Werror=thread-safety (g++ ignores the
# KUBE_GUARDED_BY annotations). Nothing is run here.
#
# The same build folder is the fuzz build (KUBE_INFORMER_FUZZ=ON: the libraries carry libFuzzer's
# coverage instrumentation and ASan+UBSan, which does not change the analysis), so CI compiles the
# libraries with clang once for both; scripts/fuzz.sh then only links and runs the fuzz targets.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B "${BUILD_DIR:-build-clang}" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_COMPILER=clang++-14 "${launcher[@]}" -DKUBE_INFORMER_BUILD_TESTS=OFF \
  -DKUBE_INFORMER_BUILD_BENCHMARKS=OFF -DKUBE_INFORMER_BUILD_EXAMPLES=OFF \
  -DKUBE_INFORMER_WERROR=ON -DKUBE_INFORMER_FUZZ=ON
cmake --build "${BUILD_DIR:-build-clang}" -j"$(nproc)"
echo "thread-safety analysis: clean"
