#!/usr/bin/env bash
# shellcheck disable=SC2016  # jsonpath templates are literal on purpose
# kubectl end-to-end, everyday use beyond kubectl_e2e.sh: `auth can-i`/`whoami`, namespace
# deletion with contents and finalizers, generateName, --dry-run=server, diff, edit, rollout,
# wait, label/annotate, scale, and -o jsonpath/custom-columns. The server runs over TLS with a
# token file (kubectl sends a bearer token only over TLS), as the recorded real server did; each
# expected line is what kubectl printed against kube-apiserver v1.32 for the same command.
#
# Usage: kubectl_everyday_e2e.sh PATH/TO/kinf     (KUBECTL=... overrides the kubectl binary)
# Exits 0 when every check passes, 1 otherwise; "SKIPPED: kubectl not installed" without kubectl.
set -uo pipefail

KINF=${1:?usage: kubectl_everyday_e2e.sh PATH/TO/kinf}
source "$(dirname "${BASH_SOURCE[0]}")/kubectl_lib.sh"
if ! command -v openssl >/dev/null 2>&1; then
  echo "SKIPPED: openssl not installed"
  exit 0
fi
CERTS=$(mktemp -d "${TMPDIR:-/tmp}/kubectl_everyday_certs.XXXXXX")
trap 'rm -rf "$CERTS"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -keyout "$CERTS/tls.key" -out "$CERTS/tls.crt" -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1
echo 'admin-token,admin,admin,"system:masters"' >"$CERTS/tokens.csv"
start_kinf_serve kubectl_everyday_e2e --seed demo --token-auth-file "$CERTS/tokens.csv" \
  --tls-cert-file "$CERTS/tls.crt" --tls-private-key-file "$CERTS/tls.key"
# start_kinf_serve's cleanup replaced the trap: remove the certificates too.
trap 'cleanup; rm -rf "$CERTS"' EXIT

# --- auth (requests/36-39 of the recorded samples) -----------------------------------------------
check "auth can-i list pods" '^yes$' -- k auth can-i list pods -n default
# The recorded server answered `no` through RBAC; this server's authorizer allows everything.
check "auth can-i --as" '^yes$' -- k auth can-i get pods --as jane
check "auth can-i --list" '^Resources +Non-Resource URLs +Resource Names +Verbs$' \
  '^\*\.\* +\[\] +\[\] +\[\*\]$' '^ +\[\*\] +\[\] +\[\*\]$' -- k auth can-i --list -n default
check "auth whoami" '^ATTRIBUTE +VALUE$' '^Username +admin$' '^UID +admin$' \
  '^Groups +\[system:masters system:authenticated\]$' -- k auth whoami
check "auth whoami --as" '^Username +jane$' '^Groups +\[system:authenticated\]$' -- \
  k auth whoami --as jane

# --- generateName, dry-run=server --------------------------------------------------------------
cat >"$WORK/gen.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  generateName: gen-
data:
  a: "1"
EOF
check "create -f generateName" '^configmap/gen-[bcdfghjklmnpqrstvwxz2456789]{5} created$' -- \
  k create -f "$WORK/gen.yaml"
check "create --dry-run=server" '^configmap/dry created \(server dry run\)$' -- \
  k create configmap dry --from-literal=a=1 --dry-run=server
check_err "dry run stored nothing" '\(NotFound\): configmaps "dry" not found' -- k get cm dry

# --- label, annotate, scale, jsonpath, custom-columns ------------------------------------------
check "label" '^configmap/web-config labeled$' -- k label cm web-config tier=backend
check "annotate" '^configmap/web-config annotated$' -- \
  k annotate cm web-config example.com/note=annotated
jsonpath "label stored" "backend" cm web-config '{.metadata.labels.tier}'
check "scale" '^deployment\.apps/web scaled$' -- k scale deploy web --replicas=4
jsonpath "scale stored" "4" deploy web '{.spec.replicas}'
check "custom-columns" '^NAME +REPLICAS$' '^web +4$' -- \
  k get deploy web -o custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas
jsonpath "jsonpath range" "api web worker " deploy '{range .items[*]}{.metadata.name} {end}'

# --- diff, edit ----------------------------------------------------------------------------------
run "get for diff" k get cm web-config -o yaml && printf '%s\n' "$OUT" >"$WORK/wc.yaml"
sed -i 's/^data:/data:\n  added: "yes"/' "$WORK/wc.yaml"
OUT=$(k diff -f "$WORK/wc.yaml" 2>&1)
DIFF_RC=$?
if ((DIFF_RC == 1)); then pass "diff exits 1 on a change"; else
  fail "diff exits 1 on a change" "exit code $DIFF_RC"; fi
expect "diff shows the change" '^\+  added: "yes"$'
jsonpath "diff stored nothing" "" cm web-config '{.data.added}'
cat >"$WORK/editor.sh" <<'EOF'
#!/bin/sh
sed -i 's/^  LOG_LEVEL: info$/  LOG_LEVEL: debug/' "$1"
EOF
chmod +x "$WORK/editor.sh"
OUT=$(KUBE_EDITOR="$WORK/editor.sh" k edit cm web-config 2>&1)
expect "edit" '^configmap/web-config edited$'
jsonpath "edit stored" "debug" cm web-config '{.data.LOG_LEVEL}'

# --- rollout, wait -------------------------------------------------------------------------------
check "rollout status" '^deployment "api" successfully rolled out$' -- \
  k rollout status deploy/api --timeout=10s
check "rollout history" '^deployment\.apps/api' -- k rollout history deploy/api
check "wait --for=condition" '^deployment\.apps/api condition met$' -- \
  k wait --for=condition=Available deploy/api --timeout=10s
check "create for wait" 'created' -- k create configmap doomed --from-literal=a=1
(sleep 1 && k delete cm doomed >/dev/null 2>&1) &
DELETER=$!
check "wait --for=delete" '^configmap/doomed condition met$' -- \
  k wait --for=delete cm/doomed --timeout=20s
wait "$DELETER"

# --- namespaces: deletion with contents, finalizers -----------------------------------------------
check "create namespace" '^namespace/gone created$' -- k create namespace gone
check "contents" 'created' -- k -n gone create configmap c --from-literal=a=1
check "contents (deployment)" 'created' -- k -n gone create deployment d --image=nginx
check "delete namespace" '^namespace "gone" deleted$' -- k delete namespace gone --timeout=20s
check_err "namespace gone" '\(NotFound\): namespaces "gone" not found' -- k get ns gone
check_err "contents gone" '\(NotFound\)' -- k -n gone get cm c
check_err "default may not be deleted" \
  'Error from server \(Forbidden\): namespaces "default" is forbidden: this namespace may not be deleted' \
  -- k delete namespace default

check "create namespace (held)" '^namespace/held created$' -- k create namespace held
cat >"$WORK/held.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: keep
  namespace: held
  finalizers: [example.com/hold]
EOF
check "object with a finalizer" '^configmap/keep created$' -- k create -f "$WORK/held.yaml"
check "delete namespace --wait=false" '^namespace "held" deleted$' -- \
  k delete namespace held --wait=false
check "namespace terminating" '^held +Terminating +' -- k get ns held
jsonpath "conditions say why" \
  "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances" \
  ns held '{.status.conditions[?(@.type=="NamespaceFinalizersRemaining")].message}'
check_err "no new content" \
  'configmaps "new" is forbidden: unable to create new content in namespace held because it is being terminated' \
  -- k -n held create configmap new --from-literal=a=1
check "remove the finalizer" '^configmap/keep patched$' -- \
  k -n held patch cm keep --type merge -p '{"metadata":{"finalizers":null}}'
run "namespace goes" k wait --for=delete namespace/held --timeout=20s && pass "namespace goes"
check_err "namespace gone (held)" '\(NotFound\): namespaces "held" not found' -- k get ns held

# --- finalizers on any object ------------------------------------------------------------------
cat >"$WORK/fin.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: fin
  finalizers: [example.com/hold]
EOF
check "object with a finalizer (default)" '^configmap/fin created$' -- k create -f "$WORK/fin.yaml"
check "delete --wait=false" '^configmap "fin" deleted$' -- k delete cm fin --wait=false
check "still there, being deleted" '^[0-9TZ:-]+$' -- \
  k get cm fin -o 'jsonpath={.metadata.deletionTimestamp}'
check "finalizer removed" '^configmap/fin patched$' -- \
  k patch cm fin --type json -p '[{"op":"remove","path":"/metadata/finalizers"}]'
check_err "then gone" '\(NotFound\): configmaps "fin" not found' -- k get cm fin

# --- the server stops cleanly; the summary --------------------------------------------------------
stop_server_and_summarize "kubectl everyday e2e"
