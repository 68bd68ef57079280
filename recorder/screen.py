"""The audience's screen, rendered by a real terminal emulator (pyte)."""

from __future__ import annotations

import pyte


class AudienceScreen:
    def __init__(self, cols: int, rows: int) -> None:
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.Stream(self.screen)

    def feed(self, text: str) -> None:
        self.stream.feed(text)

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)
