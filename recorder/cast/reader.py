"""Reading a cast file (asciicast v1 or v2) into the one model, `recorder.cast.model.Cast`.

`load_cast` is the only code that decodes a cast file: playback, the safety net, drift diffs,
rehearsal baselines, checks against hand recordings, the leak scan, the site and upload all
read casts through it, so every command accepts and refuses the same files.

asciinema's own reader (`asciinema.asciicast.open_from_url`) is not enough here: it keeps only
six keys of a v1 header and stops reading v2 events at the first empty line, and the leak scan
must see every byte. So the file is decoded here, by asciinema's rules (v2: a header line with
`"version": 2`, then one `[time, code, data]` event per line; v1: one JSON document, pretty or
not, with `"version": 1` and `stdout` frames of `[delay, data]`), and a v1 cast's delays become
absolute times with asciinema's `to_absolute_time`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from asciinema.asciicast.events import to_absolute_time

from recorder.errors import StagecastError

from .model import Cast, Event


class CastError(StagecastError):
    """Bad input about a cast (an unreadable file, a marker it does not have): one line, exit 2."""

    exit_code = 2


class CastReadError(CastError):
    """A file that is not a readable asciicast v1/v2 file.

    Its str() is the one line every command but `scan` prints; `detail` is the precise reason
    (the line, the frame, the OS error) that `stagecast scan` prints; `cause` is the OS error
    when the file could not be opened at all."""

    def __init__(
        self, path: str, detail: str, cause: OSError | None = None, header_ok: bool = False
    ) -> None:
        super().__init__(f"{path}: not an asciicast v1/v2 file")
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
    """Every header key and every event of a v1/v2 cast, or CastReadError.

    `errors` is how undecodable bytes are handled ("replace" reads a hand recording whose
    output was cut mid-character, as the recording check always has)."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8", errors=errors)
    except OSError as exc:
        raise CastReadError(name, f"{name}: cannot read the file: {_one_line(exc)}", exc) from None
    except UnicodeDecodeError as exc:
        raise CastReadError(name, f"{name}: cannot read the file: {_one_line(exc)}") from None
    lines = text.split("\n")
    first = _json(lines[0])
    if isinstance(first, dict) and first.get("version") == 2:
        return Cast(name, 2, first, list(_v2_events(name, lines[1:])))
    whole = _json(text)
    if isinstance(whole, dict) and whole.get("version") == 1:
        stdout = whole.get("stdout")
        if not isinstance(stdout, list):
            detail = f"{name}: an asciicast v1 file without a stdout list"
            raise CastReadError(name, detail, header_ok=True)
        header = {key: value for key, value in whole.items() if key != "stdout"}
        return Cast(name, 1, header, _v1_events(name, stdout))
    raise CastReadError(name, f"{name}: not an asciicast v1/v2 file")


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


def _v2_events(name: str, lines: list[str]) -> list[Event]:
    events: list[Event] = []
    for lineno, line in enumerate(lines, 2):
        if not line.strip():
            continue  # a blank line (a trailing newline, a hand edit) is not an event
        try:
            event = json.loads(line)
        except json.JSONDecodeError as exc:
            detail = f"{name}:{lineno}: not an asciicast event ({exc.msg})"
            raise CastReadError(name, detail, header_ok=True) from None
        if not _is_event(event):
            detail = f"{name}:{lineno}: not an asciicast event: [time, code, data]"
            raise CastReadError(name, detail, header_ok=True)
        events.append((float(event[0]), event[1], event[2]))
    return events


def _v1_events(name: str, stdout: list[Any]) -> list[Event]:
    frames: list[tuple[float, str, str]] = []
    for n, frame in enumerate(stdout, 1):
        valid = isinstance(frame, list) and len(frame) >= 2
        if not (valid and _is_event([frame[0], "o", frame[1]])):
            detail = f"{name}: stdout frame {n} is not [delay, data]"
            raise CastReadError(name, detail, header_ok=True)
        frames.append((float(frame[0]), "o", frame[1]))
    return [(t, code, data) for t, code, data in to_absolute_time(frames)]
