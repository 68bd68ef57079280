"""Signal handlers installed for the duration of a block, and put back afterwards; the
runner's Ctrl-C and SIGTERM handling."""

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


class Interrupted(Exception):
    """Ctrl-C or SIGTERM reached the runner."""


@contextlib.contextmanager
def signals_as_interrupts() -> Iterator[None]:
    """SIGTERM as Ctrl-C, and either as `Interrupted`."""

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    with handling({signal.SIGTERM: on_term}):
        try:
            yield
        except KeyboardInterrupt:
            raise Interrupted() from None


def ignoring_interrupts() -> contextlib.AbstractContextManager[None]:
    """Ctrl-C and SIGTERM ignored: teardown must finish."""
    return handling({signal.SIGINT: signal.SIG_IGN, signal.SIGTERM: signal.SIG_IGN})
