#!/bin/sh
# `kinf sync`'s output contract against `kinf serve` with churning Pods:
#   synced N / one line per event / final N and N sorted `key rv` lines, exit 0,
# both with --for and when stopped by SIGINT. Also checks that replaying the printed events gives
# the final resourceVersions and the final count.
# usage: kinf_sync_test.sh KINF
set -eu
. "$(dirname "$0")/lib.sh"
kinf=$1

start_server "$kinf" --seed demo --churn 25 --write-kubeconfig "$tmp/kubeconfig"
wait_for_line "$tmp/serve.out" '^kubeconfig written'

# check_contract FILE: the whole contract on one run's stdout.
check_contract() {
  awk '
    NR == 1 {
      if ($0 !~ /^synced [0-9]+$/) { print "line 1 is not `synced N`: " $0; exit 1 }
      count = $2; phase = "events"; next
    }
    phase == "events" && /^final [0-9]+$/ { final = $2; phase = "dump"; next }
    phase == "events" {
      if ($0 !~ /^(ADD|UPDATE|DELETE) [a-z0-9.-]+\/[a-z0-9.-]+ [0-9]+$/) {
        print "bad event line: " $0; exit 1
      }
      events++
      if ($1 == "ADD") count++
      if ($1 == "DELETE") { count--; delete last[$2] } else last[$2] = $3
      next
    }
    phase == "dump" {
      if ($0 !~ /^[a-z0-9.-]+\/[a-z0-9.-]+ [0-9]+$/) { print "bad cache line: " $0; exit 1 }
      dumped++
      if (($1 in last) && last[$1] != $2) {
        print "replayed " $1 " at " last[$1] ", cached at " $2; exit 1
      }
      next
    }
    END {
      if (phase != "dump") { print "no `final N` line"; exit 1 }
      if (dumped != final) { print "final " final " but " dumped " cache lines"; exit 1 }
      if (count != final) { print "synced + adds - deletes = " count ", final " final; exit 1 }
      if (events < 1) { print "no event lines"; exit 1 }
    }' "$1" || fail "contract broken in $1"
  sed -n '/^final /,$p' "$1" | tail -n +2 | LC_ALL=C sort -c || fail "cache lines not sorted"
}

# 1. --for: stops by itself.
"$kinf" sync pods --for 3 --server "$url" >"$tmp/for.out" 2>"$tmp/for.err" ||
  fail "kinf sync --for exited $?"
check_contract "$tmp/for.out"

# 2. SIGINT after a few events, through the kubeconfig and the short name.
"$kinf" sync po -n default --kubeconfig "$tmp/kubeconfig" >"$tmp/sigint.out" 2>"$tmp/sigint.err" &
sync_pid=$!
pids="$pids $sync_pid"
wait_for_line "$tmp/sigint.out" '^synced '
wait_for_line "$tmp/sigint.out" '^(ADD|UPDATE|DELETE) '
interrupt "$sync_pid" "kinf sync"
check_contract "$tmp/sigint.out"

# 3. Cluster-scoped keys are bare names; errors go to stderr with a non-zero exit.
"$kinf" sync namespaces --for 0.5 --server "$url" >"$tmp/ns.out" 2>"$tmp/ns.err" ||
  fail "kinf sync namespaces exited $?"
grep -qx 'default [0-9]*' "$tmp/ns.out" || fail "no bare 'default RV' line for namespaces"
rc=0
"$kinf" sync nosuchthings --for 1 --server "$url" >"$tmp/bad.out" 2>"$tmp/bad.err" || rc=$?
[ "$rc" -ne 0 ] || fail "an unknown resource exited 0"
[ ! -s "$tmp/bad.out" ] || fail "an error printed on stdout"
grep -q "doesn't have a resource type" "$tmp/bad.err" || fail "no error message on stderr"
echo PASS
