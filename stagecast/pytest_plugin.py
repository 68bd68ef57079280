"""pytest plugin (entry point `pytest11`): `pytest scenarios/` runs each scenario as a test.

Each scenario file is one test item, rehearsed in a real shell; each step is reported as a
sub-result (pytest's own subtest reports where pytest has them), so `--junitxml` and `-v`
show the steps. Markers carry what a scenario needs: `root`, `kind`, plus `scenario` on
every item, so `-m "not kind"` works. A scenario whose prerequisites are missing here is
skipped with the one-line reason stagecast gives.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

from recorder.errors import PrerequisiteError, StagecastError
from recorder.run.progress import NullReporter
from recorder.run.rehearse import rehearse
from recorder.run.results import ScenarioResult, StepResult
from recorder.scenario.loader import LoadedScenario, load_scenario
from recorder.scenario.preflight import ROOT

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr, TracebackStyle

try:  # pytest >= 9 has subtest reports built in: shown as SUBPASSED/SUBFAILED
    from _pytest.subtests import SubtestContext, SubtestReport
except ImportError:  # pragma: no cover - older pytest: plain reports
    # mypy sees pytest >= 9's classes; older pytest has neither name.
    SubtestContext = SubtestReport = None  # type: ignore[assignment,misc]

SCENARIO_KEYS = re.compile(r"^steps\s*:", re.MULTILINE)
MARKERS = {
    "scenario": "a stagecast scenario file, rehearsed in a real shell",
    "root": "the scenario needs root (requires: [root])",
    "kind": "the scenario runs on a kind cluster (cluster: or requires: [kind])",
}


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix not in (".yaml", ".yml") or file_path.name.startswith("."):
        return None
    try:
        text = file_path.read_text(errors="replace")
    except OSError:
        return None
    # Support files (kind configs, step lists for `include`) have no top-level `steps:`.
    if not SCENARIO_KEYS.search(text):
        return None
    return ScenarioFile.from_parent(parent, path=file_path)


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        try:
            loaded = load_scenario(self.path)
        except StagecastError as exc:
            yield ScenarioItem.from_parent(self, name=self.path.stem, loaded=None, error=str(exc))
            return
        item = ScenarioItem.from_parent(self, name=self.path.stem, loaded=loaded, error=None)
        for marker in requirement_markers(loaded):
            item.add_marker(marker)
        yield item


def requirement_markers(loaded: LoadedScenario) -> list[pytest.MarkDecorator]:
    scenario = loaded.scenario
    marks = [pytest.mark.scenario]
    if ROOT in scenario.requires:
        marks.append(pytest.mark.root)
    if scenario.cluster is not None or "kind" in scenario.requires:
        marks.append(pytest.mark.kind)
    return marks


class ScenarioFailed(Exception):
    def __init__(self, result: ScenarioResult) -> None:
        super().__init__(result.name)
        self.result = result


class ScenarioItem(pytest.Item):
    def __init__(self, *, loaded: LoadedScenario | None, error: str | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loaded = loaded
        self.error = error

    def runtest(self) -> None:
        if self.loaded is None:
            raise ScenarioFailed(_load_failure(self.path, self.error or "cannot be loaded"))
        reporter = _StepReporter(self)
        try:
            result = rehearse(self.loaded, reporter)
        except PrerequisiteError as exc:
            pytest.skip(str(exc).splitlines()[0])
        self.user_properties.append(("duration", round(result.duration, 3)))
        if result.interrupted:
            raise KeyboardInterrupt
        if not result.passed:
            raise ScenarioFailed(result)

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: TracebackStyle | None = None
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, ScenarioFailed):
            return failure_text(excinfo.value.result)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int, str]:
        title = self.loaded.scenario.title if self.loaded else self.path.name
        return self.path, 0, f"scenario: {title}"


def _load_failure(path: Path, error: str) -> ScenarioResult:
    return ScenarioResult(name=path.stem, path=str(path), title="", mode="rehearse", error=error)


def failure_text(result: ScenarioResult) -> str:
    """The failed step, what was expected and what came, and the end of its output."""
    lines: list[str] = []
    failed = result.first_failure
    if failed is not None:
        lines.append(f"step {failed.phase}[{failed.index}] {failed.label!r} at {failed.location}")
        if failed.command:
            lines.append(f"  command: {failed.command}")
        lines += [f"  {failure}" for failure in failed.failures]
        if failed.rc is not None:
            lines.append(f"  exit code: {failed.rc}")
        tail = failed.tail()
        if tail:
            lines.append("  output (last lines):")
            lines += [f"    | {line}" for line in tail.splitlines()]
    said = failed.failures if failed is not None else []
    if result.error and not any(result.error.endswith(failure) for failure in said):
        lines.append(result.error)
    return "\n".join(lines) or f"{result.path}: failed"


class _StepReporter(NullReporter):
    """Sends one sub-result per finished step to pytest's reporting hooks."""

    def __init__(self, item: ScenarioItem) -> None:
        self.item = item
        self.started = 0.0

    def step_started(self, step: StepResult) -> None:
        self.started = time.time()

    def step_finished(self, step: StepResult) -> None:
        item = self.item
        outcome: Literal["passed", "failed", "skipped"] = "skipped"
        if step.status in ("passed", "failed"):
            outcome = "passed" if step.status == "passed" else "failed"
        longrepr: Any = None
        if outcome == "failed":
            longrepr = "\n".join(step.failures + ([step.tail()] if step.tail() else []))
        elif outcome == "skipped":
            longrepr = (str(item.path), 0, "Skipped: not run (an earlier step failed)")
        report = pytest.TestReport(
            nodeid=item.nodeid,
            location=item.location,
            keywords={name: 1 for name in item.keywords},
            outcome=outcome,
            longrepr=longrepr,
            when="call",
            duration=step.duration,
            start=self.started,
            stop=time.time(),
            user_properties=[("step", step.name)],
        )
        if SubtestReport is not None:
            context = SubtestContext(msg=step.name, kwargs={})
            report = SubtestReport._new(report, context, None, None)
        # Outside pytest's capture, as its own subtests do: progress goes to the terminal.
        capture = item.config.pluginmanager.get_plugin("capturemanager")
        suspended = capture.global_and_fixture_disabled() if capture else contextlib.nullcontext()
        with suspended:
            item.ihook.pytest_runtest_logreport(report=report)
