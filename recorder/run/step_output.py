"""One attempt's output as the checks see it: kept whole while it is small (up to KEEP
characters: every demo step), checked as a stream once it is bigger, so a step printing
100 MB holds a bounded window in memory instead of the whole output several times over.

Streamed, each check keeps its state between blocks of lines: `contains` and `not_contains`
look in each block with the last OVERLAP characters of the one before (so a text straddling
two blocks is found); `regex`, `not_regex` and `capture` search the same windows;
`lines` follows the output line by line. A regex match longer than OVERLAP that straddles
two blocks is not seen: a check that fails on a streamed output says so, with the output's
size, rather than passing or failing silently. The output kept for the report and `--json`
is then its last TAIL characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from recorder.scenario.model import Expect

from . import expectations

KEEP = 8 << 20
OVERLAP = 64 << 10
TAIL = 1 << 20


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

    def scan(self, window: str, new_lines: str) -> None:
        for text in (*self.expect.contains, *self.expect.not_contains):
            if text not in self.seen and text in window:
                self.seen.add(text)
        for pattern in (*self.expect.regex, *self.expect.not_regex):
            if pattern not in self.matched:
                match = re.search(pattern, window, re.MULTILINE)
                if match:
                    self.matched.add(pattern)
                    self.not_regex_found.setdefault(pattern, match[0])
        for name, pattern in self.capture.items():
            if name not in self.captured:
                match = re.search(pattern, window, re.MULTILINE)
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
            plain, self._parts = "".join(self._parts), []
        window = self._carry + plain
        for stream in self._streams:
            stream.scan(window, plain)
        self._carry = window[-OVERLAP:]
        self._tail = (self._tail + plain)[-TAIL:]

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
        stream.finish()
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
