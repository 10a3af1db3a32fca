#!/usr/bin/env bash
# shellcheck disable=SC2016  # JSON patches and jsonpath templates are literal on purpose
# kubectl end-to-end: drives the real kubectl against `kinf serve --seed demo` and checks what
# kubectl prints. Covers discovery, tables, get (-A, -l, -o json/yaml), get -w, create/replace/
# apply -f, label, annotate, scale, patch (merge, json, strategic) and delete.
#
# Usage: kubectl_e2e.sh PATH/TO/kinf        (KUBECTL=... overrides the kubectl binary)
# Exits 0 when every check passes, 1 otherwise; prints "SKIPPED: kubectl not installed" and exits
# 0 when there is no kubectl. Each run uses a fresh HOME and --cache-dir, so kubectl's discovery
# and OpenAPI caches never leak between runs.
set -uo pipefail

KINF=${1:?usage: kubectl_e2e.sh PATH/TO/kinf}
source "$(dirname "${BASH_SOURCE[0]}")/kubectl_lib.sh"
start_kinf_serve kubectl_e2e --seed demo

# --- discovery -----------------------------------------------------------------------------------
check "version" 'Server Version: v1\.32' -- k version
check "api-resources" '^deployments +deploy +apps/v1 +true +Deployment' \
  '^pods +po +v1 +true +Pod' '^namespaces +ns +v1 +false +Namespace' \
  '^customresourcedefinitions +crd,crds +apiextensions\.k8s\.io/v1 +false' -- k api-resources
check "api-versions" '^apps/v1$' '^batch/v1$' '^v1$' -- k api-versions
run "no discovery warnings" k get --raw /api >/dev/null &&
  expect_not "no discovery warnings" 'unable to retrieve the complete list'

# --- get: tables, selectors, output formats ------------------------------------------------------
check "get pods (table)" '^NAME +READY +STATUS +RESTARTS +AGE$' '^web-[a-z0-9-]+ +1/1 +Running +0 +' \
  -- k get pods
check "get pods -o wide" '^NAME +READY +STATUS +RESTARTS +AGE +IP +NODE +NOMINATED NODE +READINESS GATES$' \
  'kinf-node-1' -- k get pods -o wide
check "get deployments" '^NAME +READY +UP-TO-DATE +AVAILABLE +AGE$' '^web +3/3 +3 +3 +' \
  '^api +2/2 +2 +2 +' -- k get deploy
check "get services" '^NAME +TYPE +CLUSTER-IP +EXTERNAL-IP +PORT\(S\) +AGE$' \
  '^web +ClusterIP +[^ ]+ +<none> +80/TCP +' -- k get svc
check "get configmap" '^NAME +DATA +AGE$' '^web-config +2 +' -- k get cm web-config
check "get nodes" '^NAME +STATUS +ROLES +AGE +VERSION$' '^kinf-node-1 +Ready +<none> +.* v1\.32\.0$' \
  -- k get nodes
check "get namespaces" '^NAME +STATUS +AGE$' '^default ' -- k get ns
check "get -A" '^NAMESPACE +NAME +READY +STATUS' '^default +web-' -- k get pods -A
check "get -l" '^api-' -- k get pods -l app=api
run "get -l excludes others" k get pods -l app=api && expect_not "get -l excludes others" '^web-'
check "get -l set selector" '^web-' '^worker-' -- k get pods -l 'app in (web,worker)'
check "get --show-labels" 'app=web' -- k get deploy web --show-labels
check "get -o json" '"kind": "Deployment"' '"name": "web"' '"replicas": 3' -- k get deploy web -o json
check "get list -o json" '"kind": "List"' '"items": \[' -- k get cm -o json
check "get -o yaml" '^kind: Service$' '^  name: web$' -- k get svc web -o yaml
check "get -o name" '^deployment\.apps/web$' -- k get deploy -o name
jsonpath "get -o jsonpath" "nginx:1.27" deploy web '{.spec.template.spec.containers[0].image}'
check "get --field-selector" '^web-' -- k get pods --field-selector spec.nodeName=kinf-node-1
check_err "get missing" 'Error from server \(NotFound\): deployments\.apps "nope" not found' -- \
  k get deploy nope
check "get --sort-by" '^NAME' -- k get pods --sort-by=.metadata.name

# --- create, replace, apply ----------------------------------------------------------------------
cat >"$WORK/ns.yaml" <<'EOF'
apiVersion: v1
kind: Namespace
metadata:
  name: e2e
EOF
cat >"$WORK/cm.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: e2e
data:
  mode: fast
EOF
cat >"$WORK/deploy.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
  namespace: e2e
  labels:
    app: shop
spec:
  replicas: 2
  selector:
    matchLabels:
      app: shop
  template:
    metadata:
      labels:
        app: shop
    spec:
      containers:
      - name: shop
        image: shop:1.0
        env:
        - name: MODE
          value: fast
      - name: proxy
        image: envoy:1.30
EOF

check "create -f namespace" '^namespace/e2e created$' -- k create -f "$WORK/ns.yaml"
check "create -f configmap" '^configmap/settings created$' -- k create -f "$WORK/cm.yaml"
check_err "create -f duplicate" 'Error from server \(AlreadyExists\).*"settings" already exists' -- \
  k create -f "$WORK/cm.yaml"
sed 's/mode: fast/mode: slow/' "$WORK/cm.yaml" >"$WORK/cm2.yaml"
check "replace -f" '^configmap/settings replaced$' -- k replace -f "$WORK/cm2.yaml"
jsonpath "replace took effect" "slow" -n e2e cm settings '{.data.mode}'

check "apply -f (create)" '^deployment\.apps/shop created$' -- k apply -f "$WORK/deploy.yaml"
run "last-applied present" k get -n e2e deploy shop -o yaml &&
  expect "last-applied present" 'kubectl.kubernetes.io/last-applied-configuration'
check "apply -f (unchanged)" '^deployment\.apps/shop unchanged$' -- k apply -f "$WORK/deploy.yaml"
# Change one container's image and drop the other: a strategic 3-way patch with
# $setElementOrder and a $patch: delete element.
sed -e 's/shop:1.0/shop:1.1/' -e '/- name: proxy/,+1d' "$WORK/deploy.yaml" >"$WORK/deploy2.yaml"
check "apply -f (configure)" '^deployment\.apps/shop configured$' -- k apply -f "$WORK/deploy2.yaml"
jsonpath "apply merged containers" "shop=shop:1.1;" -n e2e deploy shop \
  '{range .spec.template.spec.containers[*]}{.name}={.image};{end}'
jsonpath "apply kept env" "MODE=fast" -n e2e deploy shop \
  '{.spec.template.spec.containers[0].env[0].name}={.spec.template.spec.containers[0].env[0].value}'
# `kubectl replace` last set .data.mode to another value: it owns it (kubectl_apply_e2e.sh has more).
check_err "apply --server-side conflicts with kubectl-replace" \
  'conflict with "kubectl-replace" using v1: \.data\.mode' -- k apply --server-side -f "$WORK/cm.yaml"
check "apply --server-side --force-conflicts" 'serverside-applied' -- \
  k apply --server-side --force-conflicts -f "$WORK/cm.yaml"

run "create/apply print no warnings" k apply -f "$WORK/deploy2.yaml" &&
  expect_not "create/apply print no warnings" '[Ww]arning'

# --- custom resources: discovery refresh, tables, client-side apply with a merge patch ----------
cat >"$WORK/crd.yaml" <<'EOF'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
EOF
cat >"$WORK/widget.yaml" <<'EOF'
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w1
  namespace: e2e
spec:
  color: red
EOF
check "apply -f CRD" 'customresourcedefinition\.apiextensions\.k8s\.io/widgets\.example\.com created' \
  -- k apply -f "$WORK/crd.yaml"
check "get crd" '^NAME +CREATED AT$' '^widgets\.example\.com +[0-9]{4}-' -- k get crd
check "apply -f custom resource" '^widget\.example\.com/w1 created$' -- k apply -f "$WORK/widget.yaml"
check "get custom resource by short name" '^NAME +AGE$' '^w1 +' -- k -n e2e get wd
sed 's/red/blue/' "$WORK/widget.yaml" >"$WORK/widget2.yaml"
check "apply -f custom resource (merge patch)" '^widget\.example\.com/w1 configured$' -- \
  k apply -f "$WORK/widget2.yaml"
jsonpath "custom resource patched" "blue" -n e2e wd w1 '{.spec.color}'
check_err "strategic patch on custom resource" 'not supported' -- \
  k -n e2e patch wd w1 -p '{"spec":{"color":"green"}}'
check "delete custom resource" '^widget\.example\.com "w1" deleted' -- k -n e2e delete wd w1

# --- label, annotate, scale, patch ---------------------------------------------------------------
check "label" '^deployment\.apps/shop labeled$' -- k -n e2e label deploy shop tier=backend
jsonpath "label took effect" "backend" -n e2e deploy shop '{.metadata.labels.tier}'
check "label remove" '^deployment\.apps/shop unlabeled$' -- k -n e2e label deploy shop tier-
jsonpath "label removed" "" -n e2e deploy shop '{.metadata.labels.tier}'
check "annotate" '^configmap/settings annotated$' -- k -n e2e annotate cm settings owner=team-a
jsonpath "annotate took effect" "team-a" -n e2e cm settings '{.metadata.annotations.owner}'
check "annotate --overwrite" '^configmap/settings annotated$' -- \
  k -n e2e annotate --overwrite cm settings owner=team-b
jsonpath "annotate overwrote" "team-b" -n e2e cm settings '{.metadata.annotations.owner}'

check "scale" '^deployment\.apps/shop scaled$' -- k -n e2e scale deploy shop --replicas=5
jsonpath "scale took effect" "5" -n e2e deploy shop '{.spec.replicas}'
check "scale --current-replicas" '^deployment\.apps/shop scaled$' -- \
  k -n e2e scale deploy shop --current-replicas=5 --replicas=4
jsonpath "scale precondition held" "4" -n e2e deploy shop '{.spec.replicas}'

check "patch --type=merge" '^configmap/settings patched$' -- \
  k -n e2e patch cm settings --type=merge -p '{"data":{"extra":"1","mode":null}}'
jsonpath "merge patch took effect" "1|" -n e2e cm settings '{.data.extra}|{.data.mode}'
check "patch --type=json" '^configmap/settings patched$' -- \
  k -n e2e patch cm settings --type=json -p '[{"op":"add","path":"/data/json","value":"yes"}]'
jsonpath "json patch took effect" "yes" -n e2e cm settings '{.data.json}'
check_err "patch --type=json failing test" 'Invalid|test' -- \
  k -n e2e patch cm settings --type=json -p '[{"op":"test","path":"/data/json","value":"no"}]'
jsonpath "failed json patch changed nothing" "yes" -n e2e cm settings '{.data.json}'
check_err "patch (strategic) on bad merge key" 'merge key' -- \
  k -n e2e patch deploy shop -p '{"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}' 
check "patch (strategic, add container)" '^deployment\.apps/shop patched$' -- \
  k -n e2e patch deploy shop -p '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}'
jsonpath "strategic patch merged by name" "sidecar,shop," -n e2e deploy shop \
  '{range .spec.template.spec.containers[*]}{.name},{end}'
check "patch (strategic, \$patch delete)" '^deployment\.apps/shop patched$' -- \
  k -n e2e patch deploy shop -p '{"spec":{"template":{"spec":{"containers":[{"$patch":"delete","name":"sidecar"}]}}}}'
jsonpath "strategic delete took effect" "shop," -n e2e deploy shop \
  '{range .spec.template.spec.containers[*]}{.name},{end}'
check "patch (strategic, env by name)" '^deployment\.apps/shop patched$' -- \
  k -n e2e patch deploy shop -p '{"spec":{"template":{"spec":{"containers":[{"name":"shop","env":[{"name":"EXTRA","value":"x"}]}]}}}}'
jsonpath "strategic env merged" "EXTRA,MODE," -n e2e deploy shop \
  '{range .spec.template.spec.containers[0].env[*]}{.name},{end}'

# --- watch ---------------------------------------------------------------------------------------
# A collection watch: the initial list, then a change made once the list has been printed.
# wait_for_rows FILE N: waits (up to 15 s) until FILE has N rows for `settings`.
wait_for_rows() {
  local _
  for _ in $(seq 1 150); do
    (($(grep -c '^settings ' "$1" 2>/dev/null) >= $2)) && return 0
    sleep 0.1
  done
  return 1
}
timeout 30 "$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" --cache-dir "$WORK/cache" \
  -n e2e get cm -w >"$WORK/watch.out" 2>&1 &
WATCHER=$!
wait_for_rows "$WORK/watch.out" 1 && k -n e2e label cm settings watched=yes >/dev/null 2>&1 &&
  wait_for_rows "$WORK/watch.out" 2
kill "$WATCHER" 2>/dev/null
wait "$WATCHER" 2>/dev/null
OUT=$(cat "$WORK/watch.out")
expect "get -w (collection)" '^NAME +DATA +AGE$' '^settings +[0-9]+ +'
if (($(grep -c '^settings ' <<<"$OUT") >= 2)); then
  pass "get -w sees the update"
else
  fail "get -w sees the update" "expected two rows for settings"
fi
OUT=$(timeout 3 "$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" --cache-dir "$WORK/cache" \
  get deploy web -w 2>&1)
expect "get -w NAME" '^web +3/3 +3 +3 +'
OUT=$(timeout 3 "$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" --cache-dir "$WORK/cache" \
  get pods -w -o name 2>&1)
expect "get -w -o name" '^pod/web-'

# --- delete --------------------------------------------------------------------------------------
check "delete configmap" '^configmap "settings" deleted' -- k -n e2e delete cm settings
check_err "deleted is gone" '\(NotFound\): configmaps "settings" not found' -- \
  k -n e2e get cm settings
run "pick a pod" k get pods -l app=web -o name
POD=$(head -n 1 <<<"$OUT")
check "delete pod (returns object)" '^pod "web-[a-z0-9-]+" deleted' -- k delete "$POD"
check "delete -f" '^deployment\.apps "shop" deleted' -- k delete -f "$WORK/deploy.yaml"
check "delete -l" 'deleted' -- k delete svc -l app=worker
check "delete namespace" '^namespace "e2e" deleted' -- k delete ns e2e --wait=false

# --- the server stops cleanly; the summary --------------------------------------------------------
stop_server_and_summarize "kubectl e2e"
