"""Signal handlers installed for the duration of a block, and put back afterwards; how the
runner turns a terminating signal into an orderly stop.

Ctrl-C (SIGINT), SIGTERM, SIGHUP (the terminal closed, an ssh session dropped) and SIGQUIT
all stop a run the same way: the current step fails, teardown runs, and stagecast exits
128 + the signal's number (130 for Ctrl-C), naming the signal. A hang-up also detaches
stagecast from the dead terminal first, so that teardown's progress lines cannot fail on it.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from typing import Any

TERMINATING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
WHY = {
    signal.SIGINT: "Ctrl-C",
    signal.SIGTERM: "SIGTERM",
    signal.SIGHUP: "SIGHUP: the terminal went away",
    signal.SIGQUIT: "SIGQUIT",
}


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


class SignalInterrupt(KeyboardInterrupt):
    """A terminating signal, raised where the program was, as Ctrl-C is."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class Interrupted(Exception):
    """A terminating signal (or the presenter's quit key) reached the runner."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signum)
        self.signum = signum

    @classmethod
    def from_keyboard(cls, exc: KeyboardInterrupt) -> Interrupted:
        return cls(getattr(exc, "signum", signal.SIGINT))

    @property
    def why(self) -> str:
        return describe(self.signum)


def describe(signum: int) -> str:
    return WHY.get(signal.Signals(signum), signal.Signals(signum).name)


def exit_code(signum: int) -> int:
    """The shell's convention: 128 + the signal's number (130 for Ctrl-C)."""
    return 128 + signum


def terminal_fds() -> list[int]:
    """Which of stdin, stdout and stderr are a terminal: asked before a hang-up, since after
    one the dead terminal no longer says it is one."""
    return [fd for fd in (0, 1, 2) if os.isatty(fd)]


def detach_from_terminal(fds: list[int]) -> None:
    """Point `fds` (the ones that were a terminal) at /dev/null: after a hang-up, writing
    to the terminal fails (EIO), and teardown must not."""
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.dup2(devnull, fd)
    finally:
        os.close(devnull)


@contextlib.contextmanager
def signals_as_interrupts() -> Iterator[None]:
    """Every terminating signal as Ctrl-C, and any of them as `Interrupted`."""
    ttys = terminal_fds()

    def on_signal(signum: int, frame: object) -> None:
        if signum == signal.SIGHUP:
            detach_from_terminal(ttys)
        raise SignalInterrupt(signum)

    # Ctrl-C keeps a handler that means something else (`rehearse --repeat`: stop after the
    # current run). Python's own, or none at all (a background job of a non-interactive
    # shell starts with SIGINT ignored, as CI runners do), becomes ours.
    current = signal.getsignal(signal.SIGINT)
    ours = current in (signal.default_int_handler, signal.SIG_IGN, signal.SIG_DFL, None)
    handled = [number for number in TERMINATING if ours or number != signal.SIGINT]
    with handling(dict.fromkeys(handled, on_signal)):
        try:
            yield
        except KeyboardInterrupt as exc:
            raise Interrupted.from_keyboard(exc) from None


@contextlib.contextmanager
def ignoring_interrupts() -> Iterator[None]:
    """Terminating signals held off: teardown must finish. A hang-up still detaches from
    the dead terminal."""

    ttys = terminal_fds()

    def on_hangup(signum: int, frame: object) -> None:
        detach_from_terminal(ttys)

    handlers: dict[signal.Signals, Any] = dict.fromkeys(TERMINATING, signal.SIG_IGN)
    handlers[signal.SIGHUP] = on_hangup
    with handling(handlers):
        yield
