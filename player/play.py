"""`stagecast play`: play an asciicast v1, v2 or v3 file with chapters (markers) as navigation.

Built on asciinema 2.4.0: the cast is read by `recorder.cast.reader` (the one reader),
asciinema's event functions cap idle gaps and apply the speed, and `Player.play` opens
/dev/tty and puts it in raw mode; `ChapterPlayer._play` replaces the playback loop to add
`q` (quit), `[` (previous marker, screen redrawn), `]` while playing, and starting at a
marker.

Keys: space pause/resume, `.` step (paused), `]` next marker, `[` previous marker, `q` quit.
Ctrl-C raises KeyboardInterrupt (the CLI maps it to exit 130). Without a terminal (/dev/tty
unavailable) the cast plays with its timing and no keys.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from asciinema.asciicast import events as ev
from asciinema.player import Player
from asciinema.tty_ import read_blocking

from recorder.cast.model import Cast, Event, Marker
from recorder.cast.reader import CastError

# Full reset (RIS): the screen, modes and attributes as a fresh terminal has them, before a redraw.
RESET = "\x1bc"
KEYS = {"pause": b" ", "step": b".", "next_marker": b"]", "prev_marker": b"[", "quit": b"q"}


# Bad input (an unreadable cast, an unknown marker): one line, exit 2.
PlayError = CastError


def fmt_time(seconds: float) -> str:
    minutes, secs = divmod(max(seconds, 0.0), 60)
    return f"{int(minutes)}:{secs:04.1f}"


def list_chapters(cast: Cast) -> list[str]:
    if cast.version == 1:
        return [f"{cast.path}: asciicast v1 has no markers"]
    markers = cast.markers
    if not markers:
        return [f"{cast.path}: no markers"]
    return [f"{m.index:>3}  {fmt_time(m.time)}  {m.label}" for m in markers]


def find_marker(cast: Cast, wanted: str) -> Marker:
    """Exact label, else case-insensitive substring (first match), else 1-based index."""
    markers = cast.markers
    for marker in markers:
        if marker.label == wanted:
            return marker
    for marker in markers:
        if wanted.casefold() in marker.label.casefold():
            return marker
    if wanted.strip().isdigit() and 1 <= int(wanted) <= len(markers):
        return markers[int(wanted) - 1]
    if not markers:
        raise PlayError(f"{cast.path}: no marker {wanted!r}: the cast has no markers")
    names = ", ".join(f"{m.index} {m.label!r}" for m in markers)
    raise PlayError(f"{cast.path}: no marker {wanted!r}; markers: {names}")


def timed_events(
    cast: Cast, speed: float = 1.0, idle_time_limit: float | None = None
) -> list[Event]:
    """Playback times: idle gaps capped (default: the header's limit), divided by speed."""
    limit = idle_time_limit or cast.idle_time_limit
    events: Any = ev.to_relative_time(list(e) for e in cast.events)
    events = ev.cap_relative_time(events, limit)
    events = ev.adjust_speed(ev.to_absolute_time(events), speed)
    return [(t, code, data) for t, code, data in events]


def output_before(events: list[tuple[float, str, str]], position: int) -> str:
    """Everything the cast printed before event `position`: the screen's state at that point."""
    return "".join(data for _, code, data in events[:position] if code == "o")


def _write(text: str) -> None:
    if text:
        sys.stdout.write(text)
        sys.stdout.flush()


class ChapterPlayer(Player):
    """asciinema's Player (tty handling, raw mode) with a chapter-aware playback loop."""

    def __init__(self, start: int = 0, write: Callable[[str], None] = _write) -> None:
        self.start = start  # index of the first event to play with timing
        self.write = write

    def _play(  # noqa: C901, PLR0912, PLR0915 - one state machine
        self,
        asciicast: Any,
        idle_time_limit: Any,
        speed: float,
        stdin: Any,
        key_bindings: dict[str, Any],
        output: Any,
        pause_on_markers: bool,
    ) -> None:
        events: list[Event] = asciicast.timed
        marker_positions: list[int] = asciicast.marker_positions
        keys = {**KEYS, **key_bindings}
        write = self.write

        pos = self.start  # next event to emit
        if pos:
            write(output_before(events, pos))
        paused_at: float | None = None  # playback time where we paused; None while playing
        if pos and events[pos - 1][1] == "m" and pause_on_markers and stdin is not None:
            paused_at = events[pos - 1][0]
        base = events[pos - 1][0] if pos else 0.0
        start_time = time.perf_counter() - base

        def wait(timeout: float) -> bytes:
            if stdin is not None:
                return read_blocking(stdin.fileno(), timeout)
            time.sleep(timeout)
            return b""

        def emit(i: int) -> None:
            if events[i][1] == "o":
                write(events[i][2])

        def jump_to(target: int) -> None:
            """Redraw the screen as of event `target` (0 = the start), then resume after it."""
            nonlocal pos, start_time, paused_at
            write(RESET + output_before(events, target))
            pos = target
            now = events[target - 1][0] if target else 0.0
            if paused_at is not None:
                paused_at = now
            start_time = time.perf_counter() - now

        def navigate(key: bytes) -> None:
            nonlocal pos, start_time, paused_at
            if key == keys["next_marker"]:
                later = [m for m in marker_positions if m >= pos]
                if later:
                    while pos <= later[0]:
                        emit(pos)
                        pos += 1
                    now = events[pos - 1][0]
                    if paused_at is not None:
                        paused_at = now
                    start_time = time.perf_counter() - now
            else:  # previous: the marker before the one we are at (or in), else the start
                earlier = [m for m in marker_positions if m < pos - 1]
                jump_to(earlier[-1] + 1 if earlier else 0)

        while pos < len(events):
            if paused_at is not None:
                key = wait(1000)
                if 0x03 in key:
                    raise KeyboardInterrupt
                if key == keys["quit"]:
                    return
                if key == keys["pause"]:
                    start_time = time.perf_counter() - paused_at
                    paused_at = None
                elif key == keys["step"]:
                    emit(pos)
                    paused_at = events[pos][0]
                    pos += 1
                elif key in (keys["next_marker"], keys["prev_marker"]):
                    navigate(key)
                continue

            delay = events[pos][0] - (time.perf_counter() - start_time)
            key = wait(delay) if delay > 0 else b""
            if 0x03 in key:
                raise KeyboardInterrupt
            if key == keys["quit"]:
                return
            if key == keys["pause"]:
                paused_at = time.perf_counter() - start_time
            elif key in (keys["next_marker"], keys["prev_marker"]):
                navigate(key)
            elif not key or delay <= 0:
                emit(pos)
                pos += 1
                if events[pos - 1][1] == "m" and pause_on_markers and stdin is not None:
                    paused_at = events[pos - 1][0]


class _Playable:
    """What Player.play hands to _play: the cast with its playback-time events."""

    def __init__(self, cast: Cast, timed: list[Event]) -> None:
        self.timed = timed
        self.marker_positions = [m.event for m in cast.markers]  # timed keeps every event
        self.idle_time_limit = cast.idle_time_limit
        self.v2_header = cast.header


def play(
    cast: Cast,
    *,
    speed: float = 1.0,
    idle_time_limit: float | None = None,
    from_marker: str | None = None,
    pause_on_markers: bool = False,
) -> None:
    start = find_marker(cast, from_marker).event + 1 if from_marker is not None else 0
    timed = timed_events(cast, speed, idle_time_limit)
    ChapterPlayer(start).play(
        _Playable(cast, timed),
        speed=speed,
        key_bindings=dict(KEYS),
        pause_on_markers=pause_on_markers,
    )
