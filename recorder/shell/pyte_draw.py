"""pyte's `Screen.draw`, faster for plain text, with the same result.

pyte 0.8.2 draws one character at a time: its width (wcwidth), a new `Char` (a namedtuple
`_replace`), the cursor moved, for every character. A step that prints 100 MB spends most of
its time there: `stagecast render` and `stagecast check --against` play every character of a
cast through a screen. Printable ASCII (after the charset's translation) is one cell per
character, so `FastDraw.draw` writes it a row's run at a time, with one `Char` per distinct
character and style, wrapping (or not, without DECAWM) where pyte would; anything else (a
wide or combining character, a control, insert mode) goes to pyte's own `draw`. The cells,
cursor and dirty rows come out as pyte's would (tests/test_streamed_casts.py compares them).
"""

from __future__ import annotations

import pyte
from pyte import modes as mo
from pyte.screens import Char


class FastDraw(pyte.Screen):
    """A pyte screen whose `draw` takes a fast path for printable ASCII (see the module)."""

    def draw(self, data: str) -> None:
        text = data.translate(self.g1_charset if self.charset else self.g0_charset)
        plain = text.isascii() and text.isprintable()
        if not plain or mo.IRM in self.mode or self.cursor.x > self.columns:
            super().draw(data)
            return
        cells: dict[str, Char] = {}
        style = self.cursor.attrs
        i, n = 0, len(text)
        while i < n:
            cursor = self.cursor
            if cursor.x == self.columns:
                if mo.DECAWM not in self.mode:  # each character replaces the last column's
                    self.buffer[cursor.y][cursor.x - 1] = cursor.attrs._replace(data=text[-1])
                    break
                self.dirty.add(cursor.y)
                self.carriage_return()
                self.linefeed()
                continue
            if cursor.attrs is not style:
                cells, style = {}, cursor.attrs
            x = cursor.x
            stop = min(n, i + self.columns - x)
            line = self.buffer[cursor.y]
            for char in text[i:stop]:
                cell = cells.get(char)
                if cell is None:
                    cell = cells[char] = style._replace(data=char)
                line[x] = cell
                x += 1
            cursor.x = x
            i = stop
        self.dirty.add(self.cursor.y)
