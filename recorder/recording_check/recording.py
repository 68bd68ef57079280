"""Reading a hand-made recording: an asciicast v1, v2 or v3 file as its raw events, kept as
they were written (the emulator renders them). Read by `recorder.cast.reader`, like every
cast; here only with undecodable bytes replaced, as a hand recording may cut a character."""

from __future__ import annotations

from pathlib import Path

from recorder.cast.model import Event
from recorder.cast.reader import CastError, CastReadError, load_cast

__all__ = ["CastError", "read_cast"]


def read_cast(path: str | Path) -> tuple[int, int, list[Event]]:
    """(cols, rows, [(time, kind, data)]) of an asciicast v1, v2 or v3 file; CastError if not."""
    path = Path(path)
    try:
        cast = load_cast(path, errors="replace")
    except CastReadError as exc:
        raise CastError(str(exc)) from None
    # The emulator needs a size: a header without one gets the player's 80x24, as in asciinema.
    return cast.width or 80, cast.height or 24, list(cast.events)
