"""Reading a cast file (asciicast v1, v2 or v3) into the one model, `recorder.cast.model.Cast`.

`load_cast` is the only code that decodes a cast file: playback, the safety net, drift diffs,
rehearsal baselines, checks against hand recordings, the leak scan, the site and upload all
read casts through it, so every command accepts and refuses the same files.

asciinema's own Python reader (2.4) is not enough here: it keeps only six keys of a v1 header,
stops reading v2 events at the first empty line, and knows nothing of v3 (asciinema 3.x is
written in Rust). So the file is decoded here, by the published specs
(https://docs.asciinema.org/manual/asciicast/):
- v1: one JSON document, pretty or not, `"version": 1`, `stdout` frames of `[delay, data]`;
- v2: a header line with `"version": 2`, then one `[time, code, data]` event per line;
- v3: a header line with `"version": 3` and a `term` object, then `[interval, code, data]`
  events, each timed from the one before; lines starting with `#` are comments.
Every event ends up at its absolute time, so the rest of stagecast never sees the difference.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from asciinema.asciicast.events import to_absolute_time

from recorder.errors import StagecastError

from .model import Cast, Event
from .sniff import looks_like

NOT_A_CAST = "not an asciicast v1, v2 or v3 file"


class CastError(StagecastError):
    """Bad input about a cast (an unreadable file, a marker it does not have): one line, exit 2."""

    exit_code = 2


class CastReadError(CastError):
    """A file that is not a readable asciicast v1/v2/v3 file.

    Its str() is the one line every command but `scan` prints: what the file is not, and what
    it looks like instead (or which line is wrong); `detail` is the precise reason (the line,
    the frame, the OS error) that `stagecast scan` prints; `cause` is the OS error when the
    file could not be opened at all."""

    def __init__(
        self,
        path: str,
        detail: str,
        cause: OSError | None = None,
        header_ok: bool = False,
        instead: str = "",
    ) -> None:
        super().__init__(f"{path}: {NOT_A_CAST}" + (f": {instead}" if instead else ""))
        self.path = path
        self.detail = detail
        self.cause = cause
        self.header_ok = header_ok  # the header was read: an event (or v1's stdout) is wrong

    @property
    def missing(self) -> bool:
        return isinstance(self.cause, FileNotFoundError)


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def load_cast(path: str | Path, *, errors: str = "strict") -> Cast:
    """Every header key and every event of a v1/v2/v3 cast, or CastReadError.

    `errors` is how undecodable bytes are handled ("replace" reads a hand recording whose
    output was cut mid-character, as the recording check always has)."""
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        reason = f"cannot read it: {exc.strerror or _one_line(exc)}"
        raise CastReadError(name, f"{name}: {reason}", exc, instead=reason) from None
    try:
        text = raw.decode("utf-8", errors=errors)
    except UnicodeDecodeError as exc:
        instead = looks_like(raw)
        detail = f"{name}: cannot read the file: {_one_line(exc)}"
        raise CastReadError(name, detail, instead=instead) from None
    lines = text.split("\n")
    first = _json(lines[0])
    if isinstance(first, dict) and first.get("version") == 2:
        return Cast(name, 2, first, _events(name, lines[1:], relative=False))
    if isinstance(first, dict) and first.get("version") == 3:
        if not isinstance(first.get("term"), dict):
            detail = f'{name}:1: an asciicast v3 header without a "term" object'
            raise CastReadError(name, detail, header_ok=True, instead=detail.split(": ", 1)[1])
        return Cast(name, 3, first, _events(name, lines[1:], relative=True))
    whole = _json(text)
    if isinstance(whole, dict) and whole.get("version") == 1:
        stdout = whole.get("stdout")
        if not isinstance(stdout, list):
            what = "an asciicast v1 file without a stdout list"
            raise CastReadError(name, f"{name}: {what}", header_ok=True, instead=what)
        header = {key: value for key, value in whole.items() if key != "stdout"}
        return Cast(name, 1, header, _v1_events(name, stdout))
    instead = looks_like(raw, first if first is not None else whole)
    raise CastReadError(name, f"{name}: {NOT_A_CAST}: {instead}", instead=instead)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def _is_event(event: Any) -> bool:
    return (
        isinstance(event, list)
        and len(event) >= 3
        and isinstance(event[0], int | float)
        and not isinstance(event[0], bool)
        and isinstance(event[1], str)
        and isinstance(event[2], str)
    )


def _bad_event(name: str, lineno: int, what: str) -> CastReadError:
    detail = f"{name}:{lineno}: {what}"
    return CastReadError(name, detail, header_ok=True, instead=f"line {lineno}: {what}")


def _events(name: str, lines: list[str], *, relative: bool) -> list[Event]:
    """v2's events (absolute times) or v3's (each an interval from the one before)."""
    events: list[Event] = []
    clock = 0.0
    for lineno, line in enumerate(lines, 2):
        if not line.strip():
            continue  # a blank line (a trailing newline, a hand edit) is not an event
        if relative and line.startswith("#"):
            continue  # a v3 comment
        try:
            event = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _bad_event(name, lineno, f"not an asciicast event ({exc.msg})") from None
        if not _is_event(event):
            shape = "[interval, code, data]" if relative else "[time, code, data]"
            raise _bad_event(name, lineno, f"not an asciicast event: {shape}")
        clock = clock + float(event[0]) if relative else float(event[0])
        events.append((clock, event[1], event[2]))
    return events


def _v1_events(name: str, stdout: list[Any]) -> list[Event]:
    frames: list[tuple[float, str, str]] = []
    for n, frame in enumerate(stdout, 1):
        valid = isinstance(frame, list) and len(frame) >= 2
        if not (valid and _is_event([frame[0], "o", frame[1]])):
            what = f"stdout frame {n} is not [delay, data]"
            raise CastReadError(name, f"{name}: {what}", header_ok=True, instead=what)
        frames.append((float(frame[0]), "o", frame[1]))
    return [(t, code, data) for t, code, data in to_absolute_time(frames)]
