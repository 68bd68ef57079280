"""Writing casts: asciicast v2 (the header built by the asciinema library, each event line
as its writer writes it) or v3 by its published spec (asciinema's Python library stops at v2;
3.x is written in Rust), and atomic publishing.

The event lines are ours rather than asciinema's `v2.writer`'s: that writer flushes every line
to the file and re-decodes every event, which made writing a 100 MB cast several seconds
slower than recording it; and a cast being recorded is written to a temporary file as it goes
(past SPILL_AT), then published by copying it after its header, without being read back.

v2 is the default: every player reads it. v3 is what asciinema 3.x records, for speakers whose
other recordings are v3: the terminal's size and type in a `term` object, each event timed
from the one before.

A verified cast replaces the old one only by rename(2) of a complete, fsynced temp file
in the same directory, so a crash, SIGKILL or Ctrl-C never leaves a half-written cast.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from pathlib import Path
from typing import IO, Any, Literal

from asciinema.asciicast import v2

from recorder.errors import CommandError

from . import model
from .leak_scan import EventScanner, Leak, scan_events, scan_header
from .reader import CastStream
from .spill_process import SpillProcess

CastFormat = Literal[2, 3]
SPILL_AT = 4 << 20  # characters of events kept in memory (see CastRecording)
COPY_CHUNK = 1 << 20
CAST_FORMATS: dict[str, CastFormat] = {"v2": 2, "v3": 3}


# One JSON text per line, as asciinema's writer writes it (its separators, UTF-8 as is).
_encode = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode


def _event_line(t: float, code: str, data: str) -> str:
    """`_encode([t, code, data])`, without building a list and walking it (a 100 MB cast
    has tens of thousands of events): the same text, float repr and string escapes."""
    return f"{_line_head(t, code)}{encode_basestring(data)}]"


def _line_head(t: float, code: str) -> str:
    """An event line up to its data: `[t, "code", `."""
    number = float.__repr__(t) if type(t) is float else _encode(t)  # an int stays an int
    return f"[{number}, {encode_basestring(code)}, "


@dataclass
class CastEvent:
    t: float
    code: str  # "o" or "m"
    data: str


@dataclass
class CastRecording:
    """The cast a run is recording: events appended as they happen, written by
    `publish_atomically`, and read back as the one model (`to_cast`) by the rehearsal's
    baseline diff.

    Past SPILL_AT characters, the events so far go to a temporary file as the lines the
    cast will have (`events` keeps the rest), and through the leak scan if `scan_for` named
    its secrets: a cast of 100 MB is recorded, scanned and published in bounded memory, and
    its lines are encoded and scanned once."""

    cols: int
    rows: int
    metadata: dict[str, Any] = field(default_factory=dict)
    events: list[CastEvent] = field(default_factory=list)
    version: CastFormat = 2
    # False: a rehearsal nobody will read the cast of (no baseline, no --cast-dir) keeps
    # no output, so a step printing 100 MB costs no 100 MB here.
    keep_output: bool = True
    _spill: IO[bytes] | None = field(default=None, repr=False)
    _spilled_as: CastFormat | None = None  # the format of the lines in `_spill`
    _previous_micros: int = 0  # v3: the time the last line's interval ends at
    _scanner: EventScanner | None = field(default=None, repr=False)
    _spiller: SpillProcess | None = field(default=None, repr=False)
    _spill_error: BaseException | None = field(default=None, repr=False)
    _in_memory: int = 0
    _last_t: float = 0.0
    _ordered: bool = True

    def output(self, t: float, data: str) -> None:
        if data and self.keep_output:
            self._add(CastEvent(t, "o", data))

    def marker(self, t: float, label: str) -> None:
        self._add(CastEvent(t, "m", label))

    def scan_for(self, secrets: Sequence[str]) -> None:
        """Leak-scan events for `secrets` as they are spilled (see `leaks`)."""
        self._scanner = EventScanner(secrets)

    def _add(self, event: CastEvent) -> None:
        self._ordered = self._ordered and event.t >= self._last_t
        self._last_t = max(self._last_t, event.t)
        self.events.append(event)
        self._in_memory += len(event.data)
        if self._in_memory > SPILL_AT and self._ordered:
            self._spill_events()

    def _spill_events(self) -> None:
        """Hand the events so far to the spill process, which encodes, writes and scans
        them on the other core while the recorder reads the terminal (see spill_process:
        in a thread, that work held up the reads). At most one batch waits for it: memory
        stays bounded, and a recorder faster than its disk waits for it."""
        if self._spilled_as is not None and self.version != self._spilled_as:
            raise ValueError("a cast's format cannot change once its events are on disk")
        batch, self.events, self._in_memory = self.events, [], 0
        if self._spill_error is not None:  # no cast can be written: `_settle` says why
            return
        try:
            if self._spill is None:
                self._spill = tempfile.TemporaryFile("w+b")
                self._spilled_as = self.version
            if self._spiller is None:  # the scanner goes along; `_settle` brings it back
                self._spiller = SpillProcess(self._spill.fileno(), self._scanner)
        except OSError as exc:  # a full or read-only temp folder: the run goes on
            self._spill_error = exc
            return
        heads, self._previous_micros = self._heads(batch, self._previous_micros)
        self._spiller.put(batch, heads)

    def _settle(self) -> None:
        """Wait until every spilled event is on disk and scanned; the spill's error (a full
        disk) is raised here, where the cast is read or written, and again after."""
        if self._spiller is not None:
            spiller, self._spiller = self._spiller, None
            try:
                self._scanner = spiller.finish()  # the one it took, fed (or None, as it was)
            except BaseException as exc:
                self._spill_error = exc
                raise
        if self._spill_error is not None:
            raise self._spill_error

    def _heads(self, events: Iterable[CastEvent], previous: int) -> tuple[list[str], int]:
        """How the cast's line for each of `events` starts (its time and code), where they
        follow a line ending at `previous` (v3: in microseconds); and where the last ends."""
        timed, end = self._times(events, previous)
        return [_line_head(t, e.code) for e, t in timed], end

    def _times(
        self, events: Iterable[CastEvent], previous: int
    ) -> tuple[list[tuple[CastEvent, float]], int]:
        """Each event with its time as its line says it (v2: rounded to the microsecond;
        v3: the interval since the line before, which ended at `previous` microseconds), and
        where the last ends. Intervals between times rounded to the microsecond: adding them
        up on reading gives back every time to within a microsecond, however long the cast."""
        if self.version == 2:
            return [(e, round(e.t, 6)) for e in events], previous
        timed = []
        for e in events:
            micros = max(round(e.t * 1_000_000), previous)
            timed.append((e, round((micros - previous) / 1_000_000, 6)))
            previous = micros
        return timed, previous

    def _lines(self, events: Iterable[CastEvent], previous: int) -> tuple[str, int]:
        """The cast's lines for `events`, which follow a line ending at `previous` (v3: in
        microseconds), and where the last of them ends."""
        timed, end = self._times(events, previous)
        return "".join(_event_line(t, e.code, e.data) + "\n" for e, t in timed), end

    def close(self) -> None:
        """Drop the temporary file of spilled events (they are gone with it), and stop the
        spill process if it still runs: nothing will read what it writes."""
        if self._spiller is not None:
            spiller, self._spiller = self._spiller, None
            spiller.kill()
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

    def _unspilled(self) -> list[CastEvent]:
        return sorted(self.events, key=lambda e: e.t)

    def event_tuples(self) -> Iterator[tuple[float, str, str]]:
        """Every event in file order, at the time a reader of the file gets: those spilled
        to disk first (they were in order), then those in memory."""
        self._settle()
        clock = 0.0
        if self._spill is not None:
            self._spill.flush()
            self._spill.seek(0)
            for line in self._spill:
                t, code, data = json.loads(line)
                clock = clock + t if self._spilled_as == 3 else t
                yield clock, code, data
        timed, _ = self._times(self._unspilled(), self._previous_micros)
        for e, t in timed:
            clock = clock + t if self.version == 3 else t
            yield clock, e.code, e.data

    def to_cast(self, path: str = "") -> model.Cast:
        """The cast as it would be read back from the file: events in file (time) order.
        (All in memory: the leak scan of a big cast is `leaks`.)"""
        return model.Cast(path, self.version, self.header(), list(self.event_tuples()))

    def stream(self, path: str = "") -> CastStream:
        """The cast as a stream of the events a reader of its file would get: what a diff
        reads, without holding a big cast in memory as `to_cast` does."""
        return CastStream(path, self.version, self.header(), source=self.event_tuples)

    def leaks(self, secrets: Sequence[str]) -> list[Leak]:
        """The leak scan of the cast as it will be written, header and events in file order.
        Events spilled to disk were scanned on their way there when `scan_for` named the same
        secrets; else they are read back once."""
        self._settle()
        scanner, self._scanner = self._scanner, None
        if scanner is None or scanner.secrets != EventScanner(secrets).secrets:
            return scan_events(self.header(), self.event_tuples(), secrets)
        for event in self._unspilled():
            scanner.feed(event.t, event.code, event.data)
        return scan_header(self.header(), secrets) + scanner.finish()


def _write(cast: CastRecording, path: str) -> None:
    """The header line, the lines spilled to disk (copied as they are), then the rest."""
    cast._settle()
    with open(path, "wb") as f:
        f.write((_encode(cast.header()) + "\n").encode())
        if cast._spill is not None:
            cast._spill.flush()
            f.flush()
            _copy_file(cast._spill, f)
        f.write(cast._lines(cast._unspilled(), cast._previous_micros)[0].encode())
        f.flush()
        os.fsync(f.fileno())


def _copy_file(source: IO[bytes], target: IO[bytes]) -> None:
    """Append all of `source` to `target` (flushed): in the kernel when it can (sendfile),
    without a trip through Python's buffers for a 100 MB cast."""
    size = os.fstat(source.fileno()).st_size
    copied = 0
    try:
        while copied < size:
            sent = os.sendfile(target.fileno(), source.fileno(), copied, size - copied)
            if not sent:
                break
            copied += sent
    except OSError as exc:
        if copied or exc.errno not in (errno.EINVAL, errno.ENOSYS):
            raise  # a full disk, say: not to be retried another way
    if copied < size:  # a file system sendfile does not serve
        source.seek(copied)
        shutil.copyfileobj(source, target, COPY_CHUNK)
    target.seek(0, os.SEEK_END)


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
