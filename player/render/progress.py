"""A progress line for long renders: rich, on stderr, only when stderr is a terminal.

As `stagecast record` does (recorder/run/progress.py), the live line is for a person at a
terminal; in a log (stderr not a tty) nothing is printed but the result. It appears only
once a render has taken LONG_RENDER seconds, so quick renders never flash one.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

LONG_RENDER = 2.0  # seconds before the line appears


class RenderProgress:
    def __init__(self, what: str, total: float, enabled: bool | None = None) -> None:
        self.what = what
        self.total = max(total, 1e-9)
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.started = time.monotonic()
        self.live: Any = None
        self.done = 0.0

    def __call__(self, t: float) -> None:
        self.done = t
        if not self.enabled:
            return
        if self.live is None:
            if time.monotonic() - self.started < LONG_RENDER:
                return
            from rich.console import Console
            from rich.live import Live

            console = Console(stderr=True, no_color="NO_COLOR" in os.environ, highlight=False)
            self.live = Live(self._line(), console=console, refresh_per_second=4, transient=True)
            self.live.start()
        self.live.update(self._line())

    def _line(self) -> Any:
        from rich.text import Text

        share = min(1.0, self.done / self.total)
        elapsed = time.monotonic() - self.started
        return Text(f"rendering {self.what}: {share:4.0%}, {elapsed:.0f} s", "dim")

    def stop(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None
