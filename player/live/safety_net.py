"""The safety net of `stagecast live`: replay one step's output from the verified cast.

When a visible step fails, times out, or the presenter presses the fallback key, the step's
segment of the verified cast (as `Cast.segments` cuts it: from its marker to the next marker,
or the end) is played in its place at the recorded pace, idle gaps capped as `player.play` caps
them. This module only checks that the cast fits the scenario and schedules the output.

The cast is read once, as a stream, when the show starts. Segments are kept in memory up to
SEGMENT_KEEP characters each and KEEP_TOTAL in all; a bigger one (a step that printed 100 MB)
goes to a temporary file and is read back as it is played, so the show holds a bounded part of
its recording, and plays what was verified even if the cast file is replaced meanwhile.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from player.play import timed_stream
from recorder.cast.reader import CastReadError, CastStream, stream_cast
from recorder.run.record import default_cast_path
from recorder.scenario.loader import LoadedScenario

SEGMENT_KEEP = 4 << 20  # characters of one segment's output kept in memory
KEEP_TOTAL = 16 << 20  # of all segments' output: the others wait in a temporary file
SKIP_WRITE = 1 << 20  # a skipped big segment's rest is written in pieces of this size


class SafetyNetError(Exception):
    """One line for the user; the CLI exits 2."""


@dataclass(frozen=True)
class _Spilled:
    """A segment's events in the safety net's temporary file, one JSON line each."""

    file: IO[bytes]
    start: int  # byte offsets of its lines
    end: int

    def read(self) -> Iterator[tuple[float, str]]:
        at = self.start
        while at < self.end:
            self.file.seek(at)  # each line found afresh: two readers never share a position
            line = self.file.readline()
            at += len(line)
            t, data = json.loads(line)
            yield t, data


@dataclass(frozen=True)
class FallbackSegment:
    """One step's output as the safety net plays it."""

    ordinal: int  # 0-based position among the cast's markers
    label: str
    duration: float  # seconds from the marker to the next marker (or the last event), capped
    kept: list[tuple[float, str]] = field(default_factory=list, repr=False)
    spilled: _Spilled | None = field(default=None, repr=False)

    def stream(self) -> Iterator[tuple[float, str]]:
        """(seconds from the segment start, output), idle-capped, one at a time."""
        return self.spilled.read() if self.spilled is not None else iter(self.kept)

    @property
    def events(self) -> list[tuple[float, str]]:
        """Every event of `stream` (all in memory: for a look at a small segment)."""
        return list(self.stream())


class _Building:
    """A segment as the cast is read: in memory until it, or all kept ones, are too big."""

    def __init__(self, ordinal: int, label: str, start: float, spill: _Spill) -> None:
        self.ordinal, self.label, self.start = ordinal, label, start
        self.spill = spill
        self.events: list[tuple[float, str]] = []
        self.size = 0
        self.from_byte: int | None = None  # where its lines begin in the file, once spilled

    def add(self, t: float, data: str) -> None:
        self.events.append((t - self.start, data))
        self.size += len(data)
        if self.size > SEGMENT_KEEP or self.spill.kept + self.size > KEEP_TOTAL:
            if self.from_byte is None:
                self.from_byte = self.spill.end
            self.spill.write(self.events)
            self.events = []

    def done(self, end: float) -> FallbackSegment:
        duration = end - self.start
        if self.from_byte is None:
            self.spill.kept += self.size
            return FallbackSegment(self.ordinal, self.label, duration, self.events)
        self.spill.write(self.events)
        spilled = _Spilled(self.spill.file(), self.from_byte, self.spill.end)
        return FallbackSegment(self.ordinal, self.label, duration, spilled=spilled)


class _Spill:
    """The temporary file big segments wait in, made when the first one needs it."""

    def __init__(self) -> None:
        self._file: IO[bytes] | None = None
        self.end = 0
        self.kept = 0  # characters of output kept in memory, by all segments done

    def file(self) -> IO[bytes]:
        if self._file is None:
            self._file = tempfile.TemporaryFile("w+b")
        return self._file

    def write(self, events: list[tuple[float, str]]) -> None:
        if events:
            lines = "".join(json.dumps([t, data]) + "\n" for t, data in events).encode()
            self.file().seek(self.end)
            self.file().write(lines)
            self.end += len(lines)


def _record_hint(cast_path: Path, loaded: LoadedScenario) -> str:
    # Name the cast only when it is not where `stagecast record` writes by default, so the
    # suggested command actually replaces the cast that was rejected.
    command = f"stagecast record {loaded.path}"
    if cast_path.resolve() != default_cast_path(loaded).resolve():
        command += f" -o {cast_path}"
    return f"`{command}`"


def _first_difference(expected: list[str], found: list[str]) -> str:
    for position, (want, got) in enumerate(zip(expected, found, strict=False), 1):
        if want != got:
            return f"marker {position} is {got!r}, the scenario expects {want!r}"
    if len(found) < len(expected):
        missing = expected[len(found)]
        return f"{len(found)} markers, the scenario expects {len(expected)} (missing {missing!r})"
    extra = found[len(expected)]
    return f"{len(found)} markers, the scenario expects {len(expected)} (extra {extra!r})"


def _segments(stream: CastStream, limit: float | None) -> tuple[list[str], list[FallbackSegment]]:
    """The cast's marker labels and a segment per marker, in one pass over its events, cut
    as `Cast.segments` cuts them: each runs to the next marker, the last one to the last
    event; what comes before the first marker belongs to none."""
    # Speed 1 with the cap applied over the whole timeline, so a segment's first gap (from its
    # marker) is capped like any other.
    labels: list[str] = []
    segments: list[FallbackSegment] = []
    spill = _Spill()
    building: _Building | None = None
    last = 0.0
    for t, code, data in timed_stream(stream.events(), 1.0, limit or stream.head.idle_time_limit):
        last = t
        if code == "m":
            if building is not None:
                segments.append(building.done(t))
            building = _Building(len(labels), data, t, spill)
            labels.append(data)
        elif code == "o" and building is not None:
            building.add(t, data)
    if building is not None:
        segments.append(building.done(last))
    return labels, segments


class SafetyNet:
    def __init__(self, cast_path: Path, stale: bool, segments: list[FallbackSegment]) -> None:
        self.cast_path = cast_path
        self.stale = stale  # recorded from another version of the scenario (sha256 differs)
        self._segments = segments

    @classmethod
    def load(
        cls,
        cast_path: Path,
        loaded: LoadedScenario,
        labels: list[str],
        idle_time_limit: float | None = None,
    ) -> SafetyNet:
        """Check the cast against the scenario's expected marker labels, or SafetyNetError."""
        cast_path = Path(cast_path)
        hint = _record_hint(cast_path, loaded)
        if not cast_path.exists():
            raise SafetyNetError(
                f"{cast_path}: no verified cast to fall back on: record one with {hint}, "
                "or pass --no-fallback"
            )
        try:
            stream = stream_cast(cast_path)
            limit = idle_time_limit if idle_time_limit is not None else stream.head.idle_time_limit
            found, segments = _segments(stream, limit)  # one pass: a bad line is found here
        except CastReadError as exc:
            raise SafetyNetError(f"{exc}: record it again with {hint}") from None
        cast = stream.head  # the header's fields
        if cast.version < 2:  # v1 has no markers: no step to fall back to
            raise SafetyNetError(
                f"{cast_path}: an asciicast v1 file has no markers to fall back on: record it "
                f"again with {hint}"
            )
        provenance = cast.provenance
        if provenance is None or not provenance.verified:
            raise SafetyNetError(
                f"{cast_path} is not a verified cast (no stagecast provenance, or the recording "
                f"failed): record it again with {hint}"
            )
        if provenance.live is not None:  # an archive: the presenter's pace, fallbacks, free shell
            raise SafetyNetError(
                f"{cast_path} is the recording of a live show (--save-cast), not a verified "
                f"cast: pass the verified cast with --cast, or record one with {hint}"
            )
        if found != labels:
            raise SafetyNetError(
                f"{cast_path}: the cast does not match the scenario's steps: "
                f"{_first_difference(labels, found)}: record it again with {hint}"
            )
        stale = provenance.scenario_sha256 != loaded.sha256
        return cls(cast_path, stale, segments)

    def segment(self, ordinal: int) -> FallbackSegment:
        return self._segments[ordinal]

    def planned(self) -> list[float]:
        """Each segment's duration: the time the presenter view shows as planned."""
        return [s.duration for s in self._segments]

    def play(
        self,
        ordinal: int,
        write: Callable[[str], None],
        poll_key: Callable[[float], bytes | None],
        skip_keys: bytes = b"\x06",
        quit_keys: bytes = b"\x11",
    ) -> str:
        """Write the segment's output at its recorded times: "played", "skipped" or "quit".

        Returns after the last output event: the trailing gap up to the next marker is not
        waited out, since the live run carries on with its own pace from there.
        """
        events = self.segment(ordinal).stream()
        start = time.perf_counter()  # every deadline is start + t: waits never add up to drift
        for at, text in events:
            while (delay := start + at - time.perf_counter()) > 0:
                key = poll_key(delay)
                if not key:
                    continue  # timed out (or a spurious wake-up): recheck the deadline
                if any(byte in quit_keys for byte in key):
                    return "quit"
                if any(byte in skip_keys for byte in key):
                    _write_rest(text, events, write)
                    return "skipped"
            write(text)
        return "played"


def _write_rest(
    first: str, rest: Iterator[tuple[float, str]], write: Callable[[str], None]
) -> None:
    """The rest of a skipped segment at once: one write, or pieces of SKIP_WRITE characters
    for a big one (it is never joined whole)."""
    pieces, size = [first], len(first)
    for _, text in rest:
        pieces.append(text)
        size += len(text)
        if size >= SKIP_WRITE:
            write("".join(pieces))
            pieces, size = [], 0
    if size:
        write("".join(pieces))
