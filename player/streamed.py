"""A cast as `stagecast play` and `stagecast render` read it from a file: as a stream.

A step may have printed 100 MB; neither command needs that in memory at once. `StreamedCast`
reads the cast once for its markers (and to refuse a bad line before anything is played),
then gives its events afresh from the file, one at a time, each time they are iterated
(`recorder.cast.reader.stream_cast`). It has what play and render read of a
`recorder.cast.model.Cast` (path, version, header, the typed header fields, markers,
events), so either can be handed to them (`AnyCast`): a Cast already in memory is played
from memory, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from recorder.cast.model import Cast, Event, Marker
from recorder.cast.reader import CastStream, stream_cast


@dataclass(frozen=True)
class Replay:
    """Events that can be iterated more than once: each iteration calls `source` for a new
    iterator (a new read of the file), so nothing is kept between two."""

    source: Callable[[], Iterator[Event]]

    def __iter__(self) -> Iterator[Event]:
        return self.source()


@dataclass(frozen=True)
class StreamedCast:
    stream: CastStream
    markers: list[Marker]
    count: int  # events in the cast

    @classmethod
    def open(cls, path: str | Path) -> StreamedCast:
        """The cast's header, and its markers from one read of its events: a CastReadError
        for a file that is not a cast, or for a bad line wherever it is."""
        stream = stream_cast(path)
        markers: list[Marker] = []
        count = 0
        for count, (t, code, data) in enumerate(stream.events(), 1):
            if code == "m":
                markers.append(Marker(len(markers) + 1, t, data, count - 1))
        return cls(stream, markers, count)

    @property
    def events(self) -> Iterator[Event]:
        """A new read of the events, from the first (see `Replay` for one to pass around)."""
        return self.stream.events()

    @property
    def replay(self) -> Replay:
        return Replay(self.stream.events)

    # -- the header, as Cast reads it -------------------------------------------------------

    @cached_property
    def head(self) -> Cast:
        return self.stream.head

    @property
    def path(self) -> str:
        return self.stream.path

    @property
    def version(self) -> int:
        return self.stream.version

    @property
    def header(self) -> dict[str, Any]:
        return self.stream.header

    @property
    def width(self) -> int | None:
        return self.head.width

    @property
    def height(self) -> int | None:
        return self.head.height

    @property
    def idle_time_limit(self) -> float | None:
        return self.head.idle_time_limit

    @property
    def theme(self) -> dict[str, Any] | None:
        return self.head.theme


# What play and render take: a cast in memory, or one read as a stream.
AnyCast = Cast | StreamedCast


def replay(cast: AnyCast) -> Iterable[Event]:
    """The cast's events, to iterate as often as needed: the list of a Cast in memory, a
    new read of the file each time for a StreamedCast."""
    return cast.events if isinstance(cast, Cast) else cast.replay
