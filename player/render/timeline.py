"""Which events a render plays, and when: the whole cast or one chapter, idle gaps capped
and the speed applied as `stagecast play` and asciinema do (`player.play.timed_events`).

A chapter is its marker's segment: the events from the marker to the next one (or the end).
What the cast printed before it is the `prelude`: played on the terminal first, without a
frame, so the chapter starts from the screen as it stood.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from recorder.cast.model import Cast, Event, Marker
from recorder.errors import CommandError

DEFAULT_WIDTH, DEFAULT_HEIGHT = 80, 24
SHOWN = ("o", "r")  # the events a render plays: output and resizes


class RenderError(CommandError):
    """Bad input for a render (an unknown chapter, a bad time, an unwritable output): exit 2
    unless said otherwise."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message, exit_code)


@dataclass(frozen=True)
class Clip:
    """What one render plays: `events` timed from 0 (the clip's start)."""

    cols: int
    rows: int
    prelude: list[Event]  # played before the first frame, untimed
    events: list[Event]  # output and resizes, from time 0
    duration: float  # its last event's time
    label: str  # the chapter's label; "" for the whole cast
    index: int  # the chapter's number; 0 for the whole cast


def cast_size(cast: Cast) -> tuple[int, int]:
    return cast.width or DEFAULT_WIDTH, cast.height or DEFAULT_HEIGHT


def check_positive(flag: str, value: float | None) -> None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise RenderError(f"{flag} {value:g}: give a number above 0")


def clip_of(
    cast: Cast,
    chapter: str | Marker | None = None,
    *,
    speed: float = 1.0,
    idle_limit: float | None = None,
) -> Clip:
    """The whole cast, or the chapter `chapter` names (exact label, else a case-insensitive
    part of one, else its 1-based number: as `stagecast play --from`), or that marker."""
    from player.play import find_marker, timed_events

    check_positive("--speed", speed)
    check_positive("--idle-limit", idle_limit)
    timed = timed_events(cast, speed, idle_limit)
    cols, rows = cast_size(cast)
    if chapter is None:
        events = [e for e in timed if e[1] in SHOWN]
        end = timed[-1][0] if timed else 0.0
        return Clip(cols, rows, [], events, end, "", 0)
    marker = chapter if isinstance(chapter, Marker) else find_marker(cast, chapter)
    prelude = [e for e in timed[: marker.event] if e[1] in SHOWN]
    return _chapter(timed, cast.markers, marker, (cols, rows), prelude)


def chapter_clips(
    cast: Cast, *, speed: float = 1.0, idle_limit: float | None = None
) -> tuple[list[Event], list[Clip]]:
    """What the cast shows before its first marker, and every chapter's clip without its
    prelude, in order: played one after the other on one terminal, each chapter starts from
    the screen the ones before it left, as `clip_of`'s prelude would have drawn it. Without
    markers: every event, and no chapter."""
    check_positive("--speed", speed)
    check_positive("--idle-limit", idle_limit)
    from player.play import timed_events

    timed = timed_events(cast, speed, idle_limit)
    markers = cast.markers
    head = timed[: markers[0].event] if markers else timed
    size = cast_size(cast)
    clips = [_chapter(timed, markers, m, size, []) for m in markers]
    return [e for e in head if e[1] in SHOWN], clips


def _chapter(
    timed: list[Event],
    markers: list[Marker],
    marker: Marker,
    size: tuple[int, int],
    prelude: list[Event],
) -> Clip:
    """The marker's segment: its events up to the next marker, timed from the marker."""
    later = [m.event for m in markers if m.index > marker.index]
    stop = later[0] if later else len(timed)
    start = timed[marker.event][0]
    events = [(t - start, c, d) for t, c, d in timed[marker.event + 1 : stop] if c in SHOWN]
    end = (timed[stop][0] if stop < len(timed) else timed[-1][0]) - start
    return Clip(*size, prelude, events, max(end, 0.0), marker.label, marker.index)


_CLOCK = re.compile(r"(?:(\d+):)?(\d+(?:\.\d*)?|\.\d+)")


def parse_time(text: str) -> float:
    """--at: seconds (`12.5`) or minutes and seconds (`1:02.5`)."""
    match = _CLOCK.fullmatch(text.strip())
    if not match:
        raise RenderError(f"--at {text}: give a time as SECONDS or M:SS (e.g. 12.5 or 1:02.5)")
    minutes, seconds = match.groups()
    return int(minutes or 0) * 60 + float(seconds)
