"""The audience's screen, rendered by a real terminal emulator (pyte)."""

from __future__ import annotations

import pyte

from .pyte_compat import TolerantScreen

# Queued output beyond this is dropped from the front (at a line end): a screen shows its
# last rows, and rendering 100 MB through pyte would take minutes and gigabytes.
MAX_PENDING = 1 << 20


class AudienceScreen:
    """Output is queued and rendered only when someone looks: most steps never do."""

    def __init__(self, cols: int, rows: int) -> None:
        self.screen = TolerantScreen(cols, rows)
        self.stream = pyte.Stream(self.screen)
        self._pending: list[str] = []
        self._size = 0

    def feed(self, text: str) -> None:
        self._pending.append(text)
        self._size += len(text)
        if self._size > 2 * MAX_PENDING:
            self._trim()

    def _trim(self) -> None:
        """Keep the last MAX_PENDING characters, from a line start: what scrolled away
        before them cannot be on screen (a full-screen program redraws what it shows)."""
        tail = "".join(self._pending)[-MAX_PENDING:]
        newline = tail.find("\n")
        tail = tail[newline + 1 :] if newline != -1 else tail
        self._pending, self._size = [tail], len(tail)

    def render(self) -> None:
        if self._pending:
            self.stream.feed("".join(self._pending))
            self._pending.clear()
            self._size = 0

    def text(self) -> str:
        self.render()
        return "\n".join(line.rstrip() for line in self.screen.display)
