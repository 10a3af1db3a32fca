"""Informers, handlers and listers against `kinf serve`."""

import asyncio
import gc
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc

import pytest

import kube_informer as ki
from conftest import wait_until


def test_sync_fills_listers_with_seed_objects(demo):
    with ki.SharedInformerFactory(demo.config) as f:
        deployments = f.apps.v1.deployments
        f.start()
        assert f.wait_for_cache_sync(timeout=30)
        names = sorted(d.name for d in deployments.lister.list("default"))
        assert names == ["api", "web", "worker"]
        web = deployments.lister.get("default", "web")
        assert web.namespace == "default" and web.kind == "Deployment"
        assert web["spec"]["replicas"] == 3
        assert web.get("spec.replicas") == 3
        assert web.labels == {"app": "web"}
        assert web.resource_version
        assert deployments.lister.get("default", "absent") is None
        assert deployments.stats()["objects_cached"] == 3
        # The list counter may be bumped just after the informer reports synced.
        wait_until(lambda: deployments.stats()["lists"] == 1, what="the list to be counted")


def test_typed_accessors_and_for_resource_share_one_informer(demo):
    with ki.SharedInformerFactory(demo.config) as f:
        a = f.apps.v1.deployments
        assert f.for_resource("deployments.apps") is a
        assert f.for_resource("apps/v1/deployments") is a
        assert f.for_resource(("apps", "v1", "deployments")) is a
        assert f.for_resource("Deployment") is a
        assert f.core.v1.pods is f.for_resource("pods")
        with pytest.raises(AttributeError):
            f.apps.v1.widgets
        assert f.for_resource("deploy") is a  # a short name: resolved by discovery
        with pytest.raises(ki.KubeError) as e:
            f.for_resource("widgets")
        assert e.value.code == "not_found"


def test_handlers_see_a_consistent_sequence_under_churn(kinf_serve):
    server = kinf_serve("--seed", "demo", "--churn", "200")
    seen = {}
    errors = []
    count = [0]
    lock = threading.Lock()

    def on_add(obj, initial):
        with lock:
            if obj.key in seen:
                errors.append(f"add of known {obj.key}")
            seen[obj.key] = obj.resource_version
            count[0] += 1

    def on_update(old, new):
        with lock:
            if seen.get(new.key) != old.resource_version:
                errors.append(f"update of {new.key} from {old.resource_version}, "
                              f"cached {seen.get(new.key)}")
            seen[new.key] = new.resource_version
            count[0] += 1

    def on_delete(obj):
        with lock:
            key = obj.key
            if key not in seen:
                errors.append(f"delete of unknown {key}")
            seen.pop(key, None)
            count[0] += 1

    with ki.SharedInformerFactory(server.config) as f:
        pods = f.core.v1.pods
        pods.add_event_handler(on_add, on_update, on_delete)
        f.start()
        assert f.wait_for_cache_sync(timeout=30)
        wait_until(lambda: count[0] >= 400, what="400 notifications")
    assert errors == []


def test_relist_after_410_delivers_tombstones_or_objects(kinf_serve):
    # A one-event history under fast churn: a watch from the list's version is already compacted.
    server = kinf_serve("--seed", "demo", "--churn", "5000", "--history", "1")
    deleted = []
    with ki.SharedInformerFactory(server.config, watch_timeout=1) as f:
        pods = f.core.v1.pods
        pods.add_event_handler(on_delete=deleted.append)
        f.start()
        assert f.wait_for_cache_sync(timeout=30)
        wait_until(lambda: pods.stats()["relists_after_gone"] >= 1, timeout=60,
                   what="a relist after 410")
        wait_until(lambda: pods.stats()["relists"] >= 1, timeout=60, what="the relist")
        wait_until(lambda: deleted, what="a deletion found by a relist")
    for d in deleted:
        assert isinstance(d, (ki.Object, ki.DeletedFinalStateUnknown))
        if isinstance(d, ki.DeletedFinalStateUnknown):
            assert d.key == d.obj.key


def test_resync_is_told_apart_from_updates(demo):
    resyncs, updates, plain = [], [], []
    with ki.SharedInformerFactory(demo.config, resync=1) as f:
        d = f.apps.v1.deployments
        d.add_event_handler(on_update=lambda a, b: updates.append((a, b)),
                            on_resync=resyncs.append)
        d.add_event_handler(on_update=lambda a, b: plain.append((a, b)))
        f.start()
        assert f.wait_for_cache_sync(timeout=30)
        wait_until(lambda: len(resyncs) >= 3 and len(plain) >= 3, what="resyncs")
    assert updates == []  # nothing changes in the demo without churn
    for old, new in plain:  # without on_resync: client-go's update(obj, obj)
        assert old.resource_version == new.resource_version


def test_stop_during_sync_returns_promptly(unreachable_config):
    f = ki.SharedInformerFactory(unreachable_config)
    pods = f.core.v1.pods
    f.start()
    assert not f.wait_for_cache_sync(timeout=0.3)
    t0 = time.monotonic()
    f.stop()
    assert time.monotonic() - t0 < 20
    assert not pods.wait_for_cache_sync(timeout=1)
    f.stop()  # idempotent


def test_stop_during_initial_adds(kinf_serve):
    server = kinf_serve("--seed", "demo", "--churn", "100")
    release = threading.Event()
    f = ki.SharedInformerFactory(server.config)
    f.core.v1.pods.add_event_handler(on_add=lambda o: release.wait(0.05))
    f.start()
    f.stop()  # handlers still busy with the initial list
    assert f.core.v1.pods.stats()["objects_cached"] >= 0


def test_raising_handler_is_logged_counted_and_isolated(demo, caplog):
    good = []

    def bad(obj):
        raise RuntimeError("boom " + obj.name)

    with caplog.at_level(logging.ERROR, logger="kube_informer"):
        with ki.SharedInformerFactory(demo.config) as f:
            d = f.apps.v1.deployments
            d.add_event_handler(on_add=bad, name="bad")
            d.add_event_handler(on_add=good.append, name="good")
            f.start()
            assert f.wait_for_handlers_sync(timeout=30)
            handlers = {h["name"]: h for h in d.stats()["handlers"]}
            assert handlers["bad"]["failed"] == 3
            assert handlers["good"]["failed"] == 0
    assert len(good) == 3
    assert sum("boom" in r.getMessage() or (r.exc_info and "boom" in str(r.exc_info[1]))
               for r in caplog.records) == 3
    assert all(r.exc_info for r in caplog.records if r.name == "kube_informer")


def test_blocking_handler_stalls_neither_cache_nor_other_handlers(demo):
    release = threading.Event()
    good = []
    with ki.SharedInformerFactory(demo.config) as f:
        d = f.apps.v1.deployments
        d.add_event_handler(on_add=lambda o: release.wait(30), name="blocked")
        d.add_event_handler(on_add=good.append, name="good")
        f.start()
        assert f.wait_for_cache_sync(timeout=30)
        wait_until(lambda: len(good) == 3, what="the other handler's adds")
        assert len(d.lister.list()) == 3
        release.set()


def test_other_python_threads_run_during_waits(unreachable_config):
    ticks = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            ticks[0] += 1

    t = threading.Thread(target=spin)
    with ki.SharedInformerFactory(unreachable_config) as f:
        f.core.v1.pods
        f.start()
        t.start()
        before = ticks[0]
        f.wait_for_cache_sync(timeout=1)
        during = ticks[0] - before
        stop.set()
        t.join()
    assert during > 1000


def test_asyncio_events(demo):
    async def collect():
        with ki.SharedInformerFactory(demo.config) as f:
            d = f.apps.v1.deployments
            f.start()
            out = []
            async with d.events() as events:
                async for ev in events:
                    out.append(ev)
                    if len(out) == 3:
                        break
            return out

    events = asyncio.run(asyncio.wait_for(collect(), 60))
    assert sorted(e.object.name for e in events) == ["api", "web", "worker"]
    assert all(e.type == "ADDED" and e.is_in_initial_list for e in events)


def test_lister_queries_and_indexers(demo):
    with ki.SharedInformerFactory(demo.config) as f:
        pods = f.core.v1.pods
        nodes = f.core.v1.nodes
        pods.add_indexers({"node": ki.index_by_path("spec.nodeName"),
                           "app": ki.index_by_label("app"),
                           "first_letter": lambda o: o.name[0]})
        f.start()
        assert f.wait_for_cache_sync(timeout=30)
        lister = pods.lister
        web = lister.list("default", selector="app=web")
        assert len(web) == 3 and all(p.labels["app"] == "web" for p in web)
        assert len(lister.list(selector="app in (web,api)")) == 5
        assert len(lister.list(selector={"app": "api"})) == 2
        assert lister.list("kube-system") == []
        with pytest.raises(ValueError):
            lister.list(selector="app in (")
        assert {p.name for p in lister.by_index("app", "worker")} == \
            {p.name for p in lister.list(selector="app=worker")}
        assert sorted(lister.index_values("app")) == ["api", "web", "worker"]
        assert len(lister.by_index("first_letter", "w")) == 4  # web-*, worker-*
        node_names = lister.index_values("node")
        assert node_names and all(n for n in node_names)
        with pytest.raises(ki.KubeError):
            lister.by_index("nope", "x")
        assert len(nodes.lister) >= 1
        node = nodes.lister.list()[0]
        assert nodes.lister.get(node.name) == node
        assert len(lister) == len(lister.keys())


def test_objects_are_immutable_views(demo):
    with ki.SharedInformerFactory(demo.config) as f:
        d = f.apps.v1.deployments
        f.start()
        assert f.wait_for_cache_sync(timeout=30)
        web = d.lister.get("default", "web")
        with pytest.raises(AttributeError):
            web.name = "x"
        labels = web.labels
        labels["app"] = "changed"
        assert web.labels == {"app": "web"}
        spec = web["spec"]
        assert isinstance(spec, ki.Node)
        assert spec["replicas"] == 3
        containers = spec["template"]["spec"]["containers"]
        assert containers[0]["name"]
        with pytest.raises(IndexError):
            containers[99]
        with pytest.raises(KeyError):
            spec["absent"]
        assert web.get("spec.absent", 7) == 7
        assert web.get("/spec/replicas") == 3
        assert web.get("metadata.labels") == {"app": "web"}
        assert web.to_dict()["metadata"]["name"] == "web"
        assert ki.Object.parse(web.json()) == web
        with pytest.raises(ki.InvalidArgumentError):
            ki.Object.parse("{not json")


def test_ctrl_c_interrupts_wait_for_cache_sync(unreachable_config, tmp_path):
    script = tmp_path / "wait.py"
    script.write_text(textwrap.dedent(f"""
        import sys, kube_informer as ki
        f = ki.SharedInformerFactory(ki.load_kubeconfig(server={unreachable_config.server!r}))
        f.core.v1.pods
        f.start()
        try:
            print("waiting", flush=True)
            f.wait_for_cache_sync()
        except KeyboardInterrupt:
            f.stop()
            print("interrupted", flush=True)
            sys.exit(3)
    """))
    p = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                         env=os.environ.copy())
    assert p.stdout.readline().strip() == "waiting"
    time.sleep(0.2)  # let it enter the wait; a signal before it is handled the same way
    p.send_signal(2)
    out, _ = p.communicate(timeout=30)
    assert p.returncode == 3 and "interrupted" in out


def test_repeated_create_start_stop_does_not_leak(demo):
    def cycle():
        with ki.SharedInformerFactory(demo.config) as f:
            d = f.apps.v1.deployments
            d.add_event_handler(on_add=lambda o: None)
            f.start()
            assert f.wait_for_cache_sync(timeout=30)
            d.lister.list()

    def threads():
        with open("/proc/self/status") as s:
            return int(next(line for line in s if line.startswith("Threads:")).split()[1])

    def rss():
        with open("/proc/self/statm") as s:
            return int(s.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    cycle()
    gc.collect()
    base_threads = threads()
    base_rss = rss()
    tracemalloc.start()
    snap0 = tracemalloc.take_snapshot()
    for _ in range(20):
        cycle()
    gc.collect()
    snap1 = tracemalloc.take_snapshot()
    tracemalloc.stop()
    growth = sum(s.size_diff for s in snap1.compare_to(snap0, "filename"))
    assert growth < 256 * 1024
    wait_until(lambda: threads() <= base_threads + 1, what="library threads to end")
    # Generous: allocator caches and thread stacks come and go; a leaked factory per cycle (its
    # client, threads and cache) would exceed it.
    assert rss() - base_rss < 32 * 1024 * 1024


def test_ctrl_c_reaches_a_main_thread_blocked_in_python(demo, tmp_path):
    # Library threads never take the signal, so a main thread blocked without a timeout (here
    # Event.wait()) still gets KeyboardInterrupt.
    script = tmp_path / "block.py"
    script.write_text(textwrap.dedent(f"""
        import sys, threading, kube_informer as ki
        with ki.SharedInformerFactory(ki.load_kubeconfig({demo.kubeconfig!r})) as f:
            f.core.v1.pods.add_event_handler(on_add=lambda o: None)
            f.start()
            f.wait_for_cache_sync(30)
            try:
                print("waiting", flush=True)
                threading.Event().wait()
            except KeyboardInterrupt:
                print("interrupted", flush=True)
                sys.exit(3)
    """))
    p = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                         env=os.environ.copy())
    assert p.stdout.readline().strip() == "waiting"
    p.send_signal(2)
    out, _ = p.communicate(timeout=30)
    assert p.returncode == 3 and "interrupted" in out


def test_stop_from_a_handler_raises_instead_of_deadlocking(demo):
    errors = []
    with ki.SharedInformerFactory(demo.config) as f:
        def on_add(obj):
            try:
                f.stop()
            except RuntimeError as e:
                errors.append(str(e))

        d = f.apps.v1.deployments
        d.add_event_handler(on_add=on_add)
        f.start()
        assert f.wait_for_handlers_sync(timeout=30)
    assert len(errors) == 3 and "from a handler" in errors[0]


def test_a_handler_may_drop_the_last_reference_to_its_factory(demo):
    dropped = threading.Event()
    holder = {}

    def on_add(obj):
        if holder.pop("factory", None) is not None:
            gc.collect()
            dropped.set()

    f = ki.SharedInformerFactory(demo.config)
    f.apps.v1.deployments.add_event_handler(on_add=on_add)
    f.start()
    holder["factory"] = f
    ki._live_factories.discard(f)
    del f
    assert dropped.wait(30)


def test_other_python_threads_run_during_a_large_sync(kinf_serve, tmp_path):
    import json
    items = [{"apiVersion": "v1", "kind": "Pod",
              "metadata": {"name": f"p-{i}", "namespace": "default", "labels": {"i": str(i)}},
              "spec": {"containers": [{"name": "c", "image": "x"}]}} for i in range(5000)]
    manifest = tmp_path / "pods.json"
    manifest.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    server = kinf_serve("--seed", str(manifest))
    ticks = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            ticks[0] += 1

    t = threading.Thread(target=spin)
    with ki.SharedInformerFactory(server.config) as f:
        pods = f.core.v1.pods
        t.start()
        f.start()
        before = ticks[0]
        assert f.wait_for_cache_sync(timeout=60)
        during = ticks[0] - before
        stop.set()
        t.join()
        assert len(pods.lister) == 5000
    assert during > 0


def test_asyncio_events_carry_updates_and_deletes(demo):
    async def scenario():
        with ki.SharedInformerFactory(demo.config) as f:
            cms = f.core.v1.configmaps
            client = f.resource("configmaps", namespace="default")
            f.start()
            assert f.wait_for_cache_sync(timeout=30)
            loop = asyncio.get_running_loop()
            seen = []
            async with cms.events() as events:
                body = {"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "async-cm"}, "data": {"v": "1"}}
                await loop.run_in_executor(None, client.create, body)
                async for ev in events:
                    if ev.object.name != "async-cm":
                        continue
                    seen.append(ev)
                    if ev.type == "ADDED":
                        await loop.run_in_executor(
                            None, lambda: client.patch("async-cm", {"data": {"v": "2"}}))
                    elif ev.type == "MODIFIED":
                        await loop.run_in_executor(None, client.delete, "async-cm")
                    elif ev.type == "DELETED":
                        break
            return seen

    seen = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert [e.type for e in seen] == ["ADDED", "MODIFIED", "DELETED"]
    assert not seen[0].is_in_initial_list
    assert seen[1].old_object.get("data.v") == "1" and seen[1].object.get("data.v") == "2"


def test_wait_for_resource_version_reads_your_writes(demo):
    with ki.SharedInformerFactory(demo.config) as f:
        informer = f.for_resource("configmaps")
        f.start()
        assert f.wait_for_cache_sync(timeout=30)
        cms = f.resource("configmaps", namespace="default")
        created = cms.create({"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": "ryw"}, "data": {"k": "v"}})
        assert informer.wait_for_resource_version(created.resource_version, timeout=30)
        assert informer.lister.get("default", "ryw") is not None
        assert int(informer.cache_resource_version) >= int(created.resource_version)
        # Nothing more is written: a version far ahead is not reached (bookmarks every 60 s).
        far = str(int(created.resource_version) + 10**9)
        assert not informer.wait_for_resource_version(far, timeout=0.2)
        with pytest.raises(ki.InvalidArgumentError):
            informer.wait_for_resource_version("not-a-number", timeout=1)
    with pytest.raises(ki.KubeError) as e:
        informer.wait_for_resource_version(far, timeout=5)
    assert e.value.code == "cancelled"
