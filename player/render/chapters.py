"""`--chapters DIR`: one file per chapter, in each format asked for, plus the whole cast.

A chapter's file is named from its number and label: `03-ping-across-the-router.gif`
(lower case ASCII, words joined by `-`, at most MAX_SLUG characters; a label with no such
characters is `chapter`). The whole cast is `NAME.EXT`, after the cast file.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from player.streamed import AnyCast
from recorder.cast.model import Marker

from .api import FORMATS
from .timeline import RenderError

MAX_SLUG = 60
DEFAULT_FORMATS = ("gif", "png", "svg")


def slugify(label: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    slug = ""
    for word in words:
        longer = f"{slug}-{word}" if slug else word
        if len(longer) > MAX_SLUG:
            break
        slug = longer
    return slug or (words[0][:MAX_SLUG] if words else "chapter")


def parse_formats(text: str) -> tuple[str, ...]:
    """--formats gif,png,svg: known formats, each once, in the order given."""
    wanted = [part.strip().lower().lstrip(".") for part in text.split(",") if part.strip()]
    unknown = [w for w in wanted if w not in FORMATS]
    if unknown or not wanted:
        raise RenderError(f"--formats {text}: choose from {','.join(FORMATS)} (comma-separated)")
    return tuple(dict.fromkeys(wanted))


def file_stems(cast: AnyCast) -> tuple[str, list[str]]:
    """The whole cast's file name without its extension (after the cast file's), and each
    chapter's (`NN-label`, numbered with at least two digits): `--chapters` and the gallery
    name their files so."""
    markers = cast.markers
    width = max(2, len(str(len(markers))))
    stem = Path(cast.path).stem or "cast"
    names = [f"{m.index:0{width}d}-{slugify(m.label)}" for m in markers]
    return (stem if stem not in names else f"{stem}-cast"), names


def chapter_files(
    cast: AnyCast, out_dir: Path, formats: tuple[str, ...]
) -> list[tuple[Marker | None, Path]]:
    """(the chapter's marker, or None for the whole cast; path) for every file to write."""
    markers = cast.markers
    whole, names = file_stems(cast)
    plan: list[tuple[Marker | None, Path]] = []
    for kind in formats:
        plan.append((None, out_dir / f"{whole}.{kind}"))
        plan += [(m, out_dir / f"{n}.{kind}") for m, n in zip(markers, names, strict=True)]
    return plan
