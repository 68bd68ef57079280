"""Animated SVG: text, not pixels; one CSS animation loop; only what changed is drawn.

The terminal's main screen is laid out as one tall document: a line that scrolls off the top
keeps its place in it, and the view (`#v`) moves down the document instead (one keyframe per
scroll). Every frame is a group drawn over the ones before it: only the cells that changed
since the document line was last drawn (a typed character is one short `<text>`; a changed
cell that held something gets a background-coloured rect first). A group is hidden until
its time (`@keyframes` per frame: `0%,T%{opacity:0}`, then shown by `steps(1,start)`) and
stays up until the loop starts over, so frame N shows groups 0..N. The cursor is one block
moved by its own keyframes. Colours are classes; text runs carry `textLength`, so columns
line up in any monospace font; a wide character is placed on its own.

No fonts or imaging library are needed: cells are where the PNG and GIF put them
(`metrics.geometry`: DejaVu Sans Mono's metrics, the first font in the list).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape

from .frames import Frame
from .metrics import geometry
from .screen import Row
from .themes import RGB, Theme, resolve, rgb_hex

FONT_FAMILY = "'DejaVu Sans Mono',Menlo,'Bitstream Vera Sans Mono',Consolas,monospace"
GAP = 2  # unchanged cells between two changed ones that are redrawn rather than split
# Characters XML 1.0 cannot hold (C0 controls but tab/LF/CR, lone surrogates, U+FFFE/F).
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _num(value: float, places: int = 2) -> str:
    text = f"{value:.{places}f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _name(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if not n:
            return "k" + out


@dataclass
class _Doc:
    theme: Theme
    cell_w: float
    cell_h: int
    baseline: float
    classes: dict[str, str] = field(default_factory=dict)  # "#rrggbb" -> class name

    def fill(self, rgb: RGB) -> str:
        colour = rgb_hex(rgb)
        name = self.classes.get(colour)
        if name is None:
            name = self.classes[colour] = f"c{len(self.classes)}"
        return name

    def colours(self, cell: object) -> tuple[RGB, RGB]:
        fg = resolve(self.theme, cell.fg, self.theme.fg)  # type: ignore[attr-defined]
        bg = resolve(self.theme, cell.bg, self.theme.bg)  # type: ignore[attr-defined]
        if cell.reverse:  # type: ignore[attr-defined]
            fg, bg = bg, fg
        return fg, bg


def _blank(cell: object) -> bool:
    return (
        cell.data == " "  # type: ignore[attr-defined]
        and cell.bg == "default"  # type: ignore[attr-defined]
        and not cell.reverse  # type: ignore[attr-defined]
        and not cell.underscore  # type: ignore[attr-defined]
        and not cell.strikethrough  # type: ignore[attr-defined]
    )


def _changed_spans(new: Row, old: Row | None, cols: int) -> list[tuple[int, int]]:
    """[start, end) spans of cells that differ, joined across gaps of <= GAP cells."""
    spans: list[tuple[int, int]] = []
    for x in range(cols):
        a = new[x] if x < len(new) else None
        b = old[x] if old is not None and x < len(old) else None
        same = a == b or ((a is None or _blank(a)) and (b is None or _blank(b)))
        if same:
            continue
        if spans and x - spans[-1][1] <= GAP:
            spans[-1] = (spans[-1][0], x + 1)
        else:
            spans.append((x, x + 1))
    # A wide character and its empty second half go together.
    out = []
    for start, end in spans:
        if start > 0 and start < len(new) and new[start].data == "":
            start -= 1
        if end < len(new) and new[end].data == "":
            end += 1
        out.append((start, end))
    return out


def _draw_span(doc: _Doc, row: Row, old: Row | None, start: int, end: int, line: int) -> str:
    """The cells [start, end) of `row` at document line `line`, over what was there."""
    cw, top = doc.cell_w, line * doc.cell_h
    parts: list[str] = []
    held = old is not None and any(x < len(old) and not _blank(old[x]) for x in range(start, end))
    cells = [row[x] if x < len(row) else None for x in range(start, end)]
    # Backgrounds: the span is first cleared when it held something, then coloured runs.
    if held:
        parts.append(
            f'<rect x="{_num(start * cw)}" y="{top}" width="{_num((end - start) * cw)}" '
            f'height="{doc.cell_h}" class="{doc.fill(doc.theme.bg)}"/>'
        )
    x = start
    while x < end:
        cell = cells[x - start]
        bg = doc.colours(cell)[1] if cell is not None else doc.theme.bg
        if bg == doc.theme.bg:
            x += 1
            continue
        run = x
        while x < end and (c := cells[x - start]) is not None and doc.colours(c)[1] == bg:
            x += 1
        parts.append(
            f'<rect x="{_num(run * cw)}" y="{top}" width="{_num((x - run) * cw)}" '
            f'height="{doc.cell_h}" class="{doc.fill(bg)}"/>'
        )
    # Text: runs of one style; a wide character on its own.
    x = start
    y = _num(top + doc.baseline)
    while x < end:
        cell = cells[x - start]
        if (
            cell is None
            or not cell.data
            or cell.data == " "
            and not (cell.underscore or cell.strikethrough)
        ):
            x += 1
            continue
        wide = x + 1 < len(row) and row[x + 1].data == ""
        style = _style(doc, cell)
        run, text = x, [cell.data]
        x += 2 if wide else 1
        while not wide and x < end:
            nxt = cells[x - start]
            if nxt is None or not nxt.data or (x + 1 < len(row) and row[x + 1].data == ""):
                break
            if _style(doc, nxt) != style and not (nxt.data == " " and _plain_space(nxt)):
                break
            text.append(nxt.data)
            x += 1
        while len(text) > 1 and text[-1] == " ":
            text.pop()  # one cell each: a combining mark rides on its base character
        body = _XML_UNSAFE.sub("\ufffd", "".join(text))
        attrs = f'x="{_num(run * cw)}" y="{y}"'
        if style:
            attrs += f' class="{style}"'
        if not wide and len(text) > 1:
            attrs += f' textLength="{_num(len(text) * cw)}"'
        parts.append(f"<text {attrs}>{escape(body, quote=False)}</text>")
    return "".join(parts)


def _plain_space(cell: object) -> bool:
    return not (cell.underscore or cell.strikethrough)  # type: ignore[attr-defined]


def _style(doc: _Doc, cell: object) -> str:
    fg, _ = doc.colours(cell)
    names = [] if fg == doc.theme.fg else [doc.fill(fg)]
    if cell.bold:  # type: ignore[attr-defined]
        names.append("w")
    if cell.italics:  # type: ignore[attr-defined]
        names.append("i")
    if cell.underscore:  # type: ignore[attr-defined]
        names.append("u")
    if cell.strikethrough:  # type: ignore[attr-defined]
        names.append("s")
    return " ".join(names)


def _pct(t: float, total: float) -> str:
    return _num(100 * t / total, 3) + "%"


def render_svg(
    frames: Iterable[Frame], theme: Theme, cols: int, rows: int, font_size: int = 14
) -> tuple[str, int]:
    """The SVG document, and the number of frames it animates."""
    geo = geometry(font_size, cols, rows)
    cell_w, cell_h, pad = geo.cell_w, geo.cell_h, geo.pad
    doc = _Doc(theme, cell_w, cell_h, geo.baseline)
    painted: dict[int, Row] = {}
    groups: list[str] = []  # frame 0's drawing first, then (start, drawing) per frame
    starts: list[float] = []
    scrolls: list[tuple[float, int]] = []
    cursors: list[tuple[float, tuple[int, int] | None]] = []
    total = 0.0
    count = 0
    for frame in frames:
        snap = frame.snap
        count += 1
        total = frame.start + frame.duration
        offset = snap.scrolled
        if not scrolls or scrolls[-1][1] != offset:
            scrolls.append((frame.start, offset))
        if not cursors or cursors[-1][1] != snap.cursor:
            cursors.append((frame.start, snap.cursor))
        drawing = []
        for y, row in enumerate(snap.rows):
            line = offset + y
            old = painted.get(line)
            if old is row:
                continue
            spans = _changed_spans(row, old, cols)
            if not spans:
                painted[line] = row
                continue
            for start, end in spans:
                drawing.append(_draw_span(doc, row, old, start, end, line))
            painted[line] = row
        if drawing or not groups:
            groups.append("".join(drawing))
            starts.append(frame.start)
    total = max(total, 0.001)
    width, height = cols * cell_w, rows * cell_h
    css = [
        "text{white-space:pre}",
        ".w{font-weight:bold}.i{font-style:italic}.u{text-decoration:underline}"
        ".s{text-decoration:line-through}",
        f"#v>g{{animation:{_num(total, 3)}s steps(1,start) infinite}}",
    ]
    frames_css = [
        f"@keyframes {_name(n)}{{0%,{_pct(t, total)}{{opacity:0}}}}"
        for n, t in enumerate(starts[1:], 1)
    ]
    if len(scrolls) > 1:
        steps = "".join(
            f"{_pct(t, total)}{{transform:translateY({-off * cell_h}px)}}" for t, off in scrolls
        )
        css.append(f"#v{{animation:v {_num(total, 3)}s steps(1,end) infinite}}")
        css.append(f"@keyframes v{{{steps}}}")
    start_off = scrolls[0][1] if scrolls else 0

    def at(cursor: tuple[int, int] | None) -> str:
        if cursor is None:
            return f"translate({_num(-2 * cell_w)}px,{-2 * cell_h}px)"
        return f"translate({_num(cursor[0] * cell_w)}px,{cursor[1] * cell_h}px)"

    if len(cursors) > 1:
        steps = "".join(f"{_pct(t, total)}{{transform:{at(c)}}}" for t, c in cursors)
        css.append(f"#c{{animation:c {_num(total, 3)}s steps(1,end) infinite}}")
        css.append(f"@keyframes c{{{steps}}}")
    first_cursor = cursors[0][1] if cursors else None
    colour_css = "".join(f".{name}{{fill:{colour}}}" for colour, name in doc.classes.items())
    body = [groups[0] and f"<g>{groups[0]}</g>"]
    body += [f'<g style="animation-name:{_name(n)}">{g}</g>' for n, g in enumerate(groups[1:], 1)]
    fg, bg = rgb_hex(theme.fg), rgb_hex(theme.bg)
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_num(width + 2 * pad)}" '
        f'height="{_num(height + 2 * pad)}" font-family="{FONT_FAMILY}" '
        f'font-size="{font_size}">'
        f"<style>{''.join(css)}{colour_css}{''.join(frames_css)}</style>"
        f'<rect width="100%" height="100%" fill="{bg}"/>'
        f'<svg x="{_num(pad)}" y="{_num(pad)}" width="{_num(width)}" height="{height}">'
        f'<g id="v" fill="{fg}" transform="translate(0 {-start_off * cell_h})">'
        f"{''.join(body)}</g>"
        f'<rect id="c" width="{_num(cell_w)}" height="{cell_h}" fill="{fg}" '
        f'style="transform:{at(first_cursor)}"/>'
        "</svg></svg>\n"
    )
    return svg, count
