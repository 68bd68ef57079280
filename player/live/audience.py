"""What the audience terminal shows in live mode: the shell's output as it arrives, cleaned.

Prompt bookkeeping (OSC 133) and host leaks (OSC 7/1337) are removed and secrets redacted, as
in casts. Output arrives in arbitrary chunks, so what may be cut at a chunk's end is held back
until the next chunk (or until the shell goes quiet): an incomplete escape sequence, the start
of a secret, or, when a secret has encoded forms (base64, hex, URL, JSON) or the scenario
`redact` patterns, the last `reach` characters, cut where the Redactor's `safe_cut` says no
span straddles: any form of a secret cut across two reads is redacted whole. Each chunk costs
its own length plus that tail, so a step printing 100 MB streams through in linear time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from recorder.shell.output_cleaner import Redactor
from recorder.shell.secret_forms import longest_form

HOLD_LIMIT = 512  # an "escape sequence" longer than this is not one: let it through
# A scenario's `redact` regex may match any length: a match cut across reads is redacted
# when it is at most this long.
PATTERN_REACH = 4096


def write_fd(fd: int) -> Callable[[str], None]:
    """A writer that puts text on `fd` at once (no buffering: timing is what the audience sees)."""

    def write(text: str) -> None:
        data = text.encode("utf-8", "replace")
        while data:
            try:
                written = os.write(fd, data)
            except BlockingIOError:
                continue
            except OSError:  # the audience terminal went away: nothing more to show
                return
            data = data[written:]

    return write


class AudienceStream:
    """Passes output to the audience while `showing`; hidden steps' output is dropped."""

    def __init__(self, redactor: Redactor, write: Callable[[str], None]) -> None:
        self.redactor = redactor
        self.write = write
        self.showing = False
        self._held = ""
        self._reach: tuple[Redactor, int] | None = None  # (redactor, its reach), cached

    def feed(self, text: str) -> None:
        if not self.showing:
            return
        text = self._held + text
        keep = max(_incomplete_tail(text, self.redactor.secrets), self.reach())
        cut = len(text) - keep
        spans = None
        if cut > 0 and keep:
            # No span to redact may straddle the cut: every span starting before it is at
            # most `reach` long, so it is whole in `text` and safe_cut sees it. The same
            # spans clean what is shown: the text is scanned once.
            spans = self.redactor.spans(text)
            cut = self.redactor.safe_cut(text, cut, spans)
        cut = max(cut, 0)
        self._held = text[cut:]
        if cut:
            self.write(self.redactor.clean_text(text[:cut], spans))

    def reach(self) -> int:
        """How long a text the redactor may remove or redact as one span (escape sequences
        aside): a secret, any of its encoded forms, PATTERN_REACH for `redact` patterns."""
        if self._reach is None or self._reach[0] is not self.redactor:
            redactor = self.redactor
            # A form is longer than its secret; a secret too short to have forms is held by
            # `_incomplete_tail`, and only when the text ends with what may be its start.
            reach = max((longest_form(s) for s in redactor.secrets), default=0)
            if redactor.patterns:
                reach = max(reach, PATTERN_REACH)
            self._reach = (redactor, reach)
        return self._reach[1]

    def flush(self) -> None:
        """The shell went quiet: what was held back is not going to complete."""
        held, self._held = self._held, ""
        if held and self.showing:
            self.write(self.redactor.clean_text(held))

    def show(self, on: bool) -> None:
        if not on:
            self._held = ""
        self.showing = on

    def play(self, text: str) -> None:
        """Recorded output (already clean): shown whatever `showing` says."""
        self.write(text)


def _incomplete_tail(text: str, secrets: tuple[str, ...]) -> int:
    """How many characters at the end of `text` may be the start of something longer."""
    hold = 0
    escape = text.rfind("\x1b")
    if escape != -1 and len(text) - escape <= HOLD_LIMIT:
        tail = text[escape:]
        if not _complete_escape(tail):
            hold = len(tail)
    for secret in secrets:
        for size in range(min(len(secret) - 1, len(text)), hold, -1):
            if text.endswith(secret[:size]):
                hold = size
                break
    return hold


CSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")


def _complete_escape(tail: str) -> bool:
    """Does `tail` (starting at ESC) hold a whole escape sequence?"""
    if tail.startswith("\x1b]"):  # OSC: until BEL or ST
        return "\x07" in tail or "\x1b\\" in tail[1:]
    if tail.startswith("\x1b["):
        return CSI.match(tail) is not None
    if tail.startswith(("\x1b(", "\x1b)")):  # charset selection takes one more character
        return len(tail) >= 3
    return len(tail) >= 2
