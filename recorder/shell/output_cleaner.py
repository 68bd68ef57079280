"""What the audience may see: prompt bookkeeping stripped, secrets redacted.

Work is done on a whole step's text at once, then mapped back onto the timed chunks,
so a secret split across two reads is still found. A secret is redacted as itself and in its
usual encodings (base64, base64url, hex, URL, JSON: `secret_forms`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from .secret_forms import SecretForm, secret_forms

REDACTED = "[REDACTED]"
Spans = list[tuple[int, int, str]]
# Our prompt's OSC 133 marks, any OSC 7 / 1337 (host and cwd leaks), bracketed-paste toggles.
INVISIBLE = re.compile(
    r"\x1b\]133;[^\x07\x1b]*(?:\x07|\x1b\\)"
    r"|\x1b\](?:7|1337);[^\x07\x1b]*(?:\x07|\x1b\\)"
    r"|\x1b\[\?2004[hl]"
)
ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC
    r"|\x1b[@-Z\\-_]"  # other two-byte escapes
    r"|\x1b[()][0-9A-Za-z]"  # charset selection
)


@dataclass(frozen=True)
class Redactor:
    secrets: tuple[str, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def of(cls, secrets: Iterable[str], patterns: Iterable[str]) -> Redactor:
        """From a scenario's secret values and its `redact` regexes."""
        return cls(tuple(s for s in secrets if s), tuple(re.compile(p) for p in patterns))

    @cached_property
    def encoded(self) -> tuple[SecretForm, ...]:
        """The secrets' encoded forms."""
        return tuple(form for secret in self.secrets for form in secret_forms(secret))

    def spans(self, text: str) -> Spans:
        """(start, end, replacement) of what to remove or redact in `text`, in order."""
        found: list[tuple[int, int, str]] = [
            (m.start(), m.end(), "") for m in INVISIBLE.finditer(text)
        ]
        for secret in self.secrets:
            if not secret:
                continue
            start = text.find(secret)
            while start != -1:
                found.append((start, start + len(secret), REDACTED))
                start = text.find(secret, start + 1)
        for form in self.encoded:
            found += [(start, end, REDACTED) for start, end in form.spans(text) if end > start]
        for pattern in self.patterns:
            for m in pattern.finditer(text):
                if m.end() > m.start():
                    found.append((m.start(), m.end(), REDACTED))
        return _merge(found)

    def safe_cut(self, text: str, cut: int, spans: Spans | None = None) -> int:
        """`cut`, or earlier, so that no span to remove or redact in `text` straddles it:
        cleaning text[:cut] and text[cut:] apart then gives what cleaning it whole gives.
        `spans` are `text`'s, when the caller has them (it then cleans text[:cut] with the
        same ones: the text is scanned once)."""
        for start, end, _ in self.spans(text) if spans is None else spans:
            if start < cut < end:
                return start
            if start >= cut:
                break
        return cut

    def clean_text(self, text: str, spans: Spans | None = None) -> str:
        return "".join(piece for _, piece in self.clean_pieces([(0.0, text)], spans))

    def clean_pieces(
        self, pieces: Iterable[tuple[float, str]], spans: Spans | None = None
    ) -> list[tuple[float, str]]:
        """Clean timed pieces of one stream; a span's replacement goes where it starts.
        `spans`: those of a text the pieces are the start of, cut where `safe_cut` said."""
        pieces = list(pieces)
        text = "".join(p for _, p in pieces)
        if spans is None:
            spans = self.spans(text)
        out: list[tuple[float, str]] = []
        pos = 0
        span_i = 0
        for t, piece in pieces:
            end = pos + len(piece)
            kept: list[str] = []
            cursor = pos
            while cursor < end:
                while span_i < len(spans) and spans[span_i][1] <= cursor:
                    span_i += 1
                if span_i < len(spans) and spans[span_i][0] <= cursor:
                    s_start, s_end, replacement = spans[span_i]
                    if s_start >= pos and s_start == cursor:
                        kept.append(replacement)
                    cursor = min(s_end, end)
                    continue
                next_start = spans[span_i][0] if span_i < len(spans) else end
                stop = min(next_start, end)
                kept.append(text[cursor:stop])
                cursor = stop
            if kept and "".join(kept):
                out.append((t, "".join(kept)))
            pos = end
        return out


def _merge(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    spans.sort()
    merged: list[tuple[int, int, str]] = []
    for start, end, replacement in spans:
        if merged and start < merged[-1][1]:
            last_start, last_end, last_rep = merged[-1]
            merged[-1] = (last_start, max(end, last_end), last_rep or replacement)
        else:
            merged.append((start, end, replacement))
    return merged


def plain_text(raw: str) -> str:
    """Output as checks see it: no escape sequences, Unix newlines."""
    # Big outputs are mostly plain: skip each pass that has nothing to do.
    text = ANSI.sub("", raw) if "\x1b" in raw else raw
    text = text.replace("\r\n", "\n")
    if "\r" not in text:
        return text
    # A lone \r returns to the line start: keep what was written last on that line.
    lines = []
    for line in text.split("\n"):
        if "\r" in line:
            parts = [p for p in line.split("\r")]
            line = parts[-1] if parts[-1] else next((p for p in reversed(parts) if p), "")
        lines.append(line)
    return "\n".join(lines)
