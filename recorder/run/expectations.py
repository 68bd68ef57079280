"""Expectations evaluated on one step's result; each failure is one readable sentence."""

from __future__ import annotations

import re

from recorder.scenario.model import Expect

MAX_SHOWN = 80


def show(text: str) -> str:
    text = text.strip()
    return repr(text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "...")


def evaluate(expect: Expect, rc: int | None, output: str, screen: str | None) -> list[str]:
    """All failed expectations, as 'expected ..., got ...' sentences; empty when passing."""
    failures: list[str] = []
    if expect.exit != "any":
        wanted = expect.exit if isinstance(expect.exit, list) else [expect.exit]
        if rc is None:
            failures.append(
                f"expected exit code {_codes(wanted)}, but the exit code is unknown "
                "(this nested shell's prompt does not report it; use `exit: any`)"
            )
        elif rc not in wanted:
            failures.append(f"expected exit code {_codes(wanted)}, got {rc}")
    for text in expect.contains:
        if text not in output:
            failures.append(f"expected output to contain {text!r}, it does not")
    for text in expect.not_contains:
        if text in output:
            failures.append(f"expected output not to contain {text!r}, it does")
    for pattern in expect.regex:
        if not re.search(pattern, output, re.MULTILINE):
            failures.append(f"expected output to match /{pattern}/, it does not")
    for pattern in expect.not_regex:
        match = re.search(pattern, output, re.MULTILINE)
        if match:
            failures.append(f"expected output not to match /{pattern}/, found {show(match[0])}")
    failures.extend(_ordered_lines(expect.lines, output))
    if expect.screen:
        for text in expect.screen:
            if screen is None or text not in screen:
                failures.append(f"expected the screen to show {text!r}, it does not")
    return failures


def _codes(codes: list[int]) -> str:
    return " or ".join(str(c) for c in codes)


def _ordered_lines(patterns: list[str], output: str) -> list[str]:
    lines = output.splitlines()
    at = 0
    for n, pattern in enumerate(patterns):
        compiled = re.compile(pattern)
        while at < len(lines) and not compiled.search(lines[at]):
            at += 1
        if at >= len(lines):
            after = f" after line matching /{patterns[n - 1]}/" if n else ""
            return [f"expected a line matching /{pattern}/{after} (lines are checked in order)"]
        at += 1
    return []


def capture(patterns: dict[str, str], output: str) -> tuple[dict[str, str], list[str]]:
    values: dict[str, str] = {}
    failures: list[str] = []
    for name, pattern in patterns.items():
        match = re.search(pattern, output, re.MULTILINE)
        if not match:
            failures.append(f"capture {name}: no match for /{pattern}/ in the output")
            continue
        values[name] = match.group(1) if match.re.groups else match.group(0)
    return values, failures
