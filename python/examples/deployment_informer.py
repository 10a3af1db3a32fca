#!/usr/bin/env python3
"""The seed's Deployment informer, in Python: prints adds, updates (and resyncs every 30 s),
deletes, and after each change lists the `default` namespace from the lister.

    deployment_informer.py [--kubeconfig PATH]

In a pod it uses the service account; otherwise the kubeconfig (default ~/.kube/config).
Ctrl-C stops it."""

import argparse
import os
import threading

import kube_informer as ki


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kubeconfig", default=os.path.expanduser("~/.kube/config"))
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
    args = parser.parse_args()

    config = ki.in_cluster_or_kubeconfig(args.kubeconfig)
    with ki.SharedInformerFactory(config, resync=30) as factory:
        deployments = factory.apps.v1.deployments

        def list_default() -> None:
            for i, d in enumerate(deployments.lister.list("default")):
                print(f"{i} -> {d.name}", flush=True)

        def on_add(d: ki.Object) -> None:
            print(f"add a deployment: {d.name}", flush=True)
            list_default()

        def on_update(old: ki.Object, new: ki.Object) -> None:
            print(f"update deployment: {old.name} {new.name} "
                  f"(rv {old.resource_version} -> {new.resource_version})", flush=True)

        def on_delete(d) -> None:
            print(f"delete a deployment: {d.name}", flush=True)
            list_default()

        deployments.add_event_handler(on_add, on_update, on_delete)
        factory.start()
        if not factory.wait_for_cache_sync(timeout=60):
            raise SystemExit("timed out waiting for caches to sync")
        try:
            # The main thread only waits (Ctrl-C ends it); handlers run on library threads.
            threading.Event().wait(args.seconds)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
