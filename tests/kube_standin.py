"""A STAND-IN for the Kubernetes API server, for two faults only: not a cluster.

The Kubernetes tests (tests/test_kube.py) run against a real kube-apiserver, on the
registry-free kind (tests/real_kind.py). A real server cannot be made to give two faults on
demand, so these come from this small HTTP server (standard library only), for these tests:

- a watch that expires with 410 Gone (`expire_next_watches`, `compact()`):
  `test_expired_watch_lists_again`. A real apiserver answers 410 only once its watch cache
  has rolled past the list's resourceVersion (a hundred or more changes of that resource, or
  an etcd compaction, every five minutes); on a fresh cluster a watch from
  resourceVersion=1 replays the whole history instead;
- a watch connection dropped in the middle of its stream (`drop_next_watches`):
  `test_dropped_watch_lists_again`. A real apiserver only does that when it dies, which
  would take the shared cluster's API away from every other test for a minute;
- and `test_standin_watch_stream_expires_and_drops`, which checks that both faults have the
  real shapes (an ERROR event with code 410; a chunk cut off mid-way).

It answers the few requests the gateway makes, in the real API's JSON shapes: lists (kind,
apiVersion, metadata with resourceVersion, items), single objects, 404 Status objects, and
watches (`?watch=true`: newline-delimited {"type": ADDED|MODIFIED|DELETED|ERROR, "object":
...} events, chunked, honouring resourceVersion, timeoutSeconds, labelSelector and
fieldSelector). Tests change the state through a small Python API (add, update,
set_condition, delete, later, when_watched) and every change becomes a watch event. No
authentication, no admission, no controllers, no validation: whatever a test stores is what
the client reads.
"""

from __future__ import annotations

import copy
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Kind:
    name: str
    prefix: str  # /api/v1 or /apis/GROUP/VERSION
    plural: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return self.prefix.removeprefix("/api/").removeprefix("/apis/")

    @property
    def builtin(self) -> bool:
        return "." not in self.api_version.split("/")[0] or self.name == "CustomResourceDefinition"


KINDS = {
    k.name: k
    for k in (
        Kind("Node", "/api/v1", "nodes", False),
        Kind("Pod", "/api/v1", "pods", True),
        Kind("DaemonSet", "/apis/apps/v1", "daemonsets", True),
        Kind("Deployment", "/apis/apps/v1", "deployments", True),
        Kind(
            "CustomResourceDefinition",
            "/apis/apiextensions.k8s.io/v1",
            "customresourcedefinitions",
            False,
        ),
        Kind(
            "NetworkAttachmentDefinition",
            "/apis/k8s.cni.cncf.io/v1",
            "network-attachment-definitions",
            True,
        ),
    )
}
BY_PATH = {(k.prefix, k.plural): k for k in KINDS.values()}
PATH = re.compile(
    r"^(?P<prefix>/api/v1|/apis/[^/]+/[^/]+)(?:/namespaces/(?P<ns>[^/]+))?"
    r"/(?P<plural>[^/]+)(?:/(?P<name>[^/]+))?/?$"
)
MAX_WATCH = 600.0  # seconds a watch without timeoutSeconds stays open


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    at: float = field(default_factory=time.monotonic)

    @property
    def watch(self) -> bool:
        return self.query.get("watch") in ("true", "1")


@dataclass
class _Event:
    rv: int
    kind: str
    type: str
    obj: dict


def status(code: int, reason: str, message: str, **details: str) -> dict:
    """A metav1.Status object, as the API server sends with errors."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": details,
        "code": code,
    }


class KubeStandin:
    """The stand-in server and its state. Use as a context manager, or start() and stop()."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._rv = 1000
        self._objects: dict[tuple[str, str | None, str], dict] = {}
        self._events: list[_Event] = []
        self._oldest = 0  # a watch from a resourceVersion below this gets 410 Gone
        self._timers: list[threading.Timer] = []
        self._closed = False
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.requests: list[Request] = []
        self.expire_next_watches = 0  # answer this many watches with 410 Expired
        self.drop_next_watches = 0  # cut this many watch streams off in the middle
        self._triggers: list[tuple[str, float, Callable[..., Any], tuple, dict]] = []
        self.changes: list[tuple[float, str, str]] = []  # (monotonic time, type, name)

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> KubeStandin:
        standin = self

        class Handler(_Handler):
            pass

        Handler.standin = standin
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="kube-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for timer in self._timers:
            timer.cancel()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> KubeStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the stand-in first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def write_kubeconfig(self, path: Path) -> Path:
        """A kubeconfig whose only context points at this stand-in, without auth."""
        return write_kubeconfig(path, self.url)

    # -- state, as tests change it --------------------------------------------------------

    def add(self, obj: dict) -> dict:
        """Create (or replace) an object; an ADDED (or MODIFIED) event follows."""
        obj = copy.deepcopy(obj)
        kind = KINDS[obj["kind"]]
        meta = obj.setdefault("metadata", {})
        if kind.namespaced:
            meta.setdefault("namespace", "default")
        else:
            meta.pop("namespace", None)
        key = (kind.name, meta.get("namespace"), meta["name"])
        with self._cond:
            old = self._objects.get(key)
            meta.setdefault("uid", str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            meta.setdefault("generation", 1)
            self._store(key, obj, "MODIFIED" if old else "ADDED")
        return copy.deepcopy(obj)

    def update(
        self,
        kind: str,
        name: str,
        change: Callable[[dict], None] | dict,
        namespace: str | None = None,
    ) -> dict:
        """Change an object (a function that edits it, or a merge patch); a MODIFIED event
        follows, and metadata.generation moves when the spec changed."""
        key = self._key(kind, name, namespace)
        with self._cond:
            if key not in self._objects:
                raise KeyError(f"{kind} {name} does not exist in the stand-in")
            obj = copy.deepcopy(self._objects[key])
            spec_before = copy.deepcopy(obj.get("spec"))
            if callable(change):
                change(obj)
            else:
                _merge(obj, change)
            if obj.get("spec") != spec_before:
                obj["metadata"]["generation"] = obj["metadata"].get("generation", 1) + 1
            self._store(key, obj, "MODIFIED")
            return copy.deepcopy(obj)

    def set_condition(
        self,
        kind: str,
        name: str,
        type_: str,
        status_: str,
        reason: str | None = None,
        message: str | None = None,
        namespace: str | None = None,
    ) -> dict:
        def change(obj: dict) -> None:
            conditions = obj.setdefault("status", {}).setdefault("conditions", [])
            new = condition(type_, status_, reason, message)
            for i, cond in enumerate(conditions):
                if cond.get("type") == type_:
                    conditions[i] = new
                    return
            conditions.append(new)

        return self.update(kind, name, change, namespace)

    def delete(self, kind: str, name: str, namespace: str | None = None) -> None:
        key = self._key(kind, name, namespace)
        with self._cond:
            obj = self._objects.pop(key)
            self._rv += 1
            obj = copy.deepcopy(obj)
            obj["metadata"]["resourceVersion"] = str(self._rv)
            self._record(_Event(self._rv, kind, "DELETED", obj))

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict:
        with self._cond:
            return copy.deepcopy(self._objects[self._key(kind, name, namespace)])

    def later(self, delay: float, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run fn(*args, **kwargs) after `delay` seconds, in a thread (a change in the cluster
        that happens on its own, such as a kubelet turning Ready)."""
        timer = threading.Timer(delay, fn, args, kwargs)
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    def when_watched(
        self, plural: str, delay: float, fn: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> None:
        """Run fn(*args, **kwargs) `delay` seconds after the first watch of `plural` arrives:
        a change that a client can only see through its watch."""
        with self._cond:
            self._triggers.append((plural, delay, fn, args, kwargs))

    def _watched(self, plural: str) -> None:
        with self._cond:
            due = [t for t in self._triggers if t[0] == plural]
            self._triggers = [t for t in self._triggers if t[0] != plural]
        for _, delay, fn, args, kwargs in due:
            self.later(delay, fn, *args, **kwargs)

    def compact(self) -> None:
        """Forget the event history: watches from any earlier resourceVersion get 410."""
        with self._cond:
            self._events.clear()
            self._oldest = self._rv + 1

    # -- what the client asked ----------------------------------------------------------

    def seen(self, plural: str | None = None, watch: bool | None = None) -> list[Request]:
        with self._cond:
            return [
                r
                for r in self.requests
                if (plural is None or f"/{plural}" in r.path)
                and (watch is None or r.watch == watch)
            ]

    # -- internals ----------------------------------------------------------------------

    def _key(self, kind: str, name: str, namespace: str | None) -> tuple[str, str | None, str]:
        return (kind, (namespace or "default") if KINDS[kind].namespaced else None, name)

    def _store(self, key: tuple[str, str | None, str], obj: dict, type_: str) -> None:
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)
        self._objects[key] = obj
        self._record(_Event(self._rv, key[0], type_, copy.deepcopy(obj)))

    def _record(self, event: _Event) -> None:
        self._events.append(event)
        self.changes.append((time.monotonic(), event.type, event.obj["metadata"]["name"]))
        self._cond.notify_all()

    def _matching(self, kind: Kind, ns: str | None, query: dict[str, str]) -> Callable:
        labels = _label_matcher(query.get("labelSelector", ""))
        fields = _field_matcher(query.get("fieldSelector", ""))

        def match(obj: dict) -> bool:
            meta = obj.get("metadata", {})
            if ns is not None and meta.get("namespace") != ns:
                return False
            return labels(meta.get("labels") or {}) and fields(obj)

        return match


class _Handler(BaseHTTPRequestHandler):
    standin: KubeStandin
    protocol_version = "HTTP/1.1"
    server_version = "kube-standin/1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        standin = self.standin
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        request = Request("GET", url.path, query)
        with standin._cond:
            standin.requests.append(request)
        match = PATH.match(url.path)
        kind = match and BY_PATH.get((match["prefix"], match["plural"]))
        if not match or not kind or (match["ns"] and not kind.namespaced):
            self._json(
                404, status(404, "NotFound", "the server could not find the requested resource")
            )
            return
        ns, name = match["ns"], match["name"]
        if name:
            self._get_one(kind, ns, name)
        elif request.watch:
            self._watch(kind, ns, query)
        else:
            self._list(kind, ns, query)

    def do_POST(self) -> None:  # noqa: N802
        self._json(405, status(405, "MethodNotAllowed", "the stand-in only reads"))

    do_PUT = do_PATCH = do_DELETE = do_POST  # noqa: N815

    def _get_one(self, kind: Kind, ns: str | None, name: str) -> None:
        with self.standin._cond:
            obj = self.standin._objects.get((kind.name, ns if kind.namespaced else None, name))
            obj = copy.deepcopy(obj)
        if obj is None or (kind.namespaced and ns is None):
            group = kind.api_version.split("/")[0] if "/" in kind.api_version else ""
            what = f"{kind.plural}.{group}" if group else kind.plural
            self._json(
                404,
                status(404, "NotFound", f'{what} "{name}" not found', name=name, kind=kind.plural),
            )
            return
        self._json(200, _with_type(kind, obj))

    def _list(self, kind: Kind, ns: str | None, query: dict[str, str]) -> None:
        standin = self.standin
        match = standin._matching(kind, ns, query)
        with standin._cond:
            items = [
                copy.deepcopy(o)
                for (k, _, _), o in sorted(
                    standin._objects.items(), key=lambda kv: (kv[0][1] or "", kv[0][2])
                )
                if k == kind.name and match(o)
            ]
            version = str(standin._rv)
        if kind.builtin:  # the API server leaves kind/apiVersion out of built-in list items
            for item in items:
                item.pop("kind", None)
                item.pop("apiVersion", None)
        else:
            items = [_with_type(kind, o) for o in items]
        body = {
            "kind": f"{kind.name}List",
            "apiVersion": kind.api_version,
            "metadata": {"resourceVersion": version},
            "items": items,
        }
        self._json(200, body)

    def _watch(self, kind: Kind, ns: str | None, query: dict[str, str]) -> None:
        standin = self.standin
        match = standin._matching(kind, ns, query)
        try:
            timeout = float(query.get("timeoutSeconds") or MAX_WATCH)
        except ValueError:
            timeout = MAX_WATCH
        deadline = time.monotonic() + min(timeout, MAX_WATCH)
        standin._watched(kind.plural)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        pending: list[dict] = []
        with standin._cond:
            dropped = standin.drop_next_watches > 0
            standin.drop_next_watches -= dropped
        if dropped:  # a chunk announced, half of it sent, then the connection cut
            self.wfile.write(b"40\r\n" + b'{"type": "MODIFIED", "obj')
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        with standin._cond:
            since = query.get("resourceVersion") or "0"
            if standin.expire_next_watches > 0:
                standin.expire_next_watches -= 1
                expired = True
            else:
                expired = since != "0" and (not since.isdigit() or int(since) < standin._oldest)
            if expired:
                pending.append(_expired(since, standin._rv))
            elif since == "0":  # no version: the current state first, as ADDED events
                for (k, _, _), obj in standin._objects.items():
                    if k == kind.name and match(obj):
                        pending.append({"type": "ADDED", "object": _with_type(kind, obj)})
                last = standin._rv
            else:
                last = int(since)
        try:
            if expired:
                self._chunk(pending)
                return
            while True:
                if pending and not self._chunk(pending):
                    return
                with standin._cond:
                    while True:
                        fresh = [e for e in standin._events if e.rv > last]
                        left = deadline - time.monotonic()
                        if fresh or standin._closed or left <= 0:
                            break
                        standin._cond.wait(left)
                    if fresh:
                        last = fresh[-1].rv
                    pending = [
                        {"type": e.type, "object": _with_type(KINDS[e.kind], e.obj)}
                        for e in fresh
                        if e.kind == kind.name and match(e.obj)
                    ]
                    done = standin._closed or (not fresh and left <= 0)
                if done:
                    break
        finally:
            self._end_chunks()

    def _chunk(self, events: list[dict]) -> bool:
        data = b"".join(json.dumps(e).encode() + b"\n" for e in events)
        try:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()
            return True
        except OSError:
            self.close_connection = True
            return False

    def _end_chunks(self) -> None:
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _json(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _with_type(kind: Kind, obj: dict) -> dict:
    obj = copy.deepcopy(obj)
    obj["kind"] = kind.name
    obj["apiVersion"] = kind.api_version
    return obj


def _expired(since: str, now: int) -> dict:
    return {
        "type": "ERROR",
        "object": status(410, "Expired", f"too old resource version: {since} ({now})"),
    }


def _merge(target: dict, patch: dict) -> None:
    """A JSON merge patch: dicts merge, None deletes, anything else replaces."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _split_terms(selector: str) -> list[str]:
    return [t.strip() for t in re.split(r",(?![^()]*\))", selector) if t.strip()]


def _label_matcher(selector: str) -> Callable[[dict], bool]:
    """Equality (=, ==, !=), set (in, notin) and existence (key, !key) terms."""
    tests: list[Callable[[dict], bool]] = []
    for term in _split_terms(selector):
        if m := re.fullmatch(r"([\w./-]+)\s+(in|notin)\s+\((.*)\)", term):
            key, op, values = m[1], m[2], {v.strip() for v in m[3].split(",")}
            if op == "in":
                tests.append(lambda lb, k=key, vs=values: lb.get(k) in vs)
            else:
                tests.append(lambda lb, k=key, vs=values: lb.get(k) not in vs)
        elif m := re.fullmatch(r"([\w./-]+)\s*(!=|==|=)\s*([\w./-]*)", term):
            key, op, value = m[1], m[2], m[3]
            if op == "!=":
                tests.append(lambda lb, k=key, v=value: lb.get(k) != v)
            else:
                tests.append(lambda lb, k=key, v=value: lb.get(k) == v)
        elif m := re.fullmatch(r"!\s*([\w./-]+)", term):
            tests.append(lambda lb, k=m[1]: k not in lb)
        elif re.fullmatch(r"[\w./-]+", term):
            tests.append(lambda lb, k=term: k in lb)
        else:
            raise ValueError(f"unparsable label selector term {term!r}")
    return lambda labels: all(t(labels) for t in tests)


def _field_matcher(selector: str) -> Callable[[dict], bool]:
    """metadata.name=X, metadata.namespace!=Y, status.phase=Running, ..."""
    tests: list[Callable[[dict], bool]] = []
    for term in _split_terms(selector):
        m = re.fullmatch(r"([\w.]+)\s*(!=|==|=)\s*(.*)", term)
        if not m:
            raise ValueError(f"unparsable field selector term {term!r}")
        path, op, value = m[1].split("."), m[2], m[3]

        def test(obj: dict, path: list[str] = path, op: str = op, value: str = value) -> bool:
            for key in path:
                obj = obj.get(key) if isinstance(obj, dict) else None
            found = "" if obj is None else str(obj)
            return found != value if op == "!=" else found == value

        tests.append(test)
    return lambda obj: all(t(obj) for t in tests)


def write_kubeconfig(path: Path, server: str) -> Path:
    """A kubeconfig (JSON is YAML) with one cluster at `server`, no credentials."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "standin", "cluster": {"server": server}}],
        "users": [{"name": "standin", "user": {}}],
        "contexts": [{"name": "standin", "context": {"cluster": "standin", "user": "standin"}}],
        "current-context": "standin",
    }
    path.write_text(json.dumps(config, indent=2) + "\n")
    return path


# -- object builders, in the shapes the real API returns --------------------------------------


def condition(type_: str, status_: str, reason: str | None = None, message: str | None = None):
    cond: dict[str, Any] = {
        "type": type_,
        "status": status_,
        "lastTransitionTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message
    return cond


def pod(
    name: str,
    namespace: str = "default",
    phase: str = "Running",
    ready: bool = True,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    ip: str | None = "10.244.1.5",
    node_name: str = "kind-worker",
) -> dict:
    conditions = [
        condition("PodScheduled", "True"),
        condition("Ready", "True")
        if ready
        else condition(
            "Ready", "False", "ContainersNotReady", "containers with unready status: [app]"
        ),
    ]
    status_: dict[str, Any] = {"phase": phase, "conditions": conditions}
    if ip:
        status_["podIP"] = ip
        status_["podIPs"] = [{"ip": ip}]
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = labels
    if annotations:
        meta["annotations"] = annotations
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": meta,
        "spec": {"nodeName": node_name, "containers": [{"name": "app", "image": "alpine"}]},
        "status": status_,
    }


def nad(name: str, namespace: str = "default", config: dict | None = None) -> dict:
    return {
        "kind": "NetworkAttachmentDefinition",
        "apiVersion": "k8s.cni.cncf.io/v1",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"config": json.dumps(config or {"cniVersion": "0.3.1", "type": "macvlan"})},
    }
