"""Which events a render plays, and when: the whole cast or one chapter, idle gaps capped
and the speed applied as `stagecast play` and asciinema do (`player.play.timed_stream`).

A chapter is its marker's segment: the events from the marker to the next one (or the end).
What the cast printed before it is the `prelude`: played on the terminal first, without a
frame, so the chapter starts from the screen as it stood.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass

from player.streamed import AnyCast, Replay
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
    """What one render plays: `events` timed from 0 (the clip's start).

    `prelude` and `events` can each be iterated more than once: lists for a cast in memory,
    new reads of the file (`player.streamed.Replay`) for a cast read as a stream, so a clip
    of a step that printed 100 MB holds none of it."""

    cols: int
    rows: int
    prelude: Iterable[Event]  # played before the first frame, untimed
    events: Iterable[Event]  # output and resizes, from time 0
    duration: float  # its last event's time
    label: str  # the chapter's label; "" for the whole cast
    index: int  # the chapter's number; 0 for the whole cast


def cast_size(cast: AnyCast) -> tuple[int, int]:
    return cast.width or DEFAULT_WIDTH, cast.height or DEFAULT_HEIGHT


def check_positive(flag: str, value: float | None) -> None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise RenderError(f"{flag} {value:g}: give a number above 0")


def _timed(cast: AnyCast, speed: float, idle_limit: float | None) -> Iterable[Event]:
    """The cast's events at playback times (`player.play`'s): a list for a cast in memory, a
    new read of the file on each iteration for a streamed one."""
    from player.play import timed_events, timed_stream

    if isinstance(cast, Cast):
        return timed_events(cast, speed, idle_limit)
    limit = idle_limit or cast.idle_time_limit
    return Replay(lambda: timed_stream(cast.events, speed, limit))


def _times(timed: Iterable[Event], positions: Collection[int]) -> tuple[dict[int, float], float]:
    """The times of the events at `positions`, and the last event's (0 without events): one
    read of them."""
    at: dict[int, float] = {}
    last = 0.0
    for i, (t, _, _) in enumerate(timed):
        if i in positions:
            at[i] = t
        last = t
    return at, last


def _shown(
    timed: Iterable[Event], start: int, stop: int | None, since: float | None = None
) -> Iterable[Event]:
    """The events a render plays among timed[start:stop], timed from `since` when given;
    as `timed` is (a list, or read anew on each iteration)."""

    def source() -> Iterator[Event]:
        part = itertools.islice(timed, start, stop)
        if since is None:
            return (e for e in part if e[1] in SHOWN)
        return ((t - since, c, d) for t, c, d in part if c in SHOWN)

    return list(source()) if isinstance(timed, list) else Replay(source)


def clip_of(
    cast: AnyCast,
    chapter: str | Marker | None = None,
    *,
    speed: float = 1.0,
    idle_limit: float | None = None,
) -> Clip:
    """The whole cast, or the chapter `chapter` names (exact label, else a case-insensitive
    part of one, else its 1-based number: as `stagecast play --from`), or that marker."""
    from player.play import find_marker

    check_positive("--speed", speed)
    check_positive("--idle-limit", idle_limit)
    timed = _timed(cast, speed, idle_limit)
    cols, rows = cast_size(cast)
    if chapter is None:
        _, end = _times(timed, ())
        return Clip(cols, rows, [], _shown(timed, 0, None), end, "", 0)
    marker = chapter if isinstance(chapter, Marker) else find_marker(cast, chapter)
    prelude = _shown(timed, 0, marker.event)
    return _chapter(timed, cast.markers, marker, (cols, rows), prelude)


def chapter_clips(
    cast: AnyCast, *, speed: float = 1.0, idle_limit: float | None = None
) -> tuple[Iterable[Event], list[Clip]]:
    """What the cast shows before its first marker, and every chapter's clip without its
    prelude, in order: played one after the other on one terminal, each chapter starts from
    the screen the ones before it left, as `clip_of`'s prelude would have drawn it. Without
    markers: every event, and no chapter."""
    check_positive("--speed", speed)
    check_positive("--idle-limit", idle_limit)
    timed = _timed(cast, speed, idle_limit)
    markers = cast.markers
    times = _times(timed, {m.event for m in markers})  # one read for every chapter's times
    head = _shown(timed, 0, markers[0].event if markers else None)
    size = cast_size(cast)
    clips = [_chapter(timed, markers, m, size, [], times) for m in markers]
    return head, clips


def _chapter(
    timed: Iterable[Event],
    markers: list[Marker],
    marker: Marker,
    size: tuple[int, int],
    prelude: Iterable[Event],
    times: tuple[dict[int, float], float] | None = None,
) -> Clip:
    """The marker's segment: its events up to the next marker, timed from the marker.
    `times`: `_times` of (at least) every marker, when already read."""
    later = [m.event for m in markers if m.index > marker.index]
    stop = later[0] if later else None
    at, last = times or _times(timed, {marker.event, *later[:1]})
    start = at[marker.event]
    end = (at[stop] if stop is not None else last) - start
    events = _shown(timed, marker.event + 1, stop, start)
    return Clip(*size, prelude, events, max(end, 0.0), marker.label, marker.index)


_CLOCK = re.compile(r"(?:(\d+):)?(\d+(?:\.\d*)?|\.\d+)")


def parse_time(text: str) -> float:
    """--at: seconds (`12.5`) or minutes and seconds (`1:02.5`)."""
    match = _CLOCK.fullmatch(text.strip())
    if not match:
        raise RenderError(f"--at {text}: give a time as SECONDS or M:SS (e.g. 12.5 or 1:02.5)")
    minutes, seconds = match.groups()
    return int(minutes or 0) * 60 + float(seconds)
