"""Rules of the scenario format that several places apply, each defined here once.

- the text checks of `expect:` (and which of them read the command's output);
- `${name}` variables: what a name is, how a reference and its `$${...}` escape are written;
- narration: each line of `say` is typed as a `# line` comment;
- the "did you mean" suggestion for a misspelt name.

A leaf module (it imports nothing of the package), so the model can use it too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

# `expect:` checks on text, by field name. The output checks read what the command printed;
# `screen` reads the rendered terminal, which a hand recording does not have.
OUTPUT_CHECKS = ("contains", "not_contains", "regex", "not_regex", "lines")
TEXT_CHECKS = (*OUTPUT_CHECKS, "screen")

# A variable's name (vars, env, captures), spelt as the shell spells one.
NAME = r"[A-Za-z_][A-Za-z0-9_]*"
# `${anything}` or the escape `$${anything}`: substitution replaces only names it knows, and
# leaves the rest (`${NAME:-x}`, shell variables) to the shell.
VARIABLE = re.compile(r"\$(\$?)\{([^}]*)\}")
# A `${name}` the loader checks is defined: a plain name, not escaped.
_REFERENCE = re.compile(rf"(?<!\$)\$\{{({NAME})\}}")
# `${name}` where the shell would read `$name` the same (no word character follows).
_BRACED = re.compile(rf"\$\{{({NAME})\}}(?!\w)")


def is_name(text: str) -> bool:
    """Is `text` a valid variable (or capture) name?"""
    return re.fullmatch(NAME, text) is not None


def references(text: str) -> Iterator[str]:
    """The names of the `${name}` references in `text` that must be defined."""
    for match in _REFERENCE.finditer(text):
        yield match.group(1)


def unbraced(line: str) -> str:
    """`${name}` written as `$name` wherever the shell reads both the same."""
    return _BRACED.sub(r"$\1", line)


def narration_lines(say: str) -> list[str]:
    """The lines `say` types: each as a `# line` comment, unless it is one already."""
    return [
        f"# {line}".rstrip() if not line.startswith("#") else line
        for line in say.strip().splitlines()
    ]


def closest(word: str, known: Iterable[str]) -> str | None:
    """The known name nearest to a misspelt `word`, if one is near enough."""
    import difflib  # only on an error: not worth its import time on every start

    near = difflib.get_close_matches(word, list(known), n=1)
    return near[0] if near else None


def did_you_mean(word: str, known: Iterable[str], otherwise: str) -> str:
    """The hint "did you mean 'x'?" with the nearest known name, else `otherwise`."""
    near = closest(word, known)
    return f"did you mean '{near}'?" if near is not None else otherwise
