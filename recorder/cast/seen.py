"""Everything the audience saw while a stretch of output played, not only what it left behind.

A step's last screen misses what the step showed and then took away: a trailing `clear`, a
progress bar that redraws one line, a TUI (less, top, k9s, `watch`) on the alternate screen
that leaves nothing behind when it quits. So the output is played event by event through pyte
and, whenever something that had been on screen long enough to be seen is overwritten or
erased, it is kept as a *transient* line, in the order it went away. What is on screen at the
end is the *final* text, as before.

- The main screen is as wide and as tall as the cast's terminal (taller after a resize to a
  taller one; it never shrinks). A line feed on its bottom row scrolls its top row off, as
  the audience saw it, into the scrollback, where no escape sequence reaches it again: a row
  that scrolled off is final, and is kept as text (`_Scrollback`), not as pyte's cells. So
  nothing is lost (the final text is the scrollback, then the screen), and memory follows
  what was printed, not rows x columns of cells: 4 MB of lines take megabytes, not the
  gigabyte a screen tall enough never to scroll took. Rows are numbered from the first one
  printed (`_Window`): a scroll moves none.
- Each row keeps its fullest content since it was last replaced: a row that only grows
  (typing, a line being printed) loses nothing; a row replaced by different text (a `\\r`
  redraw, a cursor move and overwrite) gives up its old content; a cleared screen (ED 2 or 3,
  a reset) gives up every row, the scrollback's too, joined where the terminal had wrapped
  them, and what is printed after it is the text from then on.
- The screen that never scrolled gave the same texts, except where a cast reaches past the
  screen the audience saw: a cursor moved above what scrolled off (a cursor position, a move
  up, a restore) or below the bottom row, ED 1 or a scroll region after a scroll, a line
  inserted or deleted at the bottom, the alternate screen entered with the cursor above the
  bottom row, a clear not at the top after a scroll (fewer blank lines before the text). A
  real terminal, and now this screen, keeps all that on screen.
- The alternate screen (`?1049h`, `?1047h`, `?47h`) is the cast's own height, and is kept in
  whole frames: the screen as it stood before a redraw replaced something on it, and as it
  stood when the program left it.
- Content counts as seen when it stayed up for at least `SEEN_AFTER` seconds, so a frame
  caught half-redrawn between two reads of the terminal is not kept: it depends on the
  recording's timing, not on what was shown.

A step that prints more than `EMULATE_UP_TO` characters is read as plain text instead
(`watch`). `PlainLines` gives that reading line by line while the output streams in, holding
only the line being printed, for a step too big to hold (`recorder.cast.segments`).
"""

from __future__ import annotations

import itertools
import math
import re
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyte
from pyte.screens import Char, StaticDefaultDict

from recorder.shell.output_cleaner import plain_text
from recorder.shell.pyte_compat import tolerate_private_csi
from recorder.shell.pyte_draw import FastDraw

SEEN_AFTER = 0.04  # seconds: one frame at 25 fps
EMULATE_UP_TO = 4 << 20  # characters of one step's output played through the emulator
# Characters of one line of a huge step held at once (PlainLines): a longer line is cut there.
MAX_LINE = 1 << 20
PLAIN_CHUNK = 1 << 18  # characters of a huge step's output read as plain text at a time
ALT_SCREEN_MODES = frozenset({1049, 1047, 47})
REVERSE_VIDEO = 5  # DECSCNM, a private mode
DEFAULT_WIDTH, DEFAULT_HEIGHT = 80, 24
SCROLLBACK_CHUNK = 1024  # rows that scrolled off, joined into one string: a row costs its text


@dataclass
class Seen:
    transient: list[str] = field(default_factory=list)  # what went away, in that order
    final: str = ""  # the screen at the end: lines rstripped, trailing blank lines dropped


@dataclass(slots=True)
class _Row:
    text: str  # the row's fullest content since it was last replaced
    since: float  # when it last changed


Line = StaticDefaultDict[int, Char]  # a pyte row: its written cells by column
Cells = str | tuple[str, ...]  # a row's cells' characters, a str when each cell holds one

# A scrolled-off row's `since` until the next settle, which gives it its time (`_scroll`).
_UNSETTLED = math.nan
_NO_ROW = -math.inf  # a scrolled-off row that had no _Row: as one with no text


def _blank_buffer(default: Char) -> defaultdict[int, Line]:
    return defaultdict(lambda: StaticDefaultDict[int, Char](default))


def _cell_data(line: Mapping[int, Char] | None) -> list[str]:
    """A row's cells' characters by column, a blank where none was written (past the screen's
    width too: a narrower alternate screen leaves them)."""
    if not line:
        return []
    data = [" "] * (max(line) + 1)
    for x, char in line.items():
        data[x] = char.data
    return data


def _line_text(line: Mapping[int, Char] | None, columns: int) -> str:
    """A row as text, as a screen `columns` wide shows it."""
    return "".join(_cell_data(line)[:columns]).rstrip()


def _compact(data: Cells | list[str]) -> Cells:
    """Cells' characters, trailing blank cells dropped: a str when each cell holds one."""
    text = "".join(data)
    if isinstance(data, str) or (len(text) == len(data) and "" not in data):
        return text.rstrip(" ")
    end = len(data)
    while end and data[end - 1] == " ":
        end -= 1
    return tuple(data[:end])


def _joined(cells: Cells, columns: int | None = None) -> str:
    """The text of a row's first `columns` cells (all of them: None)."""
    shown = cells[:columns]
    return shown if isinstance(shown, str) else "".join(shown)


class _Window(dict[int, Line]):
    """The main screen's rows as pyte reads and writes them: `buffer[y]` is row `y` from the
    top of the screen. They are held by their number in the step's text, `top + y`, so that a
    scroll adds one to `top` and moves no row; `at` reads a row by that number."""

    def __init__(self, default: Callable[[], Char]) -> None:
        super().__init__()
        self.top = 0
        self._default = default

    def __getitem__(self, y: int) -> Line:
        try:  # pyte reads the cursor's row for every run of text drawn
            return dict.__getitem__(self, self.top + y)
        except KeyError:
            line = StaticDefaultDict[int, Char](self._default())
            dict.__setitem__(self, self.top + y, line)
            return line

    def __setitem__(self, y: int, line: Line) -> None:
        super().__setitem__(self.top + y, line)

    def __contains__(self, y: object) -> bool:
        return isinstance(y, int) and super().__contains__(self.top + y)

    def get(self, y: int, default: Any = None) -> Any:
        return super().get(self.top + y, default)

    def pop(self, y: int, *default: Any) -> Any:
        return super().pop(self.top + y, *default)

    def at(self, row: int) -> Line | None:
        return super().get(row)


class _Dirty(set[int]):
    """pyte's dirty rows of the main screen, by their number in the step's text (`_Window`):
    rows marked before a scroll are still the right ones after it."""

    def __init__(self, window: _Window) -> None:
        super().__init__()
        self._window = window

    def add(self, y: int) -> None:
        super().add(self._window.top + y)

    def update(self, *rows: Iterable[int]) -> None:
        top = self._window.top
        for ys in rows:
            super().update(top + y for y in ys)


class _Scrollback:
    """The rows that scrolled off the top of the main screen, oldest first: rows `base`,
    `base + 1`, ... of the step's text. No escape sequence reaches them again, so each is kept
    as its cells' characters (`SCROLLBACK_CHUNK` rows joined into one string), and what the
    row bookkeeping needs (`_Row`): when it last changed, and its fullest text where that is
    not the text of its cells. They are only ever read in order."""

    def __init__(self, base: int) -> None:
        self.base = base
        self._chunks: list[str | list[Cells]] = []  # a chunk's rows, joined when plain text
        self._tail: list[Cells] = []  # the rows after the last chunk
        self.since = array("d")
        self.fullest: dict[int, str] = {}  # index -> its _Row's text, where not its cells'
        self._unsettled = 0  # rows from here on may wait for the next settle to have a time
        # pyte marked every row of the screen dirty (reverse video, 132 columns): these too.
        self.touched = False

    def __len__(self) -> int:
        return len(self.since)

    def cells(self) -> Iterator[Cells]:
        """Every row's cells, oldest first."""
        for chunk in self._chunks:
            yield from chunk.split("\n") if isinstance(chunk, str) else chunk
        yield from self._tail

    def _store(self, cells: Cells) -> None:
        self._tail.append(cells)
        if len(self._tail) == SCROLLBACK_CHUNK:
            rows, self._tail = self._tail, []
            plain = [cells for cells in rows if isinstance(cells, str)]
            joined = "\n".join(plain)
            whole = len(plain) == len(rows) and joined.count("\n") == len(rows) - 1
            self._chunks.append(joined if whole else rows)

    def append(self, cells: Cells, row: _Row | None) -> None:
        if row is None:
            self.since.append(_NO_ROW)
        else:
            self.since.append(row.since)
            if row.text != _joined(cells).rstrip():
                self.fullest[len(self.since) - 1] = row.text
        self._store(cells)

    def _each(self) -> Iterator[tuple[int, Cells, str, float]]:
        """(index, cells, fullest text, since) of every row."""
        fullest = self.fullest
        for i, (cells, since) in enumerate(zip(self.cells(), self.since, strict=True)):
            text = "" if since == _NO_ROW else fullest.get(i)
            yield i, cells, _joined(cells).rstrip() if text is None else text, since

    def settle(self, now: float, columns: int) -> list[tuple[int, _Row]]:
        """The rows changed since the last settle (they scrolled off since) changed `now`, as
        on a screen that never scrolls; when touched, every row is settled again, as such a
        screen would: the rows it replaced, by number, to give up."""
        since = self.since
        gone: list[tuple[int, _Row]] = []
        if self.touched:
            self.touched = False
            for i, cells, old, at in self._each():
                if math.isnan(at):
                    continue  # settled as it scrolled off, since the last settle
                text = _joined(cells, columns).rstrip()
                if not text.startswith(old):
                    if old.startswith(text):
                        continue  # cut short
                    gone.append((self.base + i, _Row(old, at)))
                since[i] = now
                if text == _joined(cells).rstrip():
                    self.fullest.pop(i, None)
                else:
                    self.fullest[i] = text
        for i in range(self._unsettled, len(since)):
            if math.isnan(since[i]):
                since[i] = now
        self._unsettled = len(since)
        return gone

    def rows(self) -> Iterator[tuple[int, str, float]]:
        """(number, fullest text, since) of every row."""
        for i, _, text, since in self._each():
            yield self.base + i, text, since

    def cut_short(self, columns: int) -> Iterator[_Row]:
        """The rows whose text, `columns` wide, is not their fullest (never grown back)."""
        for i, cells, text, since in self._each():
            if len(cells) <= columns and i not in self.fullest:
                continue  # its text is its fullest
            if _joined(cells, columns).rstrip() != text:
                yield _Row(text, since)

    def narrow(self, columns: int, was: int) -> None:
        """pyte drops the cells from a narrower width to the old one (not past it) from every
        row of the screen: so here. A row's fullest text stays what it was."""
        rows = list(self.cells())
        self._chunks, self._tail = [], []
        for i, cells in enumerate(rows):
            if len(cells) > columns:
                fullest = self.fullest.pop(i, _joined(cells).rstrip())
                blank = (" ",) * (min(len(cells), was) - columns)
                cells = _compact((*cells[:columns], *blank, *cells[was:]))
                if self.since[i] != _NO_ROW and fullest != _joined(cells).rstrip():
                    self.fullest[i] = fullest
            self._store(cells)

    def texts(self, columns: int, wrapped: set[int]) -> Iterator[tuple[int, str]]:
        """(number, text) of every row `columns` wide, as `_WatchedScreen.final_text` joins
        them: a wrapped row with the blank cells at its end."""
        for i, cells in enumerate(self.cells()):
            shown = _joined(cells, columns)
            if self.base + i in wrapped:
                yield self.base + i, shown + " " * (columns - min(len(cells), columns))
            else:
                yield self.base + i, shown.rstrip()


@tolerate_private_csi
class _WatchedScreen(FastDraw):
    """A pyte screen that keeps what it is made to take away (see the module docstring)."""

    def __init__(self, cols: int, rows: int) -> None:
        self.seen: list[str] = []
        self.now = 0.0
        self.alt_rows = rows
        self.main_rows = rows
        # Rows (numbered as in the step's text) the terminal wrapped (autowrap, not a newline).
        self.wrapped: set[int] = set()
        self._rows: dict[int, _Row] = {}  # the main screen's, numbered as in the step's text
        self._main: tuple[Any, ...] | None = None  # the main screen while the alt one is up
        self._frame: list[str] = []  # the alternate screen as it last stood
        self._frame_since = 0.0
        self._drawing = False
        self._ready = False
        super().__init__(cols, rows)
        self._window = _Window(lambda: self.default_char)
        self._back = _Scrollback(0)
        # Rows replaced as they scrolled off, by number: given up at the next settle.
        self._gone: list[tuple[int, _Row]] = []
        self.buffer = self._window
        self._main_dirty = _Dirty(self._window)
        self.dirty = self._main_dirty
        self._ready = True

    @property
    def in_alt(self) -> bool:
        return self._main is not None

    # -- pyte hooks -----------------------------------------------------------------------

    def draw(self, data: str) -> None:
        self._drawing = True  # a line feed while drawing is pyte's own autowrap
        try:
            super().draw(data)
        finally:
            self._drawing = False

    def linefeed(self) -> None:
        if self._drawing and not self.in_alt:
            self.wrapped.add(self._window.top + self.cursor.y)
        super().linefeed()

    def index(self) -> None:
        if self.in_alt or self.margins is not None or self.cursor.y != self.lines - 1:
            super().index()
        else:
            self._scroll()

    def erase_in_display(self, how: int = 0, *args: Any, **kwargs: Any) -> None:
        if how in (2, 3) and not self.in_alt:
            self.settle()
            self._give_up_all_rows()  # a cleared screen: everything on it went away at once
            self.wrapped.clear()
        super().erase_in_display(how, *args, **kwargs)

    def reset(self) -> None:
        if self._ready:  # pyte resets once from __init__, before anything is shown
            self.leave_alt()
            self.settle()
            self._give_up_all_rows()
            self.wrapped.clear()
        super().reset()

    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        lines, columns = lines or self.lines, columns or self.columns
        if self._ready and not self.in_alt and (lines, columns) != (self.lines, self.columns):
            if columns < self.columns:
                self._back.narrow(columns, self.columns)  # as pyte does to every row
            self._back.touched = True  # and it marks every row dirty
        super().resize(lines, columns)

    def clear_dirty(self) -> None:
        self.dirty.clear()
        self._back.touched = False

    def set_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private") and ALT_SCREEN_MODES & set(modes):
            self.enter_alt()
            modes = tuple(m for m in modes if m not in ALT_SCREEN_MODES)
        self._touch_reversed(modes, kwargs)
        super().set_mode(*modes, **kwargs)

    def reset_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private") and ALT_SCREEN_MODES & set(modes):
            self.leave_alt()
            modes = tuple(m for m in modes if m not in ALT_SCREEN_MODES)
        self._touch_reversed(modes, kwargs)
        super().reset_mode(*modes, **kwargs)

    def _touch_reversed(self, modes: tuple[int, ...], kwargs: dict[str, Any]) -> None:
        """Reverse video (DECSCNM) marks every row of the screen dirty: the scrollback's too."""
        if kwargs.get("private") and REVERSE_VIDEO in modes and not self.in_alt:
            self._back.touched = True

    # -- the scrollback ---------------------------------------------------------------------

    def _scroll(self) -> None:
        """A line feed on the bottom row: the top row scrolls off, for good. It is settled now
        (its text can no longer change), but its time is the next settle's, as for any row
        changed since the last one, and so is the giving up of what it replaced."""
        window = self._window
        number = window.top
        data = _cell_data(window.pop(0, None))
        row = self._rows.pop(number, None)
        if number in self.dirty:
            self.dirty.discard(number)
            text = "".join(data[: self.columns]).rstrip()
            if row is None or text.startswith(row.text):
                row = _Row(text, _UNSETTLED)
            elif not row.text.startswith(text):
                self._gone.append((number, row))
                row = _Row(text, _UNSETTLED)
        self._back.append(_compact(data), row)
        window.top += 1

    def grow(self, rows: int) -> None:
        """A taller terminal: the main screen gains rows at its bottom (never loses any)."""
        if rows > self.main_rows:
            self.main_rows = rows
            if not self.in_alt:
                self.lines = rows

    # -- the alternate screen ---------------------------------------------------------------

    def enter_alt(self) -> None:
        if self.in_alt:
            return
        self.settle()
        self._main = (self.buffer, self.cursor, self.margins)
        self.cursor = pyte.screens.Cursor(self.cursor.x, min(self.cursor.y, self.alt_rows - 1))
        self.buffer = _blank_buffer(self.default_char)
        self.lines, self.margins = self.alt_rows, None
        self._frame, self._frame_since = [], self.now
        self.dirty = set()

    def leave_alt(self) -> None:
        if self._main is None:
            return
        self.settle()
        self._keep_frame(self._frame, self._frame_since)
        self.buffer, self.cursor, self.margins = self._main
        self.lines = self.main_rows
        self._main = None
        self.dirty = self._main_dirty
        self.dirty.clear()

    def _alt_text(self) -> list[str]:
        return [self.row_text(y) for y in range(self.lines)]

    def _keep_frame(self, frame: list[str], since: float) -> None:
        if self.now - since < SEEN_AFTER:
            return
        lines = list(frame)
        while lines and not lines[-1]:
            lines.pop()
        self.seen.extend(lines)

    # -- after each event -------------------------------------------------------------------

    def row_text(self, y: int) -> str:
        """Row `y` of the screen as text."""
        return _line_text(self.buffer.get(y), self.columns)

    def settle(self) -> None:
        """Take stock after one event: what it replaced was seen when it stood long enough."""
        now = self.now
        if self.in_alt:
            dirty, self.dirty = sorted(self.dirty), set()
            self._settle_alt(dirty)
            return
        # Rows that scrolled off since the last settle come first: they are above the rest.
        self._gone += self._back.settle(now, self.columns)
        for _, gone in sorted(self._gone, key=lambda item: item[0]):
            self._give_up(gone)
        self._gone.clear()
        dirty = sorted(self.dirty)
        self.dirty.clear()
        window = self._window
        for y in dirty:
            if not window.top <= y < window.top + self.lines:
                continue
            text = _line_text(window.at(y), self.columns)
            row = self._rows.get(y)
            if row is None or text.startswith(row.text):
                self._rows[y] = _Row(text, now)  # new, or grown: nothing went away
            elif row.text.startswith(text):
                continue  # cut short (erased, backspaced): it may yet grow back the same
            else:
                self._give_up(row)
                self._rows[y] = _Row(text, now)

    def _settle_alt(self, dirty: list[int]) -> None:
        frame = self._alt_text()
        replaced = any(
            y < len(self._frame) and not frame[y].startswith(self._frame[y])
            for y in dirty
            if y < len(frame)
        )
        if replaced:
            self._keep_frame(self._frame, self._frame_since)
        if replaced or frame != self._frame:
            self._frame, self._frame_since = frame, self.now

    def _give_up(self, row: _Row) -> None:
        if row.text and self.now - row.since >= SEEN_AFTER:
            self.seen.append(row.text)

    def _give_up_all_rows(self) -> None:
        """Every row goes, the scrollback's too: what comes after is the text from then on."""
        rows = itertools.chain(
            self._back.rows(), ((y, row.text, row.since) for y, row in sorted(self._rows.items()))
        )
        # Rows the terminal wrapped are one printed line: give it up whole, so masks see it.
        lines: list[list[str]] = []
        previous = -2
        for y, text, since in rows:
            if not text or self.now - since < SEEN_AFTER:
                previous = -2
                continue
            if previous == y - 1 and previous in self.wrapped:
                lines[-1].append(text)
            else:
                lines.append([text])
            previous = y
        self.seen.extend("".join(parts) for parts in lines)
        self._rows.clear()
        self._back = _Scrollback(self._window.top)

    def finish(self) -> Seen:
        """What was seen, and the screen left at the end."""
        self.settle()
        if self.in_alt:
            final_rows = self._frame  # still up at the end: the last frame is the final text
            self._main = None
            seen = Seen(self.seen, _trim("\n".join(final_rows)))
        else:
            for row in self._back.cut_short(self.columns):
                self._give_up(row)
            for y, row in sorted(self._rows.items()):
                if _line_text(self._window.at(y), self.columns) != row.text:  # cut short for good
                    self._give_up(row)
            seen = Seen(self.seen, self.final_text())
        # Let the rows go: the screen is in reference cycles, which the garbage collector may
        # not break before the next step is played.
        self._back, self._rows = _Scrollback(self._window.top), {}
        self._window.clear()
        return seen

    def final_text(self) -> str:
        """The scrollback, then the screen; a row the terminal wrapped is joined to the next,
        the spaces the wrap fell on kept: only the line's end goes."""
        columns, window = self.columns, self._window

        def screen() -> Iterator[tuple[int, str]]:
            for y in range(window.top, window.top + self.lines):
                line = window.at(y)
                if y not in self.wrapped:
                    yield y, _line_text(line, columns)
                elif not line:
                    yield y, " " * columns
                else:
                    yield y, "".join(line[x].data for x in range(columns))

        # Joined a few thousand lines at a time: a list of a million short lines would be the
        # largest thing a step of them holds.
        chunks: list[str] = []
        lines: list[str] = []
        parts: list[str] = []
        for y, text in itertools.chain(self._back.texts(columns, self.wrapped), screen()):
            parts.append(text)
            if y not in self.wrapped:  # the printed line ends on this row
                lines.append("".join(parts).rstrip())
                parts = []
                if len(lines) == 4096:
                    chunks.append("\n".join(lines))
                    lines = []
        if parts:
            lines.append("".join(parts).rstrip())
        chunks.append("\n".join(lines))
        return "\n".join(chunks).rstrip("\n")  # no line ends in a blank: those are blank lines


def _trim(text: str) -> str:
    lines = text.split("\n")
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def watch(events: Iterable[tuple[float, str, str]], cols: int, rows: int | None = None) -> Seen:
    """Play `events` ((time, code, data); "o" output and "r" resizes count) on a screen `cols`
    wide and `rows` tall, and say what the audience saw.

    A stretch printing more than EMULATE_UP_TO characters is read as plain text instead
    (escape sequences dropped, a line redrawn with `\r` kept as it ended): what scrolled by
    is the text, and playing 100 MB through pyte takes minutes."""
    events = list(events)
    if sum(len(data) for _, code, data in events if code == "o") > EMULATE_UP_TO:
        output = "".join(data for _, code, data in events if code == "o")
        return Seen([], _trim("\n".join(_plain_lines(output))))
    screen = _WatchedScreen(cols, rows or DEFAULT_HEIGHT)
    stream = pyte.Stream(screen)
    for t, code, data in events:
        if code != "o":
            if code == "r":
                _resize(screen, data)
            continue
        if screen.in_alt or not _only_appends(data):
            screen.settle()  # the appends before it, at the time they were made
            screen.now = t  # before feeding: a clear in this event happens now
            stream.feed(data)
            screen.settle()
        else:  # plain text and line ends take nothing away: they are settled later
            screen.now = t
            stream.feed(data)
    return screen.finish()


def _only_appends(data: str) -> bool:
    """Printable text and line ends (CR LF) only: nothing on screen can be replaced."""
    return "\x1b" not in data and "\b" not in data and data.count("\r") == data.count("\r\n")


def _resize(screen: _WatchedScreen, size: str) -> None:
    """A "COLSxROWS" resize: the width for what follows, the height for the alternate screen
    and, when taller, the main screen."""
    cols, _, rows = size.partition("x")
    if cols.isdigit() and rows.isdigit() and int(cols) > 0 and int(rows) > 0:
        screen.settle()
        screen.alt_rows = int(rows)
        screen.grow(int(rows))
        if int(cols) != screen.columns:
            screen.resize(screen.lines, int(cols))
            screen.clear_dirty()


# -- a huge step, as plain text, as it streams -----------------------------------------------


class PlainLines:
    """`watch`'s plain-text reading of a huge step, given line by line as its output is fed:
    the lines `watch` would give for the whole output (rstripped; trailing blank lines are
    the caller's to drop), without holding more than the line being printed.

    Output is read up to a line feed that no escape sequence spans (only an OSC can: it runs
    to its BEL or ESC), and what comes before it reads as plain text on its own, whatever
    the chunks it came in. A line longer than MAX_LINE characters (or an OSC left open that
    long) is cut into lines of about MAX_LINE, where it does not split an escape sequence."""

    def __init__(self) -> None:
        self._pending: list[str] = []  # the output since the last cut, in the chunks it came in
        self._size = 0
        self._next = PLAIN_CHUNK  # read on when this much is pending: a chunk at a time is fast

    def feed(self, data: str) -> list[str]:
        """The lines completed so far, if any (they come a chunk at a time)."""
        self._pending.append(data)
        self._size += len(data)
        if self._size < self._next:
            return []
        buf = "".join(self._pending)
        lines: list[str] = []
        cut = _safe_cut(buf)
        if cut:
            lines += _plain_lines(buf[:cut])[:-1]  # it ends with a line feed: nothing after
            buf = buf[cut:]
        while len(buf) > MAX_LINE:
            cut = _forced_cut(buf)
            lines += _plain_lines(buf[:cut])
            buf = buf[cut:]
        self._pending, self._size = ([buf] if buf else []), len(buf)
        # A long line (no line feed yet) is joined again only once another chunk came.
        self._next = self._size + PLAIN_CHUNK
        return lines

    def close(self) -> list[str]:
        """The last lines: whatever followed the last line feed is a line too."""
        buf = "".join(self._pending)
        self._pending, self._size = [], 0
        return _plain_lines(buf)


def _plain_lines(output: str) -> list[str]:
    """`plain_text`'s lines, rstripped. Without an escape sequence or a carriage return but in
    CR LF (most huge output), plain text is the output itself, the CR of each CR LF being
    trailing space that rstrip drops: its regex and line loop are skipped."""
    if "\x1b" not in output and not _LONE_CR.search(output):
        return list(map(str.rstrip, output.split("\n")))
    return list(map(str.rstrip, plain_text(output).split("\n")))


_LONE_CR = re.compile(r"\r(?!\n)")


def _safe_cut(buf: str) -> int:
    """Just after the last line feed of `buf` that no escape sequence spans; 0: none does."""
    end = len(buf)
    while (feed := buf.rfind("\n", 0, end)) >= 0:
        osc = buf.rfind("\x1b]", 0, feed)
        if osc < 0 or _ends_before(buf, osc + 2, feed):
            return feed + 1
        end = osc  # an OSC still open at that line feed may run past it
    return 0


def _ends_before(buf: str, start: int, stop: int) -> bool:
    """Whether an OSC whose text starts at `start` ends (or turns out not to be one) by `stop`."""
    return buf.find("\x07", start, stop) >= 0 or buf.find("\x1b", start, stop) >= 0


def _forced_cut(buf: str) -> int:
    """About MAX_LINE characters into `buf`, before an escape sequence or `\\r\\n` there."""
    cut = MAX_LINE
    escape = buf.rfind("\x1b", max(cut - 64, 0), cut)
    if escape > 0:
        cut = escape
    return cut - 1 if buf[cut - 1] == "\r" else cut
