# Helpers for the informer shell tests: a `kinf serve` in the background and waits with deadlines.
# Sourced by kinf_sync_test.sh and deployment_informer_test.sh; POSIX sh.

tmp=$(mktemp -d)
pids=""
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  for p in $pids; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for f in "$tmp"/*.out "$tmp"/*.err; do
    [ -f "$f" ] && { echo "--- $f" >&2; tail -n 40 "$f" >&2; }
  done
  exit 1
}

# wait_for_line FILE REGEX [SECONDS]: polls FILE until a line matches (default deadline 30 s).
wait_for_line() {
  deadline=$(( $(date +%s) + ${3:-30} ))
  until grep -Eq "$2" "$1" 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "no line matching '$2' in $1"
    sleep 0.05
  done
}

# start_server KINF ARGS...: runs `kinf serve ARGS` on 127.0.0.1:0 and sets $url.
start_server() {
  kinf=$1
  shift
  "$kinf" serve --listen 127.0.0.1:0 "$@" >"$tmp/serve.out" 2>"$tmp/serve.err" &
  pids="$pids $!"
  wait_for_line "$tmp/serve.out" '^listening on '
  url=$(sed -n 's/^listening on //p' "$tmp/serve.out")
}

# interrupt PID WHAT: sends SIGINT to PID and fails unless it then exits 0.
interrupt() {
  kill -INT "$1"
  rc=0
  wait "$1" || rc=$?
  [ "$rc" -eq 0 ] || fail "$2 exited $rc on SIGINT"
}
