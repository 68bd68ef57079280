"""The draft written as YAML text a person edits: comments above the steps they explain,
short mappings on one line, commands as literal blocks, and every scalar quoted only as much
as it needs. The text is read back before it is returned: it must load as the data it was
written from (else a plain, comment-free dump is written, which always does)."""

from __future__ import annotations

import re
import textwrap
from typing import Any

import yaml

WIDTH = 96
_PLAIN = re.compile(r"[A-Za-z_/.~][\w./~@+=-]*(?: [\w./~@+=<>-]+)*")
_SPECIAL = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def _double(text: str) -> str:
    """YAML's double-quoted style, with escapes for anything not printable."""
    out = []
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif char.isprintable() and not 0xD800 <= code <= 0xDFFF and code != 0xFEFF:
            out.append(char)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def _printable(text: str) -> bool:
    return all((c.isprintable() and c != "\ufeff") or c == "\t" for c in text)


def scalar(value: Any) -> str:
    """A scalar in flow context (a plain word, 'single' or "double" quoted)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _SPECIAL and not _numeric(text):
        return text
    if _printable(text) and "\n" not in text:
        return "'" + text.replace("'", "''") + "'"
    return _double(text)


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return bool(re.fullmatch(r"0[xo][0-9a-f]+|\d[\d_:]*", text, re.I))
    return True


def _block(text: str, indent: int) -> list[str] | None:
    """A multi-line string as a literal block (`|-`), if it can be one."""
    if "\n" not in text or not _printable(text.replace("\n", "")) or text.endswith("\n"):
        return None
    lines = text.split("\n")
    if any(line != line.rstrip(" \t") and not line.strip() for line in lines):
        return None  # blank lines with spaces do not survive a literal block
    head = "|-" if not lines[0].startswith((" ", "\t")) else "|2-"
    if "\t" in text or "\r" in text:
        return None
    pad = " " * indent
    return [head] + [pad + line if line else "" for line in lines]


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return scalar(value)


def _comment(lines: list[str], indent: int) -> list[str]:
    out = []
    for line in lines:
        for part in textwrap.wrap(line, WIDTH - indent - 2, break_on_hyphens=False) or [""]:
            out.append(" " * indent + ("# " + part).rstrip())
    return out


def _mapping(data: dict[str, Any], indent: int) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    for key, value in data.items():
        out.extend(_entry(f"{pad}{key}:", value, indent))
    return out


def _entry(lead: str, value: Any, indent: int) -> list[str]:
    if isinstance(value, str) and "\n" in value:
        block = _block(value, indent + 2)
        if block is not None:
            return [f"{lead} {block[0]}", *block[1:]]
        return [f"{lead} {_double(value)}"]
    flow = _flow(value)
    if not isinstance(value, dict | list) or len(lead) + len(flow) + 1 <= WIDTH:
        if not (isinstance(value, dict | list) and _nested_multiline(value)):
            return [f"{lead} {flow}"]
    if isinstance(value, dict):
        return [lead, *_mapping(value, indent + 2)]
    out = [lead]
    for item in value:
        out.extend(_item(item, indent + 2))
    return out


def _nested_multiline(value: Any) -> bool:
    if isinstance(value, str):
        return "\n" in value
    if isinstance(value, dict):
        return any(_nested_multiline(v) for v in value.values())
    if isinstance(value, list):
        return any(_nested_multiline(v) for v in value)
    return False


def _item(item: Any, indent: int, comments: list[str] | None = None) -> list[str]:
    pad = " " * indent
    out = _comment(comments or [], indent)
    if isinstance(item, dict) and item:
        body = _mapping(item, indent + 2)
        out.append(pad + "- " + body[0][indent + 2 :])
        out.extend(body[1:])
        return out
    out.extend(_entry(pad + "-", item, indent) if isinstance(item, str) else [])
    if not isinstance(item, str):
        out.append(f"{pad}- {_flow(item)}")
    return out


def write(
    header: list[str],
    top: dict[str, Any],
    top_comments: dict[str, list[str]],
    lists: dict[str, list[tuple[dict[str, Any], list[str]]]],
) -> str:
    """The scenario: header comments, top-level keys (each with its comments), then the
    step lists, each step with the comments that explain it."""
    lines = _comment(header, 0)
    for key, value in top.items():
        lines.extend(_comment(top_comments.get(key, []), 0))
        lines.extend(_entry(f"{key}:", value, 0))
    data = dict(top)
    for name, steps in lists.items():
        if not steps:
            continue
        lines.append("")
        lines.extend(_comment(top_comments.get(name, []), 0))
        lines.append(f"{name}:")
        for step, comments in steps:
            lines.extend(_item(step, 2, comments))
        data[name] = [step for step, _ in steps]
    text = "\n".join(lines) + "\n"
    try:
        same = yaml.safe_load(text) == data
    except yaml.YAMLError:
        same = False
    if same:
        return text
    plain = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=WIDTH)
    return "\n".join(_comment(header, 0)) + "\n" + plain
