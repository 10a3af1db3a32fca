"""Fixtures: `kinf serve` on a free loopback port, started and stopped by the tests.

KINF names the kinf binary (CTest sets it; default build/tools/kinf/kinf)."""

import ctypes
import os
import pathlib
import signal
import socket
import subprocess
import time

import pytest

import kube_informer as ki

ROOT = pathlib.Path(__file__).resolve().parents[2]
KINF = os.environ.get("KINF", str(ROOT / "build" / "tools" / "kinf" / "kinf"))


def _die_with_parent():
    # PR_SET_PDEATHSIG: the server ends with the test process, even if that one crashes.
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


class Server:
    def __init__(self, workdir: pathlib.Path, args):
        self.kubeconfig = str(workdir / "kubeconfig")
        self.out = workdir / "server.out"
        self.err = workdir / "server.err"
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.proc = subprocess.Popen(
                [KINF, "serve", "--listen", "127.0.0.1:0", *args,
                 "--write-kubeconfig", self.kubeconfig], stdout=out, stderr=err,
                preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if "kubeconfig written to" in self.out.read_text():
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        else:
            self.stop()
            raise RuntimeError("kinf serve did not start: " + self.err.read_text())
        if self.proc.poll() is not None:
            raise RuntimeError("kinf serve exited: " + self.err.read_text())
        self.config = ki.load_kubeconfig(self.kubeconfig)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def kinf_serve(tmp_path):
    """kinf_serve(*args) starts a server with those `kinf serve` flags and returns it."""
    servers = []

    def start(*args):
        d = tmp_path / f"server{len(servers)}"
        d.mkdir()
        s = Server(d, args)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


@pytest.fixture
def demo(kinf_serve):
    return kinf_serve("--seed", "demo")


@pytest.fixture
def unreachable_config(tmp_path):
    """A kubeconfig whose server refuses connections (a port just closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return ki.load_kubeconfig(server=f"http://127.0.0.1:{port}")


def wait_until(cond, timeout=30.0, what="condition"):
    """Polls `cond` until true; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")
