"""Everything the audience saw while a stretch of output played, not only what it left behind.

A step's last screen misses what the step showed and then took away: a trailing `clear`, a
progress bar that redraws one line, a TUI (less, top, k9s, `watch`) on the alternate screen
that leaves nothing behind when it quits. So the output is played event by event through pyte
and, whenever something that had been on screen long enough to be seen is overwritten or
erased, it is kept as a *transient* line, in the order it went away. What is on screen at the
end is the *final* text, as before.

- The main screen is as wide as the cast and tall enough never to scroll, so everything that
  scrolled past stays on it. Each row keeps its fullest content since it was last replaced: a
  row that only grows (typing, a line being printed) loses nothing; a row replaced by
  different text (a `\\r` redraw, a cursor move and overwrite) gives up its old content; a
  cleared screen gives up every row, joined where the terminal had wrapped them.
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

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyte
from pyte.screens import Char, StaticDefaultDict

from recorder.shell.output_cleaner import plain_text
from recorder.shell.pyte_compat import tolerate_private_csi

SEEN_AFTER = 0.04  # seconds: one frame at 25 fps
EMULATE_UP_TO = 4 << 20  # characters of one step's output played through the emulator
# Characters of one line of a huge step held at once (PlainLines): a longer line is cut there.
MAX_LINE = 1 << 20
PLAIN_CHUNK = 1 << 18  # characters of a huge step's output read as plain text at a time
ALT_SCREEN_MODES = frozenset({1049, 1047, 47})
DEFAULT_WIDTH, DEFAULT_HEIGHT = 80, 24


@dataclass
class Seen:
    transient: list[str] = field(default_factory=list)  # what went away, in that order
    final: str = ""  # the screen at the end: lines rstripped, trailing blank lines dropped


@dataclass
class _Row:
    text: str  # the row's fullest content since it was last replaced
    since: float  # when it last changed


def _blank_buffer(default: Char) -> defaultdict[int, StaticDefaultDict[int, Char]]:
    return defaultdict(lambda: StaticDefaultDict[int, Char](default))


@tolerate_private_csi
class _WatchedScreen(pyte.Screen):
    """A pyte screen that keeps what it is made to take away (see the module docstring)."""

    def __init__(self, cols: int, rows: int, tall: int) -> None:
        self.seen: list[str] = []
        self.now = 0.0
        self.alt_rows = rows
        self.wrapped: set[int] = set()  # rows the terminal wrapped (autowrap, not a newline)
        self._rows: dict[int, _Row] = {}
        self._main: tuple[Any, ...] | None = None  # the main screen while the alt one is up
        self._frame: list[str] = []  # the alternate screen as it last stood
        self._frame_since = 0.0
        self._drawing = False
        self._ready = False
        super().__init__(cols, tall)
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
            self.wrapped.add(self.cursor.y)
        super().linefeed()

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

    def set_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private") and ALT_SCREEN_MODES & set(modes):
            self.enter_alt()
            modes = tuple(m for m in modes if m not in ALT_SCREEN_MODES)
        super().set_mode(*modes, **kwargs)

    def reset_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private") and ALT_SCREEN_MODES & set(modes):
            self.leave_alt()
            modes = tuple(m for m in modes if m not in ALT_SCREEN_MODES)
        super().reset_mode(*modes, **kwargs)

    # -- the alternate screen ---------------------------------------------------------------

    def enter_alt(self) -> None:
        if self.in_alt:
            return
        self.settle()
        self._main = (self.buffer, self.cursor, self.lines, self.margins)
        self.cursor = pyte.screens.Cursor(self.cursor.x, min(self.cursor.y, self.alt_rows - 1))
        self.buffer = _blank_buffer(self.default_char)
        self.lines, self.margins = self.alt_rows, None
        self._frame, self._frame_since = [], self.now
        self.dirty.clear()

    def leave_alt(self) -> None:
        if self._main is None:
            return
        self.settle()
        self._keep_frame(self._frame, self._frame_since)
        self.buffer, self.cursor, self.lines, self.margins = self._main
        self._main = None
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
        """Row `y` as text, built from the cells that were written (a tall screen's rows are
        mostly empty: visiting every column of every row costs minutes on a long cast)."""
        line = self.buffer.get(y)
        if not line:
            return ""
        cells = sorted((x, char.data) for x, char in line.items() if x < self.columns)
        out: list[str] = []
        at = 0
        for x, data in cells:
            if x > at:
                out.append(" " * (x - at))
            out.append(data)
            at = x + 1
        return "".join(out).rstrip()

    def settle(self) -> None:
        """Take stock after one event: what it replaced was seen when it stood long enough."""
        now = self.now
        dirty, self.dirty = sorted(self.dirty), set()
        if self.in_alt:
            self._settle_alt(dirty)
            return
        for y in dirty:
            if y >= self.lines:
                continue
            text = self.row_text(y)
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
        if not self._rows:
            return
        # Rows the terminal wrapped are one printed line: give it up whole, so masks see it.
        lines: list[str] = []
        previous = -2
        for y in sorted(self._rows):
            row = self._rows[y]
            if not row.text or self.now - row.since < SEEN_AFTER:
                previous = -2
                continue
            if previous == y - 1 and previous in self.wrapped:
                lines[-1] += row.text
            else:
                lines.append(row.text)
            previous = y
        self.seen.extend(lines)
        self._rows.clear()

    def finish(self) -> Seen:
        """What was seen, and the screen left at the end."""
        self.settle()
        if self.in_alt:
            final_rows = self._frame  # still up at the end: the last frame is the final text
            self._main = None
            return Seen(self.seen, _trim("\n".join(final_rows)))
        for y, row in sorted(self._rows.items()):
            if self.row_text(y) != row.text:  # cut short and never grown back
                self._give_up(row)
        return Seen(self.seen, self.final_text())

    def final_text(self) -> str:
        lines: list[str] = []
        for y in range(self.lines):
            row = "".join(self.buffer[y][x].data for x in range(self.columns))
            if y - 1 in self.wrapped:
                lines[-1] += row  # keep the spaces a wrap fell on: only the line's end goes
            else:
                lines.append(row)
        return _trim("\n".join(line.rstrip() for line in lines))


def _trim(text: str) -> str:
    lines = text.split("\n")
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def watch(events: Iterable[tuple[float, str, str]], cols: int, rows: int | None = None) -> Seen:
    """Play `events` ((time, code, data); "o" output and "r" resizes count) on a screen `cols`
    wide, whose alternate screen is `rows` tall, and say what the audience saw.

    A stretch printing more than EMULATE_UP_TO characters is read as plain text instead
    (escape sequences dropped, a line redrawn with `\r` kept as it ended): a screen as tall
    as 100 MB of lines would take gigabytes and minutes, and what scrolled by is the text."""
    events = list(events)
    output = "".join(data for _, code, data in events if code == "o")
    if len(output) > EMULATE_UP_TO:
        return Seen([], _trim("\n".join(_plain_lines(output))))
    # Every line feed, and every `cols` characters of autowrap, can take a row (an upper bound).
    tall = output.count("\n") + output.count("\x0b") + output.count("\x0c") + len(output) // cols
    screen = _WatchedScreen(cols, rows or DEFAULT_HEIGHT, tall + 2)
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
    """A "COLSxROWS" resize: the width for what follows, the height for the alternate screen."""
    cols, _, rows = size.partition("x")
    if cols.isdigit() and rows.isdigit() and int(cols) > 0 and int(rows) > 0:
        screen.settle()
        screen.alt_rows = int(rows)
        if int(cols) != screen.columns:
            screen.resize(screen.lines, int(cols))
            screen.dirty.clear()


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
