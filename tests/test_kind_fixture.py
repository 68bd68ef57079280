"""The kind cluster fixture's decisions, machine preflight, and builds_on, without kind."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import run_cli, scenario_text, step
from recorder.kube.cluster import ClusterFixture, expected_nodes, plan
from recorder.kube.machine_preflight import machine_problems
from recorder.run.rehearse import rehearse
from recorder.scenario.kube_model import Cluster, Preflight
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


def test_fixture_drives_kind_with_its_own_kubeconfig(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def kind(argv: list[str], timeout: float) -> tuple[int, str]:
        calls.append(argv)
        return (0, "") if argv[1:3] != ["get", "clusters"] else (0, "other\n")

    fixture = ClusterFixture(Cluster(image="kindest/node:v1.31.0"), tmp_path, run=kind)
    env, why = fixture.up()
    assert why == "creating cluster kind"
    assert env == {"KUBECONFIG": fixture.kubeconfig}
    create = calls[-1]
    assert create[:5] == ["kind", "create", "cluster", "--name", "kind"]
    assert "--image" in create and "kindest/node:v1.31.0" in create
    assert create[-2:] == ["--kubeconfig", fixture.kubeconfig]
    assert fixture.down() is None
    assert calls[-1] == ["kind", "delete", "cluster", "--name", "kind"]
    kept = ClusterFixture(Cluster(), tmp_path, keep=True, run=kind)
    kept.up()
    count = len(calls)
    assert kept.down() is None and len(calls) == count, "--keep-cluster deletes nothing"


@pytest.mark.skipif(shutil.which("kind") is None, reason="needs kind (not installable here)")
def test_real_kind_lists_clusters() -> None:  # pragma: no cover - only where kind exists
    assert subprocess.run(["kind", "get", "clusters"], capture_output=True).returncode == 0


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


def test_container_runtime_check_on_this_machine() -> None:
    problems = machine_problems(Preflight())
    running = any(
        shutil.which(r) and subprocess.run([r, "info"], capture_output=True).returncode == 0
        for r in ("docker", "podman")
    )
    if running:
        assert problems == []
    else:
        assert len(problems) == 1
        assert "docker" in problems[0] or "container runtime" in problems[0]


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


def test_builds_on_and_cluster_config_must_exist(tmp_path: Path) -> None:
    path = tmp_path / "b.yaml"
    path.write_text(scenario_text("builds_on: {scenario: nope.yaml}\nsteps:\n  - run: 'true'\n"))
    done = run_cli("lint", str(path))
    assert done.returncode == 2
    assert f"{path}:5:" in done.stderr and "file not found: nope.yaml" in done.stderr
    path.write_text(scenario_text("cluster: {config: kind/none.yaml}\nsteps:\n  - run: 'true'\n"))
    done = run_cli("lint", str(path))
    assert done.returncode == 2 and "cluster.config: file not found" in done.stderr
