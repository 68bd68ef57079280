"""Shared helpers: write a scenario to a temp dir, run it in-process or through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from recorder.run.record import record
from recorder.run.rehearse import rehearse
from recorder.run.results import ScenarioResult
from recorder.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
RECORDINGS = SHARED / "seed" / "meetup-recordings"

FAST = "typing: {cps: 100, think: 0}\n"


def scenario_text(body: str, title: str = "test", fast: bool = True) -> str:
    head = f"title: {json.dumps(title)}\nterminal: {{cols: 80, rows: 24}}\nprompt: 'test$ '\n"
    return head + (FAST if fast else "") + textwrap.dedent(body)


@pytest.fixture
def write_scenario(tmp_path: Path):
    def write(body: str, name: str = "scn.yaml", **kwargs: object) -> Path:
        path = tmp_path / name
        path.write_text(scenario_text(body, **kwargs))  # type: ignore[arg-type]
        return path

    return write


@pytest.fixture
def run_rehearse(write_scenario):
    def run(body: str, **kwargs: object) -> ScenarioResult:
        return rehearse(load_scenario(write_scenario(body, **kwargs)))

    return run


@pytest.fixture
def run_record(write_scenario, tmp_path: Path):
    def run(body: str, cast: Path | None = None, **kwargs: object) -> ScenarioResult:
        target = cast or tmp_path / "out.cast"
        return record(load_scenario(write_scenario(body, **kwargs)), target)

    return run


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stagecast", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd or ROOT,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def read_cast(path: Path) -> tuple[dict, list[list]]:
    lines = path.read_text().splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def step(result: ScenarioResult, index: int, phase: str = "steps"):
    return next(s for s in result.steps if s.phase == phase and s.index == index)


def final_screen(events: list[list], cols: int, rows: int) -> str:
    """The audience's last screen: every "o" event of a cast through a terminal emulator."""
    import pyte

    screen = pyte.Screen(cols, rows)
    stream = pyte.Stream(screen)
    for _, code, data in events:
        if code == "o":
            stream.feed(data)
    return "\n".join(line.rstrip() for line in screen.display)


def failures_of(result: ScenarioResult) -> list[tuple[str, list[str]]]:
    """Each failed step's name and failures, for assertion messages."""
    return [(s.name, s.failures) for s in result.steps if s.failures]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "real_kind: runs on the registry-free kind (tests/real_kind.py); skips, saying why, "
        "where it cannot run",
    )


@pytest.fixture(scope="session")
def real_kind():
    """The session's registry-free kind (tests/real_kind.py); skips with the reason when it
    cannot run here. At the end it deletes its clusters, stops its dockerd, and fails when
    anything it made is left on the host."""
    from real_kind import RealKind, session_lock, skip_reason

    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    with session_lock() as holder:
        if holder is not None:
            pytest.skip(f"the registry-free kind is in use by another test session ({holder})")
        kind = RealKind()
        yield kind
        left = kind.close()
    assert not left, f"the registry-free kind left this on the host: {left}"


@pytest.fixture(scope="session")
def api_cluster(real_kind) -> Path:
    """The API tests' shared cluster (real_kind.API_CLUSTER: a NotReady control plane and a
    worker made Ready by the dummy CNI plugin); its kubeconfig. Tests put their objects in
    namespaces of their own."""
    return real_kind.api_cluster()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `disruptive` (they kill the session's dockerd) run last."""
    items.sort(key=lambda item: item.get_closest_marker("disruptive") is not None)
