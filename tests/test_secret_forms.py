"""A declared secret in its usual encodings: redacted from casts, found by the leak scan, also
when the encoded value is cut across output chunks.

The secret has a space, a slash, a plus and a non-ASCII letter, so that its URL and JSON forms
differ from the value itself; base64 and hex are checked at every alignment and wrapped.
"""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.parse
from pathlib import Path

import pytest

from conftest import run_cli
from recorder.cast.leak_scan import mask_leaks, scan_checked, scan_events
from recorder.cast.provenance import Provenance, SecretFingerprint
from recorder.shell.output_cleaner import REDACTED, Redactor
from recorder.shell.secret_forms import (
    MIN_ENCODED_CHARS,
    base64_middles,
    encodings,
    secret_forms,
)

SECRET = "hunter2 s3cret/é+x"
DATA = SECRET.encode()
HEADER = {"version": 2, "width": 80, "height": 24}

# Every form the issue names, as the tools print it: (form, text).
FORMS = [
    ("literal", SECRET),
    ("base64", base64.b64encode(DATA).decode()),
    ("base64-offset-1", base64.b64encode(b"\x01" + DATA + b"tail").decode()),
    ("base64-offset-2", base64.b64encode(b"\x01\x02" + DATA + b"tail").decode()),
    ("base64-offset-4", base64.b64encode(b"head" + DATA).decode()),
    ("base64url", base64.urlsafe_b64encode(DATA).decode().rstrip("=")),
    ("base64url-offset-1", base64.urlsafe_b64encode(b"\xfb" + DATA + b"\xff").decode()),
    ("base64url-offset-2", base64.urlsafe_b64encode(b"\xfb\xff" + DATA).decode()),
    ("hex-lower", DATA.hex()),
    ("hex-upper", DATA.hex().upper()),
    ("url-%20-upper", urllib.parse.quote(SECRET, safe="")),
    ("url-%20-lower", urllib.parse.quote(SECRET, safe="").lower()),  # the secret is lower case
    ("url-plus", urllib.parse.quote_plus(SECRET)),
    ("url-encodeURIComponent", urllib.parse.quote(SECRET, safe="!'()*-._~")),
    ("json-ascii", json.dumps(SECRET)[1:-1]),
    ("json-utf8", json.dumps(SECRET, ensure_ascii=False)[1:-1]),
    ("json-escaped-slash", json.dumps(SECRET)[1:-1].replace("/", "\\/")),
]
FORM_IDS = [name for name, _ in FORMS]


def assert_gone(text: str) -> None:
    """Nothing of the secret left: no concrete encoding, no match of any form's pattern."""
    for name, encoded in [*FORMS, *encodings(SECRET).items()]:
        assert encoded not in text, f"{name} left in {text!r}"
    for form in secret_forms(SECRET):
        assert not form.pattern.search(text), f"{form.form} left in {text!r}"
    assert SECRET not in text


def split(text: str, parts: int) -> list[str]:
    size = -(-len(text) // parts)
    return [text[i : i + size] for i in range(0, len(text), size)]


# --- the patterns --------------------------------------------------------------------------


def test_the_url_lower_case_form_is_really_lower_case() -> None:
    lowered = dict(FORMS)["url-%20-lower"]
    assert "%2f" in lowered and "%c3%a9" in lowered


@pytest.mark.parametrize(("name", "encoded"), FORMS, ids=FORM_IDS)
def test_every_form_is_matched_by_a_pattern_or_is_the_literal(name: str, encoded: str) -> None:
    matched = [f.form for f in secret_forms(SECRET) if f.pattern.search(encoded)]
    assert matched or encoded == SECRET or SECRET in encoded, name


def test_the_concrete_encodings_are_all_matched() -> None:
    for name, encoded in encodings(SECRET).items():
        if name == "literal":
            continue
        assert any(f.pattern.search(encoded) for f in secret_forms(SECRET)), name


@pytest.mark.parametrize("offset", range(6))
def test_base64_inside_a_longer_blob_at_any_offset(offset: int) -> None:
    """The secret's bytes at offset 0..5 of a blob: every alignment mod 3, twice."""
    before, after = bytes(range(200, 200 + offset)), b"\x00\xfe\x7f more bytes"
    blob = base64.b64encode(before + DATA + after).decode()
    assert [f.form for f in secret_forms(SECRET) if f.pattern.search(blob)][:1] == ["base64"]
    redacted = Redactor((SECRET,)).clean_text(f"data: {blob}\r\n")
    assert REDACTED in redacted
    assert_gone(redacted)


def test_base64_middles_are_the_characters_of_the_secrets_bits_alone() -> None:
    for k, middle in enumerate(base64_middles(SECRET)):
        for prefix in (b"\x00" * k, b"\xff" * k, b"\x5a" * k):
            for suffix in (b"", b"\x00", b"\xff\xff"):
                assert middle in base64.b64encode(prefix + DATA + suffix).decode()


def test_base64_wrapped_by_the_base64_tool_is_found_and_redacted() -> None:
    long_secret = "s3cret-" * 12  # 84 bytes: 112 base64 characters, wrapped at 76
    wrapped = base64.encodebytes(long_secret.encode()).decode().replace("\n", "\r\n")
    assert wrapped.count("\r\n") == 2
    leaks = scan_events(HEADER, [(0.1, "o", wrapped)], (long_secret,))
    assert [(leak.kind, leak.excerpt) for leak in leaks] == [("secret", "*** (base64)")]
    cleaned = Redactor((long_secret,)).clean_text(wrapped)
    assert cleaned.startswith(REDACTED) and long_secret[:10] not in cleaned


def test_hex_wrapped_by_xxd_is_found() -> None:
    long_secret = "0123456789-abcdefghij-" * 2  # 44 bytes: xxd -p wraps its 88 digits at 60
    hexed = long_secret.encode().hex()
    wrapped = f"{hexed[:60]}\r\n{hexed[60:]}\r\n"
    leaks = scan_events(HEADER, [(0.1, "o", wrapped)], (long_secret,))
    assert [leak.excerpt for leak in leaks] == ["*** (hex)"]


# --- the Redactor: in one chunk and cut across chunks ----------------------------------------


@pytest.mark.parametrize(("name", "encoded"), FORMS, ids=FORM_IDS)
def test_the_redactor_removes_every_form(name: str, encoded: str) -> None:
    cleaned = Redactor.of([SECRET], []).clean_text(f"out: {encoded}\r\ndemo$ ")
    assert cleaned.startswith("out: ") and cleaned.endswith("\r\ndemo$ ")
    assert REDACTED in cleaned
    assert_gone(cleaned)


@pytest.mark.parametrize("parts", [2, 3, 7])
@pytest.mark.parametrize(("name", "encoded"), FORMS, ids=FORM_IDS)
def test_the_redactor_removes_every_form_cut_across_chunks(
    name: str, encoded: str, parts: int
) -> None:
    """As pexpect hands output over: the encoded value cut anywhere, each piece timed."""
    chunks = ["out: ", *split(encoded, parts), "\r\ndemo$ "]
    pieces = Redactor.of([SECRET], []).clean_pieces([(0.1 * i, c) for i, c in enumerate(chunks)])
    cleaned = "".join(text for _, text in pieces)
    assert cleaned.startswith("out: ") and cleaned.endswith("\r\ndemo$ ")
    assert cleaned.count(REDACTED) == 1
    assert_gone(cleaned)
    for _, text in pieces:  # no piece carries a fragment the others complete
        assert REDACTED in text or not any(p in text for p in split(encoded, parts)[1:-1])
    assert [t for t, _ in pieces] == sorted(t for t, _ in pieces)


def test_a_short_secret_has_no_encoded_forms_but_its_literal_is_redacted() -> None:
    short = "pa55wd"
    assert len(short) < MIN_ENCODED_CHARS and secret_forms(short) == ()
    hexed = short.encode().hex()
    assert Redactor((short,)).clean_text(f"{short} {hexed}") == f"{REDACTED} {hexed}"


def test_ordinary_text_is_left_alone() -> None:
    text = "NAME   READY   STATUS\r\ndemo   1/1     Running  aHVudGVy 68756e74 hunter%20\r\n"
    assert Redactor((SECRET,)).clean_text(text) == text


# --- the leak scan -------------------------------------------------------------------------


def scan_output(*chunks: str) -> list:
    events = [(round(0.5 * i, 3), "o", c) for i, c in enumerate(chunks, 1)]
    return scan_events(HEADER, events, (SECRET,))


@pytest.mark.parametrize(("name", "encoded"), FORMS, ids=FORM_IDS)
def test_the_scan_finds_every_form(name: str, encoded: str) -> None:
    leaks = scan_output("demo$ cat x\r\n", f"value: {encoded}\r\n")
    assert [(leak.kind, leak.where) for leak in leaks] == [("secret", "event 2 (1.000s)")]
    for leak in leaks:
        assert encoded not in str(leak) and SECRET not in str(leak)


@pytest.mark.parametrize(("name", "encoded"), FORMS, ids=FORM_IDS)
def test_the_scan_finds_every_form_cut_across_events(name: str, encoded: str) -> None:
    leaks = scan_output("value: ", *split(encoded, 3), "\r\n")
    assert [(leak.kind, leak.where) for leak in leaks] == [("secret", "event 2 (1.000s)")]


def test_the_scan_names_the_form_and_masks_it() -> None:
    leaks = scan_output(f"hex: {DATA.hex()}\r\n", f"b64: {base64.b64encode(DATA).decode()}\r\n")
    assert [leak.excerpt for leak in leaks] == ["hex: *** (hex)", "b64: *** (base64)"]
    masked = mask_leaks(f"x {urllib.parse.quote_plus(SECRET)} y", [SECRET])
    assert masked == "x *** (url) y"


def test_coloured_encoded_secret_is_found() -> None:
    encoded = base64.b64encode(DATA).decode()
    leaks = scan_output(f"\x1b[32m{encoded[:9]}\x1b[0m\x1b[1m{encoded[9:]}\x1b[0m\r\n")
    assert [leak.excerpt for leak in leaks] == ["*** (base64)"]


# --- kubectl get secret -o yaml ------------------------------------------------------------

KUBECTL_YAML = """\
apiVersion: v1
data:
  password: {password}
  username: {username}
kind: Secret
metadata:
  creationTimestamp: "2024-05-01T10:00:00Z"
  name: db-credentials
  namespace: demo
  resourceVersion: "4242"
  uid: 1b7e3a52-8f0c-4c2e-9d1a-5f6e7d8c9b0a
type: Opaque
"""


def kubectl_output() -> str:
    b64 = base64.b64encode
    text = KUBECTL_YAML.format(password=b64(DATA).decode(), username=b64(b"admin").decode())
    return text.replace("\n", "\r\n")


def test_kubectl_get_secret_yaml_is_redacted_and_the_rest_kept() -> None:
    output = "demo$ kubectl get secret db-credentials -o yaml\r\n" + kubectl_output()
    chunks = split(output, 5)  # the password's base64 is cut by a chunk boundary
    assert any(base64.b64encode(DATA).decode()[:6] in c for c in chunks)
    pieces = Redactor((SECRET,)).clean_pieces([(0.1 * i, c) for i, c in enumerate(chunks)])
    cleaned = "".join(text for _, text in pieces)
    assert f"  password: {REDACTED}\r\n" in cleaned
    assert "  username: YWRtaW4=\r\n" in cleaned  # not declared: left as it is
    assert "uid: 1b7e3a52-8f0c-4c2e-9d1a-5f6e7d8c9b0a" in cleaned
    assert_gone(cleaned)


def test_kubectl_get_secret_yaml_is_a_leak_unredacted() -> None:
    leaks = scan_output(*split(kubectl_output(), 4))
    assert [(leak.kind, leak.excerpt) for leak in leaks] == [("secret", "  password: *** (base64)")]
    assert scan_output(Redactor((SECRET,)).clean_text(kubectl_output())) == []


# --- provenance: the secrets a cast names ----------------------------------------------------


def test_provenance_names_secrets_by_salted_fingerprint() -> None:
    named = SecretFingerprint.of("DEMO_TOKEN", SECRET)
    assert named.name == "DEMO_TOKEN" and len(named.salt) == 32
    assert named.sha256 == hashlib.sha256((named.salt + SECRET).encode()).hexdigest()
    assert named.matches(SECRET) and not named.matches(SECRET + "x")
    assert SecretFingerprint.of("DEMO_TOKEN", SECRET).salt != named.salt
    written = Provenance(verified=True, secrets=[named]).to_dict()
    assert written["secrets"] == [
        {"name": "DEMO_TOKEN", "salt": named.salt, "sha256": named.sha256}
    ]
    assert list(written)[-2:] == ["secrets", "steps"]
    assert Provenance.from_dict(written) == Provenance(verified=True, secrets=[named])


def test_provenance_without_secrets_reads_and_writes_as_before() -> None:
    old = {"verified": True, "scenario": "x.yaml", "steps": []}
    provenance = Provenance.from_dict(old)
    assert provenance is not None and provenance.secrets == []
    assert "secrets" not in provenance.to_dict()


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ("DEMO_TOKEN", []),
        ([None, 3, "x", {}], []),
        ([{"name": ""}], []),
        ([{"name": "A", "salt": 5}], ["A"]),  # named, but its fingerprint matches nothing
    ],
)
def test_provenance_reads_broken_secrets_leniently(raw: object, names: list[str]) -> None:
    provenance = Provenance.from_dict({"verified": True, "secrets": raw})
    assert provenance is not None
    assert [s.name for s in provenance.secrets] == names
    assert not any(s.matches("") or s.matches(SECRET) for s in provenance.secrets)


def test_record_names_the_secret_and_no_form_of_it_reaches_the_cast(
    run_record, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    value = "Zq9-demo token/ü"
    monkeypatch.setenv("SECRET_FORMS_TEST_TOKEN", value)
    data = value.encode()
    printed = {
        "base64": base64.b64encode(data).decode(),
        "hex": data.hex(),
        "url": urllib.parse.quote_plus(value),
        "json": json.dumps(value)[1:-1],
    }
    body = (
        "env: {TOKEN: {from_env: SECRET_FORMS_TEST_TOKEN, secret: true}}\n"
        "steps:\n"
        + "".join(f"  - run: printf '%s\\n' '{text}'\n" for text in printed.values())
        + "  - run: printf '%s' \"$TOKEN\" | base64\n"
    )
    cast = tmp_path / "ok.cast"
    result = run_record(body, cast=cast)
    assert result.passed, result.error
    raw = cast.read_text()
    assert raw.count("[REDACTED]\\r\\n") == 5, raw  # each step's output line
    header = json.loads(raw.splitlines()[0])
    (named,) = header["stagecast"]["secrets"]
    assert named["name"] == "SECRET_FORMS_TEST_TOKEN"
    assert named["sha256"] == hashlib.sha256((named["salt"] + value).encode()).hexdigest()
    leaks, check = scan_checked(cast)
    assert leaks == [] and check.values == (value,) and check.unchecked == ()
    for form in secret_forms(value):
        assert not form.pattern.search(raw), form.form


# --- lint: a secret too short for its encoded forms -----------------------------------------


def test_a_short_secret_gets_a_warning_line(tmp_path: Path) -> None:
    scenario = tmp_path / "short.yaml"
    scenario.write_text(
        "title: t\nenv:\n  TOKEN: {from_env: SHORT_SECRET_TEST, secret: true}\n"
        "steps:\n  - run: echo hi\n"
    )
    done = run_cli("lint", str(scenario), env={"SHORT_SECRET_TEST": "pa55wd"})
    assert done.returncode == 0 and done.stdout == f"{scenario}: ok (1 steps)\n"
    assert done.stderr == (
        f"{scenario}:3:10: warning: env TOKEN: $SHORT_SECRET_TEST is shorter than "
        f"{MIN_ENCODED_CHARS} characters: only the value itself is redacted and scanned for, "
        "not its base64, hex, URL or JSON forms (they would match ordinary output)\n"
    )
    assert "pa55wd" not in done.stderr
    assert run_cli("lint", str(scenario), env={"SHORT_SECRET_TEST": SECRET}).stderr == ""


def test_spans_are_the_whole_patterns_matches() -> None:
    """`SecretForm.spans` finds base64 by its literal-first core and adds the partial character
    back: exactly what the whole pattern's finditer finds, wherever the blob sits."""
    import random

    rng = random.Random(7)
    alphabet = "ABCxyz019+/-_=\n "
    checked = 0
    for _, blob in FORMS:
        for _ in range(20):
            before = "".join(rng.choice(alphabet) for _ in range(rng.randrange(4)))
            after = "".join(rng.choice(alphabet) for _ in range(rng.randrange(4)))
            text = before + blob + after + before + blob
            for form in secret_forms(SECRET):
                whole = [(m.start(), m.end()) for m in form.pattern.finditer(text)]
                assert list(form.spans(text)) == whole, (form.form, text)
                checked += len(whole)
    assert checked > 100  # the blobs were found, not only agreed on as absent


def test_spans_agree_with_the_whole_pattern_on_near_misses() -> None:
    """Texts made of pieces of every encoding of several secrets, cut anywhere, with their
    first characters written each way: `spans` (a search per way a match can start, merged)
    finds exactly the whole pattern's matches, ties and overlaps included."""
    import random

    from recorder.shell.secret_forms import base64_middles, encodings

    rng = random.Random(11)
    checked = 0
    for secret in (SECRET, "Zq9hunter2Secret", "\u00e9tait-un-secret", "a b+c/d=e%f \U0001f600x"):
        pieces = [text for text in encodings(secret).values()]
        for _ in range(300):
            text = ""
            for _ in range(rng.randrange(1, 6)):
                piece = rng.choice(pieces)
                cut = sorted(rng.randrange(len(piece) + 1) for _ in range(2))
                text += rng.choice([piece, piece[cut[0] : cut[1]], piece[: cut[1]]])
                text += rng.choice(["", "\n", "x", "=", "%", "\\", "A"])
            for form in secret_forms(secret):
                whole = [(m.start(), m.end()) for m in form.pattern.finditer(text)]
                assert list(form.spans(text)) == whole, (secret, form.form, text)
                checked += len(whole)
        # A base64 match takes the character after it: here, the next match's first one.
        for middle in base64_middles(secret):
            for text in (middle * 3, middle + "=" + middle, "+" + middle * 2):
                for form in secret_forms(secret):
                    whole = [(m.start(), m.end()) for m in form.pattern.finditer(text)]
                    assert list(form.spans(text)) == whole, (secret, form.form, text)
    assert checked > 500
