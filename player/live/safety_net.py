"""The safety net of `stagecast live`: replay one step's output from the verified cast.

When a visible step fails, times out, or the presenter presses the fallback key, the step's
segment of the verified cast (`Cast.segments`: from its marker to the next marker, or the end)
is played in its place at the recorded pace, idle gaps capped as `player.play` caps them. This
module only checks that the cast fits the scenario and schedules the output.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from player.play import timed_events
from recorder.cast.model import Cast
from recorder.cast.reader import CastReadError, load_cast
from recorder.run.record import default_cast_path
from recorder.scenario.loader import LoadedScenario


class SafetyNetError(Exception):
    """One line for the user; the CLI exits 2."""


@dataclass(frozen=True)
class FallbackSegment:
    """One step's output as the safety net plays it."""

    ordinal: int  # 0-based position among the cast's markers
    label: str
    events: list[tuple[float, str]]  # (seconds from the segment start, output); idle-capped
    duration: float  # seconds from the marker to the next marker (or the last event), capped


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


def _segments(cast: Cast, idle_time_limit: float | None) -> list[FallbackSegment]:
    # Speed 1 with the cap applied over the whole timeline, so a segment's first gap (from its
    # marker) is capped like any other.
    capped = cast.retimed(timed_events(cast, 1.0, idle_time_limit))
    return [
        FallbackSegment(
            seg.index - 1,
            seg.label,
            [(t - seg.start, data) for t, code, data in seg.events if code == "o"],
            seg.duration,
        )
        for seg in capped.segments
        if seg.marker is not None
    ]


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
            cast = load_cast(cast_path)
        except CastReadError as exc:
            raise SafetyNetError(f"{exc}: record it again with {hint}") from None
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
        found = [m.label for m in cast.markers]
        if found != labels:
            raise SafetyNetError(
                f"{cast_path}: the cast does not match the scenario's steps: "
                f"{_first_difference(labels, found)}: record it again with {hint}"
            )
        limit = idle_time_limit if idle_time_limit is not None else cast.idle_time_limit
        stale = provenance.scenario_sha256 != loaded.sha256
        return cls(cast_path, stale, _segments(cast, limit))

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
        events = self.segment(ordinal).events
        start = time.perf_counter()  # every deadline is start + t: waits never add up to drift
        for position, (at, text) in enumerate(events):
            while (delay := start + at - time.perf_counter()) > 0:
                key = poll_key(delay)
                if not key:
                    continue  # timed out (or a spurious wake-up): recheck the deadline
                if any(byte in quit_keys for byte in key):
                    return "quit"
                if any(byte in skip_keys for byte in key):
                    rest = "".join(piece for _, piece in events[position:])
                    if rest:
                        write(rest)
                    return "skipped"
            write(text)
        return "played"
