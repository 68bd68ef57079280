"""A cast as the audience saw it, step by step: the segments between its markers, each
rendered through pyte, for drift diffs and rehearsal baselines.

`recorder` must not import `player`: this module reads casts with the asciinema library
(`read_timeline`) and accepts any cast object through `timeline_of`: `recorder.cast.reader.Cast`,
`recorder.cast.writer.Cast` or a `Timeline`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyte

from .reader import load_cast

START = "(start)"  # the label of whatever a cast prints before its first marker
DEFAULT_WIDTH = 80


# -- reading -------------------------------------------------------------------------------


@dataclass
class Timeline:
    """What a diff needs of a cast: its width and its (time, code, data) events, in order."""

    cols: int
    events: list[tuple[float, str, str]]
    path: str = ""


def timeline_of(cast: Any) -> Timeline:
    """A Timeline from a cast as read (`reader.Cast`) or written (`writer.Cast`)."""
    if isinstance(cast, Timeline):
        return cast
    if hasattr(cast, "header"):  # reader.Cast: a file as read, events as tuples
        cols = int(cast.header.get("width") or DEFAULT_WIDTH)
        events = [(float(t), str(code), str(data)) for t, code, data in cast.events]
        return Timeline(cols, events, str(getattr(cast, "path", "")))
    # recorder.cast.writer.Cast: sorted by time, as the writer writes the file
    events = [(e.t, e.code, e.data) for e in sorted(cast.events, key=lambda e: e.t)]
    return Timeline(int(cast.cols), events)


def read_timeline(path: str | Path) -> Timeline:
    """Read a v1/v2 cast file, or raise CastReadError."""
    return timeline_of(load_cast(path))


# -- segments ------------------------------------------------------------------------------


@dataclass
class Segment:
    index: int  # 1-based marker number; 0 for the output before the first marker
    label: str
    text: str  # rendered, lines rstripped, trailing blank lines dropped
    duration: float


class _Screen(pyte.Screen):
    """A pyte screen that remembers which rows the terminal wrapped (autowrap, not a newline)."""

    def __init__(self, cols: int, rows: int) -> None:
        super().__init__(cols, rows)
        self.wrapped: set[int] = set()
        self._drawing = False

    def draw(self, data: str) -> None:
        self._drawing = True  # a line feed while drawing is pyte's own autowrap
        try:
            super().draw(data)
        finally:
            self._drawing = False

    def linefeed(self) -> None:
        if self._drawing:
            self.wrapped.add(self.cursor.y)
        super().linefeed()

    def erase_in_display(self, how: int = 0, *args: Any, **kwargs: Any) -> None:
        if how in (2, 3):  # a cleared screen forgets its wraps
            self.wrapped.clear()
        super().erase_in_display(how, *args, **kwargs)


def render(data: str, cols: int) -> str:
    """The text `data` leaves on a fresh screen `cols` wide that is tall enough never to scroll.

    Rows the terminal wrapped are joined again, as the line was printed, so a value split by
    the wrap is masked whole (and the diff shows lines, not rows)."""
    # Every line feed, and every `cols` characters of autowrap, can take a row (an upper bound).
    rows = data.count("\n") + data.count("\x0b") + data.count("\x0c") + len(data) // cols + 2
    screen = _Screen(cols, rows)
    pyte.Stream(screen).feed(data)
    lines: list[str] = []
    for y, row in enumerate(screen.display):
        if y - 1 in screen.wrapped:
            lines[-1] += row  # keep the spaces a wrap fell on: only the line's end is stripped
        else:
            lines.append(row)
    lines = [line.rstrip() for line in lines]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def segments(timeline: Timeline) -> list[Segment]:
    """The cast cut at its markers; `(start)` only when something was printed before the first."""
    events = timeline.events
    end = events[-1][0] if events else 0.0
    bounds = [i for i, (_, code, _) in enumerate(events) if code == "m"]
    out: list[Segment] = []
    first = bounds[0] if bounds else len(events)
    before = "".join(data for _, code, data in events[:first] if code == "o")
    if before:
        start_end = events[first][0] if bounds else end
        out.append(Segment(0, START, render(before, timeline.cols), start_end))
    for n, at in enumerate(bounds):
        stop = bounds[n + 1] if n + 1 < len(bounds) else len(events)
        data = "".join(d for _, code, d in events[at + 1 : stop] if code == "o")
        until = events[stop][0] if stop < len(events) else end
        out.append(
            Segment(n + 1, events[at][2], render(data, timeline.cols), until - events[at][0])
        )
    return out
