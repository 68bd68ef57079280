"""A clip played through the terminal, cut into frames.

Time is cut into ticks of 1/fps s. After the events of one tick have been played, the
screen is taken as that tick's frame, shown from the tick's start. A frame the same as the
one before (same rows, same cursor) is not a new frame: its time goes to the one shown, so
idle stretches and events that change nothing cost nothing. The last frame is held for
`hold` seconds after the clip's end, so a looping GIF shows the end before it starts over.

`View` crops what is shown: `--cols N` keeps the first N columns, `--rows N` a window of N
rows that follows the cursor, as a shorter terminal would have scrolled.

A `Terminal` already at the clip's start can be given instead of a new one: the gallery
(`gallery.py`) plays every chapter on one terminal, one after the other, so no chapter replays
the ones before it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .screen import RenderScreen, Snapshot, new_terminal, play_on
from .timeline import Clip

END_HOLD = 2.0  # seconds the last frame stays up after the clip's end

# A terminal and how to play an event on it.
Terminal = tuple[RenderScreen, Callable[[str, str], None]]


@dataclass(frozen=True)
class Frame:
    start: float  # seconds from the clip's start
    duration: float
    snap: Snapshot


@dataclass
class View:
    """The part of the screen shown: `cols` columns from the left, `rows` rows from `top`."""

    cols: int | None = None
    rows: int | None = None
    top: int = 0

    def size(self, cols: int, rows: int) -> tuple[int, int]:
        return min(self.cols or cols, cols), min(self.rows or rows, rows)

    def apply(self, snap: Snapshot) -> Snapshot:
        rows, cursor = snap.rows, snap.cursor
        if self.rows is not None and self.rows < len(rows):
            if cursor is not None:
                y = cursor[1]
                if y < self.top:
                    self.top = y
                elif y >= self.top + self.rows:
                    self.top = y - self.rows + 1
            self.top = max(0, min(self.top, len(rows) - self.rows))
            rows = rows[self.top : self.top + self.rows]
            if cursor is not None:
                y = cursor[1] - self.top
                cursor = (cursor[0], y) if 0 <= y < self.rows else None
        if self.cols is not None and any(len(r) > self.cols for r in rows):
            rows = tuple(r[: self.cols] for r in rows)
            if cursor is not None and cursor[0] >= self.cols:
                cursor = None
        if rows is snap.rows and cursor is snap.cursor:
            return snap
        return Snapshot(rows, cursor, snap.scrolled + self.top)


def new_player(cols: int, rows: int) -> Terminal:
    """A blank terminal, and how to play an event on it."""
    screen, stream = new_terminal(cols, rows)

    def play(code: str, data: str) -> None:
        play_on(screen, stream, code, data)

    return screen, play


def prepare(clip: Clip, terminal: Terminal | None = None) -> Terminal:
    """A terminal at the clip's start: a new one with the clip's prelude played on it, or
    `terminal`, already there (the clip's prelude is then not played)."""
    if terminal is not None:
        return terminal
    screen, play = new_player(clip.cols, clip.rows)
    for _, code, data in clip.prelude:
        play(code, data)
    return screen, play


def frames(
    clip: Clip,
    fps: float,
    view: View | None = None,
    *,
    hold: float = END_HOLD,
    progress: Callable[[float], None] | None = None,
    terminal: Terminal | None = None,
) -> Iterator[Frame]:
    """The clip's distinct frames, in order, each with its start and duration; the clip's
    events are played on `terminal` when given (see `prepare`)."""
    view = view or View()
    screen, play = prepare(clip, terminal)
    tick = 1.0 / fps

    def shot() -> Snapshot:
        return view.apply(screen.snapshot())

    shown = shot()
    shown_at = 0.0
    bucket = 0
    for n, (t, code, data) in enumerate(clip.events):
        b = math.floor(t * fps + 1e-9)
        if b != bucket:
            snap = shot()
            if snap.rows != shown.rows or snap.cursor != shown.cursor:
                start = bucket * tick
                if start > shown_at:
                    yield Frame(shown_at, start - shown_at, shown)
                shown, shown_at = snap, start
            bucket = b
            if progress is not None and n % 64 == 0:
                progress(t)
        play(code, data)
    snap = shot()
    if snap.rows != shown.rows or snap.cursor != shown.cursor:
        start = bucket * tick
        if start > shown_at:
            yield Frame(shown_at, start - shown_at, shown)
        shown, shown_at = snap, start
    end = max(clip.duration, shown_at) + max(hold, tick)
    yield Frame(shown_at, end - shown_at, shown)


def screen_at(
    clip: Clip, at: float | None, view: View | None = None, terminal: Terminal | None = None
) -> Snapshot:
    """The screen after every event up to `at` seconds (None: the clip's end)."""
    view = view or View()
    screen, play = prepare(clip, terminal)
    for t, code, data in clip.events:
        if at is not None and t > at:
            break
        play(code, data)
    return view.apply(screen.snapshot())
