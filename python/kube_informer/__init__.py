"""kube-informer for Python: client-go's informers, listers and controller kit, in C++.

    import kube_informer as ki

    config = ki.load_kubeconfig()            # or ki.in_cluster(), ki.in_cluster_or_kubeconfig()
    with ki.SharedInformerFactory(config, resync=30) as factory:
        deployments = factory.apps.v1.deployments
        deployments.add_event_handler(on_add=lambda d: print("add", d.name))
        factory.start()
        factory.wait_for_cache_sync(timeout=30)
        for d in deployments.lister.list("default", selector="app=web"):
            print(d.name, d["spec"]["replicas"])

Objects are the informer's own immutable C++ objects: metadata is free to read, other fields are
read by path on demand, `to_dict()`/`json()` decode the whole object when asked.

Handlers run on library threads, one notification at a time per handler and in order; the GIL is
taken only around each call. A handler that raises is logged (logger "kube_informer", with its
traceback) and counted in `informer.stats()["handlers"][i]["failed"]`; it keeps receiving later
notifications. Blocking waits release the GIL and are interrupted by Ctrl-C.
"""

from __future__ import annotations

import asyncio
import atexit
import inspect
import threading
import weakref
from typing import Any, Callable, Dict, NamedTuple, Optional, Tuple, Union

from ._kube_informer import (  # noqa: F401  (re-exported)
    Client,
    Config,
    DeletedFinalStateUnknown,
    IndexFunc,
    InvalidArgumentError,
    KubeError,
    Lister,
    Node,
    Object,
    RateLimitingQueue,
    Registration,
    ResourceClient,
    StopToken,
    _Factory,
    _Informer,
    _LeaderElector,
    _typed_kinds,
    in_cluster,
    in_cluster_or_kubeconfig,
    index_by_label,
    index_by_path,
    load_kubeconfig,
)

__all__ = [
    "Client", "Config", "DeletedFinalStateUnknown", "Event", "IndexFunc", "Informer",
    "InvalidArgumentError", "KubeError", "LeaderElector", "Lister", "Node", "Object",
    "RateLimitingQueue", "Registration", "ResourceClient", "SharedInformerFactory", "StopToken",
    "in_cluster", "in_cluster_or_kubeconfig", "index_by_label", "index_by_path",
    "load_kubeconfig", "resource_info",
]

GVR = Tuple[str, str, str]


class ResourceInfo(NamedTuple):
    """How a resource is served: group, version, plural resource, singular, kind, scope."""

    group: str
    version: str
    resource: str
    singular: str
    kind: str
    namespaced: bool


_KINDS = [ResourceInfo(*k) for k in _typed_kinds()]


def resource_info(resource: Union[str, GVR], namespaced: Optional[bool] = None) -> ResourceInfo:
    """Resolves a resource name: a built-in's plural, singular or kind ("pods", "pod", "Pod"),
    "deployments.apps", "apps/v1/deployments", "v1/pods", or a (group, version, resource) tuple.
    Resources that are not built in (custom resources) need the group/version/resource form; they
    are namespaced unless `namespaced=False`."""
    if isinstance(resource, tuple):
        group, version, plural = resource
    else:
        parts = resource.split("/")
        if len(parts) == 3:
            group, version, plural = parts
        elif len(parts) == 2:
            group, version, plural = "", parts[0], parts[1]
        elif len(parts) == 1:
            name, _, grp = resource.partition(".")
            for k in _KINDS:
                if name in (k.resource, k.singular, k.kind) and (not grp or grp == k.group):
                    return k
            raise InvalidArgumentError(
                f"unknown resource {resource!r}: give group/version/resource for resources that "
                "are not built in")
        else:
            raise InvalidArgumentError(f"resource {resource!r} is not group/version/resource")
    for k in _KINDS:
        if (k.group, k.version, k.resource) == (group, version, plural):
            return k
    return ResourceInfo(group, version, plural, plural, "",
                        True if namespaced is None else namespaced)


class Event(NamedTuple):
    """One notification from `Informer.events()`.

    type: "ADDED", "MODIFIED", "DELETED" or "RESYNC" (an unchanged object re-delivered by a
    periodic resync or a relist). object: the object (for DELETED, an Object or a
    DeletedFinalStateUnknown). old_object: the previous state for MODIFIED, else None.
    is_in_initial_list: for ADDED, whether it comes from the first list.
    """

    type: str
    object: Any
    old_object: Optional[Object] = None
    is_in_initial_list: bool = False


def _takes_two_positionals(fn: Callable) -> bool:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    n = 0
    for p in sig.parameters.values():
        if p.kind == p.VAR_POSITIONAL:
            return True
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            n += 1
    return n >= 2


class Informer:
    """A shared informer: one list+watch of a resource, its cache (`lister`) and handlers.

    Obtained from a factory (`factory.core.v1.pods`, `factory.for_resource("deployments")`);
    asking twice gives the same informer."""

    def __init__(self, native: _Informer, info: ResourceInfo, factory: "SharedInformerFactory"):
        self._native = native
        self.info = info
        self._factory = factory

    def __repr__(self) -> str:
        g, v, r = self._native.resource
        return f"<Informer {g + '/' if g else ''}{v}/{r}>"

    def add_event_handler(self, on_add: Optional[Callable] = None,
                          on_update: Optional[Callable] = None,
                          on_delete: Optional[Callable] = None, *,
                          on_resync: Optional[Callable] = None,
                          resync_period: Optional[float] = None,
                          name: str = "") -> Registration:
        """Adds a handler; after start it first receives on_add for every cached object.

        on_add(obj) or on_add(obj, is_in_initial_list); on_update(old, new);
        on_delete(obj), where obj is a DeletedFinalStateUnknown when the deletion was inferred
        from a relist; on_resync(obj) for periodic resyncs and unchanged relisted objects (without
        it those arrive as on_update(obj, obj), as in client-go). resync_period in seconds
        (None: the factory's; 0: never)."""
        add_flag = on_add is not None and _takes_two_positionals(on_add)
        return self._native._add_event_handler(on_add, add_flag, on_update, on_delete, on_resync,
                                               resync_period, name)

    def remove_event_handler(self, registration: Registration) -> None:
        self._native.remove_event_handler(registration)

    def add_indexers(self, indexers: Dict[str, Union[Callable[[Object], Any], IndexFunc]]) -> None:
        self._native.add_indexers(indexers)

    @property
    def lister(self) -> Lister:
        return self._native.lister

    @property
    def has_synced(self) -> bool:
        return self._native.has_synced

    def wait_for_cache_sync(self, timeout: Optional[float] = None) -> bool:
        """True once the first list is cached; False on timeout or stop. Ctrl-C interrupts."""
        return self._native.wait_for_cache_sync(timeout)

    def wait_for_handlers_sync(self, timeout: Optional[float] = None) -> bool:
        """As wait_for_cache_sync, and every handler has returned from its initial adds."""
        return self._native.wait_for_handlers_sync(timeout)

    @property
    def last_sync_resource_version(self) -> str:
        return self._native.last_sync_resource_version

    @property
    def cache_resource_version(self) -> str:
        """The resourceVersion the cache reflects (every change up to it is in the lister)."""
        return self._native.cache_resource_version

    def wait_for_resource_version(self, resource_version: str,
                                  timeout: Optional[float] = None) -> bool:
        """Read-your-writes: True once the cache (and so the lister) reflects resource_version,
        the version one of your writes of this resource returned; False on timeout. Raises
        InvalidArgumentError for a version that cannot be ordered (not a decimal number), and
        KubeError (code "cancelled") once the informer stops. Ctrl-C interrupts."""
        return self._native.wait_for_resource_version(resource_version, timeout)

    def stats(self) -> Dict[str, Any]:
        """Counters: objects_cached, adds, updates, deletes, resyncs, lists, relists,
        relists_after_gone, watches, watch_events, errors, ..., and per handler its queue_depth,
        lag (seconds), delivered and failed (raised)."""
        return self._native.stats()

    def events(self, *, name: str = "") -> "EventStream":
        """An asyncio stream of this informer's notifications:

            async with informer.events() as events:
                async for ev in events: ...

        Registers a handler (bound to the running loop) on entering `async with`, or else on the
        first iteration, and removes it when the stream is closed. Objects cached before that are
        delivered first as ADDED with is_in_initial_list=True."""
        return EventStream(self, name)


class EventStream:
    """`async for event in informer.events()`; see Informer.events."""

    def __init__(self, informer: Informer, name: str):
        self._informer = informer
        self._name = name or "asyncio events"
        self._queue: Optional[asyncio.Queue] = None
        self._registration: Optional[Registration] = None
        self._closed = False

    def _start(self) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        self._queue = queue

        def put(ev: Event) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, ev)
            except RuntimeError:
                pass  # the loop is closed: nobody is listening any more

        self._registration = self._informer.add_event_handler(
            on_add=lambda o, initial: put(Event("ADDED", o, None, initial)),
            on_update=lambda old, new: put(Event("MODIFIED", new, old)),
            on_delete=lambda o: put(Event("DELETED", o)),
            on_resync=lambda o: put(Event("RESYNC", o)),
            name=self._name)

    def __aiter__(self) -> "EventStream":
        return self

    async def __anext__(self) -> Event:
        if self._closed:
            raise StopAsyncIteration
        if self._queue is None:
            self._start()
        assert self._queue is not None
        return await self._queue.get()

    async def aclose(self) -> None:
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._registration is not None:
            try:
                self._informer.remove_event_handler(self._registration)
            except KubeError:
                pass  # the informer is stopped already

    def __del__(self) -> None:
        # A stream abandoned without close() (a `break` out of `async for`) stops its handler.
        try:
            self.close()
        except Exception:  # noqa: BLE001  (never raise from a finalizer)
            pass

    async def __aenter__(self) -> "EventStream":
        if self._queue is None:
            self._start()  # registered now: nothing that happens inside the block is missed
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.close()


class _Version:
    def __init__(self, factory: "SharedInformerFactory", group: str, version: str):
        self._factory, self._group, self._version = factory, group, version

    def __getattr__(self, attr: str) -> Informer:
        for k in _KINDS:
            if (k.group, k.version) == (self._group, self._version) and \
                    attr.replace("_", "") == k.resource:
                return self._factory.for_resource(k)
        raise AttributeError(f"no built-in resource {attr} in "
                             f"{self._group or 'core'}/{self._version}")

    def __dir__(self):
        return [k.resource for k in _KINDS if (k.group, k.version) == (self._group, self._version)]


class _Group:
    def __init__(self, factory: "SharedInformerFactory", group: str):
        self._factory, self._group = factory, group

    def __getattr__(self, version: str) -> _Version:
        if any(k.group == self._group and k.version == version for k in _KINDS):
            return _Version(self._factory, self._group, version)
        raise AttributeError(f"no version {version} of group {self._group or 'core'}")


_GROUPS = {"core": "", "apps": "apps", "batch": "batch", "discovery": "discovery.k8s.io",
           "coordination": "coordination.k8s.io"}

_live_factories: "weakref.WeakSet[SharedInformerFactory]" = weakref.WeakSet()


@atexit.register
def _stop_all_factories() -> None:
    # Library threads must not outlive the interpreter's ability to run their handlers.
    for f in list(_live_factories):
        try:
            f.stop()
        except Exception:  # noqa: BLE001  (best effort at exit)
            pass


class SharedInformerFactory:
    """One informer per resource, shared by every caller (client-go's SharedInformerFactory).

    config: a Config (load_kubeconfig(), in_cluster(), ...) or a Client to share connections.
    resync: seconds between resyncs of every handler (0: never). namespace: "" for all.
    threads: worker threads for handlers (0: the library's default). watch_timeout: the shortest
    server-side watch timeout in seconds (default 300; watches then resume from where they were).
    drop_managed_fields: strip metadata.managedFields before caching (saves memory).

    `with SharedInformerFactory(...) as f:` stops it on exit; so do stop() and interpreter exit."""

    def __init__(self, config: Union[Config, Client], resync: float = 0, *, namespace: str = "",
                 threads: int = 0, watch_timeout: Optional[float] = None,
                 drop_managed_fields: bool = True):
        self.client = config if isinstance(config, Client) else Client(config)
        self._native = _Factory(self.client, float(resync), namespace, threads, watch_timeout,
                                drop_managed_fields)
        self._informers: Dict[GVR, Informer] = {}
        self._lock = threading.Lock()
        _live_factories.add(self)

    def for_resource(self, resource: Union[str, GVR, ResourceInfo], *,
                     namespaced: Optional[bool] = None) -> Informer:
        """The informer for any resource: "pods", "deployments.apps", "apps/v1/deployments",
        ("example.com", "v1", "widgets"), ... (see resource_info); other names ("deploy",
        "widgets.example.com") are resolved by asking the server (discovery)."""
        if isinstance(resource, ResourceInfo):
            info = resource
        else:
            try:
                info = resource_info(resource, namespaced)
            except InvalidArgumentError:
                if not isinstance(resource, str) or "/" in resource:
                    raise
                # Not built in: ask the server, as kubectl does (short names, custom resources).
                group, version, plural, kind, scoped = self.client.resource_for(resource)
                info = ResourceInfo(group, version, plural, kind.lower() or plural, kind,
                                    scoped if namespaced is None else namespaced)
        key = (info.group, info.version, info.resource)
        with self._lock:
            inf = self._informers.get(key)
            if inf is None:
                native = self._native.informer_for(info.group, info.version, info.resource,
                                                   info.namespaced, info.kind, info.singular)
                inf = Informer(native, info, self)
                self._informers[key] = inf
            return inf

    def __getattr__(self, group: str) -> _Group:
        if group in _GROUPS:
            return _Group(self, _GROUPS[group])
        raise AttributeError(group)

    def start(self) -> None:
        """Starts every informer asked for so far (each in the background). Idempotent."""
        self._native.start()

    def wait_for_cache_sync(self, timeout: Optional[float] = None) -> bool:
        """True once every started informer has synced; False on timeout or stop."""
        return all(self._native.wait_for_cache_sync(timeout).values())

    def wait_for_cache_sync_detail(self, timeout: Optional[float] = None) -> Dict[GVR, bool]:
        """client-go's answer: each started informer's (group, version, resource) -> synced."""
        return self._native.wait_for_cache_sync(timeout)

    def wait_for_handlers_sync(self, timeout: Optional[float] = None) -> bool:
        return self._native.wait_for_handlers_sync(timeout)

    def stop(self) -> None:
        """Stops every informer and waits for running handler calls. Idempotent. Not from a
        handler (RuntimeError: it would wait for itself)."""
        self._native.stop()

    shutdown = stop

    def resource(self, resource: Union[str, GVR], namespace: str = "") -> ResourceClient:
        """A ResourceClient on this factory's connection (for writes)."""
        info = resource_info(resource)
        return ResourceClient(self.client, info.group, info.version, info.resource, namespace)

    def __enter__(self) -> "SharedInformerFactory":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class LeaderElector:
    """Leader election on a coordination.k8s.io/v1 Lease (client-go's leaderelection).

    on_started_leading(stop: StopToken) runs on a thread of its own once this candidate leads
    and must return soon after stop is requested (stop.wait()). on_stopped_leading() once leading
    has ended; on_new_leader(identity) when the observed holder changes. Times in seconds."""

    def __init__(self, client: Union[Config, Client], namespace: str, name: str, *,
                 identity: str = "", on_started_leading: Callable[[StopToken], None],
                 on_stopped_leading: Optional[Callable[[], None]] = None,
                 on_new_leader: Optional[Callable[[str], None]] = None,
                 lease_duration: float = 15, renew_deadline: float = 10,
                 retry_period: float = 2, release_on_cancel: bool = True):
        client = client if isinstance(client, Client) else Client(client)
        self._native = _LeaderElector(client, namespace, name, identity, lease_duration,
                                      renew_deadline, retry_period, on_started_leading,
                                      on_stopped_leading, on_new_leader, release_on_cancel)

    def start(self) -> None:
        """Campaigns on a thread of its own; returns at once."""
        self._native.start()

    def stop(self) -> None:
        """Ends the campaign: stops leading work, releases the lease (release_on_cancel)."""
        self._native.stop()

    @property
    def is_leader(self) -> bool:
        return self._native.is_leader

    @property
    def leader(self) -> str:
        return self._native.leader

    @property
    def identity(self) -> str:
        return self._native.identity

    def __enter__(self) -> "LeaderElector":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
