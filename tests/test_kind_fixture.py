"""The kind cluster fixture, machine preflight and builds_on.

The fixture's decisions (`plan`) and the machine checks on a made-up /proc are unit tests.
The fixture itself (create, reuse, delete, --keep-cluster), the container-runtime check and
builds_on run for real, on the registry-free kind (tests/real_kind.py), with small one-node
clusters named stagecast-fixture* that each test deletes again; they skip, saying why, where
that kind cannot run. No test touches a cluster it did not make (the speaker's `kind`).
"""

from __future__ import annotations

import json
import secrets
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import read_cast, run_cli, scenario_text, step
from real_kind import API_CLUSTER, NODE_IMAGE, ONE_NODE_CONFIG, RealKind
from recorder.kube.cluster import ClusterFixture, expected_nodes, plan
from recorder.kube.gateway import KubeGateway
from recorder.kube.machine_preflight import machine_problems
from recorder.run.rehearse import rehearse
from recorder.scenario.kube_model import Cluster, KubeCheck, Preflight, WaitFor
from recorder.scenario.loader import load_scenario


@pytest.mark.parametrize(
    ("spec", "existing", "now", "wanted", "delete", "create", "reason"),
    [
        (Cluster(), [], 0, 2, False, True, "creating cluster kind"),
        (Cluster(), ["kind"], 2, 2, False, False, "reusing cluster kind (2 nodes)"),
        (Cluster(), ["kind"], 4, 2, True, True, "recreating cluster kind (4 nodes, need 2)"),
        (Cluster(reuse=False), ["kind"], 2, 2, True, True, "recreating cluster kind"),
        (Cluster(create="steps"), ["kind"], 2, 2, True, False, "a step creates it"),
        (Cluster(create="steps"), [], 0, 2, False, False, "a step creates it"),
        (Cluster(name="demo"), ["kind"], 0, 1, False, True, "creating cluster demo"),
    ],
)
def test_cluster_plan(spec, existing, now, wanted, delete, create, reason) -> None:
    decided = plan(spec, existing, now, wanted)
    assert (decided.delete_first, decided.create) == (delete, create)
    assert decided.reason.startswith(reason)


def test_expected_nodes_reads_the_kind_config(tmp_path: Path) -> None:
    (tmp_path / "kind.yaml").write_text(
        "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n"
        "nodes:\n- role: control-plane\n- role: worker\n- role: worker\n"
    )
    assert expected_nodes(Cluster(config="kind.yaml"), tmp_path) == 3
    assert expected_nodes(Cluster(), tmp_path) == 1


ONE_NODE = ONE_NODE_CONFIG


def clusters(kind: RealKind) -> list[str]:
    return kind.run("kind", "get", "clusters", check=False).stdout.split()


@pytest.fixture
def fixture_cluster(real_kind: RealKind, request: pytest.FixtureRequest) -> Iterator[str]:
    """A name for a one-node cluster of this test's own; whatever the test leaves of it is
    deleted afterwards (never another cluster)."""
    test = request.node.name.removeprefix("test_").removeprefix("fixture_")
    suffix = test.replace("_", "-")[:20].strip("-")
    name = f"stagecast-fixture-{suffix}"
    if name in clusters(real_kind):  # a run that died before its cleanup
        real_kind.run("kind", "delete", "cluster", "--name", name, timeout=180)
    yield name
    if name in clusters(real_kind):
        real_kind.run("kind", "delete", "cluster", "--name", name, timeout=180)


@pytest.mark.real_kind
def test_fixture_creates_reuses_keeps_and_deletes_a_real_cluster(
    real_kind: RealKind, fixture_cluster: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DOCKER_HOST", "PATH"):  # the fixture runs the registry-free kind's `kind`
        monkeypatch.setenv(name, real_kind.env[name])
    (tmp_path / "kind.yaml").write_text(ONE_NODE)
    spec = Cluster(name=fixture_cluster, image=NODE_IMAGE, config="kind.yaml")
    first = ClusterFixture(spec, tmp_path)
    env, why = first.up()
    assert why == f"creating cluster {fixture_cluster}"
    assert env == {"KUBECONFIG": first.kubeconfig}
    assert fixture_cluster in clusters(real_kind)
    gateway = KubeGateway(first.kubeconfig)
    try:
        wait = WaitFor(kind="Node", name=f"{fixture_cluster}-control-plane", count=1, timeout=120)
        assert gateway.wait_for(wait) is None
        assert gateway.server_version() == "v1.20.2"
    finally:
        gateway.close()
    # A second run finds it, of the right shape, and reuses it with a kubeconfig of its own.
    again = ClusterFixture(spec, tmp_path, keep=True)
    env, why = again.up()
    assert why == f"reusing cluster {fixture_cluster} (1 nodes)"
    assert env["KUBECONFIG"] != first.kubeconfig
    gateway = KubeGateway(env["KUBECONFIG"])
    try:
        assert gateway.check_all([KubeCheck(kind="Node", count=1)]) == []
    finally:
        gateway.close()
    # --keep-cluster: nothing is deleted; the kubeconfig (a temp file) goes.
    assert again.down() is None
    assert fixture_cluster in clusters(real_kind)
    assert not Path(env["KUBECONFIG"]).exists()
    # The default: the cluster is deleted.
    assert first.down() is None
    assert fixture_cluster not in clusters(real_kind)
    assert not Path(first.kubeconfig).exists()


KEPT_SCENARIO = """\
preflight: {container_runtime: true}
cluster: {name: %(name)s, image: %(image)s, config: kind.yaml}
steps:
  - run: kubectl get nodes -o name
    expect: {contains: node/%(name)s-control-plane}
  - wait_for: {kind: Node, count: 1, timeout: 120}
  - run: %(command)s
"""


@pytest.mark.real_kind
def test_keep_cluster_through_the_cli(
    real_kind: RealKind, fixture_cluster: str, tmp_path: Path
) -> None:
    path = tmp_path / "kept.yaml"
    (tmp_path / "kind.yaml").write_text(ONE_NODE)

    def scenario(command: str) -> Path:
        fields = {"name": fixture_cluster, "image": NODE_IMAGE, "command": command}
        path.write_text(scenario_text(textwrap.dedent(KEPT_SCENARIO % fields)))
        return path

    # rehearse --keep-cluster: the fixture creates the cluster and leaves it running.
    done = run_cli(
        "rehearse",
        "--keep-cluster",
        str(scenario("kubectl create namespace left-here")),
        env=real_kind.env,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert fixture_cluster in clusters(real_kind)
    # record (no --keep-cluster): the same cluster is reused (the namespace is still there),
    # the cast names what it ran on, and the cluster is deleted afterwards.
    cast = tmp_path / "kept.cast"
    done = run_cli(
        "record",
        str(scenario("kubectl get namespace left-here -o name")),
        "-o",
        str(cast),
        env=real_kind.env,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    header, events = read_cast(cast)
    assert "namespace/left-here" in "".join(e[2] for e in events if e[1] == "o")
    facts = json.dumps(header)
    assert NODE_IMAGE in facts and "v1.20.2" in facts, header
    assert fixture_cluster not in clusters(real_kind)


@pytest.mark.real_kind
def test_preflight_stops_before_the_cluster_when_docker_is_not_running(
    real_kind: RealKind, fixture_cluster: str, tmp_path: Path
) -> None:
    path = tmp_path / "pf.yaml"
    (tmp_path / "kind.yaml").write_text(ONE_NODE)
    fields = {"name": fixture_cluster, "image": NODE_IMAGE, "command": "'true'"}
    path.write_text(scenario_text(textwrap.dedent(KEPT_SCENARIO % fields)))
    dead = {**real_kind.env, "DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"}
    done = run_cli("rehearse", str(path), env=dead, timeout=300)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{path}:5:" in done.stderr
    assert "docker installed but not running" in done.stderr
    assert "Traceback" not in done.stderr
    assert fixture_cluster not in clusters(real_kind)


def _fake_proc(tmp_path: Path, available_kb: int, watches: int, instances: int) -> Path:
    proc = tmp_path / "proc"
    (proc / "sys/fs/inotify").mkdir(parents=True)
    (proc / "meminfo").write_text(f"MemTotal: 99999999 kB\nMemAvailable: {available_kb} kB\n")
    (proc / "sys/fs/inotify/max_user_watches").write_text(f"{watches}\n")
    (proc / "sys/fs/inotify/max_user_instances").write_text(f"{instances}\n")
    (proc / "modules").write_text("overlay 151552 0 - Live 0x0\n")
    return proc


def test_machine_problems_name_the_fix(tmp_path: Path) -> None:
    spec = Preflight(
        container_runtime=False,
        memory_gb=8,
        inotify_watches=1048576,
        inotify_instances=512,
        modules=["br_netfilter", "overlay"],
    )
    proc = _fake_proc(tmp_path, 4 * 1024 * 1024, 8192, 128)
    problems = machine_problems(spec, proc=proc, sys=tmp_path / "sys")
    assert problems == [
        "4.0 GB of memory available, the demo needs 8 GB: close other programs or give the "
        "machine more memory",
        "fs.inotify.max_user_watches is 8192, needs 1048576: run "
        "`sudo sysctl fs.inotify.max_user_watches=1048576`",
        "fs.inotify.max_user_instances is 128, needs 512: run "
        "`sudo sysctl fs.inotify.max_user_instances=512`",
        "kernel module br_netfilter is not loaded: run `sudo modprobe br_netfilter`",
    ]
    roomy = _fake_proc(tmp_path / "ok", 64 * 1024 * 1024, 2000000, 1024)
    (roomy / "modules").write_text("br_netfilter 32768 0 - Live 0x0\noverlay 1 0 - Live 0x0\n")
    assert machine_problems(spec, proc=roomy, sys=tmp_path / "sys") == []


@pytest.mark.real_kind
def test_container_runtime_check_against_the_real_dockerd(
    real_kind: RealKind, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", real_kind.env["PATH"])
    monkeypatch.setenv("DOCKER_HOST", real_kind.env["DOCKER_HOST"])
    assert machine_problems(Preflight()) == []
    # The same check against a socket no dockerd listens on.
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    installed = [r for r in ("docker", "podman") if shutil.which(r)]
    assert machine_problems(Preflight()) == [
        f"{' and '.join(installed)} installed but not running: start it "
        "(for example `sudo systemctl start docker`)"
    ]


def test_preflight_failure_exits_2_and_runs_nothing(tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    path = tmp_path / "pf.yaml"
    path.write_text(
        scenario_text(
            "preflight: {container_runtime: false, memory_gb: 100000}\n"
            f"steps:\n  - run: touch {ran}\n"
        )
    )
    done = run_cli("rehearse", str(path))
    assert done.returncode == 2
    assert f"{path}:5:" in done.stderr and "needs 100000 GB" in done.stderr
    assert not ran.exists()


def test_builds_on_runs_the_base_scenario_hidden_only_when_needed(tmp_path: Path) -> None:
    state = tmp_path / "cluster-state"
    log = tmp_path / "log"
    (tmp_path / "base.yaml").write_text(
        scenario_text(
            f"vars: {{greeting: from-base}}\nsteps:\n  - run: echo base-ran >> {log}\n"
            f"  - run: echo ready > {state}\n"
        )
    )
    top = tmp_path / "top.yaml"
    top.write_text(
        scenario_text(
            f"builds_on: {{scenario: base.yaml, unless: test -f {state}}}\n"
            f"steps:\n  - run: cat {state}; echo ${{greeting}}\n"
            "    expect: {lines: [ready, from-base]}\n"
        )
    )
    first = rehearse(load_scenario(top))
    assert first.passed, [(s.label, s.failures) for s in first.steps]
    assert [s.status for s in first.steps if s.phase == "builds_on"] == ["passed", "passed"]
    assert all(s.hidden for s in first.steps if s.phase == "builds_on")
    second = rehearse(load_scenario(top))
    assert second.passed
    assert [s.status for s in second.steps if s.phase == "builds_on"] == ["skipped", "skipped"]
    assert log.read_text().count("base-ran") == 1
    assert step(second, 0).output.strip().splitlines() == ["ready", "from-base"]


@pytest.mark.real_kind
def test_builds_on_sets_up_the_real_cluster_once(
    real_kind: RealKind, api_cluster: Path, tmp_path: Path
) -> None:
    """Demo 1.2 builds on demo 1.1's cluster state: the base scenario runs (hidden) only
    while the state it makes is missing from the real cluster."""
    namespace = f"t-builds-on-{secrets.token_hex(3)}"
    env = (
        f"env: {{KUBECONFIG: {json.dumps(str(api_cluster))}, "
        f"PATH: {json.dumps(real_kind.env['PATH'])}}}\n"
    )
    (tmp_path / "base.yaml").write_text(
        scenario_text(
            env + "steps:\n"
            f"  - run: kubectl create namespace {namespace}\n"
            f"  - run: kubectl -n {namespace} create configmap stage --from-literal=from=base\n"
            f"  - wait_for: {{kind: Pod, namespace: {namespace}, count: 0, timeout: 60}}\n"
        )
    )
    top = tmp_path / "top.yaml"
    top.write_text(
        scenario_text(
            env + f"builds_on: {{scenario: base.yaml, unless: kubectl get namespace {namespace}}}\n"
            "steps:\n"
            f"  - run: kubectl -n {namespace} get configmap stage -o jsonpath='{{.data.from}}'\n"
            "    expect: {contains: base}\n"
        )
    )
    try:
        first = rehearse(load_scenario(top))
        assert first.passed, [(s.label, s.failures) for s in first.steps]
        base = [s for s in first.steps if s.phase == "builds_on"]
        assert [s.status for s in base] == ["passed", "passed", "passed"]
        assert all(s.hidden for s in base)
        second = rehearse(load_scenario(top))
        assert second.passed, [(s.label, s.failures) for s in second.steps]
        assert [s.status for s in second.steps if s.phase == "builds_on"] == ["skipped"] * 3
        assert "base" in step(second, 0).output
    finally:
        real_kind.kubectl(
            API_CLUSTER, "delete", "namespace", namespace, "--wait=false", check=False
        )


def test_builds_on_and_cluster_config_must_exist(tmp_path: Path) -> None:
    path = tmp_path / "b.yaml"
    path.write_text(scenario_text("builds_on: {scenario: nope.yaml}\nsteps:\n  - run: 'true'\n"))
    done = run_cli("lint", str(path))
    assert done.returncode == 2
    assert f"{path}:5:" in done.stderr and "file not found: nope.yaml" in done.stderr
    path.write_text(scenario_text("cluster: {config: kind/none.yaml}\nsteps:\n  - run: 'true'\n"))
    done = run_cli("lint", str(path))
    assert done.returncode == 2 and "cluster.config: file not found" in done.stderr


def test_a_reused_cluster_whose_nodes_do_not_answer_is_made_anew(tmp_path: Path) -> None:
    """After a reboot or a killed docker, kind still lists the cluster, but its nodes are
    stopped: the fixture deletes it and creates it again, and says so."""
    calls: list[list[str]] = []

    def kind(argv: list[str], timeout: float) -> tuple[int, str]:
        calls.append(argv[1:3])
        if argv[1:3] == ["get", "clusters"]:
            return 0, "kind\n"
        if argv[1:3] == ["get", "nodes"]:
            return 0, "kind-control-plane\n"
        if argv[1:3] == ["export", "kubeconfig"]:
            return 1, "ERROR: failed to get cluster internal kubeconfig: container is not running"
        return 0, ""

    fixture = ClusterFixture(Cluster(image="kindest/node:v1.31.0"), tmp_path, run=kind)
    _, why = fixture.up()
    assert why == "recreating cluster kind (its nodes do not answer)"
    assert calls[-2:] == [["delete", "cluster"], ["create", "cluster"]]
