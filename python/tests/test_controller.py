"""The controller kit: workqueue, resource client, leader election."""

import threading

import pytest

import kube_informer as ki
from conftest import wait_until


def test_workqueue_deduplicates_and_requeues_at_done():
    q = ki.RateLimitingQueue(name="test")
    q.add("a")
    q.add("a")
    q.add("b")
    assert len(q) == 2
    assert q.get() == "a"
    q.add("a")  # while processing: queued again at done()
    assert len(q) == 1
    q.done("a")
    assert len(q) == 2
    assert sorted([q.get(), q.get()]) == ["a", "b"]
    q.done("a")
    q.done("b")
    q.shut_down()
    assert q.get() is None and q.shutting_down


def test_workqueue_rate_limits_and_forgets():
    q = ki.RateLimitingQueue(base_delay=0.001, max_delay=0.01)
    q.add_rate_limited("x")
    q.add_rate_limited("x")
    assert q.num_requeues("x") == 2
    assert q.get() == "x"  # arrives after its delay
    q.forget("x")
    assert q.num_requeues("x") == 0
    q.done("x")
    q.shut_down()


def test_workqueue_get_releases_the_gil_for_other_workers():
    q = ki.RateLimitingQueue()
    got = []
    workers = [threading.Thread(target=lambda: got.append(q.get())) for _ in range(2)]
    for w in workers:
        w.start()
    q.add("one")
    q.add("two")
    for w in workers:
        w.join(30)
    assert sorted(got) == ["one", "two"]
    q.shut_down()


def test_resource_client_writes_and_reports_server_errors(demo):
    with ki.SharedInformerFactory(demo.config) as f:
        cms = f.resource("configmaps", namespace="default")
        created = cms.create({"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": "py-cm"}, "data": {"k": "v"}})
        assert created.name == "py-cm" and created["data"]["k"] == "v"
        with pytest.raises(ki.KubeError) as e:
            cms.create(created.json())
        assert e.value.code == "already_exists" and e.value.http_code == 409
        patched = cms.patch("py-cm", {"data": {"k": "w"}})
        assert patched.get("data.k") == "w"
        cms.delete("py-cm")
        cms.delete("py-cm", missing_ok=True)
        with pytest.raises(ki.KubeError) as e:
            cms.get("py-cm")
        assert e.value.code == "not_found" and e.value.reason == "NotFound"


def test_leader_election_leads_then_releases(demo):
    led = threading.Event()
    stopped = threading.Event()
    leaders = []

    def lead(stop):
        led.set()
        stop.wait()

    elector = ki.LeaderElector(demo.config, "kube-system", "py-test", identity="me",
                               on_started_leading=lead, on_stopped_leading=stopped.set,
                               on_new_leader=leaders.append, lease_duration=2,
                               renew_deadline=1.5, retry_period=0.2)
    elector.start()
    assert led.wait(30)
    assert elector.is_leader and elector.leader == "me"
    elector.stop()
    assert stopped.is_set() and not elector.is_leader
    assert "me" in leaders
    lease = ki.SharedInformerFactory(demo.config).resource(
        "leases.coordination.k8s.io", "kube-system").get("py-test")
    assert lease.get("spec.holderIdentity", "") == ""
