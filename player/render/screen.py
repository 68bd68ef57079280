"""The terminal a cast is played on for rendering: pyte, with what a picture needs on top.

- 256-colour SGR 0-15 (`38;5;1`) are the theme's ANSI colours, as in a real terminal (pyte
  turns them into xterm's fixed RGB values);
- the alternate screen (`?1049h`, `?1047h`, `?47h`): a full-screen program draws on its own
  buffer and the shell's screen is back, as it was, when it leaves;
- `scrolled` counts the lines the whole screen scrolled up, so the SVG writer can move its
  view instead of redrawing every row;
- `snapshot()`: the screen as immutable rows, rebuilt only for the rows pyte marked dirty,
  so an unchanged row is the same object from one frame to the next;
- plain text is drawn a run at a time (`recorder.shell.pyte_draw`), as pyte draws it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pyte
from pyte.screens import Char, StaticDefaultDict

from recorder.shell.pyte_draw import FastDraw

Row = tuple[Char, ...]
ALT_SCREEN_MODES = frozenset({1049, 1047, 47})


@dataclass(frozen=True)
class Snapshot:
    rows: tuple[Row, ...]
    cursor: tuple[int, int] | None  # (x, y), None when hidden
    scrolled: int  # lines the whole screen has scrolled up so far


class RenderScreen(FastDraw):
    def __init__(self, cols: int, rows: int) -> None:
        self.scrolled = 0
        self._main: tuple[Any, ...] | None = None
        self._rows: list[Row] = []
        super().__init__(cols, rows)
        self._rows = [self._row(y) for y in range(self.lines)]
        self.dirty.clear()

    # -- colours --------------------------------------------------------------------------

    def select_graphic_rendition(self, *attrs: int, **kwargs: Any) -> None:
        out: list[int] = []
        i = 0
        while i < len(attrs):
            attr = attrs[i]
            if attr in (38, 48) and i + 2 < len(attrs) and attrs[i + 1] == 5:
                index = attrs[i + 2]
                if 0 <= index < 16:  # the theme's colour, as SGR 30-37/90-97 (40-47/100-107)
                    base = (30 if attr == 38 else 40) if index < 8 else (90 if attr == 38 else 100)
                    out.append(base + index % 8)
                else:
                    out.extend(attrs[i : i + 3])
                i += 3
                continue
            if attr in (38, 48) and i + 4 < len(attrs) and attrs[i + 1] == 2:
                out.extend(attrs[i : i + 5])
                i += 5
                continue
            out.append(attr)
            i += 1
        super().select_graphic_rendition(*out)

    # -- scrolling ------------------------------------------------------------------------

    def index(self) -> None:
        top, bottom = self.margins or (0, self.lines - 1)
        if self.cursor.y == bottom and top == 0 and bottom == self.lines - 1 and not self.in_alt:
            self.scrolled += 1
        super().index()

    # -- the alternate screen -------------------------------------------------------------

    @property
    def in_alt(self) -> bool:
        return self._main is not None

    def set_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private") and ALT_SCREEN_MODES & set(modes):
            self._enter_alt()
            modes = tuple(m for m in modes if m not in ALT_SCREEN_MODES)
        super().set_mode(*modes, **kwargs)

    def reset_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private") and ALT_SCREEN_MODES & set(modes):
            self._leave_alt()
            modes = tuple(m for m in modes if m not in ALT_SCREEN_MODES)
        super().reset_mode(*modes, **kwargs)

    def reset(self) -> None:
        self._main = None
        super().reset()
        self.dirty.update(range(self.lines))

    def _enter_alt(self) -> None:
        if self._main is not None:
            return
        self._main = (self.buffer, self.cursor, self.margins)
        cursor = pyte.screens.Cursor(self.cursor.x, self.cursor.y, self.cursor.attrs)
        cursor.hidden = self.cursor.hidden
        self.cursor = cursor
        default = self.default_char
        self.buffer = defaultdict(lambda: StaticDefaultDict[int, Char](default))
        self.margins = None
        self.dirty.update(range(self.lines))

    def _leave_alt(self) -> None:
        if self._main is None:
            return
        self.buffer, self.cursor, self.margins = self._main
        self._main = None
        self.dirty.update(range(self.lines))

    # -- sizes ----------------------------------------------------------------------------

    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        super().resize(lines, columns)
        self.dirty.update(range(self.lines))

    # -- what it shows --------------------------------------------------------------------

    def _row(self, y: int) -> Row:
        line = self.buffer[y]
        return tuple(line[x] for x in range(self.columns))

    def snapshot(self) -> Snapshot:
        rows = self._rows
        if len(rows) != self.lines:
            rows[:] = (rows + [()] * self.lines)[: self.lines]
            self.dirty.update(range(self.lines))
        for y in self.dirty:
            if 0 <= y < self.lines:
                row = self._row(y)
                if row != rows[y]:
                    rows[y] = row
        self.dirty.clear()
        cursor = None
        if not self.cursor.hidden:
            cursor = (min(self.cursor.x, self.columns - 1), min(self.cursor.y, self.lines - 1))
        return Snapshot(tuple(rows), cursor, self.scrolled)


def play_on(screen: RenderScreen, stream: pyte.Stream, code: str, data: str) -> None:
    """One event: output is fed to the terminal, a resize ("COLSxROWS") resizes it."""
    if code == "o":
        stream.feed(data)
    elif code == "r":
        cols, _, rows = data.partition("x")
        if cols.isdigit() and rows.isdigit() and int(cols) > 0 and int(rows) > 0:
            screen.resize(int(rows), int(cols))


def new_terminal(cols: int, rows: int) -> tuple[RenderScreen, pyte.Stream]:
    screen = RenderScreen(cols, rows)
    return screen, pyte.Stream(screen)
