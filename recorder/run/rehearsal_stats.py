"""Statistics of repeated rehearsals: per-step durations, pass rates, and the talk's budget.

Percentiles use the **nearest-rank** method: the p-th percentile is the smallest observed
value with at least p% of the observations at or below it, `sorted(values)[ceil(p/100*n) - 1]`.
Every figure is a duration that really happened; with 3 runs, p50 is the median and p95 the
slowest run.

A rehearsal types instantly, so its wall time alone says little about a talk slot. The stage
time is estimated as the rehearsal's total plus the typing model's time for what the audience
sees typed (narration, commands, keys) and the think pause before each visible step:
the same seeded delays `record` would wait. Presenter pauses (`pause:`) are not counted.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from recorder.scenario.model import Scenario

from .results import ScenarioResult
from .runner import KEY_GAP
from .typing_stats import scenario_model, typed_pieces


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of a non-empty sequence, 0 < p <= 100."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 < p <= 100:
        raise ValueError(f"percentile {p} is not in (0, 100]")
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)), 1) - 1]


@dataclass
class StepStats:
    phase: str
    index: int
    label: str
    hidden: bool
    runs: int  # how many runs there were, whether or not this step ran in each
    statuses: list[str] = field(default_factory=list)  # per run: passed, failed or skipped
    durations: list[float] = field(default_factory=list)  # per run where the step ran

    @property
    def passed(self) -> int:
        return self.statuses.count("passed")

    @property
    def failed(self) -> int:
        return self.statuses.count("failed")

    @property
    def skipped(self) -> int:
        return self.statuses.count("skipped")

    @property
    def pass_rate(self) -> float:
        return self.passed / self.runs if self.runs else 0.0

    @property
    def verdict(self) -> str:
        """ok; flaky (passed in some runs, failed in others); failing; or not run."""
        if self.failed and self.passed:
            return "flaky"
        if self.failed:
            return "failing"
        if not self.passed:
            return "not run"
        return "ok" if self.passed == self.runs else "skipped in some runs"

    @property
    def p50(self) -> float | None:
        return percentile(self.durations, 50) if self.durations else None

    @property
    def p95(self) -> float | None:
        return percentile(self.durations, 95) if self.durations else None

    @property
    def name(self) -> str:
        return f"{self.phase}[{self.index}] {self.label}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "index": self.index,
            "label": self.label,
            "hidden": self.hidden,
            "runs": self.runs,
            "passed": self.passed,
            "failed": self.failed,
            "skipped": self.skipped,
            "pass_rate": round(self.pass_rate, 4),
            "verdict": self.verdict,
            "p50": _round(self.p50),
            "p95": _round(self.p95),
        }


def step_stats(results: Sequence[ScenarioResult]) -> list[StepStats]:
    """One StepStats per step (every phase), in the order of the first run."""
    by_key: dict[tuple[str, int], StepStats] = {}
    for result in results:
        for step in result.steps:
            stats = by_key.get((step.phase, step.index))
            if stats is None:
                stats = StepStats(step.phase, step.index, step.label, step.hidden, len(results))
                by_key[(step.phase, step.index)] = stats
            stats.statuses.append(step.status)
            if step.status != "skipped":
                stats.durations.append(step.duration)
    return list(by_key.values())


def typing_time(scenario: Scenario) -> float:
    """Seconds `record` spends typing and thinking before the visible steps (seeded, exact)."""
    model, think = scenario_model(scenario)
    total = 0.0
    for kind, text, times in typed_pieces(scenario):
        if kind == "think":
            total += model.think(think, text)
        elif kind == "line":
            total += sum(model.delays(text + "\r"))
        elif kind == "text":
            total += sum(model.delays(text))
        else:
            total += KEY_GAP * times
    return total


@dataclass
class RepeatStats:
    """N rehearsals of one scenario."""

    name: str
    path: str
    requested: int  # runs asked for; fewer ran when Ctrl-C stopped early
    results: list[ScenarioResult]
    budget: float | None = None
    typing: float = 0.0  # estimated typing and think time (see typing_time)
    extra: list[dict[str, Any]] = field(default_factory=list)  # per run, e.g. the baseline
    interrupted: bool = False  # Ctrl-C ended the series early

    @property
    def runs(self) -> int:
        return len(self.results)

    @property
    def passed_runs(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def passed(self) -> bool:
        return bool(self.results) and self.passed_runs == self.runs

    @property
    def steps(self) -> list[StepStats]:
        return step_stats(self.results)

    def totals(self) -> list[float]:
        """Wall times of the runs that passed: a failed run stops early and would flatter."""
        return [r.duration for r in self.results if r.passed]

    def total(self, p: float) -> float | None:
        totals = self.totals()
        return percentile(totals, p) if totals else None

    def stage(self, p: float) -> float | None:
        total = self.total(p)
        return None if total is None else total + self.typing

    def budget_verdict(self) -> str:
        """`within budget (X s to spare)`, `over budget by X s`, or why it cannot tell."""
        if self.budget is None:
            return "no budget set"
        stage = self.stage(95)
        if stage is None:
            return f"budget {self.budget:g}s: no passing run to measure"
        if stage <= self.budget:
            return f"within budget {self.budget:g}s ({self.budget - stage:.1f}s to spare)"
        return f"over budget {self.budget:g}s by {stage - self.budget:.1f}s"

    @property
    def over_budget(self) -> bool:
        stage = self.stage(95)
        return self.budget is not None and stage is not None and stage > self.budget

    def summary(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        line = f"{verdict} {self.path}: {self.passed_runs}/{self.runs} runs passed"
        if self.runs < self.requested:
            line += f" (stopped after {self.runs} of {self.requested})"
        unsteady = [s for s in self.steps if s.verdict in ("flaky", "failing")]
        if unsteady:
            line += "; " + ", ".join(
                f"{s.verdict} {s.name!r} {s.passed}/{s.runs}" for s in unsteady
            )
        # A run can fail outside any step (a baseline that differs, a fixture that broke).
        other = next(
            (
                (n, r.error)
                for n, r in enumerate(self.results, 1)
                if r.error and r.first_failure is None
            ),
            None,
        )
        if other is not None:
            line += f"; run {other[0]}: {other[1]}"
        if self.budget is not None:
            line += f"; {self.budget_verdict()}"
        return line

    def to_dict(self) -> dict[str, Any]:
        runs = []
        for n, result in enumerate(self.results):
            run: dict[str, Any] = {
                "run": n + 1,
                "passed": result.passed,
                "duration": round(result.duration, 3),
                "error": result.error,
                "interrupted": result.interrupted,
                "steps": [
                    {
                        "phase": s.phase,
                        "index": s.index,
                        "label": s.label,
                        "hidden": s.hidden,
                        "status": s.status,
                        "duration": round(s.duration, 3),
                    }
                    for s in result.steps
                ],
            }
            if n < len(self.extra):
                run.update(self.extra[n])
            runs.append(run)
        return {
            "name": self.name,
            "path": self.path,
            "passed": self.passed,
            "requested_runs": self.requested,
            "runs_done": self.runs,
            "interrupted": self.interrupted,
            "passed_runs": self.passed_runs,
            "percentiles": "nearest-rank",
            "steps": [s.to_dict() for s in self.steps],
            "total": {"p50": _round(self.total(50)), "p95": _round(self.total(95))},
            "typing_estimate": round(self.typing, 3),
            "stage_estimate": {"p50": _round(self.stage(50)), "p95": _round(self.stage(95))},
            "budget": self.budget,
            "over_budget": self.over_budget,
            "budget_verdict": self.budget_verdict(),
            "runs": runs,
        }


def repeat_json(series: Sequence[RepeatStats], interrupted: bool) -> str:
    """Every scenario's statistics and every run's per-step statuses and durations."""
    return json.dumps(
        {
            "passed": bool(series) and all(s.passed for s in series) and not interrupted,
            "interrupted": interrupted,
            "percentiles": "nearest-rank",
            "scenarios": [s.to_dict() for s in series],
        },
        indent=2,
        ensure_ascii=False,
    )


def print_stats(stats: RepeatStats, console: Any) -> None:
    """The per-step table, the totals against the budget, and the summary line."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"{stats.path}: {stats.runs} run(s)", title_justify="left")
    table.add_column("step", overflow="fold")
    table.add_column("pass rate", justify="right")
    table.add_column("p50", justify="right")
    table.add_column("p95", justify="right")
    table.add_column("verdict")
    styles = {"ok": "green", "flaky": "yellow", "failing": "red"}
    for step in stats.steps:
        name = Text(step.name, style="dim" if step.hidden else "")
        if step.hidden:
            name.append(" (hidden)", style="dim")
        verdict = Text(step.verdict, style=styles.get(step.verdict, "dim"))
        table.add_row(name, f"{step.passed}/{step.runs}", _secs(step.p50), _secs(step.p95), verdict)
    table.add_section()
    table.add_row(
        "total (runs that passed)",
        f"{stats.passed_runs}/{stats.runs}",
        _secs(stats.total(50)),
        _secs(stats.total(95)),
        "",
    )
    table.add_row("on stage ≈ total + typing", "", _secs(stats.stage(50)), _secs(stats.stage(95)))
    console.print(table)
    style = "red" if stats.over_budget else ("dim" if stats.budget is None else "green")
    console.print(
        Text(f"typing and think pauses ≈ {stats.typing:.1f}s; {stats.budget_verdict()}", style),
        soft_wrap=True,
    )
    console.print(Text(stats.summary(), "green" if stats.passed else "red"), soft_wrap=True)


def _secs(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}s" if value < 10 else f"{value:.1f}s"  # rehearsed steps take ms


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
