"""`stagecast rehearse`: the same scenario at full speed, for CI.

With a baseline, the rehearsal's own cast (the runner builds one in every mode) is compared
step by step with the verified cast (`recorder.cast.diff`, the scenario's masks, timing
ignored: a rehearsal types instantly). With repeats, the scenario runs N times and
`recorder.run.rehearsal_stats` sums them up.
"""

from __future__ import annotations

import contextlib
import functools
import json
import signal
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recorder.cast.diff import CastDiff, StepDiff, diff_casts, ordered_steps, scenario_masks
from recorder.cast.reader import CastStream, stream_cast
from recorder.cast.segments import RenderedSegment as Segment
from recorder.cast.writer import CastFormat, CastRecording
from recorder.scenario.loader import LoadedScenario

from .progress import Reporter
from .record import default_cast_path, save_rehearsal_cast
from .rehearsal_stats import RepeatStats, typing_time
from .results import Drift, ScenarioResult
from .runner import Runner
from .signals import handling


def rehearse(
    loaded: LoadedScenario, reporter: Reporter | None = None, *, keep_cluster: bool = False
) -> ScenarioResult:
    return rehearse_once(loaded, reporter, keep_cluster=keep_cluster).result


# -- baseline --------------------------------------------------------------------------------


@dataclass
class Baseline:
    """The verified cast a rehearsal is compared with; `cast` None when there is none."""

    path: Path
    cast: CastStream | None


def load_baseline(loaded: LoadedScenario, directory: Path) -> Baseline:
    """DIR/NAME.cast, named as `record` names casts; CastReadError when it is unreadable.

    It is read as a stream (a baseline may be big), once through now, so that a bad line
    anywhere in it stops the run before anything runs rather than after."""
    path = directory / default_cast_path(loaded).name
    if not path.exists():
        return Baseline(path, None)
    stream = stream_cast(path)
    for _ in stream.events():
        pass
    return Baseline(path, stream)


@dataclass
class BaselineCheck:
    path: Path
    status: str  # equivalent, differs, missing, or not compared (the rehearsal failed)
    diff: CastDiff | None = None

    def note(self) -> str:
        """One line for the user."""
        if self.status == "missing":
            return f"no baseline cast {self.path}: not compared"
        if self.status == "not compared":
            return f"baseline {self.path}: not compared, the rehearsal failed"
        assert self.diff is not None
        if self.status == "equivalent":
            cosmetic = self.diff.counts()["cosmetic"]
            return f"matches baseline {self.path}" + (
                f" ({cosmetic} step(s) differ only in masked values)" if cosmetic else ""
            )
        changes = "; ".join(f"{s.status} {s.label!r}" for s in self.diff.changed_steps)
        return f"differs from baseline {self.path}: {changes}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "cast": str(self.path),
            "status": self.status,
            "note": self.note(),
            "diff": self.diff.to_dict() if self.diff else None,
        }


def check_baseline(
    loaded: LoadedScenario, result: ScenarioResult, cast: CastRecording, baseline: Baseline
) -> BaselineCheck:
    """Compare the rehearsal's cast with the baseline; a semantic change fails `result`."""
    if baseline.cast is None:
        return BaselineCheck(baseline.path, "missing")
    if not result.passed:
        return BaselineCheck(baseline.path, "not compared")
    rehearsal = cast.stream(f"rehearsal of {loaded.path}")
    masks = scenario_masks(loaded)
    diff = diff_casts(
        baseline.cast, rehearsal, masks, timing_threshold=None, ordered=ordered_steps(loaded)
    )
    check = BaselineCheck(baseline.path, "differs" if diff.semantic else "equivalent", diff)
    if diff.semantic:
        result.error = check.note()  # the summary line's one-line reason; the run fails
        result.drifts = drifts(diff, result, baseline.path)  # the JUnit failures
    return check


def drifts(diff: CastDiff, result: ScenarioResult, baseline: Path) -> list[Drift]:
    """Each semantic change of `diff`, on the step of `result` that printed it, if any."""
    printed_by = _steps_by_marker(result, [s.new for s in diff.steps if s.new is not None])
    return [
        Drift(
            str(baseline),
            step.label,
            step.status,
            _drift_detail(step),
            printed_by.get(step.new.index) if step.new is not None else None,
        )
        for step in diff.changed_steps
    ]


def _steps_by_marker(result: ScenarioResult, printed: Sequence[Segment]) -> dict[int, int]:
    """Marker number -> position in `result.steps`. The runner writes one marker per visible
    step it runs, labelled as the step, so markers and visible steps line up in order; a step
    that never ran has none. `(start)` (number 0) is no step's."""
    visible = [n for n, step in enumerate(result.steps) if not step.hidden]
    found: dict[int, int] = {}
    k = 0
    for segment in sorted(printed, key=lambda seg: seg.index):
        if segment.index == 0:
            continue
        for j in range(k, len(visible)):
            if result.steps[visible[j]].label == segment.label:
                found[segment.index], k = visible[j], j + 1
                break
    return found


def _drift_detail(step: StepDiff) -> str:
    """The step's unified diff; for a step only one side has, its text on that side."""
    if step.diff:
        return step.diff
    side, sign, where = (
        (step.new, "+", "only in this rehearsal")
        if step.new is not None
        else (step.old, "-", "only in the baseline")
    )
    assert side is not None
    lines = [f"{sign}{line}" for line in side.text.splitlines()]
    return "\n".join([f"{where}: {side.label}", *lines])


def rehearsal_json(
    results: Sequence[ScenarioResult], checks: Sequence[BaselineCheck | None]
) -> str:
    """`results_json` with each scenario's baseline outcome (None: no --baseline)."""
    scenarios = [
        {**result.to_dict(), "baseline": check.to_dict() if check else None}
        for result, check in zip(results, checks, strict=True)
    ]
    return json.dumps(
        {"passed": all(r.passed for r in results), "scenarios": scenarios},
        indent=2,
        ensure_ascii=False,
    )


# -- one run, N runs -------------------------------------------------------------------------


@dataclass
class Rehearsal:
    result: ScenarioResult
    cast: CastRecording
    baseline: BaselineCheck | None = None


def rehearse_once(
    loaded: LoadedScenario,
    reporter: Reporter | None = None,
    *,
    keep_cluster: bool = False,
    baseline: Baseline | None = None,
    cast_dir: Path | None = None,
    cast_format: CastFormat = 2,
) -> Rehearsal:
    """One rehearsal; with `cast_dir`, its cast is saved there (unverified) as `cast_format`."""
    runner = Runner(loaded, "rehearse", reporter, keep_cluster=keep_cluster)
    runner.cast.version = cast_format
    runner.cast.keep_output = baseline is not None or cast_dir is not None
    result = runner.run()
    if cast_dir is not None and not result.interrupted:
        save_rehearsal_cast(loaded, result, runner, cast_dir)
    check = check_baseline(loaded, result, runner.cast, baseline) if baseline else None
    return Rehearsal(result, runner.cast, check)


class StopRequest:
    """Ctrl-C during repeated runs: the first press stops after the current run, the
    second interrupts it (the runner then tears down as usual)."""

    def __init__(self, announce: Callable[[str], None] | None = None) -> None:
        self.requested = False
        self.announce = announce

    def __call__(self, signum: int, frame: object) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        if self.announce:
            self.announce("stopping after this run (Ctrl-C again interrupts it)")

    def handling(self) -> contextlib.AbstractContextManager[None]:
        return handling({signal.SIGINT: self})


def rehearse_repeatedly(
    loaded: LoadedScenario,
    times: int,
    reporter: Callable[[int], Reporter | None] = lambda run: None,
    *,
    keep_cluster: bool = False,
    baseline: Baseline | None = None,
    stop: StopRequest | None = None,
) -> RepeatStats:
    """Run `loaded` `times` times (or until `stop` is requested); an interrupted run ends the
    series and is not counted."""
    scenario = loaded.scenario
    stats = RepeatStats(
        loaded.name, str(loaded.path), times, [], scenario.budget, typing_time(scenario)
    )
    for run in range(1, times + 1):
        if stop is not None and stop.requested:
            stats.interrupted = True
            break
        try:
            done = rehearse_once(
                loaded, reporter(run), keep_cluster=keep_cluster, baseline=baseline
            )
        except KeyboardInterrupt:  # between the runner's own handlers: nothing ran to count
            stats.interrupted = True
            break
        if done.result.interrupted:
            stats.interrupted = True
            break
        stats.results.append(done.result)
        stats.extra.append({"baseline": done.baseline.to_dict()} if done.baseline else {})
    return stats


def rehearse_series(
    loaded: Sequence[LoadedScenario],
    times: int,
    reporter: Callable[[LoadedScenario, int], Reporter | None],
    *,
    keep_cluster: bool = False,
    baselines: Sequence[Baseline | None] | None = None,
    announce: Callable[[str], None] | None = None,
) -> Iterator[RepeatStats]:
    """Each scenario `times` times, one RepeatStats per scenario as it finishes. The first
    Ctrl-C stops the series after the current run; the stats say how far it got."""
    stop = StopRequest(announce)
    with stop.handling():
        for n, item in enumerate(loaded):
            if stop.requested:
                return
            yield rehearse_repeatedly(
                item,
                times,
                functools.partial(reporter, item),
                keep_cluster=keep_cluster,
                baseline=baselines[n] if baselines else None,
                stop=stop,
            )
