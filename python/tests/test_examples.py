"""The Python examples against `kinf serve --seed demo`."""

import os
import pathlib
import signal
import subprocess
import sys

import kube_informer as ki
from conftest import wait_until

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def owned_pods(lister, name):
    return [p for p in lister.list("default")
            if any(r["controller"] and r["name"] == name for r in p.owner_references)]


def test_replica_controller_creates_owned_pods_and_releases_its_lease(demo, tmp_path):
    log = open(tmp_path / "controller.out", "w+")
    proc = subprocess.Popen([sys.executable, str(EXAMPLES / "replica_controller.py"),
                             "--kubeconfig", demo.kubeconfig, "--id", "py-example"],
                            stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
    try:
        with ki.SharedInformerFactory(demo.config) as f:
            pods = f.core.v1.pods
            f.start()
            assert f.wait_for_cache_sync(timeout=30)
            wait_until(lambda: len(owned_pods(pods.lister, "web")) == 3 and
                       len(owned_pods(pods.lister, "api")) == 2 and
                       len(owned_pods(pods.lister, "worker")) == 1, timeout=60,
                       what="the controller's pods")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    log.seek(0)
    out = log.read()
    assert proc.returncode == 0, out
    assert "leading as py-example" in out
    lease = ki.SharedInformerFactory(demo.config).resource(
        "leases.coordination.k8s.io", "kube-system").get("replica-controller")
    assert lease.get("spec.holderIdentity", "") == ""


def test_deployment_informer_prints_the_demo_deployments(demo):
    out = subprocess.run([sys.executable, str(EXAMPLES / "deployment_informer.py"),
                          "--kubeconfig", demo.kubeconfig, "--seconds", "0.5"],
                         capture_output=True, text=True, timeout=60, env=os.environ.copy())
    assert out.returncode == 0, out.stderr
    for name in ("web", "api", "worker"):
        assert f"add a deployment: {name}" in out.stdout
