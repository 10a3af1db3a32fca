#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang-14 with ASan+UBSan) and runs each one: first over its
# seed corpus (fuzz/corpus/<target>/), then fuzzing for SECONDS seconds. New crashing inputs are
# saved in fuzz/crashes/ (`<target>-crash-<sha1>`); new interesting inputs go to the build folder's
# corpus/<target>/, not to the seed corpus (copy the good ones by hand, after `-merge=1`).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     default: 600 s each, every target
#   scripts/fuzz.sh 10 label_selector_fuzz     one target, briefly
#
# Reproduce a crash: build-clang/fuzz/<target> fuzz/crashes/<file>
#
# Environment (all optional):
#   BUILD_DIR   the clang build folder (default: build-clang, shared with scripts/thread-safety.sh)
#   FUZZ_ARGS   extra libFuzzer flags, e.g. "-jobs=2 -workers=2"
#   FUZZ_RUNS   run this many inputs from seed 1 instead of SECONDS (CI: repeatable runs)
# Exit status: 1 when any target found a crash, a leak, a timeout or a broken invariant.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-600}
shift || true
build_dir=${BUILD_DIR:-build-clang}

# The same configuration as scripts/thread-safety.sh, so that CI builds the libraries once.
scripts/install-deps.sh
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++-14 \
  "${launcher[@]}" -DKUBE_INFORMER_BUILD_TESTS=OFF -DKUBE_INFORMER_BUILD_BENCHMARKS=OFF \
  -DKUBE_INFORMER_BUILD_EXAMPLES=OFF -DKUBE_INFORMER_WERROR=ON -DKUBE_INFORMER_FUZZ=ON >/dev/null
cmake --build "$build_dir" -j"$(nproc)" --target fuzz_targets

targets=("$@")
if ((${#targets[@]} == 0)); then
  for f in fuzz/*_fuzz.cc; do targets+=("$(basename "$f" .cc)"); done
fi

# Which dictionaries a target uses (fuzz/*.dict).
dicts_for() {
  case "$1" in
    label_selector_fuzz) echo fuzz/label_selector.dict ;;
    field_selector_fuzz) echo fuzz/field_selector.dict ;;
    kubeconfig_fuzz | manifest_fuzz) echo fuzz/yaml.dict ;;
    server_request_fuzz) echo fuzz/server_request.dict fuzz/json.dict ;;
    *) echo fuzz/json.dict ;;
  esac
}

mkdir -p fuzz/crashes
# Leaks are findings too (LeakSanitizer runs at exit and, in libFuzzer, after each new input).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
for t in "${targets[@]}"; do
  bin="$build_dir/fuzz/$t"
  [[ -x $bin ]] || { echo "fuzz: no target $t" >&2; exit 2; }
  work="$build_dir/corpus/$t"
  mkdir -p "$work"
  dict_args=()
  # libFuzzer takes one -dict; concatenate when a target uses several.
  read -r -a dicts <<<"$(dicts_for "$t")"
  if ((${#dicts[@]} == 1)); then
    dict_args=(-dict="${dicts[0]}")
  else
    cat "${dicts[@]}" >"$build_dir/$t.dict"
    dict_args=(-dict="$build_dir/$t.dict")
  fi
  # FUZZ_RUNS (CI): a fixed number of inputs from a fixed seed, so a run is repeatable.
  if [[ -n ${FUZZ_RUNS:-} ]]; then
    budget=(-runs="$FUZZ_RUNS" -seed=1)
    echo "=== $t: seed corpus, then $FUZZ_RUNS inputs (seed 1)"
  else
    budget=(-max_total_time="$seconds")
    echo "=== $t: seed corpus, then ${seconds} s"
  fi
  # shellcheck disable=SC2086
  if ! "$bin" "$work" "fuzz/corpus/$t" "${dict_args[@]}" "${budget[@]}" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="fuzz/crashes/$t-" ${FUZZ_ARGS:-} 2>"$build_dir/$t.log"; then
    failed+=("$t")
    tail -n 60 "$build_dir/$t.log"
  else
    grep -E "^stat::(number_of_executed_units|new_units_added|peak_rss_mb)|^Done" \
      "$build_dir/$t.log" | tr '\n' ' '
    echo
  fi
done

if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]} (inputs in fuzz/crashes/, logs in $build_dir/<target>.log)"
  exit 1
fi
echo "fuzz: ${#targets[@]} targets clean"
