"""Expectations drafted from what a command printed: `contains` for stable lines, `regex`
for lines holding volatile values (a pod's suffix, an age, an IP...), each value written as
the pattern of the built-in mask that names it; and the masks a scenario should declare.

Lines are chosen for being telling (words, not only numbers or box drawing) and stable: a
line with a volatile value is a regex with the value left open; a long number no mask names
(a pid, a resource version, a byte count) is left open as `\\d+` and proposes no mask.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from recorder.recording_check.matching import COMMAND_MASKS
from recorder.scenario.masks import BUILTIN_MASKS

from .prompts import escape

# How each mask is found in an output: the built-in regex, but a pod suffix only with a
# digit in it or after a ReplicaSet hash (`kube-proxy` is not a pod suffix), and no `job`
# (a shell's job line is no value of the demo's).
DETECT = {
    name: re.compile(COMMAND_MASKS.get(name, pattern))
    for name, pattern in BUILTIN_MASKS.items()
    if name != "job"
}
# What a masked value is written as in a drafted regex.
PATTERNS = {
    "pod-suffix": r"\w{5}",
    "container-id": r"[0-9a-f]+",
    "uuid": r"[0-9a-f-]{36}",
    "mac": r"(?:[0-9a-f]{2}:){5}[0-9a-f]{2}",
    "ip": r"(?:\d{1,3}\.){3}\d{1,3}",
    "time": r"\d{2}:\d{2}:\d{2}(?:\.\d+)?",
    "age": r"\w+",
}
LONG_NUMBER = re.compile(r"(?<![\w.])\d{3,}(?![\w.])")
# dates no mask names: `ls -l`'s `Apr 14 11:13`, left open as words and digits
LS_DATE = re.compile(
    r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} +(?:\d{1,2}:\d{2}|\d{4})\b"
)
# a measurement (`0.442`, `2.283 ms`): a decimal with two digits or more after the point
DECIMAL = re.compile(r"(?<![\w.])\d+\.\d{2,}(?![\w.])")
UNNAMED = {LONG_NUMBER: r"\d+", LS_DATE: r"\w+\s+\d+\s+[\d:]+", DECIMAL: r"[\d.]+"}
MAX_LINE = 100  # characters of a line kept in a check
MAX_CHECKS = 3
WORDY = re.compile(r"[A-Za-z]{2,}")


@dataclass
class Drafted:
    expect: dict[str, Any] = field(default_factory=dict)
    masks: Counter[str] = field(default_factory=Counter)  # mask name: values seen
    examples: dict[str, str] = field(default_factory=dict)  # mask name: a value seen


def spans(line: str) -> list[tuple[int, int, str]]:
    """The volatile values of a line, (start, end, mask name), in the masks' order: a value
    one mask took is not taken again by a later one."""
    taken: list[tuple[int, int, str]] = []
    for name, pattern in DETECT.items():
        for match in pattern.finditer(line):
            start, end = match.span()
            if end > start and not any(s < end and start < e for s, e, _ in taken):
                taken.append((start, end, name))
    for kind, pattern in (("date", LS_DATE), ("decimal", DECIMAL), ("", LONG_NUMBER)):
        for match in pattern.finditer(line):
            start, end = match.span()
            if not any(s < end and start < e for s, e, _ in taken):
                taken.append((start, end, kind))
    return sorted(taken)


def _literal(text: str) -> str:
    """Literal text as a regex, each run of blanks as `\\s+` (columns move)."""
    return r"\s+".join(escape(part) for part in re.split(r"\s+", text)) if text else ""


def line_regex(line: str, found: list[tuple[int, int, str]]) -> str:
    """The line as an anchored regex, its volatile values left open."""
    text = line.strip()
    shift = len(line) - len(line.lstrip())
    out, at, shortened = [], 0, False
    for start, end, name in found:
        start, end = start - shift, end - shift
        if start > MAX_LINE:
            shortened = True
            break
        out.append(_literal(text[at:start]))
        if name in ("date", "decimal"):
            out.append(UNNAMED[LS_DATE if name == "date" else DECIMAL])
        else:
            default = r"\d+" if not name else f"(?:{BUILTIN_MASKS[name]})"
            out.append(PATTERNS.get(name, default))
        at = end
    if not shortened:
        rest = text[at:]
        if at + len(rest) > MAX_LINE:
            rest, shortened = cut(rest, MAX_LINE - at), True
        out.append(_literal(rest))
    return "^" + (r"\s*" if shift else "") + "".join(out) + ("" if shortened else "$")


def cut(text: str, limit: int) -> str:
    """At most `limit` characters, ending at a word's end."""
    if len(text) <= limit:
        return text
    head = text[: max(limit, 1)]
    return head.rsplit(" ", 1)[0] if " " in head.strip() else head


def telling(line: str) -> bool:
    """A line worth checking: some words, not only numbers, punctuation or box drawing."""
    return len(line.strip()) >= 3 and WORDY.search(line) is not None


def draft(output: str, limit: int = MAX_CHECKS) -> Drafted:
    """Checks for an output: its first and last stable telling lines as `contains`, then
    lines with volatile values as `regex`, at most `limit` in all."""
    result = Drafted()
    lines = output.splitlines()
    if len(lines) > 60:
        lines = lines[:30] + lines[-30:]
    stable: list[str] = []
    volatile: list[tuple[str, list[tuple[int, int, str]]]] = []
    for line in lines:
        found = spans(line)
        for start, end, name in found:
            if name in BUILTIN_MASKS:
                result.masks[name] += 1
                result.examples.setdefault(name, line[start:end])
        if not telling(line):
            continue
        if found:
            literal = "".join(
                line[a:b] for a, b in _gaps(found, len(line))
            )  # enough words around the values to be telling
            if telling(literal):
                volatile.append((line, found))
        else:
            stable.append(line)
    contains: list[str] = []
    short = [line for line in stable if len(line.strip()) <= MAX_LINE]
    for line in _ends(short or stable):
        text = cut(line.strip(), MAX_LINE).rstrip()
        if all(text not in c and c not in text for c in contains):
            contains.append(text)
    regex: list[str] = []
    for line, found in _ends(volatile):
        if len(contains) + len(regex) >= limit:
            break
        pattern = line_regex(line, found)
        if pattern not in regex and telling(re.sub(r"\\.|[()?:+*{}\[\]^$]", " ", pattern)):
            regex.append(pattern)
    contains = contains[: max(limit - len(regex), 0)] if regex else contains[:limit]
    if contains:
        result.expect["contains"] = [c.replace("${", "$${") for c in contains]
    if regex:
        result.expect["regex"] = regex
    return result


def _ends(items: list[Any]) -> list[Any]:
    """The first and the last item, and the middle one when there are many."""
    if len(items) <= 2:
        return items
    picked = [items[0], items[-1]]
    if len(items) >= 5:
        picked.insert(1, items[len(items) // 2])
    return picked


def _gaps(found: list[tuple[int, int, str]], length: int) -> list[tuple[int, int]]:
    out, at = [], 0
    for start, end, _ in found:
        out.append((at, start))
        at = end
    out.append((at, length))
    return out
