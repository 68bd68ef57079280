"""The fonts a frame is drawn with, found by path (Debian's packages), and which one draws
a given character.

- DejaVu Sans Mono, regular and bold (`fonts-dejavu-core`): every cell; required. Its
  oblique faces (`fonts-dejavu-extra`) draw italics when installed, else italics are upright.
- Droid Sans Fallback (`fonts-droid-fallback`, 1.8 MB): CJK and other wide characters
  DejaVu lacks. Chosen over Noto CJK (hundreds of MB) and WenQuanYi Zen Hei (7.5 MB).
- Symbola (`fonts-symbola`, 1.3 MB): emoji and symbols, drawn in the cell's colour as a
  terminal without colour-emoji support does.
The fallbacks are optional: a character none of them has is drawn as DejaVu's box, and
one line on stderr names the package that would draw it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from recorder.errors import PrerequisiteError

if TYPE_CHECKING:
    from PIL.ImageFont import FreeTypeFont

FONT_DIRS = ("/usr/share/fonts/truetype", "/usr/share/fonts/opentype", "/usr/local/share/fonts")
MONO = ("dejavu/DejaVuSansMono.ttf", "fonts-dejavu-core")
MONO_BOLD = ("dejavu/DejaVuSansMono-Bold.ttf", "fonts-dejavu-core")
MONO_ITALIC = ("dejavu/DejaVuSansMono-Oblique.ttf", "fonts-dejavu-extra")
MONO_BOLD_ITALIC = ("dejavu/DejaVuSansMono-BoldOblique.ttf", "fonts-dejavu-extra")
# Searched in order for a character the monospace font lacks.
FALLBACKS = (
    ("droid/DroidSansFallbackFull.ttf", "fonts-droid-fallback"),
    ("ancient-scripts/Symbola_hint.ttf", "fonts-symbola"),
    ("dejavu/DejaVuSans.ttf", "fonts-dejavu-core"),
)
FALLBACK_PACKAGES = ("fonts-droid-fallback", "fonts-symbola")
FONT_DIRS_ENV = "STAGECAST_FONT_DIRS"  # colon-separated, searched before FONT_DIRS


class FontMissing(PrerequisiteError):
    """A required font is not installed: one line naming the Debian package (exit 2)."""


def font_dirs() -> list[Path]:
    extra = [d for d in os.environ.get(FONT_DIRS_ENV, "").split(":") if d]
    return [Path(d) for d in (*extra, *FONT_DIRS)]


def find_font(relative: str) -> Path | None:
    for root in font_dirs():
        path = root / relative
        if path.is_file():
            return path
    return None


def require_font(spec: tuple[str, str]) -> Path:
    relative, package = spec
    path = find_font(relative)
    if path is None:
        name = Path(relative).name
        raise FontMissing(
            f"font {name} not found under {', '.join(map(str, font_dirs()))}: "
            f"install the Debian package {package} (apt-get install {package})"
        )
    return path


@cache
def _load(path: Path, size: int) -> FreeTypeFont:
    from PIL import ImageFont

    return ImageFont.truetype(str(path), size)


def _glyph(font: FreeTypeFont, char: str) -> tuple[tuple[int, int], bytes]:
    mask = font.getmask(char)
    return mask.size, bytes(mask)


def _notdef(font: FreeTypeFont) -> tuple[tuple[int, int], bytes]:
    # U+10FFFF is a noncharacter: no font maps it, so this is the font's missing-glyph box.
    return _glyph(font, "\U0010ffff")


@dataclass
class FontSet:
    """The fonts of one size: `font_for(char, bold, italic)` says which draws it."""

    size: int
    regular: FreeTypeFont
    bold: FreeTypeFont
    fallbacks: list[FreeTypeFont]
    missing_packages: list[str]
    warn: Callable[[str], None] | None = None
    italic: FreeTypeFont | None = None
    bold_italic: FreeTypeFont | None = None
    _which: dict[tuple[str, bool, bool], tuple[FreeTypeFont, bool]] = field(default_factory=dict)
    _notdefs: dict[int, tuple[tuple[int, int], bytes]] = field(default_factory=dict)
    _warned: bool = False

    @classmethod
    def load(cls, size: int, warn: Callable[[str], None] | None = None) -> FontSet:
        regular = _load(require_font(MONO), size)
        bold = _load(require_font(MONO_BOLD), size)
        fallbacks, missing = [], []
        for relative, package in FALLBACKS:
            path = find_font(relative)
            if path is None:
                if package not in missing and package in FALLBACK_PACKAGES:
                    missing.append(package)
            else:
                fallbacks.append(_load(path, size))
        italic, bold_italic = (find_font(spec[0]) for spec in (MONO_ITALIC, MONO_BOLD_ITALIC))
        return cls(
            size,
            regular,
            bold,
            fallbacks,
            missing,
            warn,
            _load(italic, size) if italic else None,
            _load(bold_italic, size) if bold_italic else None,
        )

    def has(self, font: FreeTypeFont, char: str) -> bool:
        box = self._notdefs.get(id(font))
        if box is None:
            box = self._notdefs[id(font)] = _notdef(font)
        return _glyph(font, char) != box

    def font_for(self, char: str, bold: bool, italic: bool = False) -> tuple[FreeTypeFont, bool]:
        """The font that draws `char`, and whether it is the monospace one."""
        key = (char, bold, italic)
        found = self._which.get(key)
        if found is None:
            found = self._which[key] = self._choose(char, bold, italic)
        return found

    def _choose(self, char: str, bold: bool, italic: bool) -> tuple[FreeTypeFont, bool]:
        mono = self.bold if bold else self.regular
        if italic:
            mono = (self.bold_italic if bold else self.italic) or mono
        if char.isspace() or char.isascii() or self.has(mono, char):
            return mono, True
        for font in self.fallbacks:
            if self.has(font, char):
                return font, False
        if self.warn is not None and not self._warned:
            self._warned = True
            wanted = " or ".join(self.missing_packages) or "a font that has it"
            self.warn(f"no installed font draws {char!r} (U+{ord(char):04X}): install {wanted}")
        return mono, True
