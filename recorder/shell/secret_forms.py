"""A declared secret in the encodings output shows it in, as patterns: what the Redactor removes
from a cast and the leak scan looks for, besides the value itself.

- base64 and base64url (`-_`), at the three alignments the secret's bytes can have inside a
  longer encoded blob (offset 0, 1 or 2 mod 3): for each, the stable middle of the encoding,
  the characters made of the secret's bits alone; the partial character at either end (and
  `=` padding) is taken too when it touches it;
- hex, upper or lower case;
- URL (percent) encoding: each character as itself or as `%XX` of its UTF-8 bytes, hex in
  either case, a space also as `+` (covers `quote`, `quote_plus`, `encodeURIComponent`);
- JSON string escapes: each character as itself, as `\\uXXXX` (either case; surrogate pairs
  beyond the BMP) or as its short escape (`\\"`, `\\\\`, `\\/`, `\\n`...): `json.dumps` with or
  without `ensure_ascii`.

base64 and hex may be cut by a line break anywhere (`base64` wraps at 76 columns, `xxd -p`
at 60). Only values of at least MIN_ENCODED_CHARS characters get the encoded forms: a shorter
one's encodings are short enough to turn up in ordinary output (its literal value is still
redacted). A leaf module: the standard library only.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass

MIN_ENCODED_CHARS = 8
FORMS = ("base64", "base64url", "hex", "url", "json")
_BREAK = r"(?:\r?\n)?"  # a wrapped line, between any two characters of base64 or hex
_ALPHABETS = {"base64": ("A-Za-z0-9+/", b"+/"), "base64url": ("A-Za-z0-9_-", b"-_")}
_JSON_SHORT = {'"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\f": "\\f"}
_JSON_SHORT |= {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


@dataclass(frozen=True)
class SecretForm:
    form: str  # one of FORMS
    pattern: re.Pattern[str]  # the whole form
    # The regex engine looks for a pattern's literal prefix at memory speed, but tries every
    # position for one that starts with a class or an alternation (26-185 MB/s). `starts`
    # are the ways a match can start (without base64's optional partial character, see
    # `lead`), in the pattern's order, each a pattern with a literal prefix; `spans` merges
    # their matches into `pattern`'s, found at that speed.
    starts: tuple[re.Pattern[str], ...] = ()
    lead: str = ""  # base64: the characters a partial one before the match may be

    def spans(self, text: str) -> Iterator[tuple[int, int]]:
        """(start, end) of each match of `pattern` in `text`."""
        if not self.starts:
            for m in self.pattern.finditer(text):
                yield m.start(), m.end()
            return
        pending = [start.search(text) for start in self.starts]  # each one's next match
        reach = 0  # where the match before ended: a partial character there is not ours
        while True:
            best: re.Match[str] | None = None
            for n, found in enumerate(pending):
                if found is not None and found.start() < reach:  # inside the match before
                    found = pending[n] = self.starts[n].search(text, reach)
                if found is not None and (best is None or found.start() < best.start()):
                    best = found  # leftmost; at a tie, the first alternative, as `pattern`
            if best is None:
                return
            start = best.start()
            if self.lead and start > reach and text[start - 1] in self.lead:
                start -= 1
            reach = best.end()
            yield start, reach


def base64_middles(value: str, altchars: bytes | None = None) -> list[str]:
    """The stable middle of `value`'s base64 at each alignment (its bytes starting at offset
    0, 1, 2 mod 3 of the encoded data): the characters whose 6 bits all come from it."""
    data = value.encode()
    middles = []
    for k in range(3):
        encoded = base64.b64encode(b"\0" * k + data + b"\0\0", altchars).decode()
        start = -(-8 * k // 6)  # the first character past the k bytes before
        end = 8 * (k + len(data)) // 6  # the last character whole within the value
        middles.append(encoded[start:end])
    return middles


def _hex_class(digit: str) -> str:
    return f"[{digit.lower()}{digit.upper()}]" if digit.isalpha() else digit


def _hex_bytes(data: bytes, prefix: str = "") -> list[str]:
    return [prefix + _hex_class(f"{b:02x}"[0]) + _hex_class(f"{b:02x}"[1]) for b in data]


def _wrapped(pieces: list[str]) -> str:
    return _BREAK.join(pieces)


def _base64_form(value: str, form: str) -> SecretForm:
    alphabet, altchars = _ALPHABETS[form]
    middles = [_wrapped([re.escape(c) for c in m]) for m in base64_middles(value, altchars)]
    # The partial characters at both ends hold some of the value's bits too: taken when they
    # touch it (never across a line break, which may end a line of something else).
    tail = f"(?:[{alphabet}]={{0,2}})?"
    whole = f"[{alphabet}]?(?:{'|'.join(middles)}){tail}"
    lead = "".join(chr(c) for c in range(128) if re.fullmatch(f"[{alphabet}]", chr(c)))
    return SecretForm(form, re.compile(whole), _starts(middles, tail), lead)


def _choice_form(form: str, first: list[str], rest: str) -> SecretForm:
    """A form whose first character may be written several ways (`first`), then `rest`."""
    return SecretForm(form, re.compile(f"(?:{'|'.join(first)}){rest}"), _starts(first, rest))


def _starts(first: list[str], rest: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(choice + rest) for choice in first)


def _hex_form(value: str) -> SecretForm:
    data = value.encode()
    digits = f"{data[0]:02x}"
    high, low = digits[0], digits[1]  # the first digit is written in either case
    rest = _hex_class(low) + _BREAK + _wrapped(_hex_bytes(data[1:]))
    return _choice_form("hex", sorted({high, high.upper()}), rest)


def _url_choices(ch: str) -> list[str]:
    choices = [re.escape(ch), "".join(_hex_bytes(ch.encode(), "%"))]
    if ch == " ":
        choices.append(r"\+")
    return choices


def _json_escapes(ch: str) -> list[str]:
    units = json.dumps(ch)[1:-1]  # \uXXXX of every UTF-16 unit beyond ASCII
    if ch.isascii():
        units = f"\\u{ord(ch):04x}"
    escaped = "".join(
        re.escape(unit[:2]) + "".join(_hex_class(d) for d in unit[2:])
        for unit in re.findall(r"\\u[0-9a-f]{4}", units)
    )
    choices = [re.escape(ch), escaped]
    if ch in _JSON_SHORT:
        choices.append(re.escape(_JSON_SHORT[ch]))
    return choices


def _per_character_form(form: str, value: str, ways: Callable[[str], list[str]]) -> SecretForm:
    """A form in which each character of `value` is written any of its `ways`."""
    rest = "".join(f"(?:{'|'.join(ways(ch))})" for ch in value[1:])
    return _choice_form(form, ways(value[0]), rest)


@functools.lru_cache(maxsize=256)
def secret_forms(value: str) -> tuple[SecretForm, ...]:
    """The patterns of `value`'s encoded forms (none for a value shorter than
    MIN_ENCODED_CHARS); the literal value is the caller's to find."""
    if len(value) < MIN_ENCODED_CHARS:
        return ()
    return (
        _base64_form(value, "base64"),
        _base64_form(value, "base64url"),
        _hex_form(value),
        _per_character_form("url", value, _url_choices),
        _per_character_form("json", value, _json_escapes),
    )


def encodings(value: str) -> dict[str, str]:
    """Concrete encodings of the whole value, one per way a tool writes it: for tests, the
    benchmark and the docs (every one is matched by a pattern of `secret_forms`)."""
    data = value.encode()
    return {
        "literal": value,
        "base64": base64.b64encode(data).decode(),
        "base64url": base64.urlsafe_b64encode(data).decode().rstrip("="),
        "hex": data.hex(),
        "HEX": data.hex().upper(),
        "url": urllib.parse.quote(value, safe=""),
        "url-lower": re.sub(r"%[0-9A-F]{2}", lambda m: m[0].lower(), urllib.parse.quote(value)),
        "url-plus": urllib.parse.quote_plus(value),
        "json": json.dumps(value)[1:-1],
        "json-utf8": json.dumps(value, ensure_ascii=False)[1:-1],
    }


def longest_form(value: str) -> int:
    """The most characters a match of any of `secret_forms(value)` can span (0 when it has
    none): whoever cuts a stream must look this far back to see a form cut there whole."""
    if len(value) < MIN_ENCODED_CHARS:
        return 0
    data = value.encode()
    # base64: a partial character, the middle with a line break after each of its characters
    # but the last, a partial character and two `=`.
    middle = max(len(m) for m in base64_middles(value))
    base64_reach = 1 + 3 * middle - 2 + 3
    hex_reach = 2 * len(data) + 2 * (len(data) - 1)  # two digits a byte, breaks between
    url_reach = 3 * len(data)  # %XX per byte at most
    json_reach = 6 * (len(value.encode("utf-16-le")) // 2)  # \uXXXX per UTF-16 unit at most
    return max(base64_reach, hex_reach, url_reach, json_reach)
