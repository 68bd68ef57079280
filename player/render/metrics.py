"""Cell sizes, the same for every format: DejaVu Sans Mono's metrics at a font size.

The font's own numbers (units per em 2048: advance 1233, ascender 1901, descender 483),
rounded as FreeType rounds them for Pillow, so a PNG, a GIF, a video and an SVG put every
cell at the same pixel. A line is asciinema-player's 1.3333 em; the margin is one cell wide.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

UNITS, ADVANCE, ASCENDER, DESCENDER = 2048, 1233, 1901, 483
LINE_HEIGHT = 1.3333  # asciinema-player's --term-line-height


@dataclass(frozen=True)
class Geometry:
    cols: int
    rows: int
    cell_w: int
    cell_h: int
    pad: int
    baseline: int  # from a cell's top

    @property
    def size(self) -> tuple[int, int]:
        return self.pad * 2 + self.cols * self.cell_w, self.pad * 2 + self.rows * self.cell_h

    def cell_box(self, x: int, y: int, width: int = 1) -> tuple[int, int, int, int]:
        left, top = self.pad + x * self.cell_w, self.pad + y * self.cell_h
        return left, top, left + width * self.cell_w, top + self.cell_h


def geometry(font_size: int, cols: int, rows: int) -> Geometry:
    ascent = math.ceil(ASCENDER * font_size / UNITS)
    descent = math.ceil(DESCENDER * font_size / UNITS)
    cell_w = max(1, round(ADVANCE * font_size / UNITS))
    cell_h = max(ascent + descent, round(font_size * LINE_HEIGHT))
    baseline = (cell_h - ascent - descent) // 2 + ascent
    return Geometry(cols, rows, cell_w, cell_h, cell_w, baseline)
