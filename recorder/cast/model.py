"""The one cast model: a cast's whole header, its events, its markers and the segments
between them. `recorder.cast.reader.load_cast` makes one from a file, and
`recorder.cast.writer.CastRecording.to_cast` from a cast being recorded.

Events keep their absolute times, as recorded (a v1 cast's delays and a v3 cast's intervals
are added up when read).
`header` is the header exactly as written (a v1 cast: its object without `stdout`), so the
leak scan sees every value; the typed fields below read from it and are None when a value is
missing or of the wrong type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .provenance import Provenance

# (seconds since the start, code, data); code: "o" output, "i" input, "m" marker, "r" resize
# ("COLSxROWS"), "x" exit status (v3)
Event = tuple[float, str, str]


@dataclass(frozen=True)
class Marker:
    index: int  # 1-based
    time: float  # seconds in the cast's own timeline
    label: str
    event: int  # position of the marker event in Cast.events


@dataclass(frozen=True)
class Segment:
    """The events between one marker and the next (or the end). The lead segment (`marker`
    None) holds what the cast recorded before its first marker, from time 0."""

    marker: Marker | None
    start: float  # the marker's time; 0.0 for the lead
    end: float  # the next marker's time, else the last event's
    events: list[Event]  # the marker itself excluded

    @property
    def index(self) -> int:
        """The marker's 1-based number; 0 for the lead."""
        return self.marker.index if self.marker else 0

    @property
    def label(self) -> str:
        return self.marker.label if self.marker else ""

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def output(self) -> str:
        """Everything the segment printed ("o" events), joined."""
        return "".join(data for _, code, data in self.events if code == "o")


def _positive(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
    return float(value) if ok else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class Cast:
    path: str  # where it was read from; a description ("rehearsal of x.yaml") when not a file
    version: int  # 1, 2 or 3
    header: dict[str, Any]  # as written: every key, raw values
    events: list[Event] = field(default_factory=list)

    # -- the header's fields (asciicast v1, v2 and v3) --------------------------------------

    @property
    def term(self) -> dict[str, Any]:
        """v3's `term` object (size, type, theme); {} for v1/v2, which keep those at the top."""
        term = self.header.get("term") if self.version == 3 else None
        return term if isinstance(term, dict) else {}

    @property
    def width(self) -> int | None:
        return _whole(self.term.get("cols") if self.version == 3 else self.header.get("width"))

    @property
    def height(self) -> int | None:
        return _whole(self.term.get("rows") if self.version == 3 else self.header.get("height"))

    @property
    def term_type(self) -> str | None:
        """TERM as recorded: v3's `term.type`, else the env's TERM."""
        return _text(self.term.get("type")) or self.env.get("TERM")

    @property
    def idle_time_limit(self) -> float | None:
        """v2 and v3 (asciicast v1 has no such field), and only a positive number."""
        return _positive(self.header.get("idle_time_limit")) if self.version >= 2 else None

    @property
    def title(self) -> str | None:
        return _text(self.header.get("title"))

    @property
    def timestamp(self) -> int | None:
        return _whole(self.header.get("timestamp"))

    @property
    def command(self) -> str | None:
        return _text(self.header.get("command"))

    @property
    def env(self) -> dict[str, str]:
        env = self.header.get("env")
        if not isinstance(env, dict):
            return {}
        return {k: v for k, v in env.items() if isinstance(k, str) and isinstance(v, str)}

    @property
    def theme(self) -> dict[str, Any] | None:
        theme = self.term.get("theme") if self.version == 3 else self.header.get("theme")
        return theme if isinstance(theme, dict) else None

    @property
    def exit_status(self) -> str | None:
        """v3's `x` event: how the recorded session ended; None when it does not say."""
        ends = [data for _, code, data in self.events if code == "x"]
        return ends[-1] if ends else None

    @cached_property
    def provenance(self) -> Provenance | None:
        """stagecast's `stagecast` key; None for a cast stagecast did not make."""
        return Provenance.from_header(self.header)

    @property
    def verified(self) -> bool:
        return self.provenance is not None and self.provenance.verified

    # -- markers and segments ---------------------------------------------------------------

    @cached_property
    def markers(self) -> list[Marker]:
        found = [(i, e) for i, e in enumerate(self.events) if e[1] == "m"]
        return [Marker(n, e[0], e[2], i) for n, (i, e) in enumerate(found, 1)]

    @cached_property
    def segments(self) -> list[Segment]:
        """The cast cut at its markers: the lead segment first (it may be empty), then one
        segment per marker. The only place a cast is split at its markers."""
        events, markers = self.events, self.markers
        end = events[-1][0] if events else 0.0
        bounds = [m.event for m in markers] + [len(events)]
        lead_end = events[bounds[0]][0] if markers else end
        out = [Segment(None, 0.0, lead_end, events[: bounds[0]])]
        for marker, stop in zip(markers, bounds[1:], strict=True):
            until = events[stop][0] if stop < len(events) else end
            out.append(Segment(marker, marker.time, until, events[marker.event + 1 : stop]))
        return out

    def retimed(self, events: list[Event]) -> Cast:
        """The same cast with its events at other times (idle gaps capped, a speed applied):
        one event for each of ours, in the same order."""
        if len(events) != len(self.events):
            raise ValueError("retimed: one event for each event of the cast")
        return Cast(self.path, self.version, self.header, events)
