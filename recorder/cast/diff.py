"""Compare two casts step by step, as the audience saw them: rendered screens, not bytes.

Steps are the segments between markers (the output before the first marker is a step of its
own, `(start)`), aligned by label with difflib, so added, removed and renamed steps line up.
Each segment is played on a fresh pyte screen as wide as its cast and tall enough that
nothing scrolls away (`recorder.cast.seen`): its text is what it left on screen, after
whatever it showed and then took away (a cleared screen, a line redrawn in place, a TUI's
frames on the alternate screen). The texts are compared: identical (`same`), identical once
the masks replaced volatile values (`cosmetic`), or not (`changed`, with a unified diff of the
masked text). Durations (marker to next marker) are compared separately and never count as a
semantic change.

The casts (`recorder.cast.model.Cast`) are cut into rendered segments by
`recorder.cast.segments`.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from recorder.scenario.loader import LoadedScenario
from recorder.scenario.masks import BUILTIN_MASKS, apply_masks, compile_masks

from .model import Cast
from .segments import RenderedSegment as Segment
from .segments import segments

Status = Literal["same", "cosmetic", "changed", "added", "removed"]
Masks = list[tuple[str, re.Pattern[str]]]
SEMANTIC: frozenset[str] = frozenset({"changed", "added", "removed"})
# Where labels differ, a lone step in place of a lone step is the same step renamed; in larger
# blocks steps pair up only when their texts are this alike (short steps share their prompt
# and `echo `, so lower ratios pair unrelated steps).
PAIR_RATIO = 0.8
SYMBOLS: dict[str, tuple[str, str]] = {
    "same": ("=", "green"),
    "cosmetic": ("≈", "cyan"),
    "changed": ("≠", "red"),
    "added": ("+", "yellow"),
    "removed": ("-", "yellow"),
}


def builtin_masks() -> Masks:
    return [(name, re.compile(pattern)) for name, pattern in BUILTIN_MASKS.items()]


def scenario_masks(loaded: LoadedScenario) -> Masks:
    """The scenario's `masks:` when it declares them, else every built-in: two runs of a
    scenario that says nothing still differ in UUIDs, MACs and latencies, not in meaning.
    Either way, the scenario's folder is masked in absolute paths: a cast recorded in one
    checkout is compared with runs in another (CI's clone)."""
    scenario = loaded.scenario
    chosen = (
        builtin_masks()
        if "masks" not in scenario.model_fields_set
        else compile_masks(list(scenario.masks))
    )
    return [folder_mask(loaded.path.parent), *chosen]


def ordered_steps(loaded: LoadedScenario) -> frozenset[str]:
    """The labels of the steps that set `order_matters`: for them, reordered lines change."""
    steps = [*loaded.scenario.setup, *loaded.scenario.steps, *loaded.scenario.teardown]
    return frozenset(step.label() for step in steps if step.order_matters)


def folder_mask(folder: Path) -> tuple[str, re.Pattern[str]]:
    """Any absolute path that ends in `folder`'s name, up to that name."""
    name = re.escape(folder.resolve().name)
    return "scenario-dir", re.compile(rf"(?:/[^\s/:\"'\[\]]+)*/{name}(?![\w.-])")


# -- the diff ------------------------------------------------------------------------------


@dataclass
class StepDiff:
    status: Status
    old: Segment | None
    new: Segment | None
    diff: str = ""  # unified diff of the masked text, old -> new (changed steps only)
    timing_changed: bool = False
    reordered: bool = False  # cosmetic: the same lines, in another order

    @property
    def label(self) -> str:
        seg = self.new or self.old
        assert seg is not None
        return seg.label

    @property
    def renamed(self) -> bool:
        return self.old is not None and self.new is not None and self.old.label != self.new.label

    @property
    def semantic(self) -> bool:
        return self.status in SEMANTIC

    def to_dict(self) -> dict[str, Any]:
        def side(seg: Segment | None) -> dict[str, Any] | None:
            if seg is None:
                return None
            return {"index": seg.index, "label": seg.label, "duration": round(seg.duration, 3)}

        return {
            "status": self.status,
            "label": self.label,
            "renamed": self.renamed,
            "old": side(self.old),
            "new": side(self.new),
            "diff": self.diff,
            "timing_changed": self.timing_changed,
            "reordered": self.reordered,
        }


@dataclass
class CastDiff:
    steps: list[StepDiff] = field(default_factory=list)
    old_path: str = ""
    new_path: str = ""
    timing_threshold: float | None = 2.0  # None: timing ignored
    masks: list[str] = field(default_factory=list)

    @property
    def semantic(self) -> bool:
        return any(s.semantic for s in self.steps)

    @property
    def changed_steps(self) -> list[StepDiff]:
        return [s for s in self.steps if s.semantic]

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(SYMBOLS, 0)
        for step in self.steps:
            out[step.status] += 1
        return out

    def summary(self) -> str:
        counts = self.counts()
        verdict = "DIFFERENT" if self.semantic else "EQUIVALENT"
        line = f"{verdict} {self.old_path or 'old'} → {self.new_path or 'new'}: " + ", ".join(
            f"{n} {status}" for status, n in counts.items()
        )
        if self.timing_threshold is not None:
            timing = sum(s.timing_changed for s in self.steps)
            line += f"; {timing} timing change(s) over {self.timing_threshold:g}s"
        return line

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old_path,
            "new": self.new_path,
            "semantic": self.semantic,
            "counts": self.counts(),
            "timing_threshold": self.timing_threshold,
            "masks": self.masks,
            "steps": [s.to_dict() for s in self.steps],
        }


def diff_casts(
    old: Cast,
    new: Cast,
    masks: Masks | None = None,
    timing_threshold: float | None = 2.0,
    ordered: frozenset[str] = frozenset(),
) -> CastDiff:
    """Step-by-step comparison of two casts (see the module docstring).

    `masks` defaults to every built-in mask; pass [] for none. `timing_threshold` None ignores
    timing (a rehearsal types instantly). `ordered`: labels of the steps whose reordered
    lines are a change (`order_matters`, see `ordered_steps`)."""
    masks = builtin_masks() if masks is None else masks
    result = CastDiff(
        old_path=old.path,
        new_path=new.path,
        timing_threshold=timing_threshold,
        masks=[name for name, _ in masks],
    )
    for a, b in align(segments(old), segments(new)):
        result.steps.append(_compare(a, b, masks, timing_threshold, ordered))
    return result


def align(
    old: Sequence[Segment], new: Sequence[Segment]
) -> list[tuple[Segment | None, Segment | None]]:
    """Pairs of matching steps, in order; None on the side where a step is missing."""
    matcher = difflib.SequenceMatcher(None, [s.label for s in old], [s.label for s in new], False)
    pairs: list[tuple[Segment | None, Segment | None]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pairs += zip(old[i1:i2], new[j1:j2], strict=True)
        elif i2 - i1 == 1 and j2 - j1 == 1:
            pairs.append((old[i1], new[j1]))
        else:  # replace, delete, insert: renamed steps pair up by what they show
            pairs += _pair_by_text(old[i1:i2], new[j1:j2])
    return pairs


def _pair_by_text(
    old: Sequence[Segment], new: Sequence[Segment]
) -> list[tuple[Segment | None, Segment | None]]:
    """Order-preserving alignment of two small blocks that maximises the texts' likeness."""
    n, m = len(old), len(new)
    ratio = [
        [difflib.SequenceMatcher(None, a.text, b.text, False).ratio() for b in new] for a in old
    ]
    # best[i][j]: the best total likeness of old[i:] with new[j:]
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            pair = ratio[i][j] + best[i + 1][j + 1] if ratio[i][j] >= PAIR_RATIO else -1.0
            best[i][j] = max(pair, best[i + 1][j], best[i][j + 1])
    out: list[tuple[Segment | None, Segment | None]] = []
    i = j = 0
    while i < n and j < m:
        if ratio[i][j] >= PAIR_RATIO and best[i][j] == ratio[i][j] + best[i + 1][j + 1]:
            out.append((old[i], new[j]))
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            out.append((old[i], None))
            i += 1
        else:
            out.append((None, new[j]))
            j += 1
    out += [(a, None) for a in old[i:]] + [(None, b) for b in new[j:]]
    return out


def _compare(
    old: Segment | None,
    new: Segment | None,
    masks: Masks,
    timing_threshold: float | None,
    ordered: frozenset[str] = frozenset(),
) -> StepDiff:
    if old is None or new is None:
        return StepDiff("added" if old is None else "removed", old, new)
    timing = timing_threshold is not None and abs(new.duration - old.duration) > timing_threshold
    if old.text == new.text:
        return StepDiff("same", old, new, timing_changed=timing)
    # Masked, a redrawn line that only differs in a masked value (a clock, a counter's
    # latency) shows once: how many times a TUI redrew is not what it showed.
    old_masked = old.view(lambda text: apply_masks(text, masks), once=True)
    new_masked = new.view(lambda text: apply_masks(text, masks), once=True)
    if old_masked == new_masked:
        return StepDiff("cosmetic", old, new, timing_changed=timing)
    # Tables in hash order (OVN's rows, for one) list the same lines in another order.
    reorder_ok = old.label not in ordered and new.label not in ordered
    if reorder_ok and sorted(old_masked.splitlines()) == sorted(new_masked.splitlines()):
        return StepDiff("cosmetic", old, new, timing_changed=timing, reordered=True)
    lines = difflib.unified_diff(
        old_masked.splitlines(),
        new_masked.splitlines(),
        f"old: {old.label}",
        f"new: {new.label}",
        lineterm="",
    )
    return StepDiff("changed", old, new, "\n".join(lines), timing)


# -- reports -------------------------------------------------------------------------------


def step_line(step: StepDiff) -> str:
    """`≠ changed    3 label (was 'old label') timing 1.2s → 4.5s`, without colour."""
    symbol, _ = SYMBOLS[step.status]
    seg = step.new or step.old
    assert seg is not None
    line = f"{symbol} {step.status:<8} {seg.index:>3} {step.label}"
    if step.renamed:
        assert step.old is not None
        line += f" (was {step.old.label!r})"
    if step.reordered:
        line += " (the same lines, reordered)"
    if step.timing_changed:
        assert step.old is not None and step.new is not None
        delta = step.new.duration - step.old.duration
        line += f"  timing {step.old.duration:.1f}s → {step.new.duration:.1f}s ({delta:+.1f}s)"
    return line


def print_diff(diff: CastDiff, console: Any, *, changes_only: bool = False) -> None:
    """One line per step, the unified diff under each changed step, then the summary;
    `changes_only`: the semantic changes alone, without the summary."""
    from rich.text import Text

    for step in diff.steps:
        if changes_only and not step.semantic:
            continue
        _, style = SYMBOLS[step.status]
        console.print(Text(step_line(step), style=style), soft_wrap=True)
        for line in step.diff.splitlines():
            console.print(Text(f"    {line}", style=_diff_style(line)), soft_wrap=True)
    if changes_only:
        return
    console.print(Text(diff.summary(), style="red" if diff.semantic else "green"), soft_wrap=True)


def _diff_style(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "bold"
    if line.startswith("@@"):
        return "cyan"
    return {"+": "green", "-": "red"}.get(line[:1], "")


def diff_json(diff: CastDiff) -> str:
    return json.dumps(diff.to_dict(), indent=2, ensure_ascii=False)
