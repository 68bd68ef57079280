"""The presenter's keys: what each one means, where they come from, and the `--auto` presenter.

Keys are read from the presenter's terminal in raw mode, so Ctrl-C and the other control keys
reach stagecast as bytes instead of signals. `--auto` replaces the presenter with a simulated
one who presses keys at the typing model's speed.
"""

from __future__ import annotations

import contextlib
import os
import random
import sys
import termios
import tty
from collections.abc import Iterator
from dataclasses import dataclass, field

from recorder.shell.typing_model import TypingModel

ENTER = (b"\r", b"\n")
TAB = b"\t"  # autopilot: type the rest of this step at human speed and run it
NEXT_STEP = b"\x0e"  # Ctrl-N: go to the next step without running this one
PREV_STEP = b"\x10"  # Ctrl-P: go back to the previous step
FALLBACK = b"\x06"  # Ctrl-F: play this step from the verified cast instead
QUIT = b"\x11"  # Ctrl-Q: stop the show (teardown still runs)
INTERRUPT = b"\x03"  # Ctrl-C: to the running command; while typing, discards the line
FREE_SHELL = b"!"  # a free live shell; Ctrl-D comes back to the script
END_FREE_SHELL = b"\x04"  # Ctrl-D
BACKSPACE = (b"\x7f", b"\x08")  # hide the last revealed character again

KEY_HELP = (
    "any key reveals the command · Enter runs it · Tab autopilot · Ctrl-N/Ctrl-P next/previous "
    "step · ! free shell (Ctrl-D back) · Ctrl-F fallback · Ctrl-Q quit"
)


def split_keys(data: bytes) -> list[bytes]:
    """One read from the terminal, as key presses: an escape sequence (an arrow key) is one
    key, a pasted text is one key per byte."""
    if data.startswith(b"\x1b"):
        return [data]
    return [data[i : i + 1] for i in range(len(data))]


@dataclass(frozen=True)
class RevealWidth:
    """How many characters one key press reveals: a fixed number, or a seeded range."""

    low: int = 1
    high: int = 3
    seed: int = 0
    _rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._rng.seed(self.seed)

    @classmethod
    def parse(cls, text: str) -> RevealWidth:
        """`2` or `1-3`; ValueError with the reason otherwise."""
        low, _, high = text.partition("-")
        try:
            lo, hi = int(low), int(high or low)
        except ValueError:
            raise ValueError(f"--reveal takes N or LOW-HIGH, not {text!r}") from None
        if not 1 <= lo <= hi <= 50:
            raise ValueError(f"--reveal takes 1 to 50 characters per key, not {text!r}")
        return cls(lo, hi)

    def next(self) -> int:
        return self.low if self.low == self.high else self._rng.randint(self.low, self.high)


@dataclass
class AutoPresenter:
    """A simulated presenter for `--auto`: one key per reveal at the typing model's pace,
    Enter once the line is shown, and a key after a moment at pause steps."""

    typing: TypingModel
    think: float = 0.8
    presses: int = 0
    _line: str = ""
    _delays: list[float] = field(default_factory=list)

    def start_line(self, line: str) -> None:
        self._line = line
        self._delays = self.typing.delays(line + "\r")

    def next_key(self, revealed: int, complete: bool) -> tuple[float, bytes]:
        """(seconds to wait, key) for the next press on the current line."""
        self.presses += 1
        if complete:
            return self._delays[-1] if self._delays else 0.3, b"\r"
        delay = self._delays[min(revealed, len(self._delays) - 1)] if self._delays else 0.2
        return delay, b"x"

    def pause_key(self) -> tuple[float, bytes]:
        self.presses += 1
        return self.think, b" "


@contextlib.contextmanager
def presenter_terminal(fd: int | None = None) -> Iterator[int | None]:
    """The presenter's keyboard in raw mode for the duration; None when stdin is no terminal."""
    try:
        fd = sys.stdin.fileno() if fd is None else fd
        if not os.isatty(fd):
            yield None
            return
        saved = termios.tcgetattr(fd)
    except (OSError, ValueError, termios.error):  # no real stdin (UnsupportedOperation too)
        yield None
        return
    try:
        tty.setraw(fd)
        yield fd
    finally:
        # After a hang-up the terminal is gone (or stdin is /dev/null by now): nothing to
        # restore, and teardown must go on.
        with contextlib.suppress(OSError, termios.error):
            termios.tcsetattr(fd, termios.TCSAFLUSH, saved)
