"""Reading a cast file (asciicast v1 or v2, through asciinema's own reader): the one reader
behind playback, the safety net, the gallery and drift reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asciinema.asciicast import LoadError, open_from_url

from recorder.errors import StagecastError


class CastReadError(StagecastError):
    """A cast that cannot be read: bad input, one line naming the file."""

    exit_code = 2


@dataclass(frozen=True)
class Marker:
    index: int  # 1-based
    time: float  # seconds in the cast's own timeline
    label: str
    event: int  # position of the marker event in Cast.events


@dataclass
class Cast:
    path: str
    version: int
    header: dict[str, Any]
    idle_time_limit: float | None
    events: list[tuple[float, str, str]] = field(default_factory=list)  # absolute, as recorded

    @property
    def markers(self) -> list[Marker]:
        found = [(i, e) for i, e in enumerate(self.events) if e[1] == "m"]
        return [Marker(n, e[0], e[2], i) for n, (i, e) in enumerate(found, 1)]


def load_cast(path: str | Path) -> Cast:
    """Every event of a v1/v2 cast, or CastReadError with the one-line message."""
    try:
        with open_from_url(str(path)) as cast:
            events = [(float(t), str(code), str(data)) for t, code, data in cast.events()]
            limit = cast.idle_time_limit
            return Cast(str(path), cast.version, dict(cast.v2_header), limit, events)
    except (LoadError, OSError, ValueError, TypeError, KeyError, UnicodeError) as exc:
        raise CastReadError(f"{path}: not an asciicast v1/v2 file") from exc
