"""Kubernetes waits and checks (recorder/kube/), against the local API stand-in.

kind cannot run here: tests/kube_standin.py stands in for kube-apiserver. The client
library, its watch and the HTTP exchange are the real ones.
"""

from __future__ import annotations

import json
import socket
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import kubernetes.client  # noqa: F401  (imported once here, not inside a timed wait)
import pytest

from kube_standin import (
    KubeStandin,
    crd,
    daemonset,
    deployment,
    nad,
    network_status,
    node,
    pod,
)
from recorder.kube.gateway import KubeGateway
from recorder.kube.state_checks import MISSING, lookup
from recorder.run.rehearse import rehearse
from recorder.scenario.kube_model import KubeCheck, WaitFor
from recorder.scenario.loader import load_scenario

CRD_NAME = "network-attachment-definitions.k8s.cni.cncf.io"
SAMPLEPOD_STATUS = network_status(
    ("kindnet", "eth0", ["10.244.1.5"]),
    ("default/macvlan-conf", "eth1", ["192.168.1.200"]),
    ("default/whereabouts-conf", "eth2", ["10.245.1.3"]),
)
NETWORK_STATUS = "k8s.v1.cni.cncf.io/network-status"
NOT_READY = "Ready=False (KubeletNotReady: container runtime network not ready"


def one_sentence(text: str | None) -> str:
    assert text, "expected a failure sentence"
    assert "\n" not in text and "Traceback" not in text, text
    return text


@pytest.fixture
def standin():
    with KubeStandin() as server:
        yield server


@pytest.fixture
def kubeconfig(standin: KubeStandin, tmp_path: Path) -> Path:
    return standin.write_kubeconfig(tmp_path / "kubeconfig")


@pytest.fixture
def gateway(kubeconfig: Path):
    gw = KubeGateway(str(kubeconfig))
    yield gw
    gw.close()


@pytest.fixture
def demo(standin: KubeStandin) -> KubeStandin:
    """Demo 1.1 and after, in miniature: two NotReady nodes of which only kind-worker turns
    Ready (after ~1 s), samplepod1 with three interfaces, a Multus DaemonSet whose rollout
    completes, the NAD CRD becoming Established, a NAD appearing, and a pod never Ready."""
    standin.add(node("kind-control-plane", control_plane=True))
    standin.add(node("kind-worker"))
    standin.add(pod("samplepod1", annotations={NETWORK_STATUS: SAMPLEPOD_STATUS}))
    standin.add(pod("never-ready", ready=False, labels={"app": "never"}))
    standin.add(daemonset("kube-multus-ds", desired=2, updated=0, available=0))
    standin.add(crd(CRD_NAME, established=False))
    standin.later(
        1.0,
        standin.set_condition,
        "Node",
        "kind-worker",
        "Ready",
        "True",
        "KubeletReady",
        "kubelet is posting ready status",
    )
    standin.later(
        1.0,
        standin.update,
        "DaemonSet",
        "kube-multus-ds",
        {"status": {"updatedNumberScheduled": 2, "numberAvailable": 2, "numberReady": 2}},
        "kube-system",
    )
    standin.later(
        1.0,
        standin.set_condition,
        "CustomResourceDefinition",
        CRD_NAME,
        "Established",
        "True",
        "InitialNamesAccepted",
    )
    standin.later(1.0, standin.add, nad("whereabouts-conf"))
    return standin


def timed(gateway: KubeGateway, **spec) -> tuple[str | None, float]:
    start = time.monotonic()
    failure = gateway.wait_for(WaitFor(**spec))
    return failure, time.monotonic() - start


# -- every kind of wait ----------------------------------------------------------------------


def test_node_ready_by_name(demo: KubeStandin, gateway: KubeGateway) -> None:
    failure, took = timed(gateway, kind="Node", name="kind-worker", condition="Ready", timeout=10)
    assert failure is None
    assert took < 10
    assert demo.get("Node", "kind-worker")["status"]["conditions"][-1]["status"] == "True"


def test_node_count_and_ready_count(demo: KubeStandin, gateway: KubeGateway) -> None:
    assert gateway.wait_for(WaitFor(kind="Node", count=2, timeout=5)) is None
    failure, took = timed(gateway, kind="Node", condition="Ready", count=1, timeout=10)
    assert failure is None and took < 10
    failure = gateway.wait_for(WaitFor(kind="Node", condition="Ready", count=2, timeout=0.5))
    assert one_sentence(failure).startswith(
        "timed out after 0.5s waiting for at least 2 Nodes with condition Ready=True; "
        f"last seen: 1 of 2 with condition Ready=True (kind-control-plane {NOT_READY}"
    )


def test_all_nodes_ready_times_out_while_the_control_plane_stays_not_ready(
    demo: KubeStandin, gateway: KubeGateway
) -> None:
    failure, took = timed(gateway, kind="Node", condition="Ready", timeout=1.5)
    assert one_sentence(failure).startswith(
        "timed out after 1.5s waiting for all Nodes condition Ready=True; last seen: "
    )
    assert f"kind-control-plane {NOT_READY}" in failure
    assert 1.4 <= took < 10


def test_exact_count_times_out(demo: KubeStandin, gateway: KubeGateway) -> None:
    failure = gateway.wait_for(WaitFor(kind="Node", count=3, timeout=1))
    assert one_sentence(failure) == (
        "timed out after 1s waiting for 3 Nodes; "
        "last seen: 2 Nodes: kind-control-plane, kind-worker"
    )


def test_pod_never_ready_times_out_with_its_last_state(
    demo: KubeStandin, gateway: KubeGateway
) -> None:
    failure, took = timed(gateway, kind="Pod", name="never-ready", condition="Ready", timeout=1.5)
    assert one_sentence(failure) == (
        "timed out after 1.5s waiting for Pod default/never-ready condition Ready=True; "
        "last seen: Ready=False (ContainersNotReady: containers with unready status: [app])"
    )
    assert 1.4 <= took < 10


def test_pod_phase_by_name(standin: KubeStandin, gateway: KubeGateway) -> None:
    standin.add(pod("job-1", phase="Pending", ready=False, ip=None))
    standin.when_watched(
        "pods", 0.3, standin.update, "Pod", "job-1", {"status": {"phase": "Running"}}
    )
    failure, took = timed(gateway, kind="Pod", name="job-1", phase="Running", timeout=10)
    assert failure is None and took < 10
    failure = gateway.wait_for(WaitFor(kind="Pod", name="job-1", phase="Succeeded", timeout=0.5))
    assert one_sentence(failure).endswith("phase Succeeded; last seen: phase Running")


def test_pods_by_selector(standin: KubeStandin, gateway: KubeGateway) -> None:
    standin.add(pod("web-0", ready=False, labels={"app": "web"}))
    standin.add(pod("web-1", ready=False, labels={"app": "web"}))
    standin.add(pod("other", ready=True, labels={"app": "other"}))
    standin.when_watched(
        "pods", 0.3, standin.set_condition, "Pod", "web-0", "Ready", "True", namespace="default"
    )
    # At least one of the selected pods Ready: web-0 is enough.
    spec = dict(kind="Pod", selector="app=web", condition="Ready")
    assert gateway.wait_for(WaitFor(**spec, count=1, timeout=10)) is None
    # Without a count, every selected pod must be Ready: web-1 never is.
    failure = gateway.wait_for(WaitFor(**spec, timeout=1))
    assert one_sentence(failure) == (
        "timed out after 1s waiting for Pods matching app=web in default condition Ready=True; "
        "last seen: 1 of 2 with condition Ready=True (web-1 Ready=False "
        "(ContainersNotReady: containers with unready status: [app]))"
    )
    assert gateway.wait_for(WaitFor(kind="Pod", selector="app=web", count=2, timeout=5)) is None


def test_pods_by_selector_deleted(standin: KubeStandin, gateway: KubeGateway) -> None:
    for name in ("old-0", "old-1"):
        standin.add(pod(name, labels={"app": "old"}))
    standin.when_watched("pods", 0.2, standin.delete, "Pod", "old-0")
    standin.when_watched("pods", 0.4, standin.delete, "Pod", "old-1")
    failure, took = timed(gateway, kind="Pod", selector="app=old", count=0, timeout=10)
    assert failure is None and took < 10
    assert [c[1] for c in standin.changes[-2:]] == ["DELETED", "DELETED"]


def test_daemonset_rollout(demo: KubeStandin, gateway: KubeGateway) -> None:
    spec = dict(kind="DaemonSet", name="kube-multus-ds", namespace="kube-system", rollout=True)
    failure, took = timed(gateway, **spec, timeout=10)
    assert failure is None and took < 10
    # A new spec: the rollout is not complete until the controller observed it.
    demo.update(
        "DaemonSet", "kube-multus-ds", {"spec": {"template": {"spec": {"v": 2}}}}, "kube-system"
    )
    failure = gateway.wait_for(WaitFor(**spec, timeout=0.5))
    assert one_sentence(failure) == (
        "timed out after 0.5s waiting for DaemonSet kube-system/kube-multus-ds rollout "
        "complete; last seen: generation 2 not observed yet (observed 1)"
    )
    demo.when_watched(
        "daemonsets",
        0.3,
        demo.update,
        "DaemonSet",
        "kube-multus-ds",
        {"status": {"observedGeneration": 2}},
        "kube-system",
    )
    assert gateway.wait_for(WaitFor(**spec, timeout=10)) is None


def test_deployment_rollout(standin: KubeStandin, gateway: KubeGateway) -> None:
    standin.add(deployment("web", replicas=2, updated=1, available=1, total=3))
    spec = dict(kind="Deployment", name="web", rollout=True)
    failure = gateway.wait_for(WaitFor(**spec, timeout=0.5))
    assert one_sentence(failure).endswith(
        "last seen: 1/2 updated, 1/2 available, 2 old pending termination"
    )
    standin.when_watched(
        "deployments",
        0.3,
        standin.update,
        "Deployment",
        "web",
        {"status": {"replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}},
    )
    failure, took = timed(gateway, **spec, timeout=10)
    assert failure is None and took < 10


def test_crd_established(demo: KubeStandin, gateway: KubeGateway) -> None:
    spec = dict(kind="CustomResourceDefinition", name=CRD_NAME, condition="Established")
    failure, took = timed(gateway, **spec, timeout=10)
    assert failure is None and took < 10


def test_nad_exists(demo: KubeStandin, gateway: KubeGateway) -> None:
    spec = dict(kind="NetworkAttachmentDefinition", name="whereabouts-conf", exists=True)
    failure, took = timed(gateway, **spec, timeout=10)
    assert failure is None and took < 10
    assert demo.seen("network-attachment-definitions", watch=True)
    failure = gateway.wait_for(
        WaitFor(kind="NetworkAttachmentDefinition", name="missing", exists=True, timeout=0.5)
    )
    assert one_sentence(failure) == (
        "timed out after 0.5s waiting for NetworkAttachmentDefinition default/missing "
        "to exist; last seen: not found"
    )


# -- the wait really watches -----------------------------------------------------------------


def test_wait_follows_one_watch_and_ends_on_the_event(
    standin: KubeStandin, gateway: KubeGateway
) -> None:
    standin.add(pod("web-0", ready=False))
    gateway.check_all([KubeCheck(kind="Pod", name="web-0")])  # the client is warm
    standin.requests.clear()
    standin.when_watched("pods", 0.5, standin.set_condition, "Pod", "web-0", "Ready", "True")
    failure = gateway.wait_for(WaitFor(kind="Pod", name="web-0", condition="Ready", timeout=30))
    done = time.monotonic()
    assert failure is None
    lists, watches = standin.seen("pods", watch=False), standin.seen("pods", watch=True)
    assert len(lists) == 1, "one list, then no polling"
    assert len(watches) == 1
    assert watches[0].query["fieldSelector"] == "metadata.name=web-0"
    assert int(watches[0].query["resourceVersion"]) >= 1000
    changed_at = next(at for at, kind, name in standin.changes if kind == "MODIFIED")
    assert done - changed_at < 1.0, "the wait ends on the watch event, not on a poll period"


def test_expired_watch_lists_again(standin: KubeStandin, gateway: KubeGateway) -> None:
    standin.add(pod("web-0", ready=False))
    standin.expire_next_watches = 1
    standin.when_watched("pods", 0.3, standin.set_condition, "Pod", "web-0", "Ready", "True")
    assert (
        gateway.wait_for(WaitFor(kind="Pod", name="web-0", condition="Ready", timeout=10)) is None
    )
    assert len(standin.seen("pods", watch=False)) == 2, "410 Gone: list again"
    assert len(standin.seen("pods", watch=True)) == 2


# -- checks -----------------------------------------------------------------------------------


def test_checks_pass(demo: KubeStandin, gateway: KubeGateway) -> None:
    demo.set_condition("Node", "kind-worker", "Ready", "True", "KubeletReady")
    annotation = f"metadata.annotations.{NETWORK_STATUS}"
    checks = [
        {
            "kind": "Pod",
            "name": "samplepod1",
            "network_status": {
                "interfaces": ["eth0", "eth1", "eth2"],
                "cidrs": {
                    "eth0": "10.244.0.0/16",
                    "eth1": "192.168.1.0/24",
                    "eth2": "10.245.0.0/16",
                },
            },
            "fields": [
                {"path": "status.podIP", "equals": "10.244.1.5"},
                {"path": "status.phase", "matches": "^Run"},
                {"path": annotation, "contains": "192.168.1.200"},
                {"path": "spec.containers.0.image", "equals": "alpine"},
                {"path": "metadata.generation", "equals": 1},
            ],
            "phase": "Running",
            "condition": "Ready",
        },
        # Demo 1.1: the worker is Ready while the control plane is not.
        {"kind": "Node", "name": "kind-worker", "condition": "Ready"},
        {"kind": "Node", "name": "kind-control-plane", "condition": "Ready", "status": "False"},
        {"kind": "Node", "count": 2},
        {"kind": "Node", "condition": "Ready", "count": 1},
        {"kind": "DaemonSet", "namespace": "kube-system", "selector": "app=kube-multus-ds"},
        {"kind": "CustomResourceDefinition", "name": CRD_NAME},
        {"kind": "Pod", "name": "gone", "count": 0},
    ]
    assert gateway.check_all([KubeCheck(**c) for c in checks]) == []


def test_checks_fail_with_sentences(demo: KubeStandin, gateway: KubeGateway) -> None:
    two = network_status(("kindnet", "eth0", ["10.244.1.5"]), ("macvlan", "eth1", ["10.1.1.1"]))
    demo.update("Pod", "samplepod1", {"metadata": {"annotations": {NETWORK_STATUS: two}}})
    checks = [
        {
            "kind": "Pod",
            "name": "samplepod1",
            "network_status": {
                "interfaces": ["eth0", "eth1", "eth2"],
                "cidrs": {"eth1": "192.168.1.0/24", "eth2": "10.245.0.0/16"},
            },
        },
        {
            "kind": "Pod",
            "name": "samplepod1",
            "fields": [
                {"path": "status.podIP", "equals": "10.244.9.9"},
                {"path": "status.phase", "matches": "^Pend"},
                {"path": "status.hostIP", "equals": "172.18.0.2"},
            ],
        },
        {"kind": "Node", "name": "kind-worker", "condition": "Ready"},
        {"kind": "Pod", "name": "nope"},
        {"kind": "Node", "count": 3},
        {"kind": "Pod", "selector": "app=never", "phase": "Running", "condition": "Ready"},
    ]
    assert gateway.check_all([KubeCheck(**c) for c in checks]) == [
        "Pod default/samplepod1: expected interfaces eth0, eth1, eth2 in network-status, "
        "got eth0, eth1",
        "Pod default/samplepod1: expected eth1 IPs in 192.168.1.0/24, got 10.1.1.1",
        "Pod default/samplepod1: expected eth2 IPs in 10.245.0.0/16, got no eth2 in network-status",
        "Pod default/samplepod1: expected status.podIP to equal '10.244.9.9', got '10.244.1.5'",
        "Pod default/samplepod1: expected status.phase to match /^Pend/, got 'Running'",
        "Pod default/samplepod1: expected status.hostIP to equal '172.18.0.2', got no such field",
        "Node kind-worker: expected condition Ready=True, got "
        + NOT_READY
        + ": NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns "
        "error: cni plugin not initialized)",
        "Pod default/nope: expected it to exist, got none",
        "all Nodes: expected 3 Nodes, got 2 (kind-control-plane, kind-worker)",
        "Pod default/never-ready: expected condition Ready=True and phase Running, "
        "got Ready=False (ContainersNotReady: containers with unready status: [app]), "
        "phase Running",
    ]


def test_check_without_network_status_annotation(demo: KubeStandin, gateway: KubeGateway) -> None:
    check = KubeCheck(kind="Pod", name="never-ready", network_status={"interfaces": ["eth0"]})
    assert gateway.check_all([check]) == [
        f"Pod default/never-ready: expected a {NETWORK_STATUS} annotation, got none"
    ]


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


def test_kubeconfig_from_the_environment(
    demo: KubeStandin, kubeconfig: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    assert KubeGateway(None).check_all([KubeCheck(kind="Pod", name="samplepod1")]) == []


# -- the stand-in itself ----------------------------------------------------------------------


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_standin_serves_real_shapes(demo: KubeStandin) -> None:
    code, body = _get(f"{demo.url}/api/v1/namespaces/default/pods/samplepod1")
    assert code == 200 and body["kind"] == "Pod" and body["metadata"]["resourceVersion"]
    code, body = _get(f"{demo.url}/api/v1/namespaces/default/pods?labelSelector=app%3Dnever")
    assert code == 200 and body["kind"] == "PodList"
    assert [p["metadata"]["name"] for p in body["items"]] == ["never-ready"]
    assert body["metadata"]["resourceVersion"].isdigit()
    code, body = _get(f"{demo.url}/apis/apps/v1/namespaces/default/deployments/absent")
    assert code == 404
    assert body["kind"] == "Status" and body["reason"] == "NotFound" and body["code"] == 404
    code, body = _get(f"{demo.url}/apis/example.com/v1/widgets")
    assert code == 404 and body["kind"] == "Status"
    code, body = _get(f"{demo.url}/apis/apiextensions.k8s.io/v1/customresourcedefinitions")
    assert [c["metadata"]["name"] for c in body["items"]] == [CRD_NAME]


def test_standin_watch_stream(standin: KubeStandin) -> None:
    standin.add(nad("macvlan-conf"))
    _, body = _get(
        f"{standin.url}/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions"
    )
    version = body["metadata"]["resourceVersion"]
    standin.later(0.2, standin.add, nad("whereabouts-conf"))
    standin.later(0.3, standin.delete, "NetworkAttachmentDefinition", "macvlan-conf")
    url = (
        f"{standin.url}/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions"
        f"?watch=true&resourceVersion={version}&timeoutSeconds=1"
    )
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


# -- end to end, through the runner ---------------------------------------------------------


SCENARIO = """\
title: kube end to end
terminal: {cols: 80, rows: 24}
prompt: 'test$ '
typing: {cps: 100, think: 0}
env:
  KUBECONFIG: %(kubeconfig)s
steps:
  - run: echo applied
  - wait_for: {kind: Node, name: %(node)s, condition: Ready, timeout: %(timeout)s}
  - run: echo done
    expect:
      contains: done
      kube:
        - kind: Pod
          name: samplepod1
          network_status:
            interfaces: [%(interfaces)s]
            cidrs: {eth1: 192.168.1.0/24}
"""


def _scenario(tmp_path: Path, kubeconfig: Path, **values: object) -> Path:
    fields = {"node": "kind-worker", "timeout": 10, "interfaces": "eth0, eth1, eth2"}
    fields.update(values)
    path = tmp_path / "kube.yaml"
    path.write_text(
        textwrap.dedent(SCENARIO % {"kubeconfig": json.dumps(str(kubeconfig)), **fields})
    )
    return path


def test_end_to_end_through_the_runner(demo: KubeStandin, kubeconfig: Path, tmp_path: Path) -> None:
    result = rehearse(load_scenario(_scenario(tmp_path, kubeconfig)))
    assert result.passed, [(s.label, s.failures) for s in result.steps]
    assert [s.status for s in result.steps] == ["passed", "passed", "passed"]
    assert demo.seen("nodes") and demo.seen("pods")


def test_end_to_end_failing_wait(demo: KubeStandin, kubeconfig: Path, tmp_path: Path) -> None:
    path = _scenario(tmp_path, kubeconfig, node="kind-control-plane", timeout=1.5)
    result = rehearse(load_scenario(path))
    assert not result.passed
    failed = result.first_failure
    assert failed is not None and failed.index == 1
    assert failed.failures[0].startswith(
        "timed out after 1.5s waiting for Node kind-control-plane condition Ready=True; "
        f"last seen: {NOT_READY}"
    )


def test_end_to_end_failing_check(demo: KubeStandin, kubeconfig: Path, tmp_path: Path) -> None:
    path = _scenario(tmp_path, kubeconfig, interfaces="eth0, eth1, eth2, eth3")
    result = rehearse(load_scenario(path))
    assert not result.passed
    failed = result.first_failure
    assert failed is not None and failed.index == 2
    assert failed.failures == [
        "Pod default/samplepod1: expected interfaces eth0, eth1, eth2, eth3 in network-status, "
        "got eth0, eth1, eth2"
    ]
