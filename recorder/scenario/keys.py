"""Named keys for interactive programs, as the bytes a terminal sends."""

from __future__ import annotations

NAMED_KEYS: dict[str, str] = {
    "enter": "\r",
    "tab": "\t",
    "space": " ",
    "backspace": "\x7f",
    "esc": "\x1b",
    "up": "\x1b[A",
    "down": "\x1b[B",
    "right": "\x1b[C",
    "left": "\x1b[D",
    "home": "\x1b[H",
    "end": "\x1b[F",
    "pageup": "\x1b[5~",
    "pagedown": "\x1b[6~",
    "delete": "\x1b[3~",
    "f1": "\x1bOP",
    "f2": "\x1bOQ",
    "f3": "\x1bOR",
    "f4": "\x1bOS",
    **{f"ctrl-{chr(c)}": chr(c - ord("a") + 1) for c in range(ord("a"), ord("z") + 1)},
    "ctrl-\\": "\x1c",
    "ctrl-]": "\x1d",
}


def key_bytes(name: str) -> str:
    return NAMED_KEYS[name.lower()]
