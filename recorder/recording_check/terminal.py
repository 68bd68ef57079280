"""The terminal emulator a recording is rendered through: pyte, taught tmux's scroll regions,
`CSI S`/`CSI T` and DECSLRM left/right margins, reporting scrolls, line feeds and clears to
the command extractor before they happen. Plain text is drawn a run at a time
(`recorder.shell.pyte_draw`), as pyte draws it."""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING, Any

import pyte
from pyte.screens import Margins

from recorder.shell.pyte_compat import tolerate_private_csi
from recorder.shell.pyte_draw import FastDraw

if TYPE_CHECKING:
    from .commands import CommandExtractor

Rect = tuple[int, int, int, int]  # top, bottom, left, right (inclusive)


@tolerate_private_csi
class RecordingScreen(FastDraw):
    """A pyte screen that also scrolls rectangles (tmux's DECSLRM left/right margins, `CSI S`,
    `CSI T`) and reports scrolls, line feeds and clears to the extractor before they happen."""

    def __init__(self, cols: int, rows: int, extractor: CommandExtractor) -> None:
        self.extractor = extractor
        self.lr: tuple[int, int] | None = None  # left/right margins
        self.lrmm = False  # DECLRMM (mode 69): `CSI l;r s` sets left/right margins
        self.saved: tuple[Any, ...] | None = None  # the main screen, on the alternate one
        self.deleting = False  # scrolling because of `CSI M` (delete lines)
        self.ready = False
        super().__init__(cols, rows)
        self.ready = True

    def row_text(self, y: int, left: int = 0, right: int | None = None) -> str:
        line = self.buffer.get(y)
        if not line:
            return ""
        end = self.columns - 1 if right is None else right
        cells = [" "] * (end - left + 1)
        for x, char in line.items():
            if left <= x <= end:
                cells[x - left] = char.data
        return "".join(cells).rstrip()

    def _region(self) -> Rect:
        top, bottom = self.margins or Margins(0, self.lines - 1)
        left, right = self.lr or (0, self.columns - 1)
        return top, bottom, left, right

    # scrolling
    def _scroll(self, count: int, up: bool = True) -> None:
        """Scroll the region's rectangle by `count` rows, as a terminal with margins does."""
        top, bottom, left, right = self._region()
        if up:
            self.extractor.scrolled((top, bottom, left, right), count)
        self.dirty.update(range(top, bottom + 1))
        rows = list(range(top, bottom + 1))
        moves = rows if up else rows[::-1]
        if left == 0 and right >= self.columns - 1:  # whole rows: moved, as pyte scrolls
            for y in moves:
                source = y + count if up else y - count
                if top <= source <= bottom:
                    self.buffer[y] = self.buffer[source]
                else:
                    self.buffer.pop(y, None)
            return
        for y in moves:
            source = y + count if up else y - count
            dst = self.buffer[y]
            if top <= source <= bottom:
                src = self.buffer[source]
                for x in range(left, right + 1):
                    if x in src:
                        dst[x] = src[x]
                    else:
                        dst.pop(x, None)
            else:
                for x in range(left, right + 1):
                    dst.pop(x, None)

    def index(self) -> None:
        top, bottom, left, right = self._region()
        if self.cursor.y == bottom and left <= self.cursor.x <= right:
            self._scroll(1)
        elif self.cursor.y != bottom:
            self.cursor_down()

    def reverse_index(self) -> None:
        top, _, left, right = self._region()
        if self.cursor.y == top and left <= self.cursor.x <= right:
            self._scroll(1, up=False)
        elif self.cursor.y != top:
            self.cursor_up()

    def scroll_up(self, count: int | None = None, *args: Any, **kwargs: Any) -> None:
        self._scroll(max(count or 1, 1))

    def scroll_down(self, count: int | None = None, *args: Any, **kwargs: Any) -> None:
        if not args:  # CSI T with several parameters is mouse tracking, not a scroll
            self._scroll(max(count or 1, 1), up=False)

    def insert_lines(self, count: int | None = None) -> None:
        top, bottom, _, _ = self._region()
        if top <= self.cursor.y <= bottom:
            saved, self.margins = self.margins, Margins(self.cursor.y, bottom)
            self._scroll(max(count or 1, 1), up=False)
            self.margins = saved
            self.carriage_return()

    def delete_lines(self, count: int | None = None) -> None:
        top, bottom, _, _ = self._region()
        if top <= self.cursor.y <= bottom:
            saved, self.margins = self.margins, Margins(self.cursor.y, bottom)
            self.deleting = True
            self._scroll(max(count or 1, 1))
            self.margins, self.deleting = saved, False
            self.carriage_return()

    def linefeed(self) -> None:
        self.extractor.linefeed()
        super().linefeed()

    def draw(self, data: str) -> None:
        self.extractor.drawn.add(self.cursor.y)
        super().draw(data)

    def cursor_position(self, line: int | None = None, column: int | None = None) -> None:
        if self.ready:
            self.extractor.moving((line or 1) - 1, (column or 1) - 1)
        super().cursor_position(line, column)

    def carriage_return(self) -> None:
        left = self.lr[0] if self.lr and self.cursor.x >= self.lr[0] else 0
        self.cursor.x = left

    def set_lr_margins(self, *params: int, **kwargs: Any) -> None:
        if not self.lrmm:
            self.save_cursor()  # plain `CSI s`: save the cursor (SCOSC)
            return
        left = (params[0] if params and params[0] else 1) - 1
        right = (params[1] if len(params) > 1 and params[1] else self.columns) - 1
        full = left <= 0 and right >= self.columns - 1
        self.lr = None if full or right <= left else (left, min(right, self.columns - 1))
        self.cursor_position()

    # clears and modes
    def reset(self) -> None:
        if self.ready:
            self.extractor.cleared()
        self.lr = None
        super().reset()

    def erase_in_display(self, how: int = 0, *args: Any, **kwargs: Any) -> None:
        if how in (2, 3):
            self.extractor.cleared()
        super().erase_in_display(how, *args, **kwargs)

    def set_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private"):
            self.lrmm = self.lrmm or 69 in modes
            if any(m in (47, 1047, 1049) for m in modes) and self.saved is None:
                self.extractor.cleared()
                lines = {y: dict(line) for y, line in self.buffer.items()}
                self.saved = (lines, self.cursor.x, self.cursor.y)
                self.buffer.clear()
        super().set_mode(*modes, **kwargs)

    def reset_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private"):
            if 69 in modes:
                self.lrmm, self.lr = False, None
            if any(m in (47, 1047, 1049) for m in modes) and self.saved is not None:
                self.extractor.cleared()
                lines, x, y = self.saved
                self.saved = None
                self.buffer.clear()
                for row, chars in lines.items():
                    self.buffer[row].update(chars)
                self.cursor.x, self.cursor.y = x, y
        super().reset_mode(*modes, **kwargs)


class RecordingStream(pyte.Stream):
    csi = {**pyte.Stream.csi, "S": "scroll_up", "T": "scroll_down", "s": "set_lr_margins"}


def _ignore_private(method: Any) -> Any:
    """A handler called for `CSI ? …` (pyte passes `private=True` to every CSI handler) that
    knows only the sequence without `?`: `CSI ? 5 n` is not a status report, `CSI ? m` is no
    colour. Such a sequence changes nothing on the screen: it is ignored."""

    @functools.wraps(method)
    def handler(self: Any, *params: Any, **kwargs: Any) -> Any:
        if kwargs.pop("private", False):
            return None
        return method(self, *params, **kwargs)

    return handler


def _takes_private(method: Any) -> bool:
    parameters = inspect.signature(method).parameters.values()
    return any(p.name == "private" or p.kind is p.VAR_KEYWORD for p in parameters)


for _name in sorted(set(RecordingStream.csi.values())):
    _method = getattr(RecordingScreen, _name, None)
    if _method is not None and not _takes_private(_method):
        setattr(RecordingScreen, _name, _ignore_private(_method))
