"""A cast as the audience saw it, step by step: the segments between its markers
(`Cast.segments`), each rendered through pyte, for drift diffs and rehearsal baselines.

Any `recorder.cast.model.Cast` will do: one read from a file (`load_cast`) or the one a run
is recording (`CastRecording.to_cast`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyte

from .model import Cast

START = "(start)"  # the label of whatever a cast prints before its first marker
DEFAULT_WIDTH = 80


@dataclass
class RenderedSegment:
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


def segments(cast: Cast) -> list[RenderedSegment]:
    """The cast's segments rendered at its width; `(start)` only when something was printed
    before the first marker."""
    cols = cast.width or DEFAULT_WIDTH
    return [
        RenderedSegment(
            seg.index, seg.label if seg.marker else START, render(seg.output, cols), seg.duration
        )
        for seg in cast.segments
        if seg.marker is not None or seg.output
    ]
