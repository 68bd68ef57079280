"""Reading a hand-made recording: an asciicast v1, v2 or v3 file as its raw events, kept as
they were written (the emulator renders them). Read by `recorder.cast.reader`, like every
cast; here only with undecodable bytes replaced, as a hand recording may cut a character.

The events are read as a stream: once through to refuse a bad line before anything is
rendered, then again, one at a time, as the emulator renders them, so a recording holding a
step that printed 100 MB is never in memory whole."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from recorder.cast.model import Event
from recorder.cast.reader import CastError, CastReadError, CastStream, stream_cast

__all__ = ["CastError", "read_cast"]


def read_cast(path: str | Path) -> tuple[int, int, Iterable[Event]]:
    """(cols, rows, events) of an asciicast v1, v2 or v3 file, its events read anew from the
    file each time they are iterated; CastError if it is not one (a bad line anywhere)."""
    path = Path(path)
    try:
        stream = stream_cast(path, errors="replace")
        for _ in stream.events():
            pass  # every line read once, so that a bad one is refused here
    except CastReadError as exc:
        raise CastError(str(exc)) from None
    head = stream.head
    # The emulator needs a size: a header without one gets the player's 80x24, as in asciinema.
    return head.width or 80, head.height or 24, _Events(stream)


class _Events:
    """The recording's events, read from the file on each iteration."""

    def __init__(self, stream: CastStream) -> None:
        self.stream = stream

    def __iter__(self) -> Iterator[Event]:
        return self.stream.events()
