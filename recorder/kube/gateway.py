"""Kubernetes-aware waits and checks, through the official `kubernetes` client.

A wait lists the objects once, then follows a watch from that list's resourceVersion and
re-evaluates on every event: it returns as soon as the state is reached, never on a poll
period. Every failure is one sentence; nothing here raises into the runner.
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recorder.scenario.kube_model import NAMESPACED, KubeCheck, NetworkStatus, Selection, WaitFor

NETWORK_STATUS = "k8s.v1.cni.cncf.io/network-status"
CONNECT_TIMEOUT = 5.0  # seconds to open a connection to the API server
READ_TIMEOUT = 30.0  # seconds for a plain list request
WATCH_GRACE = 2.0  # a watch's read timeout past its deadline, should the alarm not end it
MAX_SHOWN = 5  # objects named in one "last seen" sentence
GONE = 410


@dataclass(frozen=True)
class _Resource:
    plural: str
    group: str
    version: str

    @property
    def full_name(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


RESOURCES = {
    "Node": _Resource("nodes", "", "v1"),
    "Pod": _Resource("pods", "", "v1"),
    "DaemonSet": _Resource("daemonsets", "apps", "v1"),
    "Deployment": _Resource("deployments", "apps", "v1"),
    "CustomResourceDefinition": _Resource(
        "customresourcedefinitions", "apiextensions.k8s.io", "v1"
    ),
    "NetworkAttachmentDefinition": _Resource(
        "network-attachment-definitions", "k8s.cni.cncf.io", "v1"
    ),
}


class KubeUnavailable(Exception):
    """The API cannot answer; the message is one sentence. `fatal`: nothing else will work
    either (no kubeconfig, no server), as opposed to one resource the API does not serve."""

    def __init__(self, message: str, fatal: bool = True) -> None:
        super().__init__(message)
        self.fatal = fatal


# -- describing selections ------------------------------------------------------------------


def _namespace(sel: Selection) -> str | None:
    return (sel.namespace or "default") if sel.kind in NAMESPACED else None


def _object_name(sel: Selection, name: str) -> str:
    ns = _namespace(sel)
    return f"{ns}/{name}" if ns else name


def _plural(kind: str, n: int = 2) -> str:
    return kind if n == 1 else kind + "s"


def _describe(sel: Selection, count: int | None = None) -> str:
    """'Node kind-worker', 'Pods matching app=web in default', 'all Nodes'; with a count:
    '2 Nodes', '1 Pod matching app=web in default', '0 Pods named web-0 in default'."""
    ns = _namespace(sel)
    where = f" in {ns}" if ns else ""
    if count is None:
        if sel.name:
            return f"{sel.kind} {_object_name(sel, sel.name)}"
        if sel.selector:
            return f"{_plural(sel.kind)} matching {sel.selector}{where}"
        return f"all {_plural(sel.kind)}{where}"
    what = f"{count} {_plural(sel.kind, count)}"
    if sel.name:
        return f"{what} named {sel.name}{where}"
    if sel.selector:
        return f"{what} matching {sel.selector}{where}"
    return what + where


# -- reading objects ------------------------------------------------------------------------


def _get(obj: Any, *path: str, default: Any = None) -> Any:
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return default
        obj = obj[key]
    return obj


def _name(obj: dict) -> str:
    return str(_get(obj, "metadata", "name", default="?"))


def _condition(obj: dict, wanted: str) -> dict | None:
    for cond in _get(obj, "status", "conditions", default=None) or []:
        if isinstance(cond, dict) and cond.get("type") == wanted:
            return cond
    return None


def _condition_state(obj: dict, wanted: str) -> tuple[str | None, str]:
    """(status, 'Ready=False (KubeletNotReady: container runtime network not ready)')."""
    cond = _condition(obj, wanted)
    if cond is None:
        return None, f"no {wanted} condition"
    status = str(cond.get("status"))
    why = ": ".join(str(cond[k]).strip() for k in ("reason", "message") if cond.get(k))
    return status, f"{wanted}={status}" + (f" ({why})" if why else "")


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _rollout_state(kind: str, obj: dict) -> tuple[bool, str]:
    generation = _int(_get(obj, "metadata", "generation"))
    status = _get(obj, "status", default={}) or {}
    observed = _int(status.get("observedGeneration"))
    if observed < generation:
        return False, f"generation {generation} not observed yet (observed {observed})"
    if kind == "DaemonSet":
        desired = _int(status.get("desiredNumberScheduled"))
        updated = _int(status.get("updatedNumberScheduled"))
        available = _int(status.get("numberAvailable"))
        done = updated == desired and available == desired
        return done, f"{updated}/{desired} updated, {available}/{desired} available"
    spec_replicas = _get(obj, "spec", "replicas")
    desired = 1 if spec_replicas is None else _int(spec_replicas)
    updated = _int(status.get("updatedReplicas"))
    available = _int(status.get("availableReplicas"))
    total = _int(status.get("replicas"))
    done = updated == desired and available == desired and total == desired
    old = f", {total - updated} old pending termination" if total > updated else ""
    return done, f"{updated}/{desired} updated, {available}/{desired} available{old}"


class _Goal:
    """What one object must satisfy for a wait or a check (None: anything)."""

    def __init__(self, kind: str, spec: WaitFor | KubeCheck) -> None:
        self.kind = kind
        self.condition = spec.condition
        self.status = spec.status
        self.phase = spec.phase
        self.rollout = bool(getattr(spec, "rollout", False))

    @property
    def any(self) -> bool:
        return bool(self.condition or self.phase or self.rollout)

    def text(self) -> str:
        parts = []
        if self.condition:
            parts.append(f"condition {self.condition}={self.status}")
        if self.phase:
            parts.append(f"phase {self.phase}")
        if self.rollout:
            parts.append("rollout complete")
        return " and ".join(parts)

    def state(self, obj: dict) -> tuple[bool, str]:
        """(satisfied, what was seen)."""
        ok, seen = True, []
        if self.condition:
            status, text = _condition_state(obj, self.condition)
            ok = ok and status == self.status
            seen.append(text)
        if self.phase:
            phase = _get(obj, "status", "phase")
            ok = ok and phase == self.phase
            seen.append(f"phase {phase}" if phase else "no phase")
        if self.rollout:
            done, text = _rollout_state(self.kind, obj)
            ok = ok and done
            seen.append(text)
        return ok, ", ".join(seen)


def _evaluate(spec: WaitFor, objects: dict[str, dict]) -> tuple[bool, str]:
    """(satisfied, the last state seen, for the timeout sentence)."""
    goal = _Goal(spec.kind, spec)
    if not objects:
        seen = "not found" if spec.name else f"no {_plural(spec.kind)}"
        return spec.count == 0, seen
    states = [(name, *goal.state(obj)) for name, obj in sorted(objects.items())]
    if not goal.any:
        n = len(objects)
        ok = n == spec.count if spec.count is not None else True
        return ok, f"{n} {_plural(spec.kind, n)}: {_names(objects)}"
    good = sum(1 for _, ok, _ in states if ok)
    ok = good >= spec.count if spec.count is not None else good == len(states)
    if spec.name:
        return ok, states[0][2]
    shown = [f"{name} {seen}" for name, ok_, seen in states if not ok_] or [
        f"{name} {seen}" for name, _, seen in states
    ]
    more = f" and {len(shown) - MAX_SHOWN} more" if len(shown) > MAX_SHOWN else ""
    return ok, (
        f"{good} of {len(states)} with {goal.text()} ({', '.join(shown[:MAX_SHOWN])}{more})"
    )


def _names(objects: dict[str, dict]) -> str:
    names = sorted(objects)
    more = f" and {len(names) - MAX_SHOWN} more" if len(names) > MAX_SHOWN else ""
    return ", ".join(names[:MAX_SHOWN]) + more


def _wait_text(spec: WaitFor) -> str:
    goal = _Goal(spec.kind, spec)
    if spec.count is not None:
        what = _describe(spec, spec.count)
        return f"at least {what} with {goal.text()}" if goal.any else what
    what = _describe(spec)
    return f"{what} {goal.text()}" if goal.any else f"{what} to exist"


# -- fields and network-status --------------------------------------------------------------


MISSING = object()


def lookup(obj: Any, path: str) -> Any:
    """A value by dotted path; where a dict holds a key with dots (an annotation such as
    k8s.v1.cni.cncf.io/network-status), the longest key that exists wins."""
    parts = path.split(".")
    i = 0
    while i < len(parts):
        if isinstance(obj, dict):
            for j in range(len(parts), i, -1):
                key = ".".join(parts[i:j])
                if key in obj:
                    obj, i = obj[key], j
                    break
            else:
                return MISSING
        elif isinstance(obj, list) and re.fullmatch(r"-?\d+", parts[i]):
            index = int(parts[i])
            if not -len(obj) <= index < len(obj):
                return MISSING
            obj, i = obj[index], i + 1
        else:
            return MISSING
    return obj


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return "" if value is None else str(value)


def _show(value: Any, limit: int = 80) -> str:
    text = _text(value)
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _field_failures(check: KubeCheck, obj: dict) -> list[str]:
    out = []
    for field in check.fields:
        value = lookup(obj, field.path)
        if value is MISSING:
            wants = [
                f"{word} {_show(v)}"
                for word, v in (
                    ("to equal", field.equals),
                    ("to match", field.matches),
                    ("to contain", field.contains),
                )
                if v is not None
            ]
            out.append(
                f"expected {field.path} {' and '.join(wants) or 'to exist'}, got no such field"
            )
            continue
        text = _text(value)
        if field.equals is not None and not _equal(value, field.equals):
            out.append(f"expected {field.path} to equal {_show(field.equals)}, got {_show(value)}")
        if field.matches is not None and not re.search(field.matches, text):
            out.append(f"expected {field.path} to match /{field.matches}/, got {_show(value)}")
        if field.contains is not None and not _contains(value, field.contains):
            out.append(
                f"expected {field.path} to contain {_show(field.contains)}, got {_show(value)}"
            )
    return out


def _equal(value: Any, wanted: str | int | bool) -> bool:
    if type(value) is type(wanted) and value == wanted:
        return True
    return _text(value) == _text(wanted)


def _contains(value: Any, wanted: str) -> bool:
    if isinstance(value, list) and any(_text(v) == wanted for v in value):
        return True
    return wanted in _text(value)


def _network_failures(spec: NetworkStatus, obj: dict) -> list[str]:
    raw = _get(obj, "metadata", "annotations", NETWORK_STATUS)
    if raw is None:
        return [f"expected a {NETWORK_STATUS} annotation, got none"]
    try:
        entries = json.loads(raw)
    except (TypeError, ValueError):
        return [f"expected {NETWORK_STATUS} to be JSON, got {_show(raw)}"]
    if not isinstance(entries, list):
        return [f"expected {NETWORK_STATUS} to be a JSON list, got {_show(raw)}"]
    entries = [e for e in entries if isinstance(e, dict)]
    names = [str(e["interface"]) for e in entries if e.get("interface")]
    out = []
    if not _in_order(spec.interfaces, names):
        out.append(
            f"expected interfaces {', '.join(spec.interfaces)} in network-status, "
            f"got {', '.join(names) or 'none'}"
        )
    for iface, cidr in spec.cidrs.items():
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            out.append(f"expected a CIDR for {iface}, got {cidr!r}")
            continue
        ips = [ip for e in entries if e.get("interface") == iface for ip in e.get("ips") or []]
        if not any(e.get("interface") == iface for e in entries):
            out.append(f"expected {iface} IPs in {cidr}, got no {iface} in network-status")
        elif not ips:
            out.append(f"expected {iface} IPs in {cidr}, got no IPs on {iface}")
        else:
            outside = [ip for ip in ips if not _ip_in(ip, network)]
            if outside:
                out.append(f"expected {iface} IPs in {cidr}, got {', '.join(map(str, outside))}")
    return out


def _in_order(wanted: list[str], names: list[str]) -> bool:
    it = iter(names)
    return all(any(name == want for name in it) for want in wanted)


def _ip_in(ip: Any, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    try:
        return ipaddress.ip_interface(str(ip)).ip in network
    except ValueError:
        return False


# -- the gateway ----------------------------------------------------------------------------


class KubeGateway:
    """The API server named by a kubeconfig; the client is made on first use."""

    def __init__(self, kubeconfig: str | None, base_dir: str | Path | None = None) -> None:
        self.kubeconfig = kubeconfig
        self.base_dir = Path(base_dir) if base_dir else None
        self._api: Any = None
        self._host = "the API server"

    # public

    def wait_for(self, spec: WaitFor) -> str | None:
        """None once the objects reach the state; else one sentence saying why not."""
        deadline = time.monotonic() + spec.timeout
        seen = "nothing (no answer from the API yet)"
        try:
            objects, version = self._list(spec)
            while True:
                ok, seen = _evaluate(spec, objects)
                if ok:
                    return None
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                version, reached, seen = self._follow(spec, objects, version, deadline)
                if reached:
                    return None
                if version is None:  # the watch expired (410) or broke: list again
                    objects, version = self._list(spec)
        except KubeUnavailable as exc:
            return f"waiting for {_wait_text(spec)}: {exc}"
        return (
            f"timed out after {spec.timeout:g}s waiting for {_wait_text(spec)}; last seen: {seen}"
        )

    def check_all(self, checks: list[KubeCheck]) -> list[str]:
        """Failures as 'expected ..., got ...' sentences; empty when every check passes."""
        failures: list[str] = []
        for check in checks:
            try:
                objects, _ = self._list(check)
            except KubeUnavailable as exc:
                failures.append(f"{_describe(check)}: {exc}")
                if exc.fatal:
                    break  # the same sentence for every other check
                continue
            failures.extend(self._check(check, objects))
        return failures

    def close(self) -> None:
        if self._api is not None:
            self._api.close()
            self._api = None

    # checks

    def _check(self, check: KubeCheck, objects: dict[str, dict]) -> list[str]:
        what = _describe(check)
        goal = _Goal(check.kind, check)
        n = len(objects)
        if check.count is not None and not goal.any and n != check.count:
            got = f"{n} ({_names(objects)})" if n else "none"
            return [f"{what}: expected {check.count} {_plural(check.kind, check.count)}, got {got}"]
        if not objects:
            if check.count == 0:
                return []
            return [f"{what}: expected {'it' if check.name else 'at least one'} to exist, got none"]
        out = []
        if goal.any:
            states = [(name, *goal.state(obj)) for name, obj in sorted(objects.items())]
            if check.count is not None:
                good = sum(1 for _, ok, _ in states if ok)
                if good < check.count:
                    seen = ", ".join(f"{name} {s}" for name, ok, s in states if not ok)
                    out.append(
                        f"{what}: expected at least {check.count} with {goal.text()}, "
                        f"got {good} ({seen})"
                    )
            else:
                for name, ok, seen in states:
                    if not ok:
                        out.append(
                            f"{check.kind} {_object_name(check, name)}: "
                            f"expected {goal.text()}, got {seen}"
                        )
        for name, obj in sorted(objects.items()):
            prefix = f"{check.kind} {_object_name(check, name)}: "
            out += [prefix + f for f in _field_failures(check, obj)]
            if check.network_status is not None:
                out += [prefix + f for f in _network_failures(check.network_status, obj)]
        return out

    # the API

    def _client(self) -> Any:
        if self._api is not None:
            return self._api
        from kubernetes import client, config
        from kubernetes.config.config_exception import ConfigException

        paths = self._kubeconfig_paths()
        if not any(p.is_file() for p in paths):
            shown = os.pathsep.join(str(p) for p in paths)
            raise KubeUnavailable(
                f"cannot reach the Kubernetes API: no kubeconfig at {shown} "
                "(set KUBECONFIG in the scenario's env, or create the cluster first)"
            )
        configuration = client.Configuration()
        try:
            config.load_kube_config(
                config_file=os.pathsep.join(str(p) for p in paths),
                client_configuration=configuration,
                persist_config=False,
            )
        except (ConfigException, Exception) as exc:  # a bad file must not be a traceback
            shown = os.pathsep.join(str(p) for p in paths)
            raise KubeUnavailable(
                f"cannot reach the Kubernetes API: the kubeconfig {shown} is not usable "
                f"({_one_line(exc)})"
            ) from None
        configuration.retries = 1
        self._host = configuration.host
        self._api = client.ApiClient(configuration)
        return self._api

    def _kubeconfig_paths(self) -> list[Path]:
        raw = self.kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
        paths = []
        for part in raw.split(os.pathsep):
            if not part:
                continue
            path = Path(part).expanduser()
            if not path.is_absolute() and self.base_dir is not None:
                path = self.base_dir / path
            paths.append(path)
        return paths or [Path("~/.kube/config").expanduser()]

    def _lister(self, sel: Selection) -> tuple[Callable[..., Any], tuple, dict[str, str]]:
        from kubernetes import client

        api = self._client()
        ns = _namespace(sel)
        if sel.kind == "Node":
            fn, args = client.CoreV1Api(api).list_node, ()
        elif sel.kind == "Pod":
            fn, args = client.CoreV1Api(api).list_namespaced_pod, (ns,)
        elif sel.kind == "DaemonSet":
            fn, args = client.AppsV1Api(api).list_namespaced_daemon_set, (ns,)
        elif sel.kind == "Deployment":
            fn, args = client.AppsV1Api(api).list_namespaced_deployment, (ns,)
        elif sel.kind == "CustomResourceDefinition":
            fn, args = client.ApiextensionsV1Api(api).list_custom_resource_definition, ()
        else:
            res = RESOURCES[sel.kind]
            fn = client.CustomObjectsApi(api).list_namespaced_custom_object
            args = (res.group, res.version, ns, res.plural)
        selectors = {}
        if sel.name:
            selectors["field_selector"] = f"metadata.name={sel.name}"
        if sel.selector:
            selectors["label_selector"] = sel.selector
        return fn, args, selectors

    def _list(self, sel: Selection) -> tuple[dict[str, dict], str | None]:
        """The matching objects by name, and the list's resourceVersion."""
        fn, args, selectors = self._lister(sel)
        with self._errors(sel):
            resp = fn(
                *args,
                **selectors,
                _preload_content=False,
                _request_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
            )
            try:
                body = json.loads(resp.data)
            finally:
                resp.release_conn()
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise KubeUnavailable(
                f"the API answered the list of {RESOURCES[sel.kind].full_name} with no items",
                fatal=False,
            )
        objects = {_name(o): o for o in body["items"] if isinstance(o, dict)}
        return objects, _get(body, "metadata", "resourceVersion")

    def _follow(
        self, spec: WaitFor, objects: dict[str, dict], version: str | None, deadline: float
    ) -> tuple[str | None, bool, str]:
        """Watch from `version`, updating `objects`, until the state is reached, the deadline
        passes or the watch ends. Returns (version to go on from, or None to list again;
        reached; last state seen)."""
        from kubernetes import watch
        from urllib3.exceptions import HTTPError as Urllib3Error

        fn, args, selectors = self._lister(spec)
        remaining = max(deadline - time.monotonic(), 0.001)
        kwargs: dict[str, Any] = dict(
            selectors,
            timeout_seconds=max(1, math.ceil(remaining)),  # the server ends the watch...
            _request_timeout=(CONNECT_TIMEOUT, remaining + WATCH_GRACE),  # ...or the client
        )
        if version:
            kwargs["resource_version"] = version
        watcher = watch.Watch(return_type="object")
        _, seen = _evaluate(spec, objects)
        stream = watcher.stream(fn, *args, **kwargs)
        # At the deadline, stop() shuts the socket: a blocked read ends at once.
        alarm = threading.Timer(remaining, watcher.stop)
        alarm.daemon = True
        alarm.start()
        try:
            with self._errors(spec, watching=True):
                for event in stream:
                    kind, obj = event.get("type"), event.get("raw_object")
                    if not isinstance(obj, dict):
                        continue
                    version = _get(obj, "metadata", "resourceVersion", default=version)
                    if kind in ("ADDED", "MODIFIED"):
                        objects[_name(obj)] = obj
                    elif kind == "DELETED":
                        objects.pop(_name(obj), None)
                    else:
                        continue  # BOOKMARK: only the version moves
                    ok, seen = _evaluate(spec, objects)
                    if ok:
                        return version, True, seen
                    if time.monotonic() >= deadline:
                        break
        except _Expired:
            return None, False, seen
        except (Urllib3Error, OSError):
            # The socket shut at the deadline, or a dropped stream: list again if time is left.
            return (version if time.monotonic() >= deadline else None), False, seen
        finally:
            alarm.cancel()
            watcher.stop()
            stream.close()
        return version, False, seen

    def _errors(self, sel: Selection, watching: bool = False) -> _ApiErrors:
        return _ApiErrors(self, sel, watching)


class _Expired(Exception):
    """The watch's resourceVersion is too old (410 Gone): list again."""


class _ApiErrors:
    """Turns client and transport errors into one-sentence KubeUnavailable."""

    def __init__(self, gateway: KubeGateway, sel: Selection, watching: bool) -> None:
        self.gateway = gateway
        self.sel = sel
        self.watching = watching

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: Any) -> bool:
        if exc is None:
            return False
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError
        from urllib3.exceptions import TimeoutError as Urllib3Timeout

        res = RESOURCES[self.sel.kind]
        ns = _namespace(self.sel)
        where = f" in namespace {ns}" if ns else ""
        if isinstance(exc, ApiException):
            if exc.status == GONE and self.watching:
                raise _Expired() from None
            if exc.status == 404:
                raise KubeUnavailable(
                    f"the API does not serve {res.full_name}{where} (404 Not Found"
                    + ("; is its CustomResourceDefinition installed?)" if res.group else ")"),
                    fatal=False,
                ) from None
            reason = _one_line(exc.reason or "") or "error"
            raise KubeUnavailable(
                f"the API refused to list {res.full_name}{where}: {exc.status} {reason}",
                fatal=False,
            ) from None
        if self.watching and isinstance(exc, ProtocolError | Urllib3Timeout | ConnectionError):
            return False  # the caller lists again, which reports a dead server
        if isinstance(exc, MaxRetryError | NewConnectionError | Urllib3Timeout | OSError):
            raise KubeUnavailable(
                f"cannot reach the Kubernetes API at {self.gateway._host}: {_reason(exc)}"
            ) from None
        if isinstance(exc, ValueError):  # a body that is not JSON
            raise KubeUnavailable(
                f"the API answered the list of {res.full_name}{where} with something "
                f"that is not JSON ({_one_line(exc)})",
                fatal=False,
            ) from None
        return False


def _one_line(exc: BaseException | str) -> str:
    text = str(exc).strip().splitlines()
    return text[0].strip().rstrip(".") if text else type(exc).__name__


def _reason(exc: BaseException) -> str:
    from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

    if isinstance(exc, MaxRetryError) and exc.reason is not None:
        exc = exc.reason
    text = _one_line(exc)
    if isinstance(exc, NewConnectionError):  # a ConnectTimeoutError subclass: test it first
        text = text.split("Failed to establish a new connection: ", 1)[-1]
    elif isinstance(exc, ConnectTimeoutError):
        return "the connection timed out"
    text = re.sub(r"^\[Errno -?\d+\]\s*", "", text)
    return text[:1].lower() + text[1:] if text else "no answer"
