"""Validators shared by the scenario models."""

from __future__ import annotations

import re


def valid_regex(pattern: str) -> str:
    """The pattern itself, or a ValueError that pydantic reports at the right key."""
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"bad regex {pattern!r}: {exc}") from None
    return pattern
