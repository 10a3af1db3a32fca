#!/usr/bin/env bash
# kubectl protobuf end-to-end: the real kubectl's typed generators (`kubectl create namespace`,
# `configmap`, `secret generic`, `serviceaccount`, `deployment`, `job`, `cronjob`, `service
# clusterip`, `role`, `rolebinding`, `quota`, `priorityclass`, `poddisruptionbudget`, `ingress`,
# and `run`, `expose`) against an empty `kinf serve`. The generators send protobuf bodies with
# `Accept: application/vnd.kubernetes.protobuf,application/json`; each must succeed, and the object
# must then read back (`kubectl get -o json`) with the content the command asked for.
#
# Usage: kubectl_protobuf_e2e.sh PATH/TO/kinf        (KUBECTL=... overrides the kubectl binary)
# Exits 0 when every check passes, 1 otherwise; prints "SKIPPED: kubectl not installed" and exits
# 0 when there is no kubectl.
set -uo pipefail

KINF=${1:?usage: kubectl_protobuf_e2e.sh PATH/TO/kinf}
source "$(dirname "${BASH_SOURCE[0]}")/kubectl_lib.sh"
start_kinf_serve kubectl_protobuf_e2e

# --- protobuf on the wire --------------------------------------------------------------------
N=(-n kubectl-ns)
check "create namespace" '^namespace/kubectl-ns created' -- k create namespace kubectl-ns
check "create namespace sends and gets protobuf" \
  'Content-Type: application/vnd.kubernetes.protobuf' 'Response Status: 201 Created' -- \
  k create namespace kubectl-ns2 -v=8
check "namespace reads back" '"name": "kubectl-ns"' '"phase": "Active"' -- \
  k get namespace kubectl-ns -o json

check "create configmap" '^configmap/demo-config created' -- \
  k "${N[@]}" create configmap demo-config --from-literal=key1=value1 --from-literal=key2=value2
check "configmap reads back" '"key1": "value1"' '"key2": "value2"' -- \
  k "${N[@]}" get configmap demo-config -o json

check "create secret generic" '^secret/demo-secret created' -- \
  k "${N[@]}" create secret generic demo-secret --from-literal=username=admin
check "secret reads back" '"username": "YWRtaW4="' '"kind": "Secret"' -- \
  k "${N[@]}" get secret demo-secret -o json

check "create serviceaccount" '^serviceaccount/demo-sa created' -- \
  k "${N[@]}" create serviceaccount demo-sa
check "serviceaccount reads back" '"kind": "ServiceAccount"' '"name": "demo-sa"' -- \
  k "${N[@]}" get serviceaccount demo-sa -o json

check "create deployment" '^deployment.apps/demo-web created' -- \
  k "${N[@]}" create deployment demo-web --image=nginx:1.27 --replicas=2 --port=80
check "deployment reads back" '"replicas": 2' '"image": "nginx:1.27"' '"containerPort": 80' \
  '"app": "demo-web"' -- k "${N[@]}" get deployment demo-web -o json

check "create job" '^job.batch/demo-job created' -- \
  k "${N[@]}" create job demo-job --image=busybox:1.36 -- echo hello
check "job reads back" '"image": "busybox:1.36"' '"echo"' '"restartPolicy": "Never"' -- \
  k "${N[@]}" get job demo-job -o json

check "create cronjob" '^cronjob.batch/demo-cron created' -- \
  k "${N[@]}" create cronjob demo-cron --image=busybox:1.36 --schedule='*/5 * * * *' -- date
check "cronjob reads back" '"schedule": "\*/5 \* \* \* \*"' '"image": "busybox:1.36"' -- \
  k "${N[@]}" get cronjob demo-cron -o json

check "create service clusterip" '^service/demo-svc created' -- \
  k "${N[@]}" create service clusterip demo-svc --tcp=80:8080
check "service reads back" '"port": 80' '"targetPort": 8080' '"type": "ClusterIP"' -- \
  k "${N[@]}" get service demo-svc -o json

check "create role" '^role.rbac.authorization.k8s.io/demo-role created' -- \
  k "${N[@]}" create role demo-role --verb=get,list,watch --resource=pods,configmaps
check "role reads back" '"pods"' '"configmaps"' '"watch"' -- \
  k "${N[@]}" get role demo-role -o json

check "create rolebinding" '^rolebinding.rbac.authorization.k8s.io/demo-rb created' -- \
  k "${N[@]}" create rolebinding demo-rb --role=demo-role --user=jane \
  --serviceaccount=kubectl-ns:demo-sa
check "rolebinding reads back" '"name": "jane"' '"kind": "ServiceAccount"' '"name": "demo-role"' -- \
  k "${N[@]}" get rolebinding demo-rb -o json

check "create quota" '^resourcequota/demo-quota created' -- \
  k "${N[@]}" create quota demo-quota --hard=pods=10,requests.cpu=2,requests.memory=4Gi
check "quota reads back" '"pods": "10"' '"requests.memory": "4Gi"' -- \
  k "${N[@]}" get resourcequota demo-quota -o json

check "create priorityclass" '^priorityclass.scheduling.k8s.io/demo-priority created' -- \
  k create priorityclass demo-priority --value=1000 --description="demo priority"
check "priorityclass reads back" '"value": 1000' '"description": "demo priority"' -- \
  k get priorityclass demo-priority -o json

check "create poddisruptionbudget" '^poddisruptionbudget.policy/demo-pdb created' -- \
  k "${N[@]}" create poddisruptionbudget demo-pdb --selector=app=demo-web --min-available=1
check "poddisruptionbudget reads back" '"minAvailable": 1' '"app": "demo-web"' -- \
  k "${N[@]}" get poddisruptionbudget demo-pdb -o json

check "create ingress" '^ingress.networking.k8s.io/demo-ingress created' -- \
  k "${N[@]}" create ingress demo-ingress --class=nginx --rule="demo.example.com/=demo-svc:80"
check "ingress reads back" '"host": "demo.example.com"' '"name": "demo-svc"' \
  '"ingressClassName": "nginx"' -- k "${N[@]}" get ingress demo-ingress -o json

check "run pod" '^pod/demo-pod created' -- k "${N[@]}" run demo-pod --image=nginx:1.27 --labels=app=demo
check "pod reads back" '"image": "nginx:1.27"' '"app": "demo"' -- \
  k "${N[@]}" get pod demo-pod -o json

check "expose deployment" '^service/demo-web exposed' -- \
  k "${N[@]}" expose deployment demo-web --port=80 --target-port=8080
check "exposed service reads back" '"targetPort": 8080' '"app": "demo-web"' -- \
  k "${N[@]}" get service demo-web -o json

check "get all in protobuf-created namespace" 'deployment.apps/demo-web' 'service/demo-svc' -- \
  k "${N[@]}" get all

# --- the server stops cleanly; the summary --------------------------------------------------------
stop_server_and_summarize "kubectl protobuf e2e"
