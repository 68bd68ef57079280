"""Progress while a scenario runs: a rich live view on a terminal, plain lines otherwise."""

from __future__ import annotations

import os
import time
from typing import Protocol

from rich.console import Console, Group
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from .loader import LoadedScenario
from .results import ScenarioResult, StepResult

ICONS = {"passed": ("✓", "green"), "failed": ("✗", "red"), "skipped": ("·", "dim")}
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
    """The step list with a spinner and elapsed time; one line per step without a tty."""

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
            self.live = Live(self, console=self.console, refresh_per_second=8, transient=True)
            self.live.start()

    def step_started(self, step: StepResult) -> None:
        self.current = step
        self.started = time.monotonic()

    def step_finished(self, step: StepResult) -> None:
        self.current = None
        line = self._line(step)
        if self.live is not None:
            self.live.console.print(line)
        else:
            self.console.print(line)

    def scenario_finished(self, result: ScenarioResult) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None

    def _line(self, step: StepResult) -> Text:
        icon, style = ICONS.get(step.status, ("?", ""))
        where = "" if step.phase == "steps" else f"{step.phase} "
        text = Text(f"  {icon} ", style=style)
        text.append(f"{where}{step.label}", style="dim" if step.hidden else "")
        text.append(f"  {step.duration:.1f}s", style="dim")
        for failure in step.failures:
            text.append(f"\n      {failure}", style="red")
        return text

    def __rich__(self) -> Group | Table:
        if self.current is None:
            return Table.grid()
        elapsed = time.monotonic() - self.started
        label = self.current.label
        suffix = f"  {elapsed:.0f}s" if elapsed >= LONG_STEP else ""
        return Group(Spinner("dots", text=Text(f"{label}{suffix}")))
