"""The audience terminal's stream in live mode, and how presenter keys are read."""

from __future__ import annotations

import base64

import pytest

from player.live.audience import AudienceStream
from player.live.presenter_keys import AutoPresenter, RevealWidth, split_keys
from recorder.shell.output_cleaner import REDACTED, Redactor
from recorder.shell.secret_forms import encodings, longest_form, secret_forms
from recorder.shell.typing_model import TypingModel


def stream(secrets: tuple[str, ...] = ()) -> tuple[AudienceStream, list[str]]:
    shown: list[str] = []
    audience = AudienceStream(Redactor(secrets), shown.append)
    audience.show(True)
    return audience, shown


def test_prompt_marks_cut_across_chunks_never_reach_the_audience() -> None:
    audience, shown = stream()
    for chunk in ["out\r\n\x1b]133;D;0;t=17", "00.5\x07demo$ \x1b]1", "33;B\x07"]:
        audience.feed(chunk)
    audience.flush()
    assert "".join(shown) == "out\r\ndemo$ "


def test_a_secret_split_across_chunks_is_redacted() -> None:
    audience, shown = stream(("hunter2-token",))
    for chunk in ["token: hun", "ter2-", "token\r\n"]:
        audience.feed(chunk)
    audience.flush()
    assert "".join(shown) == f"token: {REDACTED}\r\n"
    assert "hun" not in "".join(shown).replace("token:", "")


def test_a_held_back_prefix_is_shown_once_the_shell_goes_quiet() -> None:
    audience, shown = stream(("secret",))
    audience.feed("echo se")  # the presenter revealed "se": it may be the secret's start
    assert "".join(shown) == "echo "
    audience.flush()
    assert "".join(shown) == "echo se"


def test_hidden_output_is_dropped_and_recorded_output_always_shown() -> None:
    audience, shown = stream()
    audience.show(False)
    audience.feed("hidden setup output\r\n")
    audience.flush()
    audience.play("recorded\r\n")
    assert shown == ["recorded\r\n"]


def test_colours_pass_through_untouched() -> None:
    audience, shown = stream()
    audience.feed("\x1b[31mred\x1b[0m")
    assert "".join(shown) == "\x1b[31mred\x1b[0m"


def test_keys_split_into_presses() -> None:
    assert split_keys(b"ab") == [b"a", b"b"]
    assert split_keys(b"\x1b[A") == [b"\x1b[A"]  # an arrow key is one press


@pytest.mark.parametrize(("text", "low", "high"), [("1", 1, 1), ("2-4", 2, 4), ("3", 3, 3)])
def test_reveal_width_parses(text: str, low: int, high: int) -> None:
    width = RevealWidth.parse(text)
    assert (width.low, width.high) == (low, high)
    assert all(low <= width.next() <= high for _ in range(50))


@pytest.mark.parametrize("text", ["0", "3-1", "x", "1-99", ""])
def test_reveal_width_rejects_bad_values(text: str) -> None:
    with pytest.raises(ValueError, match="--reveal"):
        RevealWidth.parse(text)


def test_the_auto_presenter_reveals_then_presses_enter() -> None:
    auto = AutoPresenter(TypingModel(cps=50))
    auto.start_line("ls -l")
    delay, key = auto.next_key(0, complete=False)
    assert key not in (b"\r", b"\t", b"!") and 0 < delay < 2
    _, key = auto.next_key(5, complete=True)
    assert key == b"\r"


# -- a secret's encoded forms cut across reads ------------------------------------------------

SECRET = "hunter2 s3cret/é+x"  # a space, a slash, a plus, non-ASCII: every form differs


def _forms_as_printed() -> dict[str, str]:
    """The secret as tools print it: each encoding, base64 at the three alignments within a
    longer blob and wrapped as `base64` wraps it, hex wrapped as `xxd -p` wraps it."""
    data = SECRET.encode()
    printed = dict(encodings(SECRET))
    printed["base64-offset-1"] = base64.b64encode(b"\x01" + data + b"tail").decode()
    printed["base64-offset-2"] = base64.b64encode(b"\x01\x02" + data + b"tail").decode()
    wrapped = base64.b64encode(b"head-" * 14 + data).decode()
    printed["base64-wrapped"] = "\r\n".join(wrapped[i : i + 76] for i in range(0, 200, 76))
    hexed = data.hex()
    printed["hex-wrapped"] = "\r\n".join(hexed[i : i + 20] for i in range(0, len(hexed), 20))
    return printed


def _fragments(text: str, redactor: Redactor) -> list[str]:
    """What must not be shown of `text`: each span the redactor redacts in it, and either half
    of one (one side of a cut)."""
    found = []
    for start, end, replacement in redactor.spans(text):
        if replacement:
            half = (start + end) // 2
            found += [text[start:end], text[start:half], text[half:end]]
    assert found
    return found


def _shown(chunks: list[str], redactor: Redactor) -> str:
    shown: list[str] = []
    audience = AudienceStream(redactor, shown.append)
    audience.show(True)
    for chunk in chunks:
        audience.feed(chunk)
    audience.flush()
    return "".join(shown)


@pytest.mark.parametrize("form", sorted(_forms_as_printed()))
def test_an_encoded_secret_cut_at_every_offset_never_reaches_the_audience(form: str) -> None:
    redactor = Redactor.of([SECRET], [])
    encoded = _forms_as_printed()[form]
    text = f"$ cat token.txt | tool\r\ntoken: {encoded}\r\nnext line\r\n$ "
    whole = redactor.clean_text(text)
    assert REDACTED in whole
    start = text.index(encoded)
    for cut in range(start - 2, start + len(encoded) + 3):
        shown = _shown([text[:cut], text[cut:]], redactor)
        assert shown == whole, (form, cut)  # as if it had come in one read
        assert not any(piece in shown for piece in _fragments(text, redactor)), (form, cut)


def test_an_encoded_secret_cut_into_many_small_reads_never_reaches_the_audience() -> None:
    redactor = Redactor.of([SECRET], [])
    printed = _forms_as_printed()
    text = "".join(f"{n} {encoded}\r\n" for n, encoded in enumerate(printed.values()))
    whole = redactor.clean_text(text)
    for width in range(1, 12):  # reads of 1 to 11 characters: every form cut many times
        chunks = [text[i : i + width] for i in range(0, len(text), width)]
        shown = _shown(chunks, redactor)
        assert shown == whole, width
        assert not any(piece in shown for piece in _fragments(text, redactor)), width


def test_an_encoded_secret_inside_a_big_output_read_in_pty_sized_chunks() -> None:
    redactor = Redactor.of([SECRET], [])
    encoded = _forms_as_printed()
    filler = "x" * 199 + "\r\n"
    lines: list[str] = []
    for n in range(2000):  # the secret's forms land at every offset of a 4095-byte read
        lines.append(filler[: n % 200] + "\r\n")
        lines.append(f"{encoded['base64']} {encoded['hex']} {encoded['base64-wrapped']}\r\n")
    text = "".join(lines)
    chunks = [text[i : i + 4095] for i in range(0, len(text), 4095)]
    shown = _shown(chunks, redactor)
    assert shown == redactor.clean_text(text)
    assert shown.count(REDACTED) == 3 * 2000
    assert not any(piece in shown for piece in _fragments(lines[1], redactor))


def test_what_is_held_back_is_the_longest_form_and_shown_when_the_shell_is_quiet() -> None:
    redactor = Redactor.of([SECRET], [])
    shown: list[str] = []
    audience = AudienceStream(redactor, shown.append)
    assert audience.reach() == max(len(p) for p in _longest_matches(SECRET))
    audience.show(True)
    audience.feed("waiting for the cluster...\r\n")  # then nothing for a while
    assert len("".join(shown)) < len("waiting for the cluster...\r\n")
    audience.flush()  # what the session's on_quiet calls
    assert "".join(shown) == "waiting for the cluster...\r\n"


def _longest_matches(value: str) -> list[str]:
    """For each form of `value`, the regex engine's own widest match (its parser's width)."""
    from re import _parser  # type: ignore[attr-defined]  # the engine's measure, for the test

    return ["x" * _parser.parse(f.pattern.pattern).getwidth()[1] for f in secret_forms(value)]


@pytest.mark.parametrize("value", [SECRET, "abcdefgh", "ünïcödé-välüé-😀-x", "a b" * 20, "short"])
def test_longest_form_is_the_widest_match_of_any_form(value: str) -> None:
    widths = [len(p) for p in _longest_matches(value)]
    assert longest_form(value) == max(widths, default=0)


def test_a_redact_pattern_cut_across_reads_is_redacted() -> None:
    redactor = Redactor.of([], [r"session=[0-9a-f]{32}"])
    text = "cookie: session=" + "0123456789abcdef" * 2 + "; path=/\r\n"
    for cut in range(len(text)):
        assert _shown([text[:cut], text[cut:]], redactor) == f"cookie: {REDACTED}; path=/\r\n"
