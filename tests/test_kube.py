"""Kubernetes waits and checks (recorder/kube/), against a real API server.

The waits and checks run on the registry-free kind (tests/real_kind.py): one shared cluster,
`stagecast-kube`, with a control plane that stays NotReady (no CNI) and a worker made Ready
by demo 1.1's dummy CNI plugin, Kubernetes 1.20.2. Each test puts its objects in a namespace
of its own, so the tests are independent and can run again on the same cluster. Where kind
cannot run, these tests skip and say why.

Two faults a real server cannot give on demand stay on the API stand-in
(tests/kube_standin.py): a watch expiring with 410 Gone, and a watch connection dropped in
the middle of its stream. The tests that need no server at all (lookup, an unreachable
server, a missing or unusable kubeconfig) need neither.
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import textwrap
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kubernetes.client  # noqa: F401  (imported once here, not inside a timed wait)
import pytest
from kubernetes.client import rest

from kube_standin import KubeStandin, nad, pod
from real_kind import API_CLUSTER, API_CONTROL_PLANE, API_WORKER, TEST_IMAGE, RealKind
from recorder.kube.gateway import KubeGateway
from recorder.kube.state_checks import MISSING, lookup
from recorder.run.rehearse import rehearse
from recorder.scenario.kube_model import KubeCheck, WaitFor
from recorder.scenario.loader import load_scenario


def network_status(*entries: tuple[str, str, list[str]]) -> str:
    """The Multus annotation: (network name, interface, ips) per attachment, first default."""
    out = []
    for i, (net, iface, ips) in enumerate(entries):
        entry: dict[str, Any] = {
            "name": net,
            "interface": iface,
            "ips": ips,
            "mac": f"0a:58:0a:f4:01:{i + 5:02x}",
            "dns": {},
        }
        if i == 0:
            entry["default"] = True
        out.append(entry)
    return json.dumps(out, indent=4)


NAD_CRD = "network-attachment-definitions.k8s.cni.cncf.io"
SAMPLEPOD_STATUS = network_status(
    ("kindnet", "eth0", ["10.244.1.5"]),
    ("default/macvlan-conf", "eth1", ["192.168.1.200"]),
    ("default/whereabouts-conf", "eth2", ["10.245.1.3"]),
)
NETWORK_STATUS = "k8s.v1.cni.cncf.io/network-status"
DUMMY_IP = "192.0.2.22"  # demo 1.1's dummy CNI plugin answers this for every pod
# What kubelet 1.20 with containerd says of a node without a CNI config.
NOT_READY = (
    "Ready=False (KubeletNotReady: runtime network not ready: NetworkReady=false "
    "reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not "
    "initialized)"
)
UNREADY_POD = "Ready=False (ContainersNotReady: containers with unready status: [app])"
SLOW = 180  # seconds: a generous bound for a pod to start or a rollout to finish
real = pytest.mark.real_kind


def one_sentence(text: str | None) -> str:
    assert text, "expected a failure sentence"
    assert "\n" not in text and "Traceback" not in text, text
    return text


# -- the real cluster -------------------------------------------------------------------------


def container(script: str = "sleep 3600", probe: str | None = None) -> dict:
    """The busybox container of every test pod; `probe`: a readiness exec probe (shell)."""
    spec: dict[str, Any] = {
        "name": "app",
        "image": TEST_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "command": ["sh", "-c", script],
    }
    if probe is not None:
        spec["readinessProbe"] = {"exec": {"command": ["sh", "-c", probe]}, "periodSeconds": 1}
    return spec


def pod_spec(script: str = "sleep 3600", probe: str | None = None, **extra: Any) -> dict:
    return {
        "containers": [container(script, probe)],
        "terminationGracePeriodSeconds": 0,
        **extra,
    }


# The container is Ready once /tmp/ready exists; it makes it itself when READY=yes.
READY_WHEN_ASKED = 'test "$READY" = yes && touch /tmp/ready; sleep 3600'
READY_FILE = "test -f /tmp/ready"


class Namespace:
    """A namespace of one test's own on the shared cluster, with kubectl and a gateway."""

    def __init__(self, kind: RealKind, kubeconfig: Path, name: str) -> None:
        self.kind = kind
        self.kubeconfig = kubeconfig
        self.name = name
        self.gateway = KubeGateway(str(kubeconfig))

    def kubectl(self, *args: str, input: str | None = None, check: bool = True) -> str:
        kwargs: dict[str, Any] = {} if input is None else {"input": input}
        done = self.kind.run(
            "kubectl",
            "--kubeconfig",
            str(self.kubeconfig),
            "-n",
            self.name,
            *args,
            check=False,
            timeout=120,
            **kwargs,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def apply(self, *objects: dict) -> None:
        self.kubectl(
            "apply",
            "-f",
            "-",
            input=json.dumps({"kind": "List", "apiVersion": "v1", "items": list(objects)}),
        )

    def pod(
        self, name: str, labels: dict | None = None, annotations: dict | None = None, **spec: Any
    ) -> None:
        restart = spec.pop("restart", "Always")
        meta: dict[str, Any] = {"name": name, "labels": labels or {}}
        if annotations:
            meta["annotations"] = annotations
        self.apply(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": meta,
                "spec": pod_spec(restartPolicy=restart, **spec),
            }
        )

    def wait(self, **spec: Any) -> str | None:
        if spec.get("kind") in ("Pod", "DaemonSet", "Deployment", "NetworkAttachmentDefinition"):
            spec.setdefault("namespace", self.name)
        return self.gateway.wait_for(WaitFor(**spec))

    def running(self, name: str) -> None:
        """Wait until pod `name` runs (a setup step, not what the test is about)."""
        assert self.wait(kind="Pod", name=name, phase="Running", timeout=SLOW) is None

    def check(self, *checks: dict) -> list[str]:
        return self.gateway.check_all([KubeCheck(**c) for c in checks])

    def get(self, kind: str, name: str) -> dict:
        return json.loads(self.kubectl("get", kind, name, "-o", "json"))


@pytest.fixture
def ns(real_kind: RealKind, api_cluster: Path, request: pytest.FixtureRequest):
    test = re.sub(r"[^a-z0-9]+", "-", request.node.name.removeprefix("test_").lower())
    name = f"t-{test[:40].strip('-')}-{secrets.token_hex(2)}"
    space = Namespace(real_kind, api_cluster, name)
    real_kind.kubectl(API_CLUSTER, "create", "namespace", name)
    yield space
    space.gateway.close()
    real_kind.kubectl(API_CLUSTER, "delete", "namespace", name, "--wait=false", check=False)


class RequestLog:
    """Every request the kubernetes client sends (method, URL), recorded on the client side:
    the real server keeps no such log. `when_watched` runs a change once a watch is open."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._errors: list[BaseException] = []

    def record(self, method: str, url: str) -> None:
        with self._cond:
            self.sent.append((method, url))
            self._cond.notify_all()

    def of(self, plural: str, watch: bool) -> list[str]:
        return [
            url
            for _, url in self.sent
            if f"/{plural}?" in url + "?" and ("watch=true" in url) == watch
        ]

    def when_watched(self, plural: str, change: Callable[[], object]) -> None:
        def run() -> None:
            try:
                with self._cond:
                    if not self._cond.wait_for(lambda: self.of(plural, watch=True), timeout=120):
                        raise AssertionError(f"no watch of {plural} was opened")
                change()
            except BaseException as exc:  # reported by the fixture, in the test's thread
                self._errors.append(exc)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        self._threads.append(thread)

    def finish(self) -> None:
        for thread in self._threads:
            thread.join(timeout=180)
        if self._errors:
            raise self._errors[0]


@pytest.fixture
def requests_sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[RequestLog]:
    log = RequestLog()
    send = rest.RESTClientObject.request

    def request(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        log.record(method, url)
        return send(self, method, url, *args, **kwargs)

    monkeypatch.setattr(rest.RESTClientObject, "request", request)
    yield log
    log.finish()


NAD_CRD_MANIFEST = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": NAD_CRD},
    "spec": {
        "group": "k8s.cni.cncf.io",
        "scope": "Namespaced",
        "names": {
            "plural": "network-attachment-definitions",
            "singular": "network-attachment-definition",
            "kind": "NetworkAttachmentDefinition",
            "shortNames": ["net-attach-def"],
        },
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {"config": {"type": "string"}},
                            }
                        },
                    }
                },
            }
        ],
    },
}


@pytest.fixture(scope="session")
def nad_crd(real_kind: RealKind, api_cluster: Path) -> str:
    """Multus' NetworkAttachmentDefinition CRD, installed on the shared cluster."""
    real_kind.kubectl(API_CLUSTER, "apply", "-f", "-", input=json.dumps(NAD_CRD_MANIFEST))
    real_kind.kubectl(
        API_CLUSTER, "wait", "--for=condition=established", f"crd/{NAD_CRD}", "--timeout=120s"
    )
    return NAD_CRD


def nad_manifest(name: str) -> dict:
    config = {"cniVersion": "0.3.1", "type": "macvlan", "master": "eth0"}
    return {
        "apiVersion": "k8s.cni.cncf.io/v1",
        "kind": "NetworkAttachmentDefinition",
        "metadata": {"name": name},
        "spec": {"config": json.dumps(config)},
    }


@pytest.fixture
def samplepod(ns: Namespace) -> Namespace:
    """samplepod1 running on the worker with Multus' network-status annotation (three
    interfaces), set with `kubectl annotate` as Multus would; and a pod never Ready."""
    ns.pod("samplepod1")
    ns.pod("never-ready", labels={"app": "never"}, probe="false")
    ns.running("samplepod1")
    ns.running("never-ready")
    ns.kubectl("annotate", "pod", "samplepod1", f"{NETWORK_STATUS}={SAMPLEPOD_STATUS}")
    return ns


# -- every kind of wait ----------------------------------------------------------------------


@real
def test_node_ready_by_name(ns: Namespace) -> None:
    failure = ns.wait(kind="Node", name=API_WORKER, condition="Ready", timeout=SLOW)
    assert failure is None
    conditions = ns.get("node", API_WORKER)["status"]["conditions"]
    assert {c["type"]: c["status"] for c in conditions}["Ready"] == "True"


@real
def test_node_count_and_ready_count(ns: Namespace) -> None:
    assert ns.wait(kind="Node", count=2, timeout=30) is None
    assert ns.wait(kind="Node", condition="Ready", count=1, timeout=SLOW) is None
    failure = ns.wait(kind="Node", condition="Ready", count=2, timeout=3)
    assert one_sentence(failure) == (
        "timed out after 3s waiting for at least 2 Nodes with condition Ready=True; "
        f"last seen: 1 of 2 with condition Ready=True ({API_CONTROL_PLANE} {NOT_READY})"
    )


@real
def test_all_nodes_ready_times_out_while_the_control_plane_stays_not_ready(
    ns: Namespace,
) -> None:
    assert ns.wait(kind="Node", name=API_WORKER, condition="Ready", timeout=SLOW) is None
    failure = ns.wait(kind="Node", condition="Ready", timeout=5)
    assert one_sentence(failure) == (
        "timed out after 5s waiting for all Nodes condition Ready=True; "
        f"last seen: 1 of 2 with condition Ready=True ({API_CONTROL_PLANE} {NOT_READY})"
    )
    # The control plane's NotReady is the kubelet's own, not something the test wrote.
    conditions = ns.get("node", API_CONTROL_PLANE)["status"]["conditions"]
    assert {c["type"]: c["reason"] for c in conditions}["Ready"] == "KubeletNotReady"


@real
def test_exact_count_times_out(ns: Namespace) -> None:
    failure = ns.wait(kind="Node", count=3, timeout=2)
    assert one_sentence(failure) == (
        f"timed out after 2s waiting for 3 Nodes; last seen: 2 Nodes: {API_CONTROL_PLANE}, "
        f"{API_WORKER}"
    )


@real
def test_pod_never_ready_times_out_with_its_last_state(ns: Namespace) -> None:
    # A real readiness probe that always fails: kubelet keeps the pod Running, never Ready.
    ns.pod("never-ready", probe="false")
    ns.running("never-ready")
    failure = ns.wait(kind="Pod", name="never-ready", condition="Ready", timeout=5)
    assert one_sentence(failure) == (
        f"timed out after 5s waiting for Pod {ns.name}/never-ready condition Ready=True; "
        f"last seen: {UNREADY_POD}"
    )


@real
def test_pod_phase_by_name(ns: Namespace) -> None:
    ns.pod("job-1", script="sleep 2", restart="Never")
    ns.pod("server")
    assert ns.wait(kind="Pod", name="job-1", phase="Succeeded", timeout=SLOW) is None
    assert ns.get("pod", "job-1")["status"]["phase"] == "Succeeded"
    assert ns.wait(kind="Pod", name="server", phase="Running", timeout=SLOW) is None
    failure = ns.wait(kind="Pod", name="server", phase="Succeeded", timeout=2)
    assert one_sentence(failure).endswith("phase Succeeded; last seen: phase Running")


@real
def test_pods_by_selector(ns: Namespace) -> None:
    ns.pod("web-0", labels={"app": "web"})
    ns.pod("web-1", labels={"app": "web"}, probe="false")
    ns.pod("other", labels={"app": "other"})
    # At least one of the selected pods Ready: web-0 is enough.
    spec = dict(kind="Pod", selector="app=web", condition="Ready")
    assert ns.wait(**spec, count=1, timeout=SLOW) is None
    ns.running("web-1")
    # Without a count, every selected pod must be Ready: web-1 never is.
    failure = ns.wait(**spec, timeout=3)
    assert one_sentence(failure) == (
        f"timed out after 3s waiting for Pods matching app=web in {ns.name} condition "
        f"Ready=True; last seen: 1 of 2 with condition Ready=True (web-1 {UNREADY_POD})"
    )
    assert ns.wait(kind="Pod", selector="app=web", count=2, timeout=30) is None


@real
def test_pods_by_selector_deleted(ns: Namespace, requests_sent: RequestLog) -> None:
    for name in ("old-0", "old-1"):
        ns.pod(name, labels={"app": "old"})
    assert ns.wait(kind="Pod", selector="app=old", count=2, timeout=30) is None
    requests_sent.when_watched(
        "pods", lambda: ns.kubectl("delete", "pod", "-l", "app=old", "--wait=false")
    )
    assert ns.wait(kind="Pod", selector="app=old", count=0, timeout=SLOW) is None
    assert ns.kubectl("get", "pods", "-l", "app=old", "-o", "name").strip() == ""


@real
def test_daemonset_rollout(ns: Namespace) -> None:
    template = {
        "metadata": {"labels": {"app": "agent"}},
        "spec": pod_spec(READY_WHEN_ASKED, READY_FILE),
    }
    template["spec"]["containers"][0]["env"] = [{"name": "READY", "value": "yes"}]
    ns.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "agent"},
            "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": template},
        }
    )
    spec = dict(kind="DaemonSet", name="agent", rollout=True)
    # One pod: only the worker is Ready and untainted.
    assert ns.wait(**spec, timeout=SLOW) is None
    assert ns.get("daemonset", "agent")["status"]["numberAvailable"] == 1
    # A new template whose pod never turns Ready: the rollout cannot complete.
    ns.kubectl("set", "env", "daemonset/agent", "READY=no")
    assert (
        ns.wait(
            kind="Pod",
            selector="app=agent",
            condition="Ready",
            status="False",
            count=1,
            timeout=SLOW,
        )
        is None
    )
    failure = ns.wait(**spec, timeout=5)
    assert one_sentence(failure) == (
        f"timed out after 5s waiting for DaemonSet {ns.name}/agent rollout complete; "
        "last seen: 1/1 updated, 0/1 available"
    )
    # A third generation that turns Ready again: the rollout completes.
    ns.kubectl("set", "env", "daemonset/agent", "READY=yes")
    assert ns.wait(**spec, timeout=SLOW) is None
    status = ns.get("daemonset", "agent")["status"]
    assert status["observedGeneration"] == 3 and status["numberAvailable"] == 1


@real
def test_deployment_rollout(ns: Namespace) -> None:
    template = {
        "metadata": {"labels": {"app": "web"}},
        "spec": pod_spec(READY_WHEN_ASKED, READY_FILE),
    }
    template["spec"]["containers"][0]["env"] = [{"name": "READY", "value": "no"}]
    ns.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": template,
            },
        }
    )
    spec = dict(kind="Deployment", name="web", rollout=True)
    # Its pods run but never turn Ready: the rollout cannot complete.
    assert ns.wait(kind="Pod", selector="app=web", phase="Running", count=2, timeout=SLOW) is None
    failure = ns.wait(**spec, timeout=5)
    assert one_sentence(failure) == (
        f"timed out after 5s waiting for Deployment {ns.name}/web rollout complete; "
        "last seen: 2/2 updated, 0/2 available"
    )
    # A new template that turns Ready: a real rolling update, old pods replaced.
    ns.kubectl("set", "env", "deployment/web", "READY=yes")
    assert ns.wait(**spec, timeout=SLOW) is None
    status = ns.get("deployment", "web")["status"]
    assert (status["updatedReplicas"], status["availableReplicas"]) == (2, 2)


@real
def test_crd_established(ns: Namespace, requests_sent: RequestLog) -> None:
    group = f"{ns.name}.stagecast.test"
    name = f"widgets.{group}"
    crd = json.loads(json.dumps(NAD_CRD_MANIFEST))
    crd["metadata"]["name"] = name
    crd["spec"]["group"] = group
    crd["spec"]["names"] = {"plural": "widgets", "singular": "widget", "kind": "Widget"}
    # The CRD is created once the wait watches: not found, then added, then Established.
    requests_sent.when_watched("customresourcedefinitions", lambda: ns.apply(crd))
    try:
        spec = dict(kind="CustomResourceDefinition", name=name, condition="Established")
        assert ns.wait(**spec, timeout=SLOW) is None
        conditions = ns.get("crd", name)["status"]["conditions"]
        assert {c["type"]: c["status"] for c in conditions}["Established"] == "True"
    finally:
        ns.kubectl("delete", "crd", name, "--wait=false", check=False)


@real
def test_nad_exists(ns: Namespace, nad_crd: str, requests_sent: RequestLog) -> None:
    requests_sent.when_watched(
        "network-attachment-definitions", lambda: ns.apply(nad_manifest("whereabouts-conf"))
    )
    spec = dict(kind="NetworkAttachmentDefinition", name="whereabouts-conf", exists=True)
    assert ns.wait(**spec, timeout=SLOW) is None
    assert requests_sent.of("network-attachment-definitions", watch=True)
    assert ns.get("net-attach-def", "whereabouts-conf")["metadata"]["name"] == "whereabouts-conf"
    failure = ns.wait(kind="NetworkAttachmentDefinition", name="missing", exists=True, timeout=2)
    assert one_sentence(failure) == (
        f"timed out after 2s waiting for NetworkAttachmentDefinition {ns.name}/missing "
        "to exist; last seen: not found"
    )


# -- the wait really watches -----------------------------------------------------------------


@real
def test_wait_follows_one_watch_and_ends_on_the_event(
    ns: Namespace, requests_sent: RequestLog
) -> None:
    ns.pod("web-0", probe=READY_FILE)
    ns.running("web-0")
    ns.gateway.check_all([KubeCheck(kind="Pod", name="web-0", namespace=ns.name)])  # warm
    requests_sent.sent.clear()
    # The pod turns Ready (its probe passes) only after the wait has started to watch.
    requests_sent.when_watched(
        "pods", lambda: ns.kubectl("exec", "web-0", "--", "touch", "/tmp/ready")
    )
    assert ns.wait(kind="Pod", name="web-0", condition="Ready", timeout=SLOW) is None
    lists, watches = requests_sent.of("pods", watch=False), requests_sent.of("pods", watch=True)
    assert len(lists) == 1, f"one list, then no polling: {lists}"
    assert len(watches) == 1, watches
    assert "fieldSelector=metadata.name%3Dweb-0" in watches[0]
    version = re.search(r"resourceVersion=(\d+)", watches[0])
    assert version is not None and int(version.group(1)) > 0, watches[0]
    conditions = ns.get("pod", "web-0")["status"]["conditions"]
    assert {c["type"]: c["status"] for c in conditions}["Ready"] == "True"


# -- checks -----------------------------------------------------------------------------------


@real
def test_checks_pass(samplepod: Namespace, nad_crd: str) -> None:
    ns = samplepod
    annotation = f"metadata.annotations.{NETWORK_STATUS}"
    assert ns.wait(kind="Pod", name="samplepod1", condition="Ready", timeout=SLOW) is None
    checks = [
        {
            "kind": "Pod",
            "name": "samplepod1",
            "namespace": ns.name,
            "network_status": {
                "interfaces": ["eth0", "eth1", "eth2"],
                "cidrs": {
                    "eth0": "10.244.0.0/16",
                    "eth1": "192.168.1.0/24",
                    "eth2": "10.245.0.0/16",
                },
            },
            "fields": [
                {"path": "status.podIP", "equals": DUMMY_IP},
                {"path": "status.phase", "matches": "^Run"},
                {"path": annotation, "contains": "192.168.1.200"},
                {"path": "spec.containers.0.image", "equals": TEST_IMAGE},
                {"path": "spec.nodeName", "equals": API_WORKER},
                {"path": "spec.terminationGracePeriodSeconds", "equals": 0},
            ],
            "phase": "Running",
            "condition": "Ready",
        },
        # Demo 1.1: the worker is Ready while the control plane is not.
        {"kind": "Node", "name": API_WORKER, "condition": "Ready"},
        {"kind": "Node", "name": API_CONTROL_PLANE, "condition": "Ready", "status": "False"},
        {"kind": "Node", "count": 2},
        {"kind": "Node", "condition": "Ready", "count": 1},
        {"kind": "DaemonSet", "namespace": "kube-system", "selector": "k8s-app=kube-proxy"},
        {"kind": "CustomResourceDefinition", "name": NAD_CRD},
        {"kind": "Pod", "name": "gone", "namespace": ns.name, "count": 0},
    ]
    assert ns.check(*checks) == []


@real
def test_checks_fail_with_sentences(samplepod: Namespace) -> None:
    ns = samplepod
    two = network_status(("kindnet", "eth0", ["10.244.1.5"]), ("macvlan", "eth1", ["10.1.1.1"]))
    ns.kubectl("annotate", "--overwrite", "pod", "samplepod1", f"{NETWORK_STATUS}={two}")
    checks = [
        {
            "kind": "Pod",
            "name": "samplepod1",
            "namespace": ns.name,
            "network_status": {
                "interfaces": ["eth0", "eth1", "eth2"],
                "cidrs": {"eth1": "192.168.1.0/24", "eth2": "10.245.0.0/16"},
            },
        },
        {
            "kind": "Pod",
            "name": "samplepod1",
            "namespace": ns.name,
            "fields": [
                {"path": "status.podIP", "equals": "10.244.9.9"},
                {"path": "status.phase", "matches": "^Pend"},
                {"path": "status.nominatedNodeName", "equals": "elsewhere"},
            ],
        },
        {"kind": "Node", "name": API_CONTROL_PLANE, "condition": "Ready"},
        {"kind": "Pod", "name": "nope", "namespace": ns.name},
        {"kind": "Node", "count": 3},
        {
            "kind": "Pod",
            "selector": "app=never",
            "namespace": ns.name,
            "phase": "Running",
            "condition": "Ready",
        },
    ]
    pod = f"Pod {ns.name}/samplepod1"
    assert ns.check(*checks) == [
        f"{pod}: expected interfaces eth0, eth1, eth2 in network-status, got eth0, eth1",
        f"{pod}: expected eth1 IPs in 192.168.1.0/24, got 10.1.1.1",
        f"{pod}: expected eth2 IPs in 10.245.0.0/16, got no eth2 in network-status",
        f"{pod}: expected status.podIP to equal '10.244.9.9', got '{DUMMY_IP}'",
        f"{pod}: expected status.phase to match /^Pend/, got 'Running'",
        f"{pod}: expected status.nominatedNodeName to equal 'elsewhere', got no such field",
        f"Node {API_CONTROL_PLANE}: expected condition Ready=True, got {NOT_READY}",
        f"Pod {ns.name}/nope: expected it to exist, got none",
        f"all Nodes: expected 3 Nodes, got 2 ({API_CONTROL_PLANE}, {API_WORKER})",
        f"Pod {ns.name}/never-ready: expected condition Ready=True and phase Running, "
        f"got {UNREADY_POD}, phase Running",
    ]


@real
def test_check_without_network_status_annotation(samplepod: Namespace) -> None:
    ns = samplepod
    check = {
        "kind": "Pod",
        "name": "never-ready",
        "namespace": ns.name,
        "network_status": {"interfaces": ["eth0"]},
    }
    assert ns.check(check) == [
        f"Pod {ns.name}/never-ready: expected a {NETWORK_STATUS} annotation, got none"
    ]


@real
def test_kubeconfig_from_the_environment(
    api_cluster: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(api_cluster))
    gateway = KubeGateway(None)
    try:
        assert gateway.check_all([KubeCheck(kind="Node", name=API_WORKER)]) == []
        assert gateway.server_version() == "v1.20.2"
    finally:
        gateway.close()


def test_lookup_takes_the_longest_existing_key() -> None:
    obj = {
        "metadata": {
            "annotations": {"k8s.v1.cni.cncf.io/network-status": "[]", "k8s": {"v1": "short"}},
            "labels": {"app.kubernetes.io/name": "web"},
        },
        "spec": {"containers": [{"name": "app"}]},
    }
    assert lookup(obj, "metadata.annotations.k8s.v1.cni.cncf.io/network-status") == "[]"
    assert lookup(obj, "metadata.annotations.k8s.v1") == "short"
    assert lookup(obj, "metadata.labels.app.kubernetes.io/name") == "web"
    assert lookup(obj, "spec.containers.0.name") == "app"
    assert lookup(obj, "spec.containers.1.name") is MISSING
    assert lookup(obj, "metadata.annotations.k8s.v2") is MISSING


def timed(gateway: KubeGateway, **spec) -> tuple[str | None, float]:
    start = time.monotonic()
    failure = gateway.wait_for(WaitFor(**spec))
    return failure, time.monotonic() - start


# -- the API out of reach ---------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_server_is_one_sentence(tmp_path: Path) -> None:
    from kube_standin import write_kubeconfig

    port = _closed_port()
    path = write_kubeconfig(tmp_path / "kubeconfig", f"http://127.0.0.1:{port}")
    gateway = KubeGateway(str(path))
    failure, took = timed(gateway, kind="Node", name="kind-worker", condition="Ready", timeout=60)
    assert one_sentence(failure) == (
        "waiting for Node kind-worker condition Ready=True: cannot reach the Kubernetes API "
        f"at http://127.0.0.1:{port}: connection refused"
    )
    assert took < 10, "an unreachable server fails at once, not at the timeout"
    checks = [KubeCheck(kind="Node", count=2), KubeCheck(kind="Pod", name="samplepod1")]
    failures = gateway.check_all(checks)
    assert len(failures) == 1
    assert one_sentence(failures[0]).endswith(
        f"cannot reach the Kubernetes API at http://127.0.0.1:{port}: connection refused"
    )


def test_missing_kubeconfig_is_one_sentence(tmp_path: Path) -> None:
    absent = tmp_path / "absent"
    failure = KubeGateway(str(absent)).wait_for(WaitFor(kind="Node", count=1, timeout=5))
    assert one_sentence(failure) == (
        f"waiting for 1 Node: cannot reach the Kubernetes API: no kubeconfig at {absent} "
        "(set KUBECONFIG in the scenario's env, or create the cluster first)"
    )
    failures = KubeGateway(str(absent)).check_all([KubeCheck(kind="Node")])
    assert len(failures) == 1 and "no kubeconfig at" in one_sentence(failures[0])


def test_unusable_kubeconfig_is_one_sentence(tmp_path: Path) -> None:
    bad = tmp_path / "kubeconfig"
    bad.write_text("apiVersion: v1\nkind: Config\nclusters: []\n")
    failure = KubeGateway(str(bad)).wait_for(WaitFor(kind="Node", count=1, timeout=5))
    assert f"the kubeconfig {bad} is not usable (" in one_sentence(failure)


# -- faults a real server cannot give on demand: the stand-in ---------------------------------
# A real kube-apiserver answers a watch with 410 Gone only once its watch cache has rolled
# past the list's resourceVersion (a hundred or more changes of that resource, or an etcd
# compaction every five minutes): a watch from resourceVersion=1 on a fresh cluster replays
# the whole history instead. And it never drops a watch's connection mid-stream unless it
# dies. Both come from the stand-in, on demand.


@pytest.fixture
def standin() -> Iterator[KubeStandin]:
    with KubeStandin() as server:
        yield server


@pytest.fixture
def standin_gateway(standin: KubeStandin, tmp_path: Path) -> Iterator[KubeGateway]:
    gw = KubeGateway(str(standin.write_kubeconfig(tmp_path / "kubeconfig")))
    yield gw
    gw.close()


def test_expired_watch_lists_again(standin: KubeStandin, standin_gateway: KubeGateway) -> None:
    standin.add(pod("web-0", ready=False))
    standin.expire_next_watches = 1
    standin.when_watched("pods", 0.3, standin.set_condition, "Pod", "web-0", "Ready", "True")
    wait = WaitFor(kind="Pod", name="web-0", condition="Ready", timeout=60)
    assert standin_gateway.wait_for(wait) is None
    assert len(standin.seen("pods", watch=False)) == 2, "410 Gone: list again"
    assert len(standin.seen("pods", watch=True)) == 2


def test_dropped_watch_lists_again(standin: KubeStandin, standin_gateway: KubeGateway) -> None:
    standin.add(pod("web-0", ready=False))
    standin.drop_next_watches = 1
    standin.when_watched("pods", 0.3, standin.set_condition, "Pod", "web-0", "Ready", "True")
    wait = WaitFor(kind="Pod", name="web-0", condition="Ready", timeout=60)
    assert standin_gateway.wait_for(wait) is None
    assert len(standin.seen("pods", watch=False)) == 2, "a dropped stream: list again"
    assert len(standin.seen("pods", watch=True)) == 2


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_standin_watch_stream_expires_and_drops(standin: KubeStandin) -> None:
    """The stand-in's faults are the real server's shapes: events, 410, a cut stream."""
    standin.add(nad("macvlan-conf"))
    base = (
        f"{standin.url}/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions"
    )
    _, body = _get(base)
    version = body["metadata"]["resourceVersion"]
    assert [n["metadata"]["name"] for n in body["items"]] == ["macvlan-conf"]
    standin.later(0.2, standin.add, nad("whereabouts-conf"))
    standin.later(0.3, standin.delete, "NetworkAttachmentDefinition", "macvlan-conf")
    url = f"{base}?watch=true&resourceVersion={version}&timeoutSeconds=1"
    with urllib.request.urlopen(url, timeout=10) as resp:
        events = [json.loads(line) for line in resp.read().splitlines() if line.strip()]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "whereabouts-conf"),
        ("DELETED", "macvlan-conf"),
    ]
    assert events[0]["object"]["apiVersion"] == "k8s.cni.cncf.io/v1"
    standin.compact()
    with urllib.request.urlopen(url, timeout=10) as resp:
        (expired,) = [json.loads(line) for line in resp.read().splitlines() if line.strip()]
    assert expired["type"] == "ERROR" and expired["object"]["code"] == 410
    standin.drop_next_watches = 1
    with pytest.raises(Exception) as cut, urllib.request.urlopen(url, timeout=10) as resp:
        resp.read()
    assert "IncompleteRead" in type(cut.value).__name__ or "IncompleteRead" in repr(cut.value)


# -- end to end, through the runner, on the real cluster ------------------------------------


SCENARIO = """\
title: kube end to end
terminal: {cols: 100, rows: 24}
prompt: 'test$ '
typing: {cps: 100, think: 0}
env:
  KUBECONFIG: %(kubeconfig)s
  PATH: %(path)s
steps:
  - run: kubectl get nodes
    expect:
      contains: %(worker)s
  - wait_for: {kind: Node, name: %(node)s, condition: Ready, timeout: %(timeout)s}
  - run: echo done
    expect:
      contains: done
      kube:
        - kind: Pod
          name: samplepod1
          namespace: %(namespace)s
          network_status:
            interfaces: [%(interfaces)s]
            cidrs: {eth1: 192.168.1.0/24}
"""


def _scenario(tmp_path: Path, ns: Namespace, **values: object) -> Path:
    fields = {
        "kubeconfig": json.dumps(str(ns.kubeconfig)),
        "path": json.dumps(ns.kind.env["PATH"]),
        "worker": API_WORKER,
        "namespace": ns.name,
        "node": API_WORKER,
        "timeout": SLOW,
        "interfaces": "eth0, eth1, eth2",
    }
    fields.update(values)
    path = tmp_path / "kube.yaml"
    path.write_text(textwrap.dedent(SCENARIO % fields))
    return path


@real
def test_end_to_end_through_the_runner(samplepod: Namespace, tmp_path: Path) -> None:
    result = rehearse(load_scenario(_scenario(tmp_path, samplepod)))
    assert result.passed, [(s.label, s.failures) for s in result.steps]
    assert [s.status for s in result.steps] == ["passed", "passed", "passed"]
    nodes = result.steps[0].output
    assert re.search(rf"{API_WORKER}\s+Ready\s", nodes), nodes
    assert re.search(rf"{API_CONTROL_PLANE}\s+NotReady\s", nodes), nodes


@real
def test_end_to_end_failing_wait(samplepod: Namespace, tmp_path: Path) -> None:
    path = _scenario(tmp_path, samplepod, node=API_CONTROL_PLANE, timeout=3)
    result = rehearse(load_scenario(path))
    assert not result.passed
    failed = result.first_failure
    assert failed is not None and failed.index == 1
    assert failed.failures == [
        f"timed out after 3s waiting for Node {API_CONTROL_PLANE} condition Ready=True; "
        f"last seen: {NOT_READY}"
    ]


@real
def test_end_to_end_failing_check(samplepod: Namespace, tmp_path: Path) -> None:
    path = _scenario(tmp_path, samplepod, interfaces="eth0, eth1, eth2, eth3")
    result = rehearse(load_scenario(path))
    assert not result.passed
    failed = result.first_failure
    assert failed is not None and failed.index == 2
    assert failed.failures == [
        f"Pod {samplepod.name}/samplepod1: expected interfaces eth0, eth1, eth2, eth3 in "
        "network-status, got eth0, eth1, eth2"
    ]
