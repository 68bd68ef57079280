"""The shell's output since the last `forget`, kept as the chunks it was read in.

Appending a chunk costs its own length, not the buffer's (a growing `str` is copied whole on
every `+=`), and a slice joins only the chunks it covers: a step that prints 100 MB costs
time in proportion to 100 MB, not to its square.
"""

from __future__ import annotations

import bisect


class OutputBuffer:
    """Text addressed by absolute offsets: from `base` (what was forgotten before it) to
    `end` (everything ever appended)."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._starts: list[int] = []  # each part's absolute offset, ascending
        self.base = 0
        self.end = 0

    def append(self, text: str) -> None:
        if text:
            self._starts.append(self.end)
            self._parts.append(text)
            self.end += len(text)

    def slice(self, start: int, end: int | None = None) -> str:
        """The text between two absolute offsets (clamped to what is kept)."""
        start = max(start, self.base)
        end = self.end if end is None else min(end, self.end)
        if start >= end:
            return ""
        first = bisect.bisect_right(self._starts, start) - 1
        last = bisect.bisect_left(self._starts, end)
        offset = self._starts[first]
        if last - first == 1:
            return self._parts[first][start - offset : end - offset]
        return "".join(self._parts[first:last])[start - offset : end - offset]

    def endswith(self, suffix: str, end: int) -> bool:
        """Does the text just before absolute offset `end` end with `suffix`?"""
        return self.slice(end - len(suffix), end) == suffix and end - len(suffix) >= self.base

    def rfind(self, needle: str, start: int) -> int:
        """The absolute offset of the last `needle` at or after `start`, else -1."""
        found = self.slice(start).rfind(needle)
        return -1 if found < 0 else max(start, self.base) + found

    def forget(self, offset: int) -> None:
        """Keep only the text from `offset` on (the part holding `offset` stays whole)."""
        if offset <= self.base:
            return
        offset = min(offset, self.end)
        keep = bisect.bisect_right(self._starts, offset) - 1
        if keep > 0:
            del self._parts[:keep]
            del self._starts[:keep]
        self.base = offset
