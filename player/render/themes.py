"""Colour themes: a terminal's default foreground and background and its 16 ANSI colours,
and how a pyte cell's colour becomes an RGB value under one of them.

The named themes are asciinema-player 3.18's own (its stylesheet's `--term-color-*` values),
so a rendered cast looks as it does on the site: `asciinema` is the player's default dark
palette, `solarized-light` the light one. `cast` is the cast's own `theme` header
(asciicast v2 `theme`, v3 `term.theme`: `fg`, `bg`, and a `palette` of 8 or 16 colours),
and is what a cast that has one renders in by default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from recorder.errors import CommandError

RGB = tuple[int, int, int]

DEFAULT_THEME = "asciinema"
CAST_THEME = "cast"
_HEX = re.compile(r"#?([0-9a-fA-F]{6})")


def hex_rgb(text: str) -> RGB:
    match = _HEX.fullmatch(text.strip())
    if not match:
        raise ValueError(f"not a #rrggbb colour: {text!r}")
    value = int(match.group(1), 16)
    return (value >> 16, (value >> 8) & 0xFF, value & 0xFF)


def rgb_hex(rgb: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


@dataclass(frozen=True)
class Theme:
    name: str
    fg: RGB
    bg: RGB
    palette: tuple[RGB, ...]  # 16 colours: 0-7 normal, 8-15 bright

    @classmethod
    def parse(cls, name: str, fg: str, bg: str, palette: str) -> Theme:
        colours = [hex_rgb(c) for c in palette.split(":")]
        if len(colours) == 8:  # as asciinema-player does: the bright ones are the same
            colours += colours
        if len(colours) != 16:
            raise ValueError(f"a palette of {len(colours)} colours: 8 or 16 expected")
        return cls(name, hex_rgb(fg), hex_rgb(bg), tuple(colours))


THEMES = {
    name: Theme.parse(name, fg, bg, palette)
    for name, fg, bg, palette in (
        (
            "asciinema",
            "#cccccc",
            "#121314",
            "#000000:#dd3c69:#4ebf22:#ddaf3c:#26b0d7:#b954e1:#54e1b9:#d9d9d9:"
            "#4d4d4d:#dd3c69:#4ebf22:#ddaf3c:#26b0d7:#b954e1:#54e1b9:#ffffff",
        ),
        (
            "solarized-light",
            "#657b83",
            "#fdf6e3",
            "#073642:#dc322f:#859900:#b58900:#268bd2:#d33682:#2aa198:#eee8d5:"
            "#002b36:#cb4b16:#586e75:#657c83:#839496:#6c71c4:#93a1a1:#fdf6e3",
        ),
        (
            "solarized-dark",
            "#839496",
            "#002b36",
            "#073642:#dc322f:#859900:#b58900:#268bd2:#d33682:#2aa198:#eee8d5:"
            "#002b36:#cb4b16:#586e75:#657b83:#839496:#6c71c4:#93a1a1:#fdf6e3",
        ),
        (
            "dracula",
            "#f8f8f2",
            "#282a36",
            "#21222c:#ff5555:#50fa7b:#f1fa8c:#bd93f9:#ff79c6:#8be9fd:#f8f8f2:"
            "#6272a4:#ff6e6e:#69ff94:#ffffa5:#d6acff:#ff92df:#a4ffff:#ffffff",
        ),
        (
            "tango",
            "#cccccc",
            "#121314",
            "#000000:#cc0000:#4e9a06:#c4a000:#3465a4:#75507b:#06989a:#d3d7cf:"
            "#555753:#ef2929:#8ae234:#fce94f:#729fcf:#ad7fa8:#34e2e2:#eeeeec",
        ),
    )
}
THEME_NAMES = (CAST_THEME, *THEMES)


class ThemeError(CommandError):
    def __init__(self, message: str) -> None:
        super().__init__(message, 2)


def cast_theme(header_theme: dict[str, Any] | None) -> Theme | None:
    """The cast's own theme, or None when it has none or it cannot be read."""
    if not header_theme:
        return None
    fg, bg, palette = (header_theme.get(k) for k in ("fg", "bg", "palette"))
    if not (isinstance(fg, str) and isinstance(bg, str) and isinstance(palette, str)):
        return None
    try:
        return Theme.parse(CAST_THEME, fg, bg, palette)
    except ValueError:
        return None


def choose_theme(name: str | None, header_theme: dict[str, Any] | None, where: str) -> Theme:
    """--theme NAME; None: the cast's own theme when it has one, else asciinema's."""
    own = cast_theme(header_theme)
    if name is None:
        return own or THEMES[DEFAULT_THEME]
    if name == CAST_THEME:
        if own is None:
            raise ThemeError(f"{where}: --theme cast: the cast has no readable theme header")
        return own
    if name not in THEMES:
        raise ThemeError(f"--theme {name}: unknown; choose one of {', '.join(THEME_NAMES)}")
    return THEMES[name]


# pyte's colour names (SGR 30-37, 90-97; 105 is spelt "bfightmagenta" in pyte 0.8.2).
_NAMES = ("black", "red", "green", "brown", "blue", "magenta", "cyan", "white")
NAMED = {name: i for i, name in enumerate(_NAMES)}
NAMED.update({f"bright{name}": i + 8 for i, name in enumerate(_NAMES)})
NAMED["bfightmagenta"] = 13


def resolve(theme: Theme, colour: str, default: RGB, bold: bool = False) -> RGB:
    """A pyte colour ("default", a name, or "rrggbb" from 256-colour and truecolor SGR)."""
    if colour == "default":
        return default
    index = NAMED.get(colour)
    if index is not None:
        return theme.palette[index]
    try:
        return hex_rgb(colour)
    except ValueError:
        return default
