"""Reading a cast file (asciicast v1, v2 or v3) into the one model, `recorder.cast.model.Cast`.

`stream_cast` (and `load_cast` on top of it) is the only code that decodes a cast file:
playback, the safety net, drift diffs, rehearsal baselines, checks against hand recordings, the
leak scan, the site and upload all read casts through it, so every command accepts and refuses
the same files. `stream_cast` reads the header and gives the events as a stream, for what may
be bigger than a command should hold; `load_cast` holds the whole cast.

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

import contextlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

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


# v2/v3 are read line by line, so their header is checked from the first line alone: a big
# file that is not a cast is refused after reading this much, whatever its size.
MAX_HEADER_BYTES = 1 << 20
SNIFF_BYTES = 1 << 16
# A v1 cast is one JSON document, read whole: beyond this it is refused rather than read.
MAX_V1_BYTES = 256 << 20


@dataclass(frozen=True)
class CastStream:
    """A cast whose header is read and whose events are read on demand, as a stream: what a
    command reads when a cast may be bigger than it should hold (a step that printed 100 MB).

    `events()` reads them afresh from the file on each call, one line at a time (a v1 cast is
    one JSON document, so its events were read with the header). A bad line raises
    CastReadError when the read gets to it. `head` is the cast with no events: its typed header
    fields (size, title, idle limit, provenance)."""

    path: str
    version: int
    header: dict[str, Any]
    errors: str = "strict"
    body_at: int = 0  # byte offset of v2/v3's first event line
    v1_events: list[Event] | None = None
    # Events from elsewhere than the file: a cast being recorded (`CastRecording.stream`).
    source: Callable[[], Iterable[Event]] | None = None

    @property
    def head(self) -> Cast:
        return Cast(self.path, self.version, self.header, [])

    def events(self) -> Iterator[Event]:
        if self.source is not None:
            yield from self.source()
            return
        if self.v1_events is not None:
            yield from self.v1_events
            return
        with _open(self.path) as f:
            f.seek(self.body_at)
            yield from _events(self.path, f, self.errors, relative=self.version == 3)

    def load(self) -> Cast:
        """The whole cast in memory, as `load_cast` reads it."""
        return Cast(self.path, self.version, self.header, list(self.events()))


def load_cast(path: str | Path, *, errors: str = "strict") -> Cast:
    """Every header key and every event of a v1/v2/v3 cast, or CastReadError.

    `errors` is how undecodable bytes are handled ("replace" reads a hand recording whose
    output was cut mid-character, as the recording check always has)."""
    return stream_cast(path, errors=errors).load()


def stream_cast(path: str | Path, *, errors: str = "strict") -> CastStream:
    """The cast's header, and its events to read as a stream (CastStream), or CastReadError."""
    with _open(str(path)) as f:
        return _read(str(path), f, os.fstat(f.fileno()).st_size, errors)


@contextlib.contextmanager
def _open(name: str) -> Iterator[BinaryIO]:
    """The file, opened for reading; an OSError (on opening or reading) as CastReadError."""
    try:
        with open(name, "rb") as f:
            yield f
    except OSError as exc:
        reason = f"cannot read it: {exc.strerror or _one_line(exc)}"
        raise CastReadError(name, f"{name}: {reason}", exc, instead=reason) from None


def _read(name: str, f: BinaryIO, size: int, errors: str) -> CastStream:
    head = f.readline(MAX_HEADER_BYTES)
    first = _json(_decode(name, head, errors, size))
    if isinstance(first, dict) and first.get("version") == 2:
        return CastStream(name, 2, first, errors, f.tell())
    if isinstance(first, dict) and first.get("version") == 3:
        if not isinstance(first.get("term"), dict):
            detail = f'{name}:1: an asciicast v3 header without a "term" object'
            raise CastReadError(name, detail, header_ok=True, instead=detail.split(": ", 1)[1])
        return CastStream(name, 3, first, errors, f.tell())
    if head.lstrip()[:1] == b"{" and first is None:  # the start of one JSON document: v1?
        if size > MAX_V1_BYTES:
            what = (
                f"a {_size(size)} JSON document: too big to read as an asciicast v1 file "
                f"(at most {_size(MAX_V1_BYTES)})"
            )
            raise CastReadError(name, f"{name}: {NOT_A_CAST}: {what}", instead=what)
        whole_bytes = head + f.read()
        whole = _json(_decode(name, whole_bytes, errors, size))
        if isinstance(whole, dict) and whole.get("version") == 1:
            return _v1(name, whole)
        instead = looks_like(whole_bytes[:SNIFF_BYTES], whole, size=size)
    elif isinstance(first, dict) and first.get("version") == 1:
        return _v1(name, first)
    else:
        sample = head[:SNIFF_BYTES] + f.read(max(SNIFF_BYTES - len(head), 0))
        instead = looks_like(sample, first, size=size)
    raise CastReadError(name, f"{name}: {NOT_A_CAST}: {instead}", instead=instead)


def _decode(name: str, raw: bytes, errors: str, size: int) -> str:
    try:
        return raw.decode("utf-8", errors=errors)
    except UnicodeDecodeError as exc:
        instead = looks_like(raw[:SNIFF_BYTES], size=size)
        detail = f"{name}: cannot read the file: {_one_line(exc)}"
        raise CastReadError(name, detail, instead=instead) from None


def _size(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def _v1(name: str, whole: dict[str, Any]) -> CastStream:
    stdout = whole.get("stdout")
    if not isinstance(stdout, list):
        what = "an asciicast v1 file without a stdout list"
        raise CastReadError(name, f"{name}: {what}", header_ok=True, instead=what)
    header = {key: value for key, value in whole.items() if key != "stdout"}
    return CastStream(name, 1, header, v1_events=_v1_events(name, stdout))


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


def _events(name: str, f: BinaryIO, errors: str, *, relative: bool) -> Iterator[Event]:
    """v2's events (absolute times) or v3's (each an interval from the one before), read
    line by line: a bad line stops the read there, however big the file."""
    clock = 0.0
    for lineno, raw in enumerate(f, 2):
        try:
            line = raw.decode("utf-8", errors=errors)
        except UnicodeDecodeError as exc:
            raise _bad_event(name, lineno, f"not UTF-8 text ({exc.reason})") from None
        if not line.strip():
            continue  # a blank line (a trailing newline, a hand edit) is not an event
        if relative and line.startswith("#"):
            continue  # a v3 comment
        try:
            event = json.loads(line)
        except json.JSONDecodeError as exc:
            why = f"{exc.msg} column {exc.colno}" if exc.msg.endswith(" at") else exc.msg
            raise _bad_event(name, lineno, f"not an asciicast event ({why})") from None
        if not _is_event(event):
            shape = "[interval, code, data]" if relative else "[time, code, data]"
            raise _bad_event(name, lineno, f"not an asciicast event: {shape}")
        clock = clock + float(event[0]) if relative else float(event[0])
        yield (clock, event[1], event[2])


def _v1_events(name: str, stdout: list[Any]) -> list[Event]:
    frames: list[tuple[float, str, str]] = []
    for n, frame in enumerate(stdout, 1):
        valid = isinstance(frame, list) and len(frame) >= 2
        if not (valid and _is_event([frame[0], "o", frame[1]])):
            what = f"stdout frame {n} is not [delay, data]"
            raise CastReadError(name, f"{name}: {what}", header_ok=True, instead=what)
        frames.append((float(frame[0]), "o", frame[1]))
    return [(t, code, data) for t, code, data in to_absolute_time(frames)]
