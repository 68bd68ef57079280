"""The talk's kind demos, for real, on the registry-free kind (tests/real_kind.py): demo 1.1
rehearsed and staged live with its verified cast as the safety net, demo 1.2 as far as it can
go without a registry, and the faults a real cluster meets: a step timing out, and dockerd
killed in the middle of the demo."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import ROOT, read_cast
from host_state import scenario_variant
from real_kind import ONE_NODE_CONFIG, PROFILE, RealKind

DEMO_11 = ROOT / "scenarios" / "demo-1.1.yaml"
DEMO_12 = ROOT / "scenarios" / "demo-1.2.yaml"
CAST_11 = ROOT / "casts" / "demo-1.1.cast"
CRICTL_STEPS = {"crictl ps", "docker exec kind-worker crictl ps --name alpine-sleeper"}


def stagecast(kind: RealKind, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """The CLI, run where docker, kind and kubectl are the registry-free kind's."""
    return subprocess.run(
        [sys.executable, "-m", "stagecast", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**kind.env, "NO_COLOR": "1", "COLUMNS": "200"},
        stdin=subprocess.DEVNULL,
    )


def live_auto(kind: RealKind, tmp_path: Path, scenario: Path, *extra: str):
    """A dress rehearsal of `scenario` under the profile, unattended."""
    return stagecast(
        kind,
        "live",
        "--auto",
        "--cps",
        "60",
        "--keep-cluster",
        "--profile",
        str(PROFILE),
        *extra,
        "--socket",
        str(tmp_path / "sock" / "live.sock"),
        str(scenario),
    )


def timing_out_demo_11() -> str:
    """Demo 1.1 with its "Nodes NotReady" step made to time out on the real cluster."""
    text = DEMO_11.read_text().replace(
        "    run: kubectl get nodes\n", "    run: kubectl get nodes --watch\n    timeout: 5\n"
    )
    assert text != DEMO_11.read_text()
    return text


def steps_by_label(report: dict) -> dict[str, dict]:
    (scenario,) = report["scenarios"]
    return {step["label"]: step for step in scenario["steps"]}


@pytest.fixture
def demo_cluster(real_kind: RealKind) -> RealKind:
    """The demos make and keep their cluster `kind` themselves; the session deletes it."""
    real_kind.start_docker()
    real_kind.adopt("kind")
    return real_kind


def test_demo_11_rehearses_for_real(demo_cluster: RealKind) -> None:
    done = stagecast(
        demo_cluster,
        "rehearse",
        "--keep-cluster",
        "--json",
        "--profile",
        str(PROFILE),
        str(DEMO_11),
    )
    report = json.loads(done.stdout)
    steps = steps_by_label(report)
    failed = {label: s["failures"] for label, s in steps.items() if s["status"] == "failed"}
    errors = [s["error"] for s in report["scenarios"] if s["error"]]
    assert done.returncode == 0, (failed, errors, done.stderr[-2000:])
    (scenario,) = report["scenarios"]
    assert scenario["profile"] == "registry-free-kind"
    not_run = {label for label, s in steps.items() if s["status"] == "not-run"}
    assert not_run == CRICTL_STEPS
    assert all("crictl is not packaged by Debian" in steps[s]["not_run_reason"] for s in not_run)
    statuses = [s["status"] for s in scenario["steps"]]
    assert statuses.count("not-run") == 2
    assert statuses.count("passed") == len(statuses) - 2
    # The real cluster's own words, as the speaker saw them.
    assert "control-plane,master" in steps["Nodes NotReady"]["output_tail"]
    assert "192.0.2.22" in steps["kubectl get pod -owide"]["output_tail"]
    assert (
        "CNI call for DEL"
        in steps["docker exec kind-worker grep 'CNI call for DEL' /tmp/cni-..."]["output_tail"]
    )


def test_demo_12_runs_until_flannel_then_names_the_image(
    demo_cluster: RealKind, tmp_path: Path
) -> None:
    """After 1.1 (kept), 1.2 starts from its end state and stops where a registry is needed."""
    junit = tmp_path / "demo-1.2.xml"
    done = stagecast(
        demo_cluster,
        "rehearse",
        "--keep-cluster",
        "--profile",
        str(PROFILE),
        "--junit",
        str(junit),
        str(DEMO_12),
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    # One line says where it stopped and which image it would need.
    (summary,) = [line for line in done.stdout.splitlines() if line.startswith("PASS")]
    assert "stopped at" in summary and "'Install Flannel'" in summary
    assert "ghcr.io/flannel-io/flannel" in summary
    cases = ET.parse(junit).getroot().iter("testcase")
    status = []
    for case in cases:
        skipped = case.find("skipped")
        failed = case.find("failure")
        state = "failed" if failed is not None else "passed"
        if skipped is not None:
            state = (
                "not-run" if skipped.get("message", "").startswith("not run here") else "skipped"
            )
        status.append((case.get("classname", "").rsplit(".", 1)[-1], case.get("name", ""), state))
    steps = [(name.split(" ", 1)[1], state) for phase, name, state in status if phase == "steps"]
    labels = [label for label, _ in steps]
    flannel = labels.index("Install Flannel")
    assert dict(steps)["Only the dummy config"] == "passed"
    assert dict(steps)["br_netfilter"] == "not-run"
    assert all(state == "not-run" for _, state in steps[flannel:])
    assert all(state == "passed" for label, state in steps[:flannel] if label != "br_netfilter")
    assert not any(state == "failed" for _, _, state in status)


def test_the_committed_cast_is_demo_11_made_here(real_kind: RealKind) -> None:
    header, events = read_cast(CAST_11)
    provenance = header["stagecast"]
    assert provenance["verified"] is True
    assert provenance["profile"]["name"] == "registry-free-kind"
    assert provenance["cluster"]["kubernetes"] == "v1.20.2"
    assert provenance["cluster"]["node_image"] == "stagecast.local/kind-node:v1.20.2"
    assert "0.27.0" in provenance["tools"]["kind"]
    assert provenance["cluster"]["docker_engine"].startswith("20.10")
    visible = [s for s in provenance["steps"] if s["phase"] == "steps" and not s["hidden"]]
    markers = [e[2] for e in events if e[1] == "m"]
    assert markers == [s["marker"] for s in visible]
    assert {s["marker"] for s in provenance["steps"] if s["status"] == "not-run"} == CRICTL_STEPS
    output = "".join(e[2] for e in events if e[1] == "o")
    assert "[not run on registry-free-kind: crictl is not packaged by Debian" in output


def test_live_auto_of_demo_11_with_its_verified_cast(
    demo_cluster: RealKind, tmp_path: Path
) -> None:
    done = live_auto(demo_cluster, tmp_path, DEMO_11)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "pod/alpine-sleeper created" in done.stdout
    assert "CNI call for ADD" in done.stdout
    assert "PASS" in done.stderr


def test_a_step_timing_out_fails_the_record_and_keeps_the_verified_cast(
    demo_cluster: RealKind, tmp_path: Path
) -> None:
    target = tmp_path / "demo-1.1.cast"
    target.write_bytes(CAST_11.read_bytes())
    before = target.read_bytes()
    with scenario_variant(DEMO_11, "timeout", timing_out_demo_11()) as variant:
        done = stagecast(
            demo_cluster,
            "record",
            "--keep-cluster",
            "--cps",
            "100",
            "--profile",
            str(PROFILE),
            "-o",
            str(target),
            str(variant),
        )
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Nodes NotReady" in done.stderr and "timed out" in done.stderr
    assert target.read_bytes() == before
    assert (tmp_path / "demo-1.1.failed.cast").exists()


def test_a_step_timing_out_falls_back_to_the_verified_cast_in_live(
    demo_cluster: RealKind, tmp_path: Path
) -> None:
    """On stage, the same timeout plays that step from the verified cast, and the show goes
    on live."""
    with scenario_variant(DEMO_11, "timeout-live", timing_out_demo_11()) as variant:
        done = live_auto(demo_cluster, tmp_path, variant, "--cast", str(CAST_11))
    assert done.returncode == 1, done.stderr[-2000:]
    (summary,) = [line for line in done.stderr.splitlines() if line.startswith("FAIL")]
    assert "'Nodes NotReady'" in summary and "timed out" in summary
    assert "1 step(s) played from the verified cast" in summary
    audience = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07", "", done.stdout)
    # The recorded step (typed without --watch), then the rest live, to the pod's made-up IP.
    assert re.search(r"^demo\$ kubectl get nodes\r?$", audience, re.M), audience[-3000:]
    assert "pod/alpine-sleeper created" in audience


@pytest.mark.disruptive
def test_dockerd_killed_mid_demo_says_what_died_and_tears_down(
    demo_cluster: RealKind, tmp_path: Path
) -> None:
    """dockerd is killed by a hidden step of the demo itself, just before the pod step."""
    pidfile = Path("/run/stagecast-kind/dockerd.pid")
    kill = (
        "  - run: pid=$(cat /run/stagecast-kind/dockerd.pid); kill -KILL $pid;"
        " while kill -0 $pid 2>/dev/null; do sleep 0.1; done\n    hidden: true\n\n"
        '  - say: "A pod. Kubernetes schedules it on kind-worker'
    )
    text = DEMO_11.read_text().replace(
        '  - say: "A pod. Kubernetes schedules it on kind-worker', kill
    )
    assert text != DEMO_11.read_text() and pidfile.exists()
    try:
        with scenario_variant(DEMO_11, "dockerd-killed", text) as variant:
            done = stagecast(
                demo_cluster, "rehearse", "--profile", str(PROFILE), str(variant), timeout=900
            )
        assert done.returncode == 1, done.stderr[-2000:]
        summary = [line for line in done.stdout.splitlines() if line.startswith("FAIL")]
        assert summary and "docker stopped answering" in summary[0], done.stderr[-2000:]
        assert "Cannot connect to the Docker daemon" in summary[0]
        assert "teardown kubectl delete pod" in done.stderr  # teardown ran
        assert not os.path.exists(f"/proc/{pidfile.read_text().strip()}")
    finally:
        demo_cluster.restart_docker()


def test_kind_create_failing_is_one_line_with_the_fix(real_kind: RealKind, tmp_path: Path) -> None:
    """The node image missing: kind's real failure, as one line naming cause and fix, exit 2."""
    real_kind.start_docker()
    (tmp_path / "one-node.yml").write_text(ONE_NODE_CONFIG)
    scenario = tmp_path / "missing-image.yaml"
    scenario.write_text(
        "title: a missing node image\nrequires: [kind]\n"
        "cluster: {name: stagecast-fixture-missing, config: one-node.yml,"
        " image: 'stagecast.local/no-such-node:v0'}\n"
        "steps:\n  - run: kubectl get nodes\n"
    )
    done = stagecast(real_kind, "rehearse", str(scenario), timeout=300)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "stagecast.local/no-such-node:v0 is not on this machine" in lines[0]
    assert "registry-free-kind build" in lines[0] and "Traceback" not in done.stderr
    clusters = real_kind.run("kind", "get", "clusters", check=False).stdout.split()
    assert "stagecast-fixture-missing" not in clusters
