"""Compare two casts step by step, as the audience saw them: rendered screens, not bytes.

Steps are the segments between markers (the output before the first marker is a step of its
own, `(start)`), aligned by label with difflib, so added, removed and renamed steps line up.
Each segment is played on a fresh pyte screen as wide and as tall as its cast, what scrolls
off its top kept as text (`recorder.cast.seen`): its text is what it left on screen, after
whatever it showed and then took away (a cleared screen, a line redrawn in place, a TUI's
frames on the alternate screen). The texts are compared: identical (`same`), identical once
the masks replaced volatile values (`cosmetic`), or not (`changed`, with a unified diff of the
masked text). Durations (marker to next marker) are compared separately and never count as a
semantic change.

The casts (`recorder.cast.model.Cast`, or `recorder.cast.reader.CastStream` to read a file
as a stream) are cut into rendered segments by `recorder.cast.segments`, one step at a time.

A huge step, one that printed more than `seen.EMULATE_UP_TO` characters (4 MB), is read as
plain text (escape sequences dropped, a line redrawn with `\r` kept as it ended) and never
held whole: memory stays flat however much a step prints. It is compared by digest, exactly:
- its text is cut into blocks of whole lines (64 to 256 KB, ending where a line's content
  says, so that lines added in one place do not shift every block after it), each kept as a
  128-bit BLAKE2 digest; the first and last lines are kept to show (`final`). A line over
  1 MB is cut into lines of 1 MB (`seen.PlainLines`);
- the same digests in the same order: `same`. Otherwise the blocks are aligned with difflib;
  the lines of the blocks that differ, 3 lines of context on each side, are read again from
  the cast, masked, and compared: the same once masked (`cosmetic`), the same lines in
  another order (`cosmetic`, reordered; judged by a sum of the lines' hashes), or `changed`,
  with a unified diff of those lines, numbered as in the whole step. A region too big to
  show (over 1 MB or 20,000 lines) shows its first and last lines, and at most 10 regions
  are shown. Masks apply within those lines: a mask that would match across lines of a
  huge step does not. Reading the cast again only happens when digests differ.
- The step's line says so: `[compared by digest: 500,000 lines, 100.0 MB]`. A huge step
  compared with a small one is compared the same way, the small one's text being digested.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import re
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from recorder.scenario.loader import LoadedScenario
from recorder.scenario.masks import BUILTIN_MASKS, apply_masks, compile_masks

from .model import Cast
from .segments import LineDigest, segments, shown_line
from .segments import RenderedSegment as Segment

if TYPE_CHECKING:
    from .reader import CastStream

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
# A huge step's differing lines: a region (lines of differing blocks) is shown whole up to
# these sizes, else by its first and last SHOW_LINES; at most SHOW_REGIONS are shown.
KEEP_CHARS, KEEP_LINES = 1 << 20, 20_000
SHOW_LINES = 10
SHOW_REGIONS = 10
# Lines to show are kept for the first regions that may differ only (some turn out the same
# once masked), and for at most this many characters in all, on each side: memory stays flat.
SHOW_PARTS, KEEP_TOTAL = 4 * SHOW_REGIONS, 4 << 20
CONTEXT = 3  # lines around a change, as difflib.unified_diff gives
# Blocks (and lines) of two huge steps are aligned by difflib item by item up to this many
# pairs of items to weigh; beyond, with its heuristic (frequent items are junk), which is fast.
MATCH_PAIRS = 1 << 22


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
    compared: str = ""  # how, when not as usual: a huge step's "by digest: <size>"

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
        } | ({"compared": self.compared} if self.compared else {})


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
    old: Cast | CastStream,
    new: Cast | CastStream,
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
    if old.digest is not None or new.digest is not None:
        return _compare_digests(old, new, masks, timing, ordered)
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


# -- huge steps, by digest --------------------------------------------------------------------


def _compare_digests(
    old: Segment, new: Segment, masks: Masks, timing: bool, ordered: frozenset[str]
) -> StepDiff:
    """A huge step (see the module docstring): digests first, then the lines that differ."""
    a = old.digest or LineDigest.of_text(old.text)
    b = new.digest or LineDigest.of_text(new.text)
    how = f"by digest: {a.size}" if a.size == b.size else f"by digest: {a.size} → {b.size}"
    if [d for d, _, _ in a.blocks] == [d for d, _, _ in b.blocks]:
        return StepDiff("same", old, new, timing_changed=timing, compared=how)
    regions = _regions(a.blocks, b.blocks)
    olds = _read_regions(a, [(r[0], r[1]) for r in regions], masks)
    news = _read_regions(b, [(r[2], r[3]) for r in regions], masks)
    differ = [
        (region, x, y)
        for region, x, y in zip(regions, olds, news, strict=True)
        if x.digest.digest() != y.digest.digest()
    ]
    if not differ:
        return StepDiff("cosmetic", old, new, timing_changed=timing, compared=how)
    reorder_ok = old.label not in ordered and new.label not in ordered
    counts = [sum(part.count for part in side) for side in (olds, news)]
    sums = [sum(part.sum for part in side) & _BITS for side in (olds, news)]
    if reorder_ok and counts[0] == counts[1] and sums[0] == sums[1]:
        return StepDiff("cosmetic", old, new, timing_changed=timing, reordered=True, compared=how)
    lines = [f"--- old: {old.label}", f"+++ new: {new.label}"]
    for region, x, y in differ[:SHOW_REGIONS]:
        lines += _region_diff(region, x, y)
    if len(differ) > SHOW_REGIONS:
        lines.append(f"… {len(differ) - SHOW_REGIONS} more regions differ, not shown")
    return StepDiff("changed", old, new, "\n".join(lines), timing, compared=how)


Region = tuple[int, int, int, int]  # lines [start, stop) of the old text, and of the new


def _regions(old: list[tuple[bytes, int, int]], new: list[tuple[bytes, int, int]]) -> list[Region]:
    """The line ranges of the blocks that differ, with up to CONTEXT equal lines on each side
    (the lines around a change, as a unified diff shows them), overlapping ones merged."""
    opcodes = _opcodes([d for d, _, _ in old], [d for d, _, _ in new])
    at_x = [0, *itertools.accumulate(lines for _, lines, _ in old)]  # block -> first line
    at_y = [0, *itertools.accumulate(lines for _, lines, _ in new)]
    regions: list[Region] = []
    for n, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            continue
        # The opcodes around are equal ones, if any: the same lines on both sides.
        before = opcodes[n - 1] if n else None
        after = opcodes[n + 1] if n + 1 < len(opcodes) else None
        up = min(CONTEXT, at_x[before[2]] - at_x[before[1]]) if before else 0
        down = min(CONTEXT, at_x[after[2]] - at_x[after[1]]) if after else 0
        region = (at_x[i1] - up, at_x[i2] + down, at_y[j1] - up, at_y[j2] + down)
        if regions and region[0] <= regions[-1][1]:  # close enough to share their context
            region = (regions[-1][0], region[1], regions[-1][2], region[3])
            regions.pop()
        regions.append(region)
    return regions


Opcode = tuple[str, int, int, int, int]


def _opcodes(a: Sequence[Any], b: Sequence[Any]) -> list[Opcode]:
    """difflib's opcodes from `a` to `b`, the same items at both ends first set aside (a huge
    step's lines and blocks repeat: difflib would take them for junk, or weigh every pair).
    difflib weighs the rest item by item, unless they make more than MATCH_PAIRS pairs."""
    n = min(len(a), len(b))
    lo = 0
    while lo < n and a[lo] == b[lo]:
        lo += 1
    hi = 0
    while hi < n - lo and a[len(a) - 1 - hi] == b[len(b) - 1 - hi]:
        hi += 1
    mid_a, mid_b = a[lo : len(a) - hi], b[lo : len(b) - hi]
    opcodes: list[Opcode] = [("equal", 0, lo, 0, lo)] if lo else []
    if mid_a or mid_b:
        junk = len(mid_a) * len(mid_b) > MATCH_PAIRS
        matcher = difflib.SequenceMatcher(None, mid_a, mid_b, junk)
        opcodes += [
            (t, i1 + lo, i2 + lo, j1 + lo, j2 + lo) for t, i1, i2, j1, j2 in matcher.get_opcodes()
        ]
    if hi:
        opcodes.append(("equal", len(a) - hi, len(a), len(b) - hi, len(b)))
    return opcodes


def _grouped(opcodes: list[Opcode], n: int = CONTEXT) -> Iterator[list[Opcode]]:
    """difflib.SequenceMatcher.get_grouped_opcodes, of these opcodes: the hunks of a unified
    diff with `n` lines of context."""
    codes = list(opcodes) or [("equal", 0, 1, 0, 1)]
    if codes[0][0] == "equal":
        tag, i1, i2, j1, j2 = codes[0]
        codes[0] = tag, max(i1, i2 - n), i2, max(j1, j2 - n), j2
    if codes[-1][0] == "equal":
        tag, i1, i2, j1, j2 = codes[-1]
        codes[-1] = tag, i1, min(i2, i1 + n), j1, min(j2, j1 + n)
    group: list[Opcode] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > 2 * n:
            group.append((tag, i1, min(i2, i1 + n), j1, min(j2, j1 + n)))
            yield group
            group = []
            i1, j1 = max(i1, i2 - n), max(j1, j2 - n)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        yield group


_BITS = (1 << 64) - 1


class _Part:
    """The masked lines of one region of a huge step: their digest, how many, the sum of
    their hashes (the same lines in any order have the same), and the lines to show: all of
    them while they are few enough (and `keep`), else the first and last (if `show`)."""

    def __init__(self, keep: bool, show: bool) -> None:
        self.digest = hashlib.blake2b(digest_size=16)
        self.count = 0
        self.sum = 0
        self.chars = 0
        self.kept: list[str] | None = [] if keep else None
        self.show = show
        self.first: list[str] = []
        self.last: deque[str] = deque(maxlen=SHOW_LINES)

    def add(self, lines: list[str], masks: Masks) -> None:
        if not lines:
            return
        if masks:
            lines = apply_masks("\n".join(lines), masks).split("\n")
        self.digest.update("".join(line + "\n" for line in lines).encode("utf-8", "surrogatepass"))
        self.count += len(lines)
        # str hashes vary between runs, not within one: both sides are hashed by this process.
        self.sum = (self.sum + sum(map(hash, lines))) & _BITS
        self.chars += sum(map(len, lines))
        if self.kept is not None:
            self.kept += lines
            if self.count <= KEEP_LINES and self.chars <= KEEP_CHARS:
                return
            lines, self.kept = self.kept, None  # too many to show whole: keep the ends
        if not self.show:
            return
        room = max(SHOW_LINES - len(self.first), 0)
        self.first += [shown_line(line) for line in lines[:room]]
        self.last.extend(shown_line(line) for line in lines[room:][-SHOW_LINES:])


def _read_regions(text: LineDigest, ranges: list[tuple[int, int]], masks: Masks) -> list[_Part]:
    """Read the text again, once, for the lines of `ranges` (in order, apart). Lines to show
    are kept for the first SHOW_PARTS regions, up to KEEP_TOTAL characters in all."""
    parts: list[_Part] = []
    budget = KEEP_TOTAL

    def part(n: int) -> _Part:
        nonlocal budget
        while len(parts) <= n:  # the ranges before are read: what they keep is known
            if parts and parts[-1].kept is not None:
                budget -= parts[-1].chars
            show = len(parts) < SHOW_PARTS
            parts.append(_Part(keep=show and budget > 0, show=show))
        return parts[n]

    at = n = 0  # the first line of the chunk, the range being read
    chunks: Iterator[list[str]] = text.reread()
    for chunk in chunks:
        end = at + len(chunk)
        while n < len(ranges) and ranges[n][0] < end:
            start, stop = ranges[n]
            if stop > at:
                part(n).add(chunk[max(start - at, 0) : stop - at], masks)
            if stop > end:
                break  # the range goes on in the next chunk
            n += 1
        at = end
        if n == len(ranges):
            break
    close = getattr(chunks, "close", None)
    if close is not None:
        close()  # stops reading the cast
    if ranges:
        part(len(ranges) - 1)  # and a part for each range the text did not reach
    return parts


def _region_diff(region: Region, old: _Part, new: _Part) -> list[str]:
    """A unified diff of one region, its lines numbered as in the whole step."""
    if old.kept is not None and new.kept is not None:
        out: list[str] = []
        for group in _grouped(_opcodes(old.kept, new.kept)):
            (_, i1, _, j1, _), (_, _, i2, _, j2) = group[0], group[-1]
            old_range = _hunk_range(region[0] + i1, region[0] + i2)
            new_range = _hunk_range(region[2] + j1, region[2] + j2)
            out.append(f"@@ -{old_range} +{new_range} @@")
            for tag, i1, i2, j1, j2 in group:
                if tag == "equal":
                    out += [f" {line}" for line in old.kept[i1:i2]]
                    continue
                out += [f"-{line}" for line in old.kept[i1:i2]]
                out += [f"+{line}" for line in new.kept[j1:j2]]
        return out
    old_range = _hunk_range(region[0], region[0] + old.count)
    new_range = _hunk_range(region[2], region[2] + new.count)
    if not (old.show and new.show):
        return [f"@@ -{old_range} +{new_range} @@ compared by digest, not kept to show"]
    out = [f"@@ -{old_range} +{new_range} @@ too big to show whole: its first and last lines"]
    for sign, part in (("-", old), ("+", new)):
        if part.kept is not None:  # this side is small enough: shown whole, unless long
            first = [shown_line(line) for line in part.kept[:SHOW_LINES]]
            last = [shown_line(line) for line in part.kept[SHOW_LINES:][-SHOW_LINES:]]
        else:
            first, last = part.first, list(part.last)
        out += [f"{sign}{line}" for line in first]
        if part.count > len(first) + len(last):
            out.append(f"  … {part.count - len(first) - len(last):,} lines not shown")
        out += [f"{sign}{line}" for line in last]
    return out


def _hunk_range(start: int, stop: int) -> str:
    """difflib.unified_diff's `start,length` of lines [start, stop) (0-based)."""
    length = stop - start
    if length == 1:
        return f"{start + 1}"
    return f"{start + 1 if length else start},{length}"


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
    if step.compared:
        line += f" [compared {step.compared}]"
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
