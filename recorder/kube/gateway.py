"""The API server, through the official `kubernetes` client: `wait_for` and `kube_check`.

A wait lists the objects once, then follows a watch from that list's resourceVersion and
re-evaluates on every event: it returns as soon as the state is reached, never on a poll
period. Every failure is one sentence; nothing here raises into the runner.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from recorder.scenario.kube_model import KubeCheck, Selection, WaitFor

from .objects import describe, name_of, namespace, value_at
from .state_checks import check_failures
from .waits import evaluate_wait, wait_text

CONNECT_TIMEOUT = 5.0  # seconds to open a connection to the API server
READ_TIMEOUT = 30.0  # seconds for a plain list request
WATCH_GRACE = 2.0  # a watch's read timeout past its deadline, should the alarm not end it
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
                ok, seen = evaluate_wait(spec, objects)
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
            return f"waiting for {wait_text(spec)}: {exc}"
        return f"timed out after {spec.timeout:g}s waiting for {wait_text(spec)}; last seen: {seen}"

    def check_all(self, checks: list[KubeCheck]) -> list[str]:
        """Failures as 'expected ..., got ...' sentences; empty when every check passes."""
        failures: list[str] = []
        for check in checks:
            try:
                objects, _ = self._list(check)
            except KubeUnavailable as exc:
                failures.append(f"{describe(check)}: {exc}")
                if exc.fatal:
                    break  # the same sentence for every other check
                continue
            failures.extend(check_failures(check, objects))
        return failures

    def server_version(self) -> str | None:
        """The API server's version (`v1.20.2`), for provenance; None when unreachable."""
        try:
            from kubernetes import client

            return str(client.VersionApi(self._client()).get_code(_request_timeout=5).git_version)
        except Exception:  # provenance is best effort: a missing version never fails a run
            return None

    def close(self) -> None:
        if self._api is not None:
            self._api.close()
            self._api = None

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

    def _lister(self, sel: Selection) -> tuple[Callable[..., Any], tuple[Any, ...], dict[str, str]]:
        from kubernetes import client

        api = self._client()
        ns = namespace(sel)
        fn: Callable[..., Any]
        args: tuple[Any, ...]
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
        objects = {name_of(o): o for o in body["items"] if isinstance(o, dict)}
        return objects, value_at(body, "metadata", "resourceVersion")

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
        _, seen = evaluate_wait(spec, objects)
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
                    version = value_at(obj, "metadata", "resourceVersion", default=version)
                    if kind in ("ADDED", "MODIFIED"):
                        objects[name_of(obj)] = obj
                    elif kind == "DELETED":
                        objects.pop(name_of(obj), None)
                    else:
                        continue  # BOOKMARK: only the version moves
                    ok, seen = evaluate_wait(spec, objects)
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

    def __exit__(
        self, exc_type: type | None, exc: BaseException | None, tb: Any
    ) -> Literal[False]:  # never swallows: it raises a clearer error, or lets exc through
        if exc is None:
            return False
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError
        from urllib3.exceptions import TimeoutError as Urllib3Timeout

        res = RESOURCES[self.sel.kind]
        ns = namespace(self.sel)
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
