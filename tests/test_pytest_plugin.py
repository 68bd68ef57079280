"""The pytest plugin, run as users run it: `pytest` in a folder of scenarios (a subprocess)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from real_kind import NODE_IMAGE, ONE_NODE_CONFIG, RealKind

PASSING = """\
title: passing
steps:
  - run: echo one
    expect: {contains: one}
  - run: echo two
"""
FAILING = """\
title: failing
steps:
  - run: echo one
  - run: printf 'line a\\nline b\\n'; (exit 3)
    expect: {contains: nope}
  - run: echo never
"""
MALFORMED = """\
title: malformed
steps:
  - run: echo x
    expect: {exitt: 1}
"""
NEEDS_ROOT = """\
title: needs root
requires: [root]
steps:
  - run: id -u
"""
NEEDS_KIND = """\
title: a kind demo
requires: [kind-not-installed-here]
cluster: {name: plugin-test, config: kind.yaml}
steps:
  - run: kubectl get nodes
"""
KIND_CONFIG = """\
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
  - role: control-plane
"""
INCLUDED_STEPS = """\
- run: echo included
"""


def pytest_run(
    folder: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env=env,
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    files = {
        "passing.yaml": PASSING,
        "failing.yaml": FAILING,
        "malformed.yaml": MALFORMED,
        "needs-root.yaml": NEEDS_ROOT,
        "kind-demo.yaml": NEEDS_KIND,
        "kind.yaml": KIND_CONFIG,
        "steps.yaml": INCLUDED_STEPS,
    }
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    return tmp_path


def test_each_scenario_is_an_item_and_support_files_are_not(folder: Path) -> None:
    done = pytest_run(folder, "--collect-only", "-q")
    items = [line for line in done.stdout.splitlines() if "::" in line]
    assert sorted(items) == [
        "failing.yaml::failing",
        "kind-demo.yaml::kind-demo",
        "malformed.yaml::malformed",
        "needs-root.yaml::needs-root",
        "passing.yaml::passing",
    ]


def test_markers_select_by_requirement(folder: Path) -> None:
    done = pytest_run(folder, "--collect-only", "-q", "-m", "not kind")
    assert "kind-demo.yaml" not in done.stdout
    assert "passing.yaml::passing" in done.stdout
    done = pytest_run(folder, "--collect-only", "-q", "-m", "root")
    assert [line for line in done.stdout.splitlines() if "::" in line] == [
        "needs-root.yaml::needs-root"
    ]


def test_steps_are_sub_results_and_a_failure_says_what_and_where(folder: Path) -> None:
    done = pytest_run(
        folder, "-v", "-o", "verbosity_subtests=1", "passing.yaml", "failing.yaml", "-rA"
    )
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    assert "SUBPASSED[steps[0] echo one]" in out
    assert "SUBFAILED[steps[1] printf" in out
    assert "passing.yaml::passing PASSED" in out
    assert "failing.yaml::failing FAILED" in out
    # The failure: the step and its location, expected vs got, the output's tail.
    assert "failing.yaml:4:5" in out
    assert "expected exit code 0, got 3" in out
    assert "expected output to contain 'nope', it does not" in out
    assert "| line b" in out
    assert "SUBPASSED[steps[2]" not in out  # the run stopped at the failure


def test_a_malformed_scenario_fails_with_its_one_line_error(folder: Path) -> None:
    done = pytest_run(folder, "malformed.yaml")
    assert done.returncode == 1
    assert "malformed.yaml:4:14: unknown key 'exitt'" in done.stdout
    assert "Traceback" not in done.stdout


def test_missing_prerequisites_skip_with_the_reason(folder: Path) -> None:
    done = pytest_run(folder, "kind-demo.yaml", "-rs")
    assert done.returncode == 0, done.stdout
    assert "1 skipped" in done.stdout
    assert "requires 'kind-not-installed-here', which is not on PATH" in done.stdout


def test_junit_comes_from_pytest(folder: Path) -> None:
    report = folder / "junit.xml"
    pytest_run(folder, "passing.yaml", "failing.yaml", f"--junitxml={report}")
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert {"passing", "failing"} <= set(cases)
    failure = cases["failing"].find("failure")
    assert failure is not None
    assert "expected exit code 0, got 3" in (failure.text or "") + failure.get("message", "")
    assert cases["passing"].find("failure") is None


def test_the_tour_passes_as_a_pytest_item() -> None:
    root = Path(__file__).resolve().parents[1]
    done = pytest_run(root, "scenarios/tour.yaml", "-o", "verbosity_subtests=1", "-v")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "scenarios/tour.yaml::tour PASSED" in done.stdout
    assert done.stdout.count("SUBPASSED") >= 9  # one per step, hidden ones included


# A kind demo in miniature, on the registry-free kind: its own one-node cluster (the node
# image has no default CNI, so the config disables it), created by the fixture and deleted
# after the item.
REAL_KIND_DEMO = """\
title: a real kind demo
cluster: {name: %(name)s, image: %(image)s, config: kind.yaml}
steps:
  - run: kubectl get nodes --no-headers
    expect:
      lines: ['%(name)s-control-plane +NotReady +control-plane,master ']
  - wait_for:
      {kind: Node, name: %(name)s-control-plane, condition: Ready, status: 'False', timeout: 120}
  - run: echo api checked
    expect:
      kube:
        - {kind: Node, count: 1}
"""
REAL_KIND_CONFIG = ONE_NODE_CONFIG


@pytest.mark.real_kind
def test_a_kind_scenario_runs_as_an_item_on_a_real_cluster(
    real_kind: RealKind, tmp_path: Path
) -> None:
    name = "stagecast-fixture-plugin"

    def clusters() -> list[str]:
        return real_kind.run("kind", "get", "clusters", check=False).stdout.split()

    if name in clusters():  # a run that died before its cleanup
        real_kind.run("kind", "delete", "cluster", "--name", name, timeout=180)
    (tmp_path / "real-kind.yaml").write_text(REAL_KIND_DEMO % {"name": name, "image": NODE_IMAGE})
    (tmp_path / "kind.yaml").write_text(REAL_KIND_CONFIG)
    (tmp_path / "plain.yaml").write_text(PASSING)
    try:
        done = pytest_run(
            tmp_path,
            "-m",
            "kind",
            "-v",
            "-o",
            "verbosity_subtests=1",
            "-rA",
            env=real_kind.env,
            timeout=900,
        )
        out = done.stdout
        assert done.returncode == 0, out + done.stderr
        assert "real-kind.yaml::real-kind PASSED" in out
        assert "plain.yaml::plain" not in out, "-m kind selects the kind scenario only"
        assert out.count("SUBPASSED") == 3, out
        assert "1 deselected" in out
        assert name not in clusters(), "the fixture deletes the cluster after the item"
    finally:
        if name in clusters():
            real_kind.run("kind", "delete", "cluster", "--name", name, timeout=180)
