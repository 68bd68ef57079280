"""The audience's screen, rendered by a real terminal emulator (pyte)."""

from __future__ import annotations

import pyte


class AudienceScreen:
    """Output is queued and rendered only when someone looks: most steps never do."""

    def __init__(self, cols: int, rows: int) -> None:
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.Stream(self.screen)
        self._pending: list[str] = []

    def feed(self, text: str) -> None:
        self._pending.append(text)

    def render(self) -> None:
        if self._pending:
            self.stream.feed("".join(self._pending))
            self._pending.clear()

    def text(self) -> str:
        self.render()
        return "\n".join(line.rstrip() for line in self.screen.display)
