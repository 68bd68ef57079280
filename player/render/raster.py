"""Frames as pictures (Pillow): one 8-bit canvas of palette indices, repainted row by row.

- Cells are laid out by `metrics.geometry` (DejaVu Sans Mono's advance by asciinema-player's
  line height, a one-cell margin), as in the SVG.
- The palette is built as colours are met: each foreground/background pair gets LEVELS
  shades for the glyphs' anti-aliased edges, so a frame is exact in 256 colours (a GIF's)
  without quantizing; past 255 colours the nearest one is used. Index 255 stays free: the
  GIF writer's "unchanged pixel".
- A glyph is drawn once per (character, bold, italic, width) as a coverage mask, and once per
  colour pair as a tile; a row is drawn once per distinct content and pasted from a cache,
  so a scroll costs one paste per row. A wide character (pyte leaves an empty cell after
  it) gets a two-cell tile, drawn by the fallback font when DejaVu lacks it.
- The cursor is a block: its cell drawn with the colours swapped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .fonts import FontSet
from .metrics import Geometry
from .metrics import geometry as cell_geometry
from .screen import Row, Snapshot
from .themes import RGB, Theme, resolve

if TYPE_CHECKING:
    from PIL import Image
    from pyte.screens import Char

LEVELS = 8  # shades per colour pair, from the background (0) to the foreground (LEVELS-1)
TRANSPARENT = 255  # the palette index a GIF frame leaves unchanged pixels at
ROW_CACHE = 4096  # rows kept drawn (a 120-column row at 14 px is about 18 KB)


def geometry(fonts: FontSet, cols: int, rows: int) -> Geometry:
    return cell_geometry(fonts.size, cols, rows)


class Palette:
    """Up to 255 RGB colours, allocated as they are asked for."""

    def __init__(self) -> None:
        self.colours: list[RGB] = []
        self._index: dict[RGB, int] = {}

    def __call__(self, rgb: RGB) -> int:
        index = self._index.get(rgb)
        if index is None:
            if len(self.colours) < TRANSPARENT:
                index = len(self.colours)
                self.colours.append(rgb)
            else:
                index = min(
                    range(len(self.colours)),
                    key=lambda i: sum(
                        (a - b) ** 2 for a, b in zip(self.colours[i], rgb, strict=True)
                    ),
                )
            self._index[rgb] = index
        return index

    def flat(self) -> list[int]:
        """768 values for Image.putpalette; unused entries black."""
        out = [v for rgb in self.colours for v in rgb]
        return out + [0] * (768 - len(out))


def _blend(fg: RGB, bg: RGB, level: int) -> RGB:
    f = level / (LEVELS - 1)
    r, g, b = (round(bc + (fc - bc) * f) for fc, bc in zip(fg, bg, strict=True))
    return r, g, b


class Rasterizer:
    """Paints snapshots onto `canvas` (mode "L" holding palette indices)."""

    def __init__(self, fonts: FontSet, theme: Theme, geo: Geometry) -> None:
        from PIL import Image

        self.fonts, self.theme, self.geo = fonts, theme, geo
        self.palette = Palette()
        self.bg = self.palette(theme.bg)
        self.canvas = Image.new("L", geo.size, self.bg)
        self._masks: dict[tuple[str, bool, bool, int], Image.Image] = {}
        self._luts: dict[tuple[RGB, RGB], list[int]] = {}
        self._tiles: dict[tuple[Char, int, bool], Image.Image] = {}
        self._rows: dict[Row, Image.Image] = {}
        self._painted: list[Row | None] = [None] * geo.rows
        self._cursor: tuple[int, int] | None = None

    # -- colours ----------------------------------------------------------------------------

    def colours(self, cell: Char, cursor: bool = False) -> tuple[RGB, RGB]:
        fg = resolve(self.theme, cell.fg, self.theme.fg)
        bg = resolve(self.theme, cell.bg, self.theme.bg)
        if cell.reverse != cursor:
            fg, bg = bg, fg
        return fg, bg

    def _lut(self, fg: RGB, bg: RGB) -> list[int]:
        lut = self._luts.get((fg, bg))
        if lut is None:
            shades = [self.palette(_blend(fg, bg, level)) for level in range(LEVELS)]
            lut = [shades[(c * (LEVELS - 1) + 127) // 255] for c in range(256)]
            self._luts[(fg, bg)] = lut
        return lut

    # -- glyphs ---------------------------------------------------------------------------

    def _mask(self, char: str, bold: bool, italic: bool, width: int) -> Image.Image:
        key = (char, bold, italic, width)
        mask = self._masks.get(key)
        if mask is None:
            from PIL import Image, ImageDraw

            geo = self.geo
            mask = Image.new("L", (geo.cell_w * width, geo.cell_h), 0)
            if char.strip():
                font, mono = self.fonts.font_for(char, bold, italic)
                x = 0.0
                if not mono:  # centred in its cells
                    x = max(0.0, (mask.width - font.getlength(char)) / 2)
                draw = ImageDraw.Draw(mask)
                draw.text((x, geo.baseline), char, fill=255, font=font, anchor="ls")
            self._masks[key] = mask
        return mask

    def tile(self, cell: Char, width: int, cursor: bool = False) -> Image.Image:
        """The cell as palette indices: its glyph, colours, underline and strike-through."""
        key = (cell, width, cursor)
        tile = self._tiles.get(key)
        if tile is None:
            from PIL import ImageDraw

            fg, bg = self.colours(cell, cursor)
            mask = self._mask(cell.data or " ", cell.bold, cell.italics, width)
            tile = mask.point(self._lut(fg, bg))
            geo = self.geo
            if cell.underscore or cell.strikethrough:
                draw = ImageDraw.Draw(tile)
                ink = self.palette(fg)
                thick = max(1, geo.cell_h // 16)
                if cell.underscore:
                    y = min(geo.baseline + 1 + thick, geo.cell_h - thick)
                    draw.rectangle((0, y, tile.width - 1, y + thick - 1), fill=ink)
                if cell.strikethrough:
                    y = geo.baseline - round(self.fonts.size * 0.3)
                    draw.rectangle((0, y, tile.width - 1, y + thick - 1), fill=ink)
            self._tiles[key] = tile
        return tile

    # -- rows -------------------------------------------------------------------------------

    def row_image(self, row: Row) -> Image.Image:
        image = self._rows.get(row)
        if image is None:
            from PIL import Image

            geo = self.geo
            image = Image.new("L", (geo.cols * geo.cell_w, geo.cell_h), self.bg)
            cols = min(len(row), geo.cols)
            for x in range(cols):
                cell = row[x]
                if not cell.data:
                    continue  # the second half of a wide character
                if _blank(cell):
                    continue
                width = 2 if x + 1 < cols and row[x + 1].data == "" else 1
                image.paste(self.tile(cell, width), (x * geo.cell_w, 0))
            if len(self._rows) >= ROW_CACHE:
                self._rows.clear()
            self._rows[row] = image
        return image

    def paint(self, snap: Snapshot) -> list[int]:
        """Bring the canvas to `snap`; the rows repainted."""
        geo, canvas = self.geo, self.canvas
        old_cursor, cursor = self._cursor, snap.cursor
        moved = old_cursor != cursor
        touched = []
        for y in range(geo.rows):
            row = snap.rows[y] if y < len(snap.rows) else ()
            stale = self._painted[y] is not row
            if stale or (
                moved and ((old_cursor and old_cursor[1] == y) or (cursor and cursor[1] == y))
            ):
                canvas.paste(self.row_image(row), (geo.pad, geo.pad + y * geo.cell_h))
                self._painted[y] = row
                touched.append(y)
        if cursor is not None and cursor[1] in touched:
            x, y = cursor
            row = snap.rows[y] if y < len(snap.rows) else ()
            cell = row[x] if x < len(row) else None
            if cell is not None and cell.data == "" and x > 0:  # on a wide character's half
                x -= 1
                cell = row[x]
            width = 2 if cell is not None and x + 1 < len(row) and row[x + 1].data == "" else 1
            if cell is None:
                from pyte.screens import Char

                cell = Char(" ")
            left, top, _, _ = geo.cell_box(x, y)
            canvas.paste(self.tile(cell, width, cursor=True), (left, top))
        self._cursor = cursor
        return touched

    def image(self) -> Image.Image:
        """The canvas as a palette image."""
        from PIL import Image

        out = Image.frombytes("P", self.canvas.size, self.canvas.tobytes())
        out.putpalette(self.palette.flat())
        return out


def _blank(cell: Char) -> bool:
    return (
        cell.data == " "
        and cell.bg == "default"
        and not cell.reverse
        and not cell.underscore
        and not cell.strikethrough
    )


def rasterizer(
    theme: Theme, cols: int, rows: int, font_size: int, warn: Callable[[str], None] | None = None
) -> Rasterizer:
    fonts = FontSet.load(font_size, warn)
    return Rasterizer(fonts, theme, geometry(fonts, cols, rows))
