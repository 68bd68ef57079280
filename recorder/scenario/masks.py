"""Masks for volatile values, declared once here and reused by name in every scenario."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

from .rules import did_you_mean
from .validators import valid_regex

# Applied in this order: the more specific first (a MAC's digits must not read as a time).
BUILTIN_MASKS: dict[str, str] = {
    "pod-suffix": r"(?<=-)(?:[a-f0-9]{8,10}-)?[a-z0-9]{5}\b",
    "container-id": r"\b[0-9a-f]{64}\b|\b[0-9a-f]{13}\b",
    "uuid": r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
    "mac": r"\b(?:[0-9a-f]{2}:){5}[0-9a-f]{2}\b",
    "ipv6": r"\bfe80::[0-9a-f:]+(?:/\d+)?",
    "ip": r"\b(?:\d{1,3}\.){3}\d{1,3}\b",
    "veth": r"\bveth[0-9a-f]{8}\b",
    "tmpdir": r"/tmp/[\w-]+\.[A-Za-z0-9]{6,10}\b",
    "timestamp": (
        r"(?<!\d)\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
    ),
    "job": r"(?m)^\[\d+\]\+? +\d+$",
    "icmp-id": r"\bid \d+(?=, seq)",
    "latency": r"time=\d+(?:\.\d+)? ms|= [\d.]+/[\d.]+/[\d.]+/[\d.]+ ms|time \d+ms",
    "time": r"\b\d{2}:\d{2}:\d{2}(?:\.\d+)?\b",
    "age": r"\b\d+(?:d|h|m|s)(?:\d+(?:h|m|s))?\b",
    "ifindex": r"@if\d+",
    "counters": r"\bn_(?:packets|bytes)=\d+",
}


def _known(name: str) -> str:
    if name not in BUILTIN_MASKS:
        hint = did_you_mean(name, BUILTIN_MASKS, f"known: {', '.join(BUILTIN_MASKS)}")
        raise ValueError(f"unknown mask '{name}': {hint}")
    return name


class CustomMask(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    regex: Annotated[str, AfterValidator(valid_regex)]


MaskSpec = Annotated[str, AfterValidator(_known)] | CustomMask


def compile_masks(specs: Sequence[str | CustomMask]) -> list[tuple[str, re.Pattern[str]]]:
    out = []
    for spec in specs:
        if isinstance(spec, str):
            out.append((spec, re.compile(BUILTIN_MASKS[spec])))
        else:
            out.append((spec.name, re.compile(spec.regex)))
    return out


def apply_masks(text: str, masks: list[tuple[str, re.Pattern[str]]]) -> str:
    """Replace each volatile value with <name>, so two runs compare equal where they should."""
    for name, pattern in masks:
        text = pattern.sub(f"<{name}>", text)
    return text
