"""Leak scan: secrets, credentials and host/cwd escape sequences found in a cast.

A verified cast is scanned before it is published, and `stagecast scan` scans any cast.

The "o" events and the "i" events are each scanned as one stream, so a secret split across
output chunks is still one string; each stream is scanned as written and with its escape
sequences removed, so colour codes between a secret's characters do not hide it. A declared
secret is looked for as itself and in its usual encodings (`recorder.shell.secret_forms`:
base64 and base64url at any alignment, hex, URL and JSON escapes). A match is
reported at the event where it starts. Markers and every string in the header (keys too) are
scanned on their own. Excerpts never show a sensitive value: it is replaced by `***`.

Casts are read by `recorder.cast.reader`, which keeps the raw header (every key of a v1 one
too) and every event, so nothing in the file escapes the scan.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from recorder.shell.output_cleaner import ANSI
from recorder.shell.secret_forms import secret_forms

from .model import Cast
from .reader import CastReadError, stream_cast

MASK = "***"
MIN_SECRET_LEN = 4  # shorter declared values would match ordinary text everywhere
CONTEXT_CHARS = 20  # visible characters of the same line shown before a match
CONTEXT_WINDOW = 200  # raw characters looked at to find them (escape codes included)
STREAMS = ("o", "i")  # scanned as whole streams; "m" markers are scanned one by one

# What a token looks like: base64, base64url, JWT and opaque-token characters.
_TOKEN = r"[A-Za-z0-9._~+/=-]{16,}"
KUBE_TOKEN = re.compile(
    r"(?<![\w-])(?P<k>(?:(?:id|refresh|access)-)?token[\"']?[ \t]*:[ \t]*[\"']?"
    r"|--token(?:=|[ \t]+))"
    rf"(?P<v>{_TOKEN})",
    re.IGNORECASE,
)
KUBE_DATA = re.compile(
    r"(?<![\w-])(?P<k>(?P<name>client-key-data|client-certificate-data"
    r"|certificate-authority-data)[\"']?[ \t]*:[ \t]*[\"']?)"
    r"(?P<v>[A-Za-z0-9+/]{16,}={0,2})"
)
# base64 of "-----BEGIN"; at least 32 characters, so a lone prefix in a grep is not a leak.
PEM_PREFIX = "LS0tLS1CRUdJTi"
PEM64 = re.compile(rf"(?<![A-Za-z0-9+/]){PEM_PREFIX}[A-Za-z0-9+/]{{18,}}={{0,2}}")
BEARER = re.compile(rf"(?<![\w-])(?P<k>bearer[ \t]+)(?P<v>{_TOKEN})", re.IGNORECASE)
JWT = re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
_OSC_END = r"(?:\x07|\x1b\\|\x9c)"
OSC7 = re.compile(rf"(?P<k>\x1b\]7;(?:file://)?)(?P<v>[^\x07\x1b\x9c]*){_OSC_END}")
# Only OSC 1337 codes that carry a value (RemoteHost=, CurrentDir=, SetUserVar=...):
# a bare SetMark tells nothing about the machine.
OSC1337 = re.compile(rf"(?P<k>\x1b\]1337;[A-Za-z]*=)(?P<v>[^\x07\x1b\x9c]*){_OSC_END}")
# What the stripped view removes: escape sequences and the shift/NUL bytes of `tput sgr0`.
STRIP = re.compile(ANSI.pattern + r"|[\x00\x0e\x0f]")
_STRIPPED_STARTS = ("\x1b", "\x00", "\x0e", "\x0f")  # what every STRIP match starts with
_PEM_LABEL = re.compile(r"-----BEGIN [A-Z0-9 ]+(?:-----)?")
# A stream longer than WINDOW characters is scanned window by window (`_stream_leaks`).
WINDOW = 1 << 20
CARRY = 64 << 10


@dataclass(frozen=True)
class Leak:
    kind: str  # secret, kubeconfig-token, client-key, certificate, bearer-token, ...
    where: str  # "header.<dotted.key>" or "event <n> (<t>s)", n the 1-based event number
    excerpt: str  # one line; the sensitive value itself is masked

    def __str__(self) -> str:
        return f"{self.where}: {self.kind}: {self.excerpt}"


@dataclass(frozen=True)
class _Hit:
    start: int  # in the scanned text
    end: int
    kind: str
    shown: str  # the match with its sensitive part masked


# --- detection -------------------------------------------------------------------------


def _plausible_token(value: str) -> bool:
    """A real token has digits or mixed case; `token: serviceaccount-name` does not."""
    if value.startswith(("/", "./", "~/")) and value.count("/") >= 2 and "=" not in value:
        return False  # a path (tokenFile: /var/run/secrets/...), not a token
    has_digit = any(c.isdigit() for c in value)
    mixed = any(c.isupper() for c in value) and any(c.islower() for c in value)
    return has_digit or mixed


def _pem_kind(run: str) -> tuple[str, str]:
    """The kind of a base64 PEM fragment and its decoded (public) BEGIN label."""
    head = run[: len(run[:64]) // 4 * 4]
    try:
        decoded = base64.b64decode(head).decode("latin-1")
    except (binascii.Error, ValueError):
        decoded = ""
    label_match = _PEM_LABEL.search(decoded)
    label = label_match.group(0).rstrip() if label_match else "-----BEGIN"
    return ("client-key" if "PRIVATE" in label else "certificate"), label


def _pattern_hits(text: str, with_osc: bool) -> Iterator[_Hit]:
    # Each pattern has a literal it cannot match without; a regex that starts with a
    # lookbehind or a class tries every position (about 50 MB/s), a literal is looked for
    # at memory speed, so a window without it skips the regex.
    folded = text.lower()
    if "token" in folded:
        for m in KUBE_TOKEN.finditer(text):
            if _plausible_token(m["v"]):
                yield _Hit(m.start("k"), m.end(), "kubeconfig-token", m["k"] + MASK)
    if "-data" in text:
        for m in KUBE_DATA.finditer(text):
            kind = "client-key" if m["name"] == "client-key-data" else "certificate"
            yield _Hit(m.start("k"), m.end(), kind, m["k"] + MASK)
    if PEM_PREFIX in text:
        for m in PEM64.finditer(text):
            kind, label = _pem_kind(m.group(0))
            yield _Hit(m.start(), m.end(), kind, f"{PEM_PREFIX}{MASK} (base64 of '{label}')")
    if "bearer" in folded:
        for m in BEARER.finditer(text):
            if _plausible_token(m["v"]):
                yield _Hit(m.start("k"), m.end(), "bearer-token", m["k"] + MASK)
    if "eyJ" in text:
        for m in JWT.finditer(text):
            yield _Hit(m.start(), m.end(), "bearer-token", f"eyJ{MASK} (a JWT)")
    for m in PRIVATE_KEY.finditer(text):
        yield _Hit(m.start(), m.end(), "private-key", m.group(0))
    if with_osc:  # the stripped view has no escape sequences left to find
        for kind, pattern in (("osc-7", OSC7), ("osc-1337", OSC1337)):
            for m in pattern.finditer(text):
                yield _Hit(m.start(), m.end(), kind, m["k"] + (MASK if m["v"] else ""))


def _secret_hits(text: str, secrets: Sequence[str]) -> Iterator[_Hit]:
    for secret in secrets:
        start = text.find(secret)
        while start != -1:
            yield _Hit(start, start + len(secret), "secret", MASK)
            start = text.find(secret, start + 1)
    for secret in secrets:  # after the literals: a literal is reported as itself
        for form in secret_forms(secret):
            for start, end in form.spans(text):
                yield _Hit(start, end, "secret", f"{MASK} ({form.form})")


def _strip(raw: str) -> tuple[str, list[int], list[int]]:
    """`raw` without escape sequences, and the segments that map it back onto `raw`."""
    if not any(c in raw for c in _STRIPPED_STARTS):
        return raw, [0], [0]  # nothing to strip: no copy, and no second scan (see _hits)
    kept: list[str] = []
    seg_stripped: list[int] = []
    seg_raw: list[int] = []
    pos = length = 0
    for m in STRIP.finditer(raw):
        if m.start() > pos:
            seg_stripped.append(length)
            seg_raw.append(pos)
            kept.append(raw[pos : m.start()])
            length += m.start() - pos
        pos = m.end()
    if pos < len(raw):
        seg_stripped.append(length)
        seg_raw.append(pos)
        kept.append(raw[pos:])
    return "".join(kept), seg_stripped, seg_raw


def _hits(raw: str, secrets: Sequence[str]) -> list[_Hit]:
    """Every match in `raw` and in its stripped view, in `raw`'s coordinates, deduplicated."""
    hits = [*_pattern_hits(raw, True), *_secret_hits(raw, secrets)]
    stripped, seg_stripped, seg_raw = _strip(raw)
    if stripped is not raw:

        def to_raw(i: int) -> int:
            k = bisect.bisect_right(seg_stripped, i) - 1
            return seg_raw[k] + (i - seg_stripped[k])

        for hit in [*_pattern_hits(stripped, False), *_secret_hits(stripped, secrets)]:
            hits.append(replace(hit, start=to_raw(hit.start), end=to_raw(hit.end - 1) + 1))
    return _dedupe(hits)


def _dedupe(hits: list[_Hit]) -> list[_Hit]:
    """One report per place: a match inside another (a JWT after `Bearer`, the same secret
    seen in both views) is left out."""
    kept: list[_Hit] = []
    reach = -1
    for hit in sorted(hits, key=lambda h: (h.start, -(h.end - h.start))):
        if hit.end <= reach:
            continue
        kept.append(hit)
        reach = hit.end
    return kept


# --- excerpts --------------------------------------------------------------------------


def _printable(text: str) -> str:
    """One line: control characters and line separators escaped."""
    return "".join(
        ch if ch.isprintable() else ascii(ch)[1:-1] if ord(ch) > 0xFF else f"\\x{ord(ch):02x}"
        for ch in text
    )


def _context(raw: str, hit: _Hit, hits: list[_Hit]) -> str:
    """The visible end of the line before `hit`, with every other match masked."""
    lo = max(0, hit.start - CONTEXT_WINDOW)
    pieces: list[str] = []
    pos = lo
    for other in hits:
        if other.end <= pos or other.start >= hit.start:
            continue
        pieces.append(raw[pos : max(pos, other.start)])
        pieces.append(MASK)
        pos = other.end
    pieces.append(raw[pos : hit.start] if pos < hit.start else "")
    visible = STRIP.sub("", "".join(pieces))
    line = re.split(r"[\r\n]", visible)[-1]
    if len(line) > CONTEXT_CHARS:
        line = "…" + line[-CONTEXT_CHARS:]
    return _printable(line)


def _excerpt(raw: str, hit: _Hit, hits: list[_Hit]) -> str:
    return _context(raw, hit, hits) + _printable(hit.shown)


def mask_leaks(text: str, secrets: Sequence[str] = ()) -> str:
    """`text` with every match the scan would report masked as its excerpts mask it: for what
    is said about a leaky cast (a report, a failure message), which must not carry it either."""
    pieces: list[str] = []
    pos = 0
    for hit in _hits(text, _usable_secrets(secrets)):
        if hit.start >= pos:
            pieces += [text[pos : hit.start], hit.shown]
        elif hit.end > pos:  # overlaps the previous match: mask the rest of it too
            pieces.append(MASK)
        pos = max(pos, hit.end)
    return "".join(pieces) + text[pos:]


# --- header and events -----------------------------------------------------------------


def _usable_secrets(secrets: Sequence[str]) -> list[str]:
    # Longest first, so a secret inside a longer one is reported as the longer one.
    return sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LEN}, key=len, reverse=True)


def _walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string in a header, keys included, with its dotted path."""
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}"
            if isinstance(key, str):
                yield where, key
            yield from _walk(item, where)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}.{i}")
    elif isinstance(value, str):
        yield path, value


def scan_header(header: dict[str, Any], secrets: Sequence[str] = ()) -> list[Leak]:
    """Leaks in every string of a header, keys included."""
    secrets = _usable_secrets(secrets)
    leaks: list[Leak] = []
    for where, text in _walk(header, "header"):
        hits = _hits(text, secrets)
        leaks += [Leak(hit.kind, where, _excerpt(text, hit, hits)) for hit in hits]
    return leaks


def _event_where(n: int, t: float) -> str:
    return f"event {n} ({t:.3f}s)"


Events = Iterable[tuple[float, str, str]]


def scan_events(header: dict[str, Any], events: Events, secrets: Sequence[str] = ()) -> list[Leak]:
    """Leaks in a cast's header and events (t, code, data); header leaks first, then events
    in order. The events are read once, as a stream (see EventScanner)."""
    scanner = EventScanner(secrets)
    for t, code, data, *_ in events:
        scanner.feed(t, code, data)
    return scan_header(header, secrets) + scanner.finish()


class EventScanner:
    """Leaks in a cast's events, fed one at a time in file order, as they are read or
    recorded: a cast of any size is scanned in one pass and bounded memory.

    Each stream ("o", "i") is scanned as one text, so a value split across writes is found:
    in windows of WINDOW characters, each with the last CARRY characters of the one before.
    A hit is reported by the window it starts in (before that window's last CARRY
    characters, which the next one reads whole), so nothing within CARRY of a window's edge
    is missed. Markers are scanned one by one."""

    def __init__(self, secrets: Sequence[str] = ()) -> None:
        self.secrets = _usable_secrets(secrets)
        self.windows = {code: _Window() for code in STREAMS}
        self.found: list[tuple[int, int, Leak]] = []  # (event index, position) for ordering
        self.count = 0

    def feed(self, t: float, code: str, data: str) -> None:
        index = self.count
        self.count += 1
        window = self.windows.get(code)
        if window is not None:
            if data:
                window.add(index, float(t), str(data))
                if window.size >= WINDOW:
                    self.found += window.scan(self.secrets, last=False)
        elif code == "m":
            hits = _hits(str(data), self.secrets)
            where = _event_where(index + 1, t)
            self.found += [
                (index, h.start, Leak(h.kind, where, _excerpt(data, h, hits))) for h in hits
            ]

    def finish(self) -> list[Leak]:
        """Every leak fed, in event order."""
        for window in self.windows.values():
            self.found += window.scan(self.secrets, last=True)
        return [leak for _, _, leak in sorted(self.found, key=lambda f: (f[0], f[1]))]


class _Window:
    """The text being scanned: the carry of the window before, then new events' data."""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.size = 0  # new characters since the last scan
        self.carry = ""
        self.base = 0  # stream offset where `carry + pieces` starts
        self.spans: list[tuple[int, int, float]] = []  # (stream offset, event index, time)
        self.region_start = 0

    def add(self, index: int, t: float, data: str) -> None:
        self.spans.append((self.base + len(self.carry) + self.size, index, t))
        self.pieces.append(data)
        self.size += len(data)

    def scan(self, secrets: Sequence[str], last: bool) -> list[tuple[int, int, Leak]]:
        if not self.pieces:
            return []
        text = self.carry + "".join(self.pieces)
        carry = "" if last else text[-CARRY:]
        region_end = self.base + len(text) - len(carry) if carry else self.base + len(text) + 1
        starts = [span[0] for span in self.spans]
        hits = _hits(text, secrets)
        found = []
        for hit in hits:
            at = self.base + hit.start
            if self.region_start <= at < region_end:
                _, index, t = self.spans[bisect.bisect_right(starts, at) - 1]
                leak = Leak(hit.kind, _event_where(index + 1, t), _excerpt(text, hit, hits))
                found.append((index, at, leak))
        # What the next window starts with: the carry, and the events it came from.
        next_base = self.base + len(text) - len(carry)
        self.spans = [s for n, s in enumerate(self.spans) if _ends_after(n, self, next_base, text)]
        self.base, self.carry, self.pieces, self.size = next_base, carry, [], 0
        self.region_start = region_end
        return found


def _ends_after(n: int, window: _Window, offset: int, text: str) -> bool:
    """Does span `n` of `window` reach past stream `offset` (into the carry)?"""
    end = window.spans[n + 1][0] if n + 1 < len(window.spans) else window.base + len(text)
    return end > offset


# --- files -----------------------------------------------------------------------------


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def scan(cast: Cast, secrets: Sequence[str] = ()) -> list[Leak]:
    """Leaks in a cast as read (or built): its raw header and every event."""
    return scan_events(cast.header, cast.events, secrets)


def scan_cast(path: Path, secrets: Sequence[str] = ()) -> list[Leak]:
    """Leaks in a v1, v2 or v3 cast file; ValueError with a one-line message if it cannot be read.

    The message is the reader's precise one (the line or frame that is wrong)."""
    return _scan_stream(path, lambda _: secrets)


def _scan_stream(path: Path, secrets_of: Callable[[Cast], Sequence[str]]) -> list[Leak]:
    """The cast read as a stream and scanned in one pass, for the secrets `secrets_of` its
    header (a Cast with no events) names; a bad line as ValueError, wherever it is."""
    try:
        stream = stream_cast(path)
        return scan_events(stream.header, stream.events(), secrets_of(stream.head))
    except CastReadError as exc:
        raise ValueError(exc.detail) from None


@dataclass(frozen=True)
class SecretCheck:
    """What a cast is scanned for besides the patterns: the secrets given (`--scenario`) and
    each one its provenance names (`stagecast.secrets`) whose variable holds the value recorded;
    the names it could not check, each with why."""

    values: tuple[str, ...]
    unchecked: tuple[str, ...] = ()  # "DEMO_TOKEN (not set in the environment)"

    def problem(self, path: Path | str) -> str | None:
        """One line naming the secrets that could not be looked for, if any."""
        if not self.unchecked:
            return None
        return (
            f"{path}: cannot check for the secret(s) its provenance names: "
            f"{', '.join(self.unchecked)}: export the variable(s) or give --scenario"
        )


def check_secrets(
    cast: Cast, given: Sequence[str] = (), environ: Mapping[str, str] | None = None
) -> SecretCheck:
    """The secrets to scan `cast` for: `given`, and each secret its provenance names by
    fingerprint whose variable in `environ` (default: this process's) holds that value. A
    named secret that no given value matches and that the environment does not hold (unset,
    or another value) is unchecked: nothing says the cast is free of it."""
    environ = os.environ if environ is None else environ
    provenance = cast.provenance
    values = list(given)
    unchecked: list[str] = []
    for named in provenance.secrets if provenance is not None else ():
        if any(named.matches(value) for value in given):
            continue
        value = environ.get(named.name)
        if value is None:
            unchecked.append(f"{named.name} (not set in the environment)")
        elif not named.matches(value):
            unchecked.append(f"{named.name} (set, but not to the value recorded)")
        else:
            values.append(value)
    return SecretCheck(tuple(dict.fromkeys(values)), tuple(dict.fromkeys(unchecked)))


def scan_checked(
    path: Path, given: Sequence[str] = (), environ: Mapping[str, str] | None = None
) -> tuple[list[Leak], SecretCheck]:
    """`scan_cast`, for the given secrets and those the cast's provenance names (see
    `check_secrets`); ValueError with a one-line message if it cannot be read."""
    checks: list[SecretCheck] = []

    def secrets_of(head: Cast) -> Sequence[str]:
        checks.append(check_secrets(head, given, environ))
        return checks[0].values

    leaks = _scan_stream(path, secrets_of)
    return leaks, checks[0]


def scan_files(
    paths: Sequence[Path], secrets: Sequence[str] = ()
) -> tuple[list[tuple[Path, Leak]], list[str]]:
    """Leaks in each file, and one-line errors for the files that cannot be read."""
    leaks: list[tuple[Path, Leak]] = []
    errors: list[str] = []
    for path in paths:
        try:
            leaks += [(Path(path), leak) for leak in scan_cast(Path(path), secrets)]
        except ValueError as exc:
            errors.append(_one_line(exc))
    return leaks, errors
