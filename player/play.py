"""`stagecast play`: play an asciicast v1, v2 or v3 file with chapters (markers) as navigation.

Built on asciinema 2.4.0: the cast is read by `recorder.cast.reader` (the one reader),
asciinema's event functions cap idle gaps and apply the speed, and `Player.play` opens
/dev/tty and puts it in raw mode; `ChapterPlayer._play` replaces the playback loop to add
`q` (quit), `[` (previous marker, screen redrawn), `]` while playing, and starting at a
marker.

A cast file is played as a stream (`player.streamed`): read once for its markers, then its
events read one at a time as they are played, so a step that printed 100 MB costs no more
memory than one that printed a line. Going back (`[`) reads the cast again from the start,
writing out what it printed up to there, as the redraw always did.

Keys: space pause/resume, `.` step (paused), `]` next marker, `[` previous marker, `q` quit.
Ctrl-C raises KeyboardInterrupt (the CLI maps it to exit 130). Without a terminal (/dev/tty
unavailable) the cast plays with its timing and no keys.
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from asciinema.asciicast import events as ev
from asciinema.player import Player
from asciinema.tty_ import read_blocking

from recorder.cast.model import Cast, Event, Marker
from recorder.cast.reader import CastError

from .streamed import AnyCast, replay

# Full reset (RIS): the screen, modes and attributes as a fresh terminal has them, before a redraw.
RESET = "\x1bc"
KEYS = {"pause": b" ", "step": b".", "next_marker": b"]", "prev_marker": b"[", "quit": b"q"}
WRITE_AT = 1 << 16  # characters of output gathered into one write when redrawing


# Bad input (an unreadable cast, an unknown marker): one line, exit 2.
PlayError = CastError


def fmt_time(seconds: float) -> str:
    minutes, secs = divmod(max(seconds, 0.0), 60)
    return f"{int(minutes)}:{secs:04.1f}"


def list_chapters(cast: AnyCast) -> list[str]:
    if cast.version == 1:
        return [f"{cast.path}: asciicast v1 has no markers"]
    markers = cast.markers
    if not markers:
        return [f"{cast.path}: no markers"]
    return [f"{m.index:>3}  {fmt_time(m.time)}  {m.label}" for m in markers]


def find_marker(cast: AnyCast, wanted: str) -> Marker:
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


def timed_stream(
    events: Iterable[Event], speed: float = 1.0, limit: float | None = None
) -> Iterator[Event]:
    """Playback times, one event at a time (asciinema's functions are generators): idle
    gaps capped at `limit`, divided by speed."""
    timed: Any = ev.to_relative_time(list(e) for e in events)
    timed = ev.cap_relative_time(timed, limit)
    timed = ev.adjust_speed(ev.to_absolute_time(timed), speed)
    return ((t, code, data) for t, code, data in timed)


def timed_events(
    cast: Cast, speed: float = 1.0, idle_time_limit: float | None = None
) -> list[Event]:
    """Playback times: idle gaps capped (default: the header's limit), divided by speed."""
    return list(timed_stream(cast.events, speed, idle_time_limit or cast.idle_time_limit))


def output_before(events: Iterable[Event], position: int) -> str:
    """Everything the cast printed before event `position`: the screen's state at that point."""
    return "".join(data for _, code, data in itertools.islice(events, position) if code == "o")


def _write(text: str) -> None:
    if text:
        sys.stdout.write(text)
        sys.stdout.flush()


class _Tape:
    """The playback-time events, read as they are played: `pos` is the next one's position,
    `last` the one before it. Going back reads them again from the start."""

    def __init__(self, source: Callable[[], Iterator[Event]]) -> None:
        self._source = source
        self._events = source()
        self._next: Event | None = None
        self.pos = 0
        self.last: Event | None = None

    def peek(self) -> Event | None:
        """The next event (at `pos`), None at the end."""
        if self._next is None:
            self._next = next(self._events, None)
        return self._next

    def take(self) -> Event:
        event = self.peek()
        assert event is not None, "take() past the end"
        self._next, self.last = None, event
        self.pos += 1
        return event

    def wind(self, target: int, write: Callable[[str], None]) -> None:
        """On to event `target` without timing, writing what the events before it printed
        (in writes of WRITE_AT characters or so: the screen as of there)."""
        parts: list[str] = []
        size = 0
        while self.pos < target and self.peek() is not None:
            _, code, data = self.take()
            if code == "o":
                parts.append(data)
                size += len(data)
                if size >= WRITE_AT:
                    write("".join(parts))
                    parts, size = [], 0
        write("".join(parts))

    def rewind(self, target: int, write: Callable[[str], None]) -> None:
        """Back to the start, then on to event `target` as `wind` goes."""
        self._events, self._next = self._source(), None
        self.pos, self.last = 0, None
        self.wind(target, write)


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
        tape = _Tape(asciicast.timed)
        marker_positions: list[int] = asciicast.marker_positions
        keys = {**KEYS, **key_bindings}
        write = self.write

        if self.start:
            tape.wind(self.start, write)
        paused_at: float | None = None  # playback time where we paused; None while playing
        last = tape.last
        if last is not None and last[1] == "m" and pause_on_markers and stdin is not None:
            paused_at = last[0]
        base = last[0] if last is not None else 0.0
        start_time = time.perf_counter() - base

        def wait(timeout: float) -> bytes:
            if stdin is not None:
                return read_blocking(stdin.fileno(), timeout)
            time.sleep(timeout)
            return b""

        def emit() -> Event:
            event = tape.take()
            if event[1] == "o":
                write(event[2])
            return event

        def resume_after_last() -> None:
            """Playback time goes on from the event just played (or from 0 at the start)."""
            nonlocal start_time, paused_at
            now = tape.last[0] if tape.last is not None else 0.0
            if paused_at is not None:
                paused_at = now
            start_time = time.perf_counter() - now

        def navigate(key: bytes) -> None:
            if key == keys["next_marker"]:
                later = [m for m in marker_positions if m >= tape.pos]
                if later:
                    while tape.pos <= later[0]:
                        emit()
                    resume_after_last()
            else:  # previous: the marker before the one we are at (or in), else the start
                earlier = [m for m in marker_positions if m < tape.pos - 1]
                # redraw the screen as of there (0 = the start), then resume after it
                write(RESET)
                tape.rewind(earlier[-1] + 1 if earlier else 0, write)
                resume_after_last()

        while (upcoming := tape.peek()) is not None:
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
                    paused_at = emit()[0]
                elif key in (keys["next_marker"], keys["prev_marker"]):
                    navigate(key)
                continue

            delay = upcoming[0] - (time.perf_counter() - start_time)
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
                played = emit()
                if played[1] == "m" and pause_on_markers and stdin is not None:
                    paused_at = played[0]


class _Playable:
    """What Player.play hands to _play: the cast, and how to read its playback-time events
    (`timed()`: a new read of them, from the first)."""

    def __init__(self, cast: AnyCast, timed: Callable[[], Iterator[Event]]) -> None:
        self.timed = timed
        self.marker_positions = [m.event for m in cast.markers]  # timed keeps every event
        self.idle_time_limit = cast.idle_time_limit
        self.v2_header = cast.header


def play(
    cast: AnyCast,
    *,
    speed: float = 1.0,
    idle_time_limit: float | None = None,
    from_marker: str | None = None,
    pause_on_markers: bool = False,
) -> None:
    start = find_marker(cast, from_marker).event + 1 if from_marker is not None else 0
    limit = idle_time_limit or cast.idle_time_limit
    events = replay(cast)

    def timed() -> Iterator[Event]:
        return timed_stream(events, speed, limit)

    ChapterPlayer(start).play(
        _Playable(cast, timed),
        speed=speed,
        key_bindings=dict(KEYS),
        pause_on_markers=pause_on_markers,
    )
