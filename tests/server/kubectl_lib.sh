# Shared by the kubectl end-to-end scripts (kubectl_e2e.sh, kubectl_protobuf_e2e.sh), which source
# it, set KINF (the kinf binary) and call `start_kinf_serve`; it also defines the helpers the checks
# use. KUBECTL overrides the kubectl binary.
# shellcheck shell=bash
# start_kinf_serve NAME [SERVE_ARGS...]: skips the whole script (exit 0, "SKIPPED: kubectl not
# installed") without kubectl; otherwise makes a fresh work folder and HOME (removed at exit unless
# KEEP_WORK=1), starts `$KINF serve` on a free loopback port with SERVE_ARGS, and waits until it has
# written its kubeconfig (exit 1 when it does not start). Sets WORK, KUBECONFIG_FILE, SERVER_PID.
start_kinf_serve() {
  KUBECTL=${KUBECTL:-kubectl}
  if ! command -v "$KUBECTL" >/dev/null 2>&1; then
    echo "SKIPPED: kubectl not installed"
    exit 0
  fi

  WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  export HOME="$WORK/home"
  mkdir -p "$HOME"
  KUBECONFIG_FILE="$WORK/kubeconfig"
  SERVER_PID=""

  # shellcheck disable=SC2317  # invoked through the EXIT trap
  cleanup() {
    if [[ -n "$SERVER_PID" ]]; then
      kill "$SERVER_PID" 2>/dev/null
      wait "$SERVER_PID" 2>/dev/null
    fi
    if [[ "${KEEP_WORK:-}" == 1 ]]; then
      echo "work directory kept: $WORK"
    else
      rm -rf "$WORK"
    fi
  }
  trap cleanup EXIT
  "$KINF" serve --listen 127.0.0.1:0 "${@:2}" --write-kubeconfig "$KUBECONFIG_FILE" \
    >"$WORK/server.out" 2>"$WORK/server.err" &
  SERVER_PID=$!
  for _ in $(seq 1 200); do
    grep -q '^kubeconfig written to' "$WORK/server.out" 2>/dev/null && break
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
    sleep 0.1
  done
  if ! grep -q '^kubeconfig written to' "$WORK/server.out" 2>/dev/null; then
    echo "FAIL: kinf serve did not start"
    cat "$WORK/server.out" "$WORK/server.err"
    exit 1
  fi
  echo "server: $(head -n 1 "$WORK/server.out")"
}

k() {
  "$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" --cache-dir "$WORK/cache" --request-timeout=20s "$@"
}

# --- check helpers -------------------------------------------------------------------------------
PASSED=0
FAILED=0
FAILURES=()
OUT=""

# run NAME CMD...: runs CMD (stdout+stderr into $OUT); the check fails if it exits non-zero.
run() {
  local name=$1
  shift
  OUT=$("$@" 2>&1)
  local rc=$?
  if ((rc != 0)); then
    fail "$name" "exit code $rc"
    return 1
  fi
  return 0
}

pass() {
  PASSED=$((PASSED + 1))
  echo "ok   $1"
}

fail() {
  FAILED=$((FAILED + 1))
  FAILURES+=("$1")
  echo "FAIL $1: $2"
  printf '%s\n' "$OUT" | sed 's/^/     | /' | head -n 40
}

# expect NAME REGEX...: every extended regex must match some line of $OUT.
expect() {
  local name=$1
  shift
  local re
  for re in "$@"; do
    if ! grep -Eq -- "$re" <<<"$OUT"; then
      fail "$name" "no line matches /$re/"
      return 1
    fi
  done
  pass "$name"
}

# expect_not NAME REGEX: no line of $OUT may match.
expect_not() {
  if grep -Eq -- "$2" <<<"$OUT"; then
    fail "$1" "a line matches /$2/"
    return 1
  fi
  pass "$1"
}

# check NAME REGEX... -- CMD...: run, then expect.
check() {
  local name=$1
  shift
  local res=()
  while [[ $# -gt 0 && "$1" != "--" ]]; do
    res+=("$1")
    shift
  done
  shift
  run "$name" "$@" && expect "$name" "${res[@]}"
}

# check_err NAME REGEX... -- CMD...: CMD must fail, and its output match every REGEX.
check_err() {
  local name=$1
  shift
  local res=()
  while [[ $# -gt 0 && "$1" != "--" ]]; do
    res+=("$1")
    shift
  done
  shift
  if OUT=$("$@" 2>&1); then
    fail "$name" "succeeded, but should have failed"
    return 1
  fi
  expect "$name" "${res[@]}"
}

# jsonpath NAME WANT ARGS...: `kubectl get ARGS -o jsonpath=...` must print exactly WANT.
# The last argument is the jsonpath template.
jsonpath() {
  local name=$1 want=$2
  shift 2
  local args=("$@")
  local tmpl=${args[-1]}
  unset 'args[-1]'
  run "$name" k get "${args[@]}" -o "jsonpath=$tmpl" || return
  if [[ "$OUT" == "$want" ]]; then
    pass "$name"
  else
    fail "$name" "want '$want', got '$OUT'"
  fi
}

# Stops the server (it must exit 0 on SIGTERM, without sanitizer reports under ASan/UBSan builds),
# prints the summary of suite $1 and exits 1 if any check failed, else 0.
stop_server_and_summarize() {
  kill "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  local rc=$?
  SERVER_PID=""
  OUT=$(cat "$WORK/server.err")
  if ((rc == 0)); then pass "server exits 0 on SIGTERM"; else
    fail "server exits 0 on SIGTERM" "exit code $rc"; fi
  expect_not "no sanitizer reports" 'ERROR: (Address|Leak)Sanitizer|runtime error:'
  echo
  echo "$1: $PASSED passed, $FAILED failed"
  if ((FAILED > 0)); then
    printf '  failed: %s\n' "${FAILURES[@]}"
    echo "--- server stderr (last 40 lines) ---"
    tail -n 40 "$WORK/server.err"
    exit 1
  fi
  exit 0
}
