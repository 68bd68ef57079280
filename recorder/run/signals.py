"""Signal handlers installed for the duration of a block, and put back afterwards."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def handling(handlers: dict[signal.Signals, Any]) -> Iterator[None]:
    """Only the main thread may set handlers: elsewhere the block runs without them."""
    try:
        previous = {number: signal.signal(number, handler) for number, handler in handlers.items()}
    except ValueError:
        yield
        return
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
