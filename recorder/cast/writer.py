"""Writing casts: asciicast v2 through the asciinema library (with labelled markers), or v3
by its published spec (asciinema's Python library stops at v2; 3.x is written in Rust), and
atomic publishing.

v2 is the default: every player reads it. v3 is what asciinema 3.x records, for speakers whose
other recordings are v3: the terminal's size and type in a `term` object, each event timed
from the one before.

A verified cast replaces the old one only by rename(2) of a complete, fsynced temp file
in the same directory, so a crash, SIGKILL or Ctrl-C never leaves a half-written cast.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal, TextIO

from asciinema.asciicast import v2

from recorder.errors import CommandError

from . import model

CastFormat = Literal[2, 3]
SPILL_AT = 16 << 20  # characters of events kept in memory (see CastRecording)
CAST_FORMATS: dict[str, CastFormat] = {"v2": 2, "v3": 3}


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
    version: CastFormat = 2
    # False: a rehearsal nobody will read the cast of (no baseline, no --cast-dir) keeps
    # no output, so a step printing 100 MB costs no 100 MB here.
    keep_output: bool = True
    # Events beyond SPILL_AT characters go to a temporary file (`events` keeps the rest):
    # a cast of 100 MB is written, scanned and published without being held in memory.
    _spill: IO[str] | None = field(default=None, repr=False)
    _in_memory: int = 0
    _last_t: float = 0.0
    _ordered: bool = True

    def output(self, t: float, data: str) -> None:
        if data and self.keep_output:
            self._add(CastEvent(t, "o", data))

    def marker(self, t: float, label: str) -> None:
        self._add(CastEvent(t, "m", label))

    def _add(self, event: CastEvent) -> None:
        self._ordered = self._ordered and event.t >= self._last_t
        self._last_t = max(self._last_t, event.t)
        self.events.append(event)
        self._in_memory += len(event.data)
        if self._in_memory > SPILL_AT and self._ordered:
            self._spill_events()

    def _spill_events(self) -> None:
        if self._spill is None:
            self._spill = tempfile.TemporaryFile("w+", encoding="utf-8")
        self._spill.seek(0, os.SEEK_END)
        for event in self.events:
            self._spill.write(json.dumps([event.t, event.code, event.data]) + "\n")
        self.events.clear()
        self._in_memory = 0

    def close(self) -> None:
        """Drop the temporary file of spilled events (they are gone with it)."""
        if self._spill is not None:
            self._spill.close()
            self._spill = None

    def header(self) -> dict[str, Any]:
        """The header `_write` writes: v2 as asciinema's v2 writer builds it; v3 with the
        size, TERM and theme in `term`, as asciinema 3.x writes them."""
        if self.version == 2:
            return v2.build_header(self.cols, self.rows, self.metadata)
        meta = dict(self.metadata)
        term: dict[str, Any] = {"cols": self.cols, "rows": self.rows}
        env = meta.get("env")
        if isinstance(env, dict) and isinstance(env.get("TERM"), str):
            term["type"] = env["TERM"]
        if "theme" in meta:
            term["theme"] = meta.pop("theme")
        return {"version": 3, "term": term, **meta}

    def timed(self) -> Iterator[CastEvent]:
        """Every event in time order: those spilled to disk first (they were in order),
        then those in memory."""
        if self._spill is not None:
            self._spill.flush()
            self._spill.seek(0)
            for line in self._spill:
                t, code, data = json.loads(line)
                yield CastEvent(t, code, data)
        yield from sorted(self.events, key=lambda e: e.t)

    def event_tuples(self) -> Iterator[tuple[float, str, str]]:
        return ((e.t, e.code, e.data) for e in self.timed())

    def to_cast(self, path: str = "") -> model.Cast:
        """The cast as it would be read back from the file: events in file (time) order.
        (All in memory: the leak scan of a big cast reads `event_tuples` instead.)"""
        return model.Cast(path, self.version, self.header(), list(self.event_tuples()))


def _write(cast: CastRecording, path: str) -> None:
    if cast.version == 3:
        with open(path, "w", encoding="utf-8") as f:
            _write_v3(cast, f)
            f.flush()
            os.fsync(f.fileno())
        return
    with LabelledWriter(path, metadata=cast.metadata, width=cast.cols, height=cast.rows) as w:
        for event in cast.timed():
            if event.code == "m":
                w.write_marker(event.t, event.data)
            else:
                w.write_stdout(event.t, event.data)
        assert w.file is not None
        w.file.flush()
        os.fsync(w.file.fileno())


def _write_v3(cast: CastRecording, f: TextIO) -> None:
    """asciicast v3: the header line, then `[interval, code, data]` per event. Intervals are
    taken between times rounded to the microsecond, so that adding them up on reading gives
    back every time to within a microsecond, however long the cast."""
    f.write(json.dumps(cast.header(), ensure_ascii=False) + "\n")
    previous = 0
    for event in cast.timed():
        micros = max(round(event.t * 1_000_000), previous)
        interval = (micros - previous) / 1_000_000
        previous = micros
        f.write(json.dumps([round(interval, 6), event.code, event.data], ensure_ascii=False))
        f.write("\n")


@contextlib.contextmanager
def _temp_beside(target: Path) -> Iterator[str]:
    target.parent.mkdir(parents=True, exist_ok=True)
    # The pid in the name says who owns it: only a dead owner's temp is stale.
    prefix = f".{target.name}.{os.getpid()}."
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=target.parent)
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
    """Temp files left by a recorder that was killed before it could rename: only those whose
    owner is gone (a run still writing one beside the same target keeps it)."""
    for stale in target.parent.glob(f".{target.name}.*.tmp"):
        owner = stale.name.removeprefix(f".{target.name}.").split(".", 1)[0]
        if owner.isdigit() and _alive(int(owner)):
            continue
        with contextlib.suppress(OSError):
            stale.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


class TargetBusy(CommandError):
    """Another stagecast is writing the same cast: one line, exit 2, nothing ran."""

    def __init__(self, target: Path, holder: str) -> None:
        super().__init__(
            f"{target}: another stagecast ({holder}) is writing this cast: wait for it to "
            "finish, or write elsewhere with -o",
            2,
        )


@contextlib.contextmanager
def target_lock(target: Path) -> Iterator[None]:
    """Hold `target` for one run: a second run for the same path is refused at once
    (TargetBusy) rather than racing this one's temp files and rename. The lock file lives in
    the temp dir, named by the target's absolute path, so casts/ gets no lock files; the
    kernel drops the lock when the process dies, however it dies."""
    locks = Path(tempfile.gettempdir()) / "stagecast-locks"
    locks.mkdir(mode=0o1777, exist_ok=True)
    key = hashlib.sha256(str(target.resolve()).encode()).hexdigest()[:32]
    fd = os.open(locks / f"{key}.lock", os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown pid"
            raise TargetBusy(target, holder) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
        yield
    finally:
        os.close(fd)


def failed_paths(target: Path) -> tuple[Path, Path]:
    stem = target.name.removesuffix(".cast")
    return target.with_name(f"{stem}.failed.cast"), target.with_name(f"{stem}.failed.txt")
