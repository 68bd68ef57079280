"""Just enough of bash's syntax to tell where a typed command ends: open heredocs, quotes,
and trailing continuations, as bash itself reads them before asking for more lines (PS2)."""

from __future__ import annotations

import re

HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")


def unfinished(command: str) -> bool:
    """True when bash would ask for more lines (PS2) after this command text."""
    code: list[str] = []
    pending: list[str] = []  # heredoc delimiters still open
    for line in command.split("\n"):
        if pending:
            if line.strip() == pending[0]:
                pending.pop(0)
            continue
        code.append(line)
        pending += [m[2] for m in HEREDOC.finditer(line)]
    if pending:
        return True
    if code[-1].rstrip().endswith(("\\", "|", "&&", "||")):
        return True
    return _open_quote("\n".join(code))


def _open_quote(text: str) -> bool:
    """True when a quote is left open (comments and escapes understood, as bash does)."""
    quote = ""
    i, word_start = 0, True
    while i < len(text):
        char = text[i]
        if quote == "'":
            quote = "" if char == "'" else quote
        elif char == "\\":
            i += 1
        elif quote == '"':
            quote = "" if char == '"' else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and word_start:
            end = text.find("\n", i)
            i = len(text) if end == -1 else end
            continue
        word_start = char in " \t\n;|&("
        i += 1
    return bool(quote)


def split_commands(text: str) -> list[str]:
    """A buffer of several commands (a multi-line paste) as one entry per command."""
    out: list[str] = []
    current: list[str] = []
    for line in text.split("\n"):
        if not current and not line.strip():
            continue
        current.append(line)
        if not unfinished("\n".join(current)):
            out.append("\n".join(current))
            current = []
    if current:
        out.append("\n".join(current))
    return out
