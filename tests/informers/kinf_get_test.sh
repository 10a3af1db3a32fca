#!/bin/sh
# `kinf get`'s output formats against `kinf serve` seeded with objects created out of order:
# the table, `-o name` (protobuf and JSON reads alike), `-o json`, an empty namespace, a
# cluster-scoped resource, a grouped resource and a bad `-o`.
# usage: kinf_get_test.sh KINF
set -eu
. "$(dirname "$0")/lib.sh"
kinf=$1

# Pods named so that creation order, name order and namespace order all differ.
pod() {
  printf '{"apiVersion":"v1","kind":"Pod","metadata":{"namespace":"%s","name":"%s","labels":{"app":"%s"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}},' "$1" "$2" "$3"
}
{
  printf '['
  for ns in zeta alpha; do
    printf '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"%s"}},' "$ns"
  done
  pod zeta b web
  pod alpha z-long-name-of-a-pod web
  pod zeta a db
  pod alpha c web
  printf '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"namespace":"alpha","name":"web"},"spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}'
  printf ']\n'
} >"$tmp/seed.json"
start_server "$kinf" --seed "$tmp/seed.json"

# get NAME ARGS...: `kinf get ARGS` into $tmp/NAME.out and .err; fails unless it exits 0.
get() {
  name=$1
  shift
  "$kinf" get "$@" --server "$url" >"$tmp/$name.out" 2>"$tmp/$name.err" ||
    fail "kinf get $* exited $?"
}

# 1. The table: NAMESPACE, NAME, AGE columns three spaces apart, sorted by namespace then name.
get table pods -A
sed 's/[0-9][0-9]*[smhd]$/AGE/' "$tmp/table.out" >"$tmp/table.norm"
cat >"$tmp/table.want" <<'WANT'
NAMESPACE   NAME                   AGE
alpha       c                      AGE
alpha       z-long-name-of-a-pod   AGE
zeta        a                      AGE
zeta        b                      AGE
WANT
diff "$tmp/table.want" "$tmp/table.norm" >&2 || fail "table differs"

# 2. -o name, sorted the same way, whether the objects are read as protobuf or JSON.
printf 'pod/c\npod/z-long-name-of-a-pod\npod/a\npod/b\n' >"$tmp/name.want"
get name pods -A -o name
diff "$tmp/name.want" "$tmp/name.out" >&2 || fail "-o name differs"
get name-json pods -A -o name --protobuf=false
diff "$tmp/name.want" "$tmp/name-json.out" >&2 || fail "-o name --protobuf=false differs"
get name-selector pods -A -l app=web -o name
printf 'pod/c\npod/z-long-name-of-a-pod\npod/b\n' | diff - "$tmp/name-selector.out" >&2 ||
  fail "-o name -l app=web differs"

# 3. -o json: one line, a List holding the objects in the same order, each with its TypeMeta.
get json pods -n zeta -o json
[ "$(wc -l <"$tmp/json.out")" -eq 1 ] || fail "-o json is not one line"
grep -q '^{"apiVersion":"v1","kind":"List","items":\[{.*}\]}$' "$tmp/json.out" ||
  fail "-o json is not {\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[...]}"
[ "$(grep -o '"kind":"Pod"' "$tmp/json.out" | wc -l)" -eq 2 ] || fail "-o json: not 2 Pods"
grep -q '"name":"a".*"name":"b"' "$tmp/json.out" || fail "-o json: items not sorted by name"
if command -v python3 >/dev/null; then
  python3 -c 'import json,sys; l=json.load(open(sys.argv[1])); assert [i["metadata"]["name"] for i in l["items"]] == ["a","b"]' \
    "$tmp/json.out" || fail "-o json is not the JSON of the two Pods"
fi
get json-empty pods -n nowhere -o json
grep -qx '{"apiVersion":"v1","kind":"List","items":\[\]}' "$tmp/json-empty.out" ||
  fail "-o json of nothing is not the empty List"

# 4. Nothing to list: a message on stderr, nothing on stdout, exit 0.
get empty pods -n nowhere
[ ! -s "$tmp/empty.out" ] || fail "an empty list printed on stdout"
grep -qx 'No resources found in nowhere namespace.' "$tmp/empty.err" ||
  fail "no 'No resources found in nowhere namespace.'"

# 5. Cluster-scoped and grouped resources.
get ns namespaces -o name
grep -qx 'namespace/alpha' "$tmp/ns.out" || fail "no namespace/alpha"
LC_ALL=C sort -c "$tmp/ns.out" || fail "namespaces not sorted"
get deploy deploy -n alpha -o name
grep -qx 'deployment.apps/web' "$tmp/deploy.out" || fail "no deployment.apps/web"

# 6. Bad usage and unknown resources.
rc=0
"$kinf" get pods -o yaml --server "$url" >"$tmp/bad-o.out" 2>"$tmp/bad-o.err" || rc=$?
[ "$rc" -eq 2 ] || fail "-o yaml exited $rc, want 2"
rc=0
"$kinf" get nosuchthings --server "$url" >"$tmp/bad.out" 2>"$tmp/bad.err" || rc=$?
[ "$rc" -eq 1 ] || fail "an unknown resource exited $rc, want 1"
[ ! -s "$tmp/bad.out" ] || fail "an error printed on stdout"
echo PASS
