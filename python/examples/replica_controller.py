#!/usr/bin/env python3
"""A real controller in Python (examples/replica_controller.cpp, ported): for every Deployment it
keeps exactly `spec.replicas` Pods owned by it.

    replica_controller.py [--kubeconfig PATH] [--workers N] [--leader-elect=true|false]
                          [--id NAME] [--lease-namespace NS] [--lease-name NAME]

The pieces are client-go's: informers on Deployments and Pods whose handlers only enqueue keys
("ns/name" of the Deployment; a Pod's key is its controlling Deployment's); a rate-limited
workqueue; workers that sync one key at a time (forget on success, add_rate_limited on failure);
expectations, so that a stale cache never causes over-creation; Pods created with generateName,
the template's labels and spec and a controller ownerReference; excess Pods deleted (pending and
newest first) with their uid as precondition; status.replicas written back with a conditional
update retried on conflict; Pods whose Deployment is gone deleted; leader election on the Lease
kube-system/replica-controller (workers run only while leading). Ctrl-C releases the lease.

Try it: `kinf serve --seed demo --write-kubeconfig /tmp/kc`, then
`replica_controller.py --kubeconfig /tmp/kc` and `kubectl --kubeconfig /tmp/kc scale deploy web
--replicas 5`.
"""

import argparse
import os
import threading
import time
from typing import Dict, List, Optional, Tuple

import kube_informer as ki

_print_lock = threading.Lock()


def say(text: str) -> None:
    with _print_lock:
        print(text, flush=True)


def controller_of(pod: ki.Object) -> Optional[dict]:
    for ref in pod.owner_references:
        if ref["controller"] and ref["kind"] == "Deployment" and ref["apiVersion"] == "apps/v1":
            return ref
    return None


class Expectations:
    """Creations and deletions of a key's Pods still to be seen by the informer."""

    def __init__(self, ttl: float = 300):
        self._ttl = ttl
        self._lock = threading.Lock()
        self._pending: Dict[str, List] = {}

    def satisfied(self, key: str) -> bool:
        with self._lock:
            e = self._pending.get(key)
            return e is None or (e[0] <= 0 and e[1] <= 0) or time.monotonic() - e[2] > self._ttl

    def expect(self, key: str, adds: int, dels: int) -> None:
        with self._lock:
            self._pending[key] = [adds, dels, time.monotonic()]

    def lower(self, key: str, adds: int, dels: int) -> None:
        with self._lock:
            e = self._pending.get(key)
            if e:
                e[0] -= adds
                e[1] -= dels

    def forget(self, key: str) -> None:
        with self._lock:
            self._pending.pop(key, None)


class ReplicaController:
    def __init__(self, factory: ki.SharedInformerFactory):
        self.deployments = factory.apps.v1.deployments
        self.pods = factory.core.v1.pods
        self.deploy_client = factory.resource("deployments")
        self.pod_client = factory.resource("pods")
        self.queue = ki.RateLimitingQueue(name="replica_controller")
        self.expectations = Expectations()

    def add_handlers(self) -> None:
        def deploy_deleted(d) -> None:
            self.expectations.forget(d.key)
            self.queue.add(d.key)

        self.deployments.add_event_handler(
            on_add=lambda d: self.queue.add(d.key),
            on_update=lambda old, d: self.queue.add(d.key),
            on_delete=deploy_deleted)

        def pod_added(pod: ki.Object) -> None:
            ref = controller_of(pod)
            if ref:
                key = f"{pod.namespace}/{ref['name']}"
                self.expectations.lower(key, 1, 0)
                self.queue.add(key)

        def pod_updated(old: ki.Object, pod: ki.Object) -> None:
            for p in (old, pod):  # a changed controller concerns both owners
                ref = controller_of(p)
                if ref:
                    self.queue.add(f"{p.namespace}/{ref['name']}")

        def pod_deleted(d) -> None:
            pod = d.obj if isinstance(d, ki.DeletedFinalStateUnknown) else d
            ref = controller_of(pod)
            if ref:
                key = f"{pod.namespace}/{ref['name']}"
                self.expectations.lower(key, 0, 1)
                self.queue.add(key)

        self.pods.add_event_handler(pod_added, pod_updated, pod_deleted)

    def run(self, workers: int, stop: ki.StopToken) -> None:
        threads = [threading.Thread(target=self._worker, daemon=True) for _ in range(workers)]
        for t in threads:
            t.start()
        stop.wait()
        self.queue.shut_down()
        for t in threads:
            t.join()

    def _worker(self) -> None:
        while True:
            key = self.queue.get()
            if key is None:
                return
            try:
                self.sync(key)
                self.queue.forget(key)
            except ki.KubeError as e:
                say(f"sync {key} failed (retry {self.queue.num_requeues(key) + 1}): {e}")
                self.queue.add_rate_limited(key)
            finally:
                self.queue.done(key)

    def owned_pods(self, ns: str, name: str, uid: str) -> Tuple[List[ki.Object], List[ki.Object]]:
        owned, stale = [], []
        for pod in self.pods.lister.list(ns):
            ref = controller_of(pod)
            if ref is None or ref["name"] != name or pod.deletion_timestamp:
                continue
            (owned if ref["uid"] == uid else stale).append(pod)
        return owned, stale

    def sync(self, key: str) -> None:
        ns, name = key.split("/", 1)
        deploy = self.deployments.lister.get(ns, name)
        owned, stale = self.owned_pods(ns, name, deploy.uid if deploy else "")
        if stale:
            self.delete_pods(key, stale, "its Deployment is gone")
        if deploy is None:
            self.expectations.forget(key)
            return
        if not self.expectations.satisfied(key):
            return  # the informer will requeue it
        want, have = deploy.get("spec.replicas", 1), len(owned)
        if have < want:
            say(f"sync {key}: {have} pods, want {want}: creating {want - have}")
            self.create_pods(key, deploy, want - have)
        elif have > want:
            say(f"sync {key}: {have} pods, want {want}: deleting {have - want}")
            owned.sort(key=lambda p: (p.get("status.phase") == "Running",
                                      [-ord(c) for c in p.creation_timestamp]))
            self.delete_pods(key, owned[:have - want], "excess")
        self.update_status(ns, name, have)

    def create_pods(self, key: str, deploy: ki.Object, n: int) -> None:
        body = {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "generateName": deploy.name + "-", "namespace": deploy.namespace,
                "labels": deploy.get("spec.template.metadata.labels", {}),
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                     "name": deploy.name, "uid": deploy.uid,
                                     "controller": True, "blockOwnerDeletion": True}]},
            "spec": deploy.get("spec.template.spec", {}),
        }
        self.expectations.expect(key, n, 0)
        first_error = None
        for _ in range(n):
            try:
                pod = self.pod_client.in_namespace(deploy.namespace).create(body)
                say(f"created pod {pod.key}")
            except ki.KubeError as e:
                self.expectations.lower(key, 1, 0)  # it will never be seen
                first_error = first_error or e
        if first_error:
            raise first_error

    def delete_pods(self, key: str, pods: List[ki.Object], why: str) -> None:
        self.expectations.expect(key, 0, len(pods))
        first_error = None
        for pod in pods:
            try:
                self.pod_client.in_namespace(pod.namespace).delete(
                    pod.name, precondition_uid=pod.uid, missing_ok=True)
                say(f"deleted pod {pod.key} ({why})")
            except ki.KubeError as e:
                self.expectations.lower(key, 0, 1)
                first_error = first_error or e
        if first_error:
            raise first_error

    def update_status(self, ns: str, name: str, replicas: int) -> None:
        client = self.deploy_client.in_namespace(ns)
        for attempt in range(5):
            if attempt:
                time.sleep(0.01)
            try:
                fresh = client.get(name)
            except ki.KubeError as e:
                if e.code == "not_found":
                    return
                raise
            if (fresh.get("status.replicas") == replicas and
                    fresh.get("status.updatedReplicas") == replicas and
                    fresh.get("status.observedGeneration") == fresh.generation):
                return
            body = fresh.to_dict()
            body["status"] = {"replicas": replicas, "updatedReplicas": replicas,
                              "observedGeneration": fresh.generation}
            try:
                client.update(body, status=True)
                return
            except ki.KubeError as e:
                if e.code != "conflict":
                    raise
        raise ki.KubeError(f"updating the status of {ns}/{name}: conflicts")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--kubeconfig", default=os.path.expanduser("~/.kube/config"))
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--leader-elect", default="true")
    p.add_argument("--id", default="")
    p.add_argument("--lease-namespace", default="kube-system")
    p.add_argument("--lease-name", default="replica-controller")
    args = p.parse_args()

    config = ki.in_cluster_or_kubeconfig(args.kubeconfig)
    with ki.SharedInformerFactory(config, resync=30) as factory:
        controller = ReplicaController(factory)
        controller.add_handlers()
        factory.start()
        if not factory.wait_for_cache_sync():
            return 1
        say("caches synced")
        lost = threading.Event()
        try:
            if args.leader_elect in ("true", "1"):
                def lead(stop: ki.StopToken) -> None:
                    say(f"leading as {elector.identity}")
                    controller.run(args.workers, stop)

                elector = ki.LeaderElector(
                    factory.client, args.lease_namespace, args.lease_name, identity=args.id,
                    on_started_leading=lead, on_stopped_leading=lost.set,
                    on_new_leader=lambda who: who and say(f"new leader: {who}"))
                say(f"waiting for the lease {args.lease_namespace}/{args.lease_name} "
                    f"as {elector.identity}")
                with elector:
                    lost.wait()
                say("leader election lost")
                return 1
            stop_event = threading.Event()
            solo = threading.Thread(target=controller.run, args=(args.workers, _Stop(stop_event)))
            solo.start()
            try:
                stop_event.wait()
            finally:
                stop_event.set()
                solo.join()
        except KeyboardInterrupt:
            return 0  # leaving the `with` blocks stops the elector (releasing the lease)
    return 0


class _Stop:
    """A StopToken look-alike for running without leader election."""

    def __init__(self, event: threading.Event):
        self._event = event

    @property
    def stop_requested(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: Optional[float] = None) -> bool:
        return self._event.wait(timeout)


if __name__ == "__main__":
    raise SystemExit(main())
