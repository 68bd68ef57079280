"""Reading a hand-made recording: an asciicast v1 or v2 file as its raw events, kept as
they were written (the emulator renders them). Read by `recorder.cast.reader`, like every
cast; here only with undecodable bytes replaced, as a hand recording may cut a character."""

from __future__ import annotations

from pathlib import Path

from recorder.cast.model import Event
from recorder.cast.reader import CastError, CastReadError, load_cast

__all__ = ["CastError", "read_cast"]


def read_cast(path: str | Path) -> tuple[int, int, list[Event]]:
    """(cols, rows, [(time, kind, data)]) of an asciicast v1 or v2 file; CastError if not."""
    path = Path(path)
    bad = f"{path}: not an asciicast v1/v2 file"
    try:
        cast = load_cast(path, errors="replace")
    except CastReadError as exc:
        if exc.cause is not None:
            raise CastError(f"{bad} (cannot read it: {exc.cause.strerror or exc.cause})") from None
        raise CastError(bad) from None
    if cast.width is None or cast.height is None:
        raise CastError(bad)  # the emulator needs the terminal's size
    return cast.width, cast.height, list(cast.events)
