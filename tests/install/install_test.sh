#!/bin/sh
# Installs the built tree into a temporary prefix, moves the prefix elsewhere (the package must
# not remember where it was installed), then builds and runs tests/install/consumer twice: with
# find_package(kube-informer) through CMAKE_PREFIX_PATH, and with `pkg-config --cflags --libs`.
#
# Usage: install_test.sh BUILD_DIR CMAKE CXX GENERATOR
set -eu
build_dir=$1
cmake=$2
cxx=$3
generator=$4
consumer=$(cd "$(dirname "$0")/consumer" && pwd)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$cmake" --install "$build_dir" --prefix "$work/installed" >/dev/null
mv "$work/installed" "$work/prefix"
prefix=$work/prefix

echo "--- find_package(kube-informer)"
"$cmake" -S "$consumer" -B "$work/cmake-build" -G "$generator" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Release
"$cmake" --build "$work/cmake-build"
out=$("$work/cmake-build/consumer")
[ "$out" = ok ] || { echo "find_package consumer printed: $out"; exit 1; }

echo "--- pkg-config --cflags --libs kube-informer"
pc=$(find "$prefix" -name kube-informer.pc)
[ -n "$pc" ] || { echo "no kube-informer.pc under $prefix"; exit 1; }
if grep -q "$work/installed" "$pc"; then
  echo "kube-informer.pc names the install-time prefix:"; cat "$pc"; exit 1
fi
flags=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --cflags --libs kube-informer)
echo "$flags"
# shellcheck disable=SC2086  # the flags are words
"$cxx" "$consumer/consumer.cc" -o "$work/pc-consumer" $flags
out=$("$work/pc-consumer")
[ "$out" = ok ] || { echo "pkg-config consumer printed: $out"; exit 1; }
echo "PASSED"
