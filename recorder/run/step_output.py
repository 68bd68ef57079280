r"""One attempt's output as the checks see it: kept whole while it is small (up to KEEP
characters: every demo step), checked as a stream once it is bigger, so a step printing
100 MB holds a bounded window in memory instead of the whole output several times over.

Streamed, the output is searched a block of whole lines at a time, each block with the last
OVERLAP characters before it (from a line start) as its window: `contains` and
`not_contains` find a text straddling two blocks; `regex`, `not_regex` and `capture` search
the window from its first line start, so `^`, `$` and lookbehinds mean what they mean in the
whole output; `\A` is looked for only at the output's start and `\Z` only at its end;
`lines` follows the output line by line. A regex match longer than OVERLAP that straddles
two blocks is not seen: a check that fails on a streamed output says so, with the output's
size, rather than passing or failing silently. (A line longer than LONG_LINE is searched in
pieces of that size, where `$` may also match at a piece's end.) The output kept for the
report and `--json` is then its last TAIL characters.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from recorder.scenario.model import Expect

from . import expectations

KEEP = 8 << 20
OVERLAP = 64 << 10
TAIL = 1 << 20
LONG_LINE = 1 << 20


@dataclass(frozen=True)
class Window:
    """A block of the output with what came before it: searched from `start` (a line start,
    or the output's start when `first`), the text before it there as context only."""

    text: str
    start: int
    first: bool
    last: bool

    def search(self, pattern: str) -> re.Match[str] | None:
        # \A and \Z anchor to the whole output: only its first and last windows hold them.
        if ("\\A" in pattern and not self.first) or ("\\Z" in pattern and not self.last):
            return None
        return _multiline(pattern).search(self.text, self.start)


@functools.cache
def _multiline(pattern: str) -> re.Pattern[str]:
    """A scenario's pattern, compiled once for every window it is searched in."""
    return re.compile(pattern, re.MULTILINE)


@dataclass
class _Stream:
    """What the checks have seen of a streamed output."""

    expect: Expect
    capture: dict[str, str]
    seen: set[str] = field(default_factory=set)  # `contains` / `not_contains` texts found
    matched: set[str] = field(default_factory=set)  # `regex` / `not_regex` patterns found
    not_regex_found: dict[str, str] = field(default_factory=dict)
    captured: dict[str, str] = field(default_factory=dict)
    next_line: int = 0  # the first of `lines` not matched yet
    partial: str = ""  # the last, unfinished line of what came so far

    def scan(self, window: Window, new_lines: str) -> None:
        for text in (*self.expect.contains, *self.expect.not_contains):
            if text not in self.seen and text in window.text:
                self.seen.add(text)
        for pattern in (*self.expect.regex, *self.expect.not_regex):
            if pattern not in self.matched:
                match = window.search(pattern)
                if match:
                    self.matched.add(pattern)
                    self.not_regex_found.setdefault(pattern, match[0])
        for name, pattern in self.capture.items():
            if name not in self.captured:
                match = window.search(pattern)
                if match:
                    self.captured[name] = match.group(1) if match.re.groups else match.group(0)
        self._follow_lines(new_lines)

    def _follow_lines(self, text: str) -> None:
        patterns = self.expect.lines
        if self.next_line >= len(patterns):
            return
        lines = (self.partial + text).split("\n")
        self.partial = lines.pop()
        for line in lines:
            if self.next_line < len(patterns) and re.search(patterns[self.next_line], line):
                self.next_line += 1

    def finish(self) -> None:
        if self.partial:
            self._follow_lines("\n")


def _same_checks(a: Expect, b: Expect) -> bool:
    """The same output checks (the exit code may have been relaxed since)."""
    return all(getattr(a, f) == getattr(b, f) for f in OUTPUT_CHECKS)


OUTPUT_CHECKS = ("contains", "not_contains", "regex", "not_regex", "lines")


class StepOutput:
    """Fed the plain text of one attempt's output, block by block (`feed`), it answers the
    step's checks (`evaluate`, `capture`) as `expectations` would on the whole text."""

    def __init__(self, checks: list[Expect], capture: dict[str, str] | None = None) -> None:
        self.checks = checks  # the step's `expect`, and a retry's `until`: substituted
        self.capture_patterns = capture or {}
        self.size = 0
        self._parts: list[str] = []
        self._streams: list[_Stream] = []
        self._carry = ""  # the last OVERLAP characters, searched again with the next block
        self._pending = ""  # an unfinished line, searched once it ends (or with the end)
        self._first = True  # the next window starts the output
        self._finished = False
        self._tail = ""

    @property
    def streamed(self) -> bool:
        return bool(self._streams)

    def feed(self, plain: str) -> None:
        if not plain:
            return
        self.size += len(plain)
        if not self._streams:
            self._parts.append(plain)
            if self.size <= KEEP:
                return
            self._streams = [
                _Stream(expect, self.capture_patterns if n == 0 else {})
                for n, expect in enumerate(self.checks)
            ]
            parts, self._parts = self._parts, []
            for part in parts:  # as they came: never a second copy of the whole KEEP
                self._stream(part)
            return
        self._stream(plain)

    def _stream(self, plain: str) -> None:
        self._tail = (self._tail + plain)[-TAIL:]
        # Whole lines only: `$` must not match where a block happens to end.
        text = self._pending + plain if self._pending else plain  # no copy when it can
        cut = text.rfind("\n") + 1
        if not cut and len(text) < LONG_LINE:
            self._pending = text
            return
        cut = cut or len(text)
        self._pending = text[cut:]
        self._search(text if cut == len(text) else text[:cut], last=False)

    def _search(self, block: str, last: bool) -> None:
        window = self._carry + block
        first = self._first
        start = 0 if first else len(self._carry)
        if not first:  # from the carry's first line start: what came before is context
            line = self._carry.find("\n")
            start = line + 1 if line >= 0 else len(self._carry)
        for stream in self._streams:
            stream.scan(Window(window, start, first, last), block)
        self._first = False
        self._carry = window[-OVERLAP:]

    def _finish(self) -> None:
        r"""The last, unfinished line and the output's end (`\Z`): once."""
        if self._streams and not self._finished:
            self._finished = True
            self._search(self._pending, last=True)
            self._pending = ""
            for stream in self._streams:
                stream.finish()

    @property
    def text(self) -> str:
        """The whole output, or (streamed) its last TAIL characters."""
        if not self._streams:
            return "".join(self._parts)
        return self._tail

    def evaluate(self, rc: int | None, screen: str | None, expect: Expect) -> list[str]:
        """`expect`'s failures on this output (one of `checks`, but for its exit code)."""
        stream = next((s for s in self._streams if _same_checks(s.expect, expect)), None)
        if stream is None:
            return expectations.evaluate(expect, rc, self.text, screen)
        self._finish()
        # The exit code and screen checks do not depend on the output: as usual.
        bare = expect.model_copy(
            update={"contains": [], "not_contains": [], "regex": [], "not_regex": [], "lines": []}
        )
        failures = expectations.evaluate(bare, rc, "", screen)
        failures += [
            f"expected output to contain {t!r}, it does not"
            for t in expect.contains
            if t not in stream.seen
        ]
        failures += [
            f"expected output not to contain {t!r}, it does"
            for t in expect.not_contains
            if t in stream.seen
        ]
        failures += [
            f"expected output to match /{p}/, it does not"
            for p in expect.regex
            if p not in stream.matched
        ]
        failures += [
            f"expected output not to match /{p}/, found "
            f"{expectations.show(stream.not_regex_found[p])}"
            for p in expect.not_regex
            if p in stream.matched
        ]
        if stream.next_line < len(expect.lines):
            n = stream.next_line
            after = f" after line matching /{expect.lines[n - 1]}/" if n else ""
            failures.append(
                f"expected a line matching /{expect.lines[n]}/{after} (lines are checked in order)"
            )
        return [self._streamed_note(f) for f in failures]

    def capture(self) -> tuple[dict[str, str], list[str]]:
        if not self._streams:
            return expectations.capture(self.capture_patterns, self.text)
        self._finish()
        captured = self._streams[0].captured
        missing = [
            self._streamed_note(f"capture {name}: no match for /{pattern}/ in the output")
            for name, pattern in self.capture_patterns.items()
            if name not in captured
        ]
        return dict(captured), missing

    def _streamed_note(self, failure: str) -> str:
        return (
            f"{failure} (the output was {self.size / (1 << 20):.0f} MB, so it was checked as a "
            f"stream: a match longer than {OVERLAP >> 10} KB across two reads is not seen)"
        )
