"""The audience terminal's stream in live mode, and how presenter keys are read."""

from __future__ import annotations

import pytest

from player.live.audience import AudienceStream
from player.live.presenter_keys import AutoPresenter, RevealWidth, split_keys
from recorder.shell.output_cleaner import REDACTED, Redactor
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
