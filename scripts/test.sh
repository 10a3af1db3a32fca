#!/usr/bin/env bash
# The README's test command: installs what the build needs, configures, builds, runs the suite.
#
# Environment (all optional):
#   BUILD_DIR   build folder (default: build)
#   CMAKE_ARGS  extra configure arguments, e.g. -DKUBE_INFORMER_SANITIZER=asan-ubsan
#   CTEST_ARGS  extra ctest arguments, e.g. "-L concurrency"
#   BUILD_TARGET  build only this target (default: all), e.g. concurrency_tests
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

build_dir=${BUILD_DIR:-build}
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi

# shellcheck disable=SC2086
# The Python module is built and tested too (skipped by CMake in sanitizer builds); CMAKE_ARGS
# may turn it off with -DKUBE_INFORMER_BUILD_PYTHON=OFF.
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" \
  -DKUBE_INFORMER_BUILD_PYTHON=ON ${CMAKE_ARGS:-}
cmake --build "$build_dir" -j"$(nproc)" ${BUILD_TARGET:+--target "$BUILD_TARGET"}
# shellcheck disable=SC2086
ctest --test-dir "$build_dir" --output-on-failure -j"$(nproc)" ${CTEST_ARGS:-}
