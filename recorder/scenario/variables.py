"""`${name}` substitution: stagecast variables (vars, captures) in commands and checks.

`$${name}` is an escape for a literal `${name}`; anything else (`$NAME`, `${NAME:-x}`,
names stagecast does not know) is left for the shell.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .model import Expect
from .rules import TEXT_CHECKS, VARIABLE


def substitute(text: str, values: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        escaped, name = match.group(1), match.group(2)
        if escaped:
            return "${" + name + "}"
        return values.get(name, match.group(0))

    return VARIABLE.sub(replace, text)


def substitute_all(value: object, values: Mapping[str, str]) -> object:
    """`${name}` in every string of a nested structure."""
    if isinstance(value, str):
        return substitute(value, values)
    if isinstance(value, list):
        return [substitute_all(v, values) for v in value]
    if isinstance(value, dict):
        return {k: substitute_all(v, values) for k, v in value.items()}
    return value


def substitute_expect(expect: Expect, values: Mapping[str, str]) -> Expect:
    update: dict[str, object] = {}
    if expect.kube and "${" in str(expect.kube):
        update["kube"] = [
            type(check).model_validate(substitute_all(check.model_dump(), values))
            for check in expect.kube
        ]
    for name in TEXT_CHECKS:
        texts = getattr(expect, name)
        if any("${" in t for t in texts):
            update[name] = [substitute(t, values) for t in texts]
    return expect.model_copy(update=update) if update else expect
