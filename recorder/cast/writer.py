"""asciicast v2 through the asciinema library, with labelled markers and atomic publishing.

A verified cast replaces the old one only by rename(2) of a complete, fsynced temp file
in the same directory, so a crash, SIGKILL or Ctrl-C never leaves a half-written cast.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asciinema.asciicast import v2

from . import model


class LabelledWriter(v2.writer):
    """asciinema 2.4.0's writer always writes empty marker labels; this one keeps them."""

    def write_marker(self, ts: float, label: str = "") -> None:
        self._writer__write_event(ts, "m", label)  # asciinema's private writer, name-mangled


@dataclass
class CastEvent:
    t: float
    code: str  # "o" or "m"
    data: str


@dataclass
class CastRecording:
    """The cast a run is recording: events appended as they happen, written by
    `publish_atomically`, and read back as the one model (`to_cast`) by the leak scan and the
    rehearsal's baseline diff."""

    cols: int
    rows: int
    metadata: dict[str, Any] = field(default_factory=dict)
    events: list[CastEvent] = field(default_factory=list)

    def output(self, t: float, data: str) -> None:
        if data:
            self.events.append(CastEvent(t, "o", data))

    def marker(self, t: float, label: str) -> None:
        self.events.append(CastEvent(t, "m", label))

    def header(self) -> dict[str, Any]:
        """The header `_write` writes, built as asciinema's v2 writer builds it."""
        return v2.build_header(self.cols, self.rows, self.metadata)

    def to_cast(self, path: str = "") -> model.Cast:
        """The cast as it would be read back from the file: events in file (time) order."""
        events = [(e.t, e.code, e.data) for e in sorted(self.events, key=lambda e: e.t)]
        return model.Cast(path, 2, self.header(), events)


def _write(cast: CastRecording, path: str) -> None:
    with LabelledWriter(path, metadata=cast.metadata, width=cast.cols, height=cast.rows) as w:
        for event in sorted(cast.events, key=lambda e: e.t):
            if event.code == "m":
                w.write_marker(event.t, event.data)
            else:
                w.write_stdout(event.t, event.data)
        assert w.file is not None
        w.file.flush()
        os.fsync(w.file.fileno())


@contextlib.contextmanager
def _temp_beside(target: Path) -> Iterator[str]:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a published cast is a normal file
    try:
        yield tmp
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def publish_atomically(cast: CastRecording, target: Path) -> None:
    """Write `cast` to `target`: all or nothing."""
    with _temp_beside(target) as tmp:
        _write(cast, tmp)
        os.replace(tmp, target)
    _fsync_dir(target.parent)


def write_text_atomically(text: str, target: Path) -> None:
    with _temp_beside(target) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_temps(target: Path) -> None:
    """Temp files left by a recorder that was killed before it could rename."""
    for stale in target.parent.glob(f".{target.name}.*.tmp"):
        with contextlib.suppress(OSError):
            stale.unlink()


def failed_paths(target: Path) -> tuple[Path, Path]:
    stem = target.name.removesuffix(".cast")
    return target.with_name(f"{stem}.failed.cast"), target.with_name(f"{stem}.failed.txt")
