"""Reading a hand-made recording: an asciicast v1 or v2 file as its raw events, kept as
they were written (the emulator renders them; nothing is decoded here but the JSON)."""

from __future__ import annotations

import json
from pathlib import Path

from recorder.errors import StagecastError


class CastError(StagecastError):
    exit_code = 2


def read_cast(path: str | Path) -> tuple[int, int, list[tuple[float, str, str]]]:
    """(cols, rows, [(time, kind, data)]) of an asciicast v1 or v2 file; CastError if not."""
    path = Path(path)
    bad = f"{path}: not an asciicast v1/v2 file"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise CastError(f"{bad} (cannot read it: {exc.strerror or exc})") from None
    try:
        lines = text.splitlines()
        header = json.loads(lines[0]) if lines else None
        if isinstance(header, dict) and header.get("version") == 2:
            events = []
            for line in lines[1:]:
                if not line.strip():
                    continue
                t, kind, data = json.loads(line)
                events.append((float(t), str(kind), str(data)))
            return int(header["width"]), int(header["height"]), events
        whole = json.loads(text)
        if isinstance(whole, dict) and whole.get("version") == 1:
            events, now = [], 0.0
            for delay, data in whole["stdout"]:
                now += float(delay)
                events.append((now, "o", str(data)))
            return int(whole["width"]), int(whole["height"]), events
    except (ValueError, TypeError, KeyError, IndexError):
        pass
    raise CastError(bad)
