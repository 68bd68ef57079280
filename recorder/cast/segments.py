"""A cast as the audience saw it, step by step: the segments between its markers
(`Cast.segments`), each played through pyte (`recorder.cast.seen`), for drift diffs and
rehearsal baselines: what each step left on screen, and what it showed and took away.

Any `recorder.cast.model.Cast` will do: one read from a file (`load_cast`) or the one a run
is recording (`CastRecording.to_cast`); so will a `recorder.cast.reader.CastStream`, whose
events are read once, as a stream, one step at a time.

A step holds what it printed until it is played, up to `seen.EMULATE_UP_TO` characters. A
step that prints more (a 100 MB log) is read as plain text as it streams (`seen.PlainLines`)
and reduced to a `LineDigest`: its size, its first and last lines, and digests of its text in
blocks of lines. What it printed is never held whole: memory stays flat however much a step
prints. The diff compares digests, and reads again only the blocks that differ
(`LineDigest.reread`).
"""

from __future__ import annotations

import hashlib
import itertools
import operator
import zlib
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .model import Cast, Event
from .seen import EMULATE_UP_TO, PlainLines, watch

if TYPE_CHECKING:
    from .reader import CastStream

START = "(start)"  # the label of whatever a cast prints before its first marker
DEFAULT_WIDTH = 80


# Between what a step showed and took away and what it left on screen, in a step's text.
GONE = "── shown, then cleared or redrawn ──"
LEFT = "── on screen at the end ──"

HEAD_LINES = TAIL_LINES = 20  # lines of a huge step kept to show, at each end
SHOW_CHARS = 400  # characters of such a line kept to show
# A huge step's text is digested in blocks of whole lines of at least this many characters.
# A block ends at a line chosen by its content (1 in 16), so that lines added or removed in
# one place shift the blocks after it, not their digests; at 4 times this size, at any line.
BLOCK_CHARS = 64 << 10
MAX_BLOCKS = 1 << 13  # beyond (512 MB of text), neighbouring blocks merge: digests stay small

Block = tuple[bytes, int, int]  # a block's digest, its lines, its characters (line feeds too)


@dataclass
class RenderedSegment:
    index: int  # 1-based marker number; 0 for the output before the first marker
    label: str
    final: str  # the screen at the end: lines rstripped, trailing blank lines dropped
    duration: float
    transient: list[str] = field(default_factory=list)  # shown, then cleared or redrawn
    # A huge step (more than EMULATE_UP_TO characters): its plain text, reduced; `final`
    # then shows its first and last lines only.
    digest: LineDigest | None = None

    @property
    def text(self) -> str:
        """Everything the step showed: the final screen, after what went by when anything did."""
        return self.view(lambda line: line)

    def view(self, clean: Callable[[str], str], *, once: bool = False) -> str:
        """`text` with `clean` applied to each part; `once`: a transient line that comes back
        (a redraw of the same thing, once masked) is kept the first time only."""
        final = clean(self.final)
        if not self.transient:
            return final
        gone = [clean(line) for line in self.transient]
        if once:
            gone = list(dict.fromkeys(gone))
        return "\n".join([GONE, *gone, LEFT, final])


class LineDigest:
    """A text reduced, as its lines stream in, to what comparing it needs: how many lines
    and characters, its first and last lines (to show), and the digests of consecutive blocks
    of its lines (to compare, and to find where two texts differ). `reread` gives its lines
    again, in chunks, for the blocks that differ. Trailing blank lines are dropped, as from
    a screen's text."""

    def __init__(self, reread: Callable[[], Iterator[list[str]]]) -> None:
        self.reread = reread
        self.lines = 0
        self.chars = 0  # the text's length, line feeds between its lines included
        self.head: list[str] = []
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)  # the last lines after the head
        self.blocks: list[Block] = []
        self._block: list[str] = []
        self._block_chars = 0
        self._min = BLOCK_CHARS
        self._blank = 0  # blank lines not yet taken: trailing ones are dropped

    @classmethod
    def of_text(cls, text: str) -> LineDigest:
        """A text held whole (a step played on a screen), to compare with a huge one."""
        lines = text.split("\n")
        digest = cls(lambda: iter([lines]))
        digest.add(lines)
        return digest.finish()

    def add(self, lines: list[str]) -> None:
        end = len(lines)
        while end and not lines[end - 1]:
            end -= 1
        if not end:
            self._blank += len(lines)
            return
        while self._blank:  # blank lines between lines are lines (in batches: they may be many)
            n = min(self._blank, 1 << 16)
            self._blank -= n
            self._take([""] * n)
        self._take(lines if end == len(lines) else lines[:end])
        self._blank = len(lines) - end

    def finish(self) -> LineDigest:
        if self._block:
            self._close_block()
        self._blank = 0
        return self

    def _take(self, lines: list[str]) -> None:
        first = self.lines
        self.lines += len(lines)
        self.chars += sum(map(len, lines)) + len(lines) - (0 if first else 1)
        rest = lines
        if first < HEAD_LINES:
            self.head += [shown_line(line) for line in lines[: HEAD_LINES - first]]
            rest = lines[HEAD_LINES - first :]
        self.tail.extend(shown_line(line) for line in rest[-TAIL_LINES:])
        # ends[k]: the characters of lines[: k + 1], line feeds included
        ends = list(itertools.accumulate(map(operator.add, map(len, lines), itertools.repeat(1))))
        start = 0
        while start < len(lines):
            before = ends[start - 1] if start else 0
            stop, whole = self._block_end(lines, ends, start, before)
            self._block += lines[start:stop]
            self._block_chars += ends[stop - 1] - before
            if not whole:
                return
            self._close_block()
            start = stop

    def _block_end(
        self, lines: list[str], ends: list[int], start: int, before: int
    ) -> tuple[int, bool]:
        """Where the open block, continued with lines[start:], ends (just after the line that
        ends it, and True), else (len(lines), False)."""
        at = before - self._block_chars  # where the open block started, in `ends`' terms
        first = bisect_left(ends, at + self._min, start)  # the first line that may end it
        last = bisect_left(ends, at + 4 * self._min, first)  # the line that does, at the latest
        stop = min(last + 1, len(lines))
        # 1 line in 16 ends a block, by its checksum: each different line of a window is
        # checksummed once (a line printed 1000 times over is not checksummed 1000 times).
        for window_at in range(first, stop, 64):
            window = lines[window_at : min(window_at + 64, stop)]
            ends_block = {
                line
                for line in dict.fromkeys(window)
                if zlib.crc32(line.encode("utf-8", "surrogatepass")) & 15 == 0
            }
            if ends_block:
                k = next(k for k, line in enumerate(window) if line in ends_block)
                return window_at + k + 1, True
        return (last + 1, True) if last < len(lines) else (len(lines), False)

    def _close_block(self) -> None:
        text = "\n".join(self._block).encode("utf-8", "surrogatepass")
        digest = hashlib.blake2b(text, digest_size=16).digest()
        self.blocks.append((digest, len(self._block), self._block_chars))
        self._block, self._block_chars = [], 0
        if len(self.blocks) > MAX_BLOCKS:
            pairs = zip(self.blocks[::2], self.blocks[1::2], strict=False)
            merged = [
                (hashlib.blake2b(a[0] + b[0], digest_size=16).digest(), a[1] + b[1], a[2] + b[2])
                for a, b in pairs
            ]
            self.blocks = merged + self.blocks[len(merged) * 2 :]
            self._min *= 2

    @property
    def size(self) -> str:
        """`500,000 lines, 100.0 MB`."""
        return f"{self.lines:,} lines, {_megabytes(self.chars)}"

    def shown(self) -> str:
        """The first and last lines, and how many there were between them."""
        between = self.lines - len(self.head) - len(self.tail)
        middle = [f"── {between:,} more lines, compared by digest ──"] if between else []
        return "\n".join([*self.head, *middle, *self.tail])


def shown_line(line: str) -> str:
    """A huge step's line as shown: its first SHOW_CHARS characters, and how many more."""
    if len(line) <= SHOW_CHARS:
        return line
    return f"{line[:SHOW_CHARS]}… ({len(line) - SHOW_CHARS:,} more characters)"


def _megabytes(chars: int) -> str:
    return f"{chars / (1 << 20):.1f} MB"


def render(data: str, cols: int) -> str:
    """The text `data` leaves on a fresh screen `cols` wide, what scrolled off its top included
    (what is left at the end, not what went by: see `seen.watch`)."""
    return watch([(0.0, "o", data)], cols).final


def segments(cast: Cast | CastStream) -> list[RenderedSegment]:
    """The cast's segments rendered at its width; `(start)` only when something was printed
    before the first marker. The events are read once, in order; a step is held until it is
    rendered, a huge one only as its digest."""
    head, events = _opened(cast)
    cols = head.width or DEFAULT_WIDTH
    out: list[RenderedSegment] = []
    step = _Step(0, START, 0.0, events)
    last = 0.0
    for event in events():
        last = event[0]
        if event[1] == "m":
            out += step.rendered(event[0], cols, head.height)
            step = _Step(step.index + 1, event[2], event[0], events)
        else:
            step.add(event)
    return out + step.rendered(last, cols, head.height)


def _opened(cast: Cast | CastStream) -> tuple[Cast, Callable[[], Iterator[Event]]]:
    """The cast's header (a Cast, for its typed fields), and a way to read its events, again."""
    if isinstance(cast, Cast):
        held = cast
        return held, lambda: iter(held.events)
    return cast.head, cast.events


class _Step:
    """One segment as its events stream in: held until it is rendered, unless it prints more
    than EMULATE_UP_TO characters, from when on it is read as plain text into a digest."""

    def __init__(
        self, index: int, label: str, start: float, events: Callable[[], Iterator[Event]]
    ) -> None:
        self.index, self.label, self.start = index, label, start
        self.events: list[Event] = []
        self.printed = 0  # characters of output
        self.plain: PlainLines | None = None
        self.digest: LineDigest | None = None
        self._source = events

    def add(self, event: Event) -> None:
        _, code, data = event
        if code == "o":
            self.printed += len(data)
        if self.plain is not None and self.digest is not None:
            if code == "o" and (lines := self.plain.feed(data)):
                self.digest.add(lines)
            return
        self.events.append(event)
        if self.printed > EMULATE_UP_TO:  # too much to play on a screen: digest it from here
            self.plain, self.digest = PlainLines(), LineDigest(_reread(self._source, self.index))
            for _, code, data in self.events:
                if code == "o":
                    self.digest.add(self.plain.feed(data))
            self.events = []

    def rendered(self, end: float, cols: int, rows: int | None) -> list[RenderedSegment]:
        if self.index == 0 and not self.printed:
            return []
        duration = end - self.start
        if self.plain is not None and self.digest is not None:
            self.digest.add(self.plain.close())
            digest = self.digest.finish()
            return [RenderedSegment(self.index, self.label, digest.shown(), duration, [], digest)]
        seen = watch(self.events, cols, rows)
        return [RenderedSegment(self.index, self.label, seen.final, duration, seen.transient)]


def _reread(events: Callable[[], Iterator[Event]], index: int) -> Callable[[], Iterator[list[str]]]:
    """The plain-text lines of segment `index`, read again from the cast, in chunks."""

    def lines() -> Iterator[list[str]]:
        plain = PlainLines()
        stream = events()
        try:
            marker = 0
            for _, code, data in stream:
                if code == "m":
                    marker += 1
                    if marker > index:
                        break
                elif marker == index and code == "o" and (chunk := plain.feed(data)):
                    yield chunk
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # a file's reader stopped early: its file is closed now
        yield plain.close()

    return lines
