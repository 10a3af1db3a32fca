#!/usr/bin/env bash
# kubectl server-side apply and OpenAPI end-to-end: the real kubectl's `apply --server-side`
# (create, change, conflict with another field manager, --force-conflicts, removal of a field no
# longer applied), field ownership left by `create`, `label` and client-side `apply`, the same for
# a custom resource whose CRD schema has a list map and a set, `kubectl explain` reading the
# server's OpenAPI v3 documents (built-in kinds and the CRD's schema), and server-side field
# validation of unknown fields (strict and warn), against an empty `kinf serve`.
#
# Usage: kubectl_apply_e2e.sh PATH/TO/kinf        (KUBECTL=... overrides the kubectl binary)
# Exits 0 when every check passes, 1 otherwise; prints "SKIPPED: kubectl not installed" and exits
# 0 when there is no kubectl.
set -uo pipefail

KINF=${1:?usage: kubectl_apply_e2e.sh PATH/TO/kinf}
source "$(dirname "${BASH_SOURCE[0]}")/kubectl_lib.sh"
start_kinf_serve kubectl_apply_e2e

N=(-n apply-ns)
run "create namespace" k create namespace apply-ns && pass "create namespace"

# --- server-side apply of a Deployment -----------------------------------------------------------
cat >"$WORK/ssa-1.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ssa-web
  namespace: apply-ns
  labels:
    app: ssa-web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: ssa-web
  template:
    metadata:
      labels:
        app: ssa-web
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
          protocol: TCP
YAML
sed -e 's/replicas: 2/replicas: 3/' -e 's/nginx:1.27/nginx:1.28/' \
  -e 's/^    app: ssa-web$/    app: ssa-web\n    tier: frontend/' "$WORK/ssa-1.yaml" >"$WORK/ssa-2.yaml"
cat >>"$WORK/ssa-2.yaml" <<'YAML'
      - name: sidecar
        image: busybox:1.36
        command: ["sleep", "infinity"]
YAML
cat >"$WORK/ssa-other.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ssa-web
  namespace: apply-ns
spec:
  replicas: 5
YAML

check "apply --server-side creates" '^deployment.apps/ssa-web serverside-applied' -- \
  k apply --server-side -f "$WORK/ssa-1.yaml"
jsonpath "created object's manager and operation" 'kubectl Apply' \
  "${N[@]}" deployment ssa-web --show-managed-fields \
  '{.metadata.managedFields[0].manager} {.metadata.managedFields[0].operation}'
check "apply --server-side changes" '^deployment.apps/ssa-web serverside-applied' -- \
  k apply --server-side -f "$WORK/ssa-2.yaml"
jsonpath "change is applied" '3 nginx:1.28 sidecar frontend' "${N[@]}" deployment ssa-web \
  '{.spec.replicas} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[1].name} {.metadata.labels.tier}'
check_err "another manager conflicts" 'Apply failed with 1 conflict: conflict with "kubectl": \.spec\.replicas' \
  'force-conflicts' -- k apply --server-side --field-manager=other-manager -f "$WORK/ssa-other.yaml"
jsonpath "conflict changes nothing" '3' "${N[@]}" deployment ssa-web '{.spec.replicas}'
check "--force-conflicts takes the field" '^deployment.apps/ssa-web serverside-applied' -- \
  k apply --server-side --field-manager=other-manager --force-conflicts -f "$WORK/ssa-other.yaml"
check "forced field has moved" '"manager": "other-manager"' '"f:replicas": \{\}' -- \
  k "${N[@]}" get deployment ssa-web -o json --show-managed-fields
jsonpath "forced value" '5' "${N[@]}" deployment ssa-web '{.spec.replicas}'
# The first manager stops applying the sidecar, its tier label and (now other-manager's) replicas:
# the fields it alone owned go, replicas stays.
grep -v 'replicas: 2' "$WORK/ssa-1.yaml" >"$WORK/ssa-3.yaml"
grep -v 'replicas: 3' "$WORK/ssa-2.yaml" >"$WORK/ssa-4.yaml"
check "re-apply without fields removes them" 'serverside-applied' -- \
  k apply --server-side -f "$WORK/ssa-3.yaml"
jsonpath "removed fields are gone" 'web|{"app":"ssa-web"}|5' "${N[@]}" deployment ssa-web \
  '{.spec.template.spec.containers[*].name}|{.metadata.labels}|{.spec.replicas}'
check "dry-run apply stores nothing" 'serverside-applied \(server dry run\)' -- \
  k apply --server-side --dry-run=server -f "$WORK/ssa-4.yaml"
jsonpath "dry-run left the object" 'web' "${N[@]}" deployment ssa-web \
  '{.spec.template.spec.containers[*].name}'

# --- ownership of ordinary writes ----------------------------------------------------------------
run "create configmap" k "${N[@]}" create configmap owned --from-literal=key=one &&
  pass "create configmap"
run "label configmap" k "${N[@]}" label configmap owned tier=backend && pass "label configmap"
jsonpath "create and label record their managers" 'kubectl-create kubectl-label' \
  "${N[@]}" configmap owned --show-managed-fields '{.metadata.managedFields[*].manager}'
cat >"$WORK/cm.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: owned
  namespace: apply-ns
data:
  key: two
YAML
check_err "apply conflicts with an Update manager" \
  'conflict with "kubectl-create" using v1: \.data\.key' -- \
  k apply --server-side -f "$WORK/cm.yaml"
run "client-side apply" k apply -f "$WORK/cm.yaml" && pass "client-side apply"
check "client-side apply owns what it changed" '"manager": "kubectl-client-side-apply"' \
  '"operation": "Update"' -- k "${N[@]}" get configmap owned -o json --show-managed-fields

# --- a custom resource: list map and set from the CRD's schema ----------------------------------
cat >"$WORK/crd.yaml" <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.wire.example.com
spec:
  group: wire.example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        description: Widget is an example custom resource.
        properties:
          spec:
            type: object
            properties:
              size: {type: string, description: How big the widget is.}
              ports:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name, protocol]
                items:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string}
                    containerPort: {type: integer}
                    protocol: {type: string, default: TCP}
              tags:
                type: array
                x-kubernetes-list-type: set
                items: {type: string}
YAML
cat >"$WORK/widget-a.yaml" <<'YAML'
apiVersion: wire.example.com/v1
kind: Widget
metadata: {name: w, namespace: apply-ns}
spec:
  size: small
  ports:
  - {name: http, containerPort: 8080}
  - {name: dns, containerPort: 53, protocol: UDP}
  tags: [blue]
YAML
cat >"$WORK/widget-b.yaml" <<'YAML'
apiVersion: wire.example.com/v1
kind: Widget
metadata: {name: w, namespace: apply-ns}
spec:
  ports:
  - {name: http, containerPort: 9090}
  tags: [green]
YAML
check "create the CRD" 'customresourcedefinition.apiextensions.k8s.io/widgets.wire.example.com' -- \
  k apply -f "$WORK/crd.yaml"
check "apply a custom resource" '^widget.wire.example.com/w serverside-applied' -- \
  k apply --server-side --field-manager=team-a -f "$WORK/widget-a.yaml"
check_err "list-map item conflicts by its keys" \
  'conflict with "team-a": \.spec\.ports\[name="http",protocol="TCP"\]\.containerPort' -- \
  k apply --server-side --field-manager=team-b -f "$WORK/widget-b.yaml"
check "forced custom resource apply" 'serverside-applied' -- \
  k apply --server-side --field-manager=team-b --force-conflicts -f "$WORK/widget-b.yaml"
jsonpath "set and list map merge" 'blue green|http:9090 dns:53 ' "${N[@]}" widget w \
  '{.spec.tags[*]}|{range .spec.ports[*]}{.name}:{.containerPort} {end}'

# --- kubectl explain reads the OpenAPI v3 documents ----------------------------------------------
check "explain deployment.spec.replicas" 'FIELD: *replicas <integer>' 'Number of desired pods' -- \
  k explain deployment.spec.replicas
check "explain pod.spec.containers" 'FIELD: *containers <\[\]Container>' -- \
  k explain pod.spec.containers
check "explain a custom resource" 'KIND: *Widget' 'How big the widget is' -- \
  k explain widget.spec.size

# --- server-side field validation (kubectl's --validate=strict default, and warn) -------------------
cat >"$WORK/unknown.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: unknown-field
  namespace: apply-ns
data:
  k: v
foo: bar
YAML
check_err "strict validation refuses an unknown field" \
  'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "foo"' \
  -- k create -f "$WORK/unknown.yaml"
check "warn validation stores and warns" 'Warning: unknown field "foo"' \
  '^configmap/unknown-field created' -- k create --validate=warn -f "$WORK/unknown.yaml"

# --- the server stops cleanly; the summary --------------------------------------------------------
stop_server_and_summarize "kubectl apply e2e"
