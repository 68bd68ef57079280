"""What a scenario types, and how its typing looks in a cast next to the speaker's.

`typed_pieces` walks what `record` types for the audience, in order: the think pause before
each visible step, each line of narration and command (typed, then Enter), the text and the
named keys sent to an interactive program. `rehearsal_stats.typing_time` adds them up;
`simulated_events` lays them out as the output events a cast of the scenario would have, the
commands taking no time.

The statistics read typed keys from output events the same way for a hand recording, a
stagecast cast and a simulation: a key is an output event of one printable character, and
its interval is the time since the previous output event, kept if under 1 s. A run of
intervals ends at any other output event (a prompt, a command's output, Enter's echo):
consecutive keys within a command. Over those intervals:

- `ks_distance`: the two-sample Kolmogorov-Smirnov D between two sets of intervals;
- `rank_autocorrelation`: Spearman's rank correlation of each interval with the next in the
  same run (lag 1);
- `TypingStats.long`: the share of intervals over 0.5 s; `rolled`: under 30 ms.
"""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from recorder.scenario.model import KeyAction, Scenario
from recorder.scenario.rules import narration_lines
from recorder.shell.typing_model import TypingModel

from .runner import KEY_GAP, think_key

MAX_INTERVAL = 1.0  # longer gaps are not typing: thinking, talking, waiting for output
LONG = 0.5
ROLLED = 0.03
SPEAKER_CASTS = ("demo11.cast", "demo12.cast", "demo2.cast")

OutputEvent = tuple[float, str, str]  # (time, code, data), as in recorder.cast.model.Event
PieceKind = Literal["think", "line", "text", "keys"]


def typed_pieces(scenario: Scenario) -> Iterator[tuple[PieceKind, str, int]]:
    """(kind, text, times) for what `record` types before the audience, in order:
    ("think", key, 0) the pause before a visible step; ("line", line, 0) a line and Enter;
    ("text", text, 0) text sent to a program; ("keys", name, times) a named key."""
    for step in scenario.steps:
        if not step.in_cast or not (step.run or step.say):
            continue
        yield "think", think_key(step), 0
        lines = narration_lines(step.say or "")
        lines += (step.run or "").rstrip("\n").split("\n") if step.run else []
        for line in lines:
            yield "line", line, 0
        for action in step.keys or []:
            if isinstance(action, str):
                action = KeyAction(text=action)
            if action.text is not None:
                yield "text", action.text, 0
            elif action.key is not None:
                yield "keys", action.key, action.times


def scenario_model(scenario: Scenario, cps: float | None = None) -> tuple[TypingModel, float]:
    """The typing model `record` uses for `scenario`, and its mean think pause; `cps`
    overrides the speed (the think pause too), as `record --cps` does."""
    typing = scenario.typing
    model = TypingModel(cps or typing.cps, typing.jitter, typing.seed)
    return model, typing.think * (typing.cps / cps if cps else 1.0)


def simulated_events(
    scenario: Scenario, cps: float | None = None, model: TypingModel | None = None
) -> list[OutputEvent]:
    """The output events of the scenario's typing, as `record` would write them: a prompt,
    each key's echo at its delay, Enter's echo and the next prompt at once (commands take
    no time here), a named key's effect after `KEY_GAP`. `model` replaces the scenario's
    (for fitting one)."""
    own, think = scenario_model(scenario, cps)
    model = model or own
    t = 0.0
    events: list[OutputEvent] = [(t, "o", "$ ")]
    for kind, text, times in typed_pieces(scenario):
        if kind == "think":
            t += model.think(think, text)
        elif kind == "keys":
            t += KEY_GAP * times
            events.append((t, "o", f"<{text}>"))
        else:
            typed = text + "\r" if kind == "line" else text
            for ch, delay in zip(typed, model.delays(typed), strict=True):
                t += delay
                events.append((t, "o", "\r\n" if ch in "\r\n" else ch))
            if kind == "line":
                events.append((t, "o", "$ "))
    return events


def key_runs(events: Iterable[OutputEvent]) -> list[list[float]]:
    """The typed keys' intervals, in runs of consecutive keys (see the module docstring)."""
    runs: list[list[float]] = []
    run: list[float] = []
    previous: float | None = None
    for t, code, data in events:
        if code != "o":
            continue
        if len(data) == 1 and data.isprintable() and previous is not None:
            if t - previous < MAX_INTERVAL:
                run.append(t - previous)
            elif run:
                runs.append(run)
                run = []
        elif run:
            runs.append(run)
            run = []
        previous = t
    if run:
        runs.append(run)
    return runs


def speaker_runs(directory: Path) -> list[list[float]]:
    """The key runs of the speaker's own recordings in `directory` (asciicast v2 files)."""
    from recorder.cast.reader import load_cast

    runs: list[list[float]] = []
    for name in SPEAKER_CASTS:
        runs += key_runs(load_cast(directory / name, errors="replace").events)
    return runs


def ks_distance(a: Sequence[float], b: Sequence[float]) -> float:
    """The two-sample Kolmogorov-Smirnov statistic: the largest gap between the two
    empirical distribution functions."""
    xs, ys = sorted(a), sorted(b)
    return max(
        abs(bisect.bisect_right(xs, v) / len(xs) - bisect.bisect_right(ys, v) / len(ys))
        for v in (*xs, *ys)
    )


def _ranks(values: Sequence[float]) -> list[float]:
    """Ranks from 0, ties sharing their mean rank."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2
        i = j + 1
    return ranks


def rank_autocorrelation(runs: Sequence[Sequence[float]], lag: int = 1) -> float:
    """Spearman's correlation of each interval with the one `lag` keys later in its run."""
    first = [run[i] for run in runs for i in range(len(run) - lag)]
    later = [run[i + lag] for run in runs for i in range(len(run) - lag)]
    if len(first) < 3:
        return 0.0
    return statistics.correlation(_ranks(first), _ranks(later))


@dataclass(frozen=True)
class TypingStats:
    n: int
    median: float
    p10: float
    p90: float
    mean: float
    autocorrelation: float  # rank, lag 1, within runs
    long: float  # share over 0.5 s
    rolled: float  # share under 30 ms

    @classmethod
    def of(cls, runs: Sequence[Sequence[float]]) -> TypingStats:
        values = sorted(v for run in runs for v in run)
        n = len(values)
        if n == 0:
            return cls(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        return cls(
            n=n,
            median=statistics.median(values),
            p10=values[n // 10],
            p90=values[9 * n // 10],
            mean=statistics.fmean(values),
            autocorrelation=rank_autocorrelation(runs),
            long=sum(v > LONG for v in values) / n,
            rolled=sum(v < ROLLED for v in values) / n,
        )


def intervals(runs: Sequence[Sequence[float]]) -> list[float]:
    return [v for run in runs for v in run]
