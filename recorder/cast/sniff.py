"""What a file that is not a cast looks like instead, in a few words, so the one-line refusal
tells the user what they handed over (a YAML scenario, an HTML page, a gzip archive, a cast
version this stagecast does not know) and what to do about it."""

from __future__ import annotations

import re
from typing import Any

# Leading bytes of files people mistake for casts.
MAGIC: list[tuple[bytes, str]] = [
    (b"\x1f\x8b", "gzip-compressed data: gunzip it first"),
    (b"PK\x03\x04", "a zip archive: unzip it first"),
    (b"\x89PNG", "a PNG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x7fELF", "a program (ELF binary)"),
    (b"\x1a\x45\xdf\xa3", "a WebM/Matroska video"),
]
YAML_KEY = re.compile(r"^[A-Za-z_][\w-]*:(\s|$)")
CAST_KEYS = {"width", "height", "term", "stdout", "timestamp", "duration"}


def looks_like(raw: bytes, parsed: Any = None, *, size: int | None = None) -> str:
    """What a non-cast looks like ("it looks like …"): `raw` is the file's first bytes;
    `parsed` its JSON (first line or whole) when it had any; `size`, the whole file's, is
    said when the file is big (what makes it costly is then part of the answer)."""
    what = _what(raw, parsed)
    if size is not None and size >= BIG:
        what += f" ({size / (1 << 20):,.0f} MB)"
    return what


BIG = 100 << 20


def _what(raw: bytes, parsed: Any) -> str:
    for magic, what in MAGIC:
        if raw.startswith(magic):
            return f"it looks like {what}"
    if raw[4:8] == b"ftyp":
        return "it looks like an MP4 video"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason != "unexpected end of data":  # not merely a character cut at the end
            return "it looks like binary data, not UTF-8 text"
        text = raw[: exc.start].decode("utf-8")
    stripped = text.strip()
    if not stripped:
        return "it is empty"
    if parsed is not None:
        return _json_shape(parsed)
    first = stripped.splitlines()[0].strip()
    if first.startswith("{") or first.startswith("["):
        return "it looks like JSON, but it does not parse"
    if first.lower().startswith(("<!doctype html", "<html")):
        return "it looks like an HTML page (a saved player page? download the .cast itself)"
    if first.startswith("<"):
        return "it looks like XML or HTML"
    if first.startswith("Script started on"):
        return "it looks like a script(1) typescript: record with asciinema instead"
    if first.startswith("#!"):
        return "it looks like a script"
    if _yaml(stripped):
        return "it looks like YAML (a scenario? give it to record, rehearse or live)"
    if first.startswith("# "):
        return "it looks like Markdown text"
    return f"it looks like plain text, starting {first[:40]!r}"


def _yaml(text: str) -> bool:
    """The first line that is not a comment is `---` or `key: value`."""
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            return line.strip() == "---" or bool(YAML_KEY.match(line))
    return False


def _json_shape(value: Any) -> str:
    if not isinstance(value, dict):
        kind = {list: "a list", str: "a string", bool: "true/false"}.get(type(value), "a number")
        return f"it is JSON, but {kind}, not an asciicast header object"
    version = value.get("version")
    if version is None:
        if CAST_KEYS & value.keys():
            return 'it looks like an asciicast header without a "version"'
        return 'it is a JSON object with no "version" key'
    return f"it says asciicast version {version!r}, which this stagecast does not read"
