#!/bin/sh
# The ported client-go example against `kinf serve --seed demo`: it prints `add a deployment:`
# lines and the `default` namespace as `1 -> NAME` lines, and exits 0 on SIGINT.
# usage: deployment_informer_test.sh KINF DEPLOYMENT_INFORMER
set -eu
. "$(dirname "$0")/lib.sh"
kinf=$1
example=$2

start_server "$kinf" --seed demo --write-kubeconfig "$tmp/kubeconfig"
wait_for_line "$tmp/serve.out" '^kubeconfig written'

# Not in a pod: the example must fall back to --kubeconfig.
env -u KUBERNETES_SERVICE_HOST -u KUBERNETES_SERVICE_PORT \
  "$example" --kubeconfig "$tmp/kubeconfig" >"$tmp/example.out" 2>"$tmp/example.err" &
example_pid=$!
pids="$pids $example_pid"
wait_for_line "$tmp/example.out" '^1 -> [a-z0-9.-]+$'
wait_for_line "$tmp/example.out" '^add a deployment: [a-z0-9.-]+$'
interrupt "$example_pid" "the example"

adds=$(grep -c '^add a deployment: ' "$tmp/example.out")
listed=$(grep -c '^[0-9][0-9]* -> ' "$tmp/example.out")
[ "$adds" -ge 1 ] && [ "$listed" -ge 1 ] || fail "adds=$adds listed=$listed"
# Every listed Deployment is in `default` and was announced by the add handler.
for name in $(sed -n 's/^[0-9][0-9]* -> //p' "$tmp/example.out"); do
  grep -qx "add a deployment: $name" "$tmp/example.out" || fail "$name listed but never added"
done
echo PASS
