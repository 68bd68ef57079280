"""Progress while a scenario runs: a rich live view on a terminal, plain lines otherwise."""

from __future__ import annotations

import os
import time
from typing import Protocol

from rich.console import Console, Group
from rich.live import Live
from rich.spinner import Spinner
from rich.text import Text

from recorder.scenario.loader import LoadedScenario

from .results import ScenarioResult, StepResult

ICONS = {
    "passed": ("✓", "green"),
    "failed": ("✗", "red"),
    "skipped": ("·", "dim"),
    "not-run": ("–", "yellow"),
}
LONG_STEP = 2.0  # seconds before the elapsed time is shown


class Reporter(Protocol):
    def scenario_started(self, loaded: LoadedScenario, steps: list[StepResult]) -> None: ...
    def step_started(self, step: StepResult) -> None: ...
    def step_finished(self, step: StepResult) -> None: ...
    def scenario_finished(self, result: ScenarioResult) -> None: ...


class NullReporter:
    def scenario_started(self, loaded: LoadedScenario, steps: list[StepResult]) -> None:
        pass

    def step_started(self, step: StepResult) -> None:
        pass

    def step_finished(self, step: StepResult) -> None:
        pass

    def scenario_finished(self, result: ScenarioResult) -> None:
        pass


def make_console(stderr: bool = True) -> Console:
    return Console(stderr=stderr, no_color="NO_COLOR" in os.environ, highlight=False)


class RichReporter:
    """On a terminal: the step list, live, with a spinner and the elapsed time of long steps.
    Elsewhere (CI logs): one line per finished step."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.steps: list[StepResult] = []
        self.current: StepResult | None = None
        self.started = 0.0
        self.live: Live | None = None

    def scenario_started(self, loaded: LoadedScenario, steps: list[StepResult]) -> None:
        self.steps = steps
        self.console.print(Text(f"▶ {loaded.scenario.title}", style="bold"))
        if self.console.is_terminal:
            self.live = Live(self, console=self.console, refresh_per_second=8)
            self.live.start()

    def step_started(self, step: StepResult) -> None:
        self.current = step
        self.started = time.monotonic()

    def step_finished(self, step: StepResult) -> None:
        self.current = None
        if self.live is None:
            self.console.print(self._line(step))

    def scenario_finished(self, result: ScenarioResult) -> None:
        if self.live is not None:
            self.live.refresh()
            self.live.stop()
            self.live = None

    def _line(self, step: StepResult) -> Text:
        icon, style = ICONS.get(step.status, ("?", ""))
        where = "" if step.phase == "steps" else f"{step.phase} "
        text = Text("  ")
        text.append(icon, style=style)
        text.append(" ")
        text.append(f"{where}{step.label}", style="dim" if step.hidden else "")
        if step.status != "skipped":
            text.append(f"  {step.duration:.1f}s", style="dim")
        if step.not_run_reason:
            text.append(f"\n      not run here: {step.not_run_reason}", style="yellow")
        for failure in step.failures:
            text.append(f"\n      {failure}", style="red")
        return text

    def __rich__(self) -> Group:
        rows: list[Text | Spinner] = []
        for step in self.steps:
            if step is self.current:
                elapsed = time.monotonic() - self.started
                suffix = f"  {elapsed:.0f}s" if elapsed >= LONG_STEP else ""
                where = "" if step.phase == "steps" else f"{step.phase} "
                rows.append(Spinner("dots", text=Text(f"{where}{step.label}{suffix}")))
            else:
                rows.append(self._line(step))
        return Group(*rows)
