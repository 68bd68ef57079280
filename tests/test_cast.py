"""Recorded casts: asciinema reads and plays them; markers, header, hidden steps, secrets."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pyte
from asciinema.asciicast import open_from_url

from conftest import final_screen, read_cast, step

SCENARIO = r"""
setup:
  - run: echo hidden-setup-output
steps:
  - say: greet the audience
    marker: Greeting
    run: echo "hello $USER_NAME"
    expect: {contains: hello}
  - run: echo "secret is $TOKEN; key sk-12345; again ${shown}"
  - run: echo hidden-step-output
    hidden: true
  - run: printf 'a\033]7;file://host/home\007b\n'
    expect: {screen: [ab]}
teardown:
  - run: echo hidden-teardown-output
"""
HEADER = """
requires: [bash]
vars: {shown: visible}
env:
  USER_NAME: Ada
  TOKEN: {from_env: STAGECAST_TEST_TOKEN, secret: true}
redact: ['sk-\\d+']
"""


def _record(run_record, monkeypatch, tmp_path, body=SCENARIO, title="demo s3cr3t-v4lue"):
    monkeypatch.setenv("STAGECAST_TEST_TOKEN", "s3cr3t-v4lue")
    cast = tmp_path / "casts" / "demo.cast"
    result = run_record(HEADER + body, cast=cast, title=title)
    return result, cast


def test_cast_loads_with_asciinema_and_has_one_labelled_marker_per_visible_step(
    run_record, monkeypatch, tmp_path
) -> None:
    result, cast = _record(run_record, monkeypatch, tmp_path)
    assert result.passed, [(s.label, s.failures) for s in result.steps]
    with open_from_url(str(cast)) as asciicast:
        assert asciicast.version == 2
        events = list(asciicast.events())  # one pass: the reader streams the file
    markers = [data for _, code, data in events if code == "m"]
    output = "".join(data for _, code, data in events if code == "o")
    assert markers == [
        "Greeting",
        'echo "secret is $TOKEN; key [REDACTED]; again ${shown}"',
        "printf 'a\\033]7;file://host/home\\007b\\n'",
    ]
    assert "hello Ada" in output
    for hidden in ("hidden-setup-output", "hidden-step-output", "hidden-teardown-output"):
        assert hidden not in output


def test_cast_header_and_provenance(run_record, monkeypatch, tmp_path) -> None:
    result, cast = _record(run_record, monkeypatch, tmp_path)
    header, events = read_cast(cast)
    assert (header["width"], header["height"]) == (80, 24)
    assert header["env"] == {"TERM": "xterm-256color", "SHELL": "/bin/bash"}
    assert header["idle_time_limit"] == 2.0
    assert header["title"] == "demo [REDACTED]"
    provenance = header["stagecast"]
    assert provenance["verified"] is True
    assert provenance["scenario_sha256"] == result.sha256 and len(result.sha256) == 64
    assert provenance["version"] and provenance["date"].startswith("20")
    assert provenance["tools"]["bash"].startswith("GNU bash")
    phases = [(s["phase"], s["status"]) for s in provenance["steps"]]
    assert phases == [("setup", "passed")] + [("steps", "passed")] * 4 + [("teardown", "passed")]
    assert all(isinstance(s["duration"], float) for s in provenance["steps"])
    times = [e[0] for e in events]
    assert times == sorted(times)


def test_secrets_and_invisible_sequences_never_reach_the_cast(
    run_record, monkeypatch, tmp_path
) -> None:
    result, cast = _record(run_record, monkeypatch, tmp_path)
    text = cast.read_text()
    assert "s3cr3t-v4lue" not in text
    assert "sk-12345" not in text
    assert "\\u001b]133;" not in text and "\x1b]133;" not in text
    assert "\\u001b]7;" not in text
    assert "secret is [REDACTED]; key [REDACTED]; again visible" in text
    assert result.steps[2].output.count("[REDACTED]") == 2


def test_final_screen_renders_in_pyte(run_record, monkeypatch, tmp_path) -> None:
    _, cast = _record(run_record, monkeypatch, tmp_path)
    _, events = read_cast(cast)
    screen = pyte.Screen(80, 24)
    stream = pyte.Stream(screen)
    for _, code, data in events:
        if code == "o":
            stream.feed(data)
    lines = [line.rstrip() for line in screen.display]
    assert "test$ # greet the audience" in lines
    assert "hello Ada" in lines
    assert "ab" in lines
    assert lines[[i for i, line in enumerate(lines) if line][-1]] == "test$"


def test_typing_is_paced_in_record_mode(run_record, tmp_path) -> None:
    body = "typing: {cps: 20, seed: 3, think: 0}\nsteps:\n  - run: echo paced-typing-here\n"
    cast = tmp_path / "paced.cast"
    result = run_record(body.replace("typing", "typing", 1), cast=cast, fast=False)
    assert result.passed
    _, events = read_cast(cast)
    echoes = [e for e in events if e[1] == "o" and len(e[2]) == 1]
    assert len(echoes) >= len("echo paced-typing-here") - 2
    span = echoes[-1][0] - echoes[0][0]
    assert span > 0.4, "20 cps over 22 characters takes about a second"


def test_cast_plays_with_asciinema_play(run_record, monkeypatch, tmp_path) -> None:
    _, cast = _record(run_record, monkeypatch, tmp_path)
    asciinema = shutil.which("asciinema", path=os.path.dirname(sys.executable))
    command = [asciinema] if asciinema else [sys.executable, "-m", "asciinema"]
    played = subprocess.run(
        [*command, "play", "-i", "0.01", str(cast)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "ASCIINEMA_CONFIG_HOME": str(tmp_path / "cfg")},
    )
    assert played.returncode == 0, played.stderr
    assert "hello Ada" in played.stdout


def test_retry_shows_one_passing_run(run_record, tmp_path) -> None:
    counter = tmp_path / "n"
    cast = tmp_path / "retry.cast"
    result = run_record(
        f"""
        steps:
          - run: echo x >> {counter}; echo "attempt $(wc -l < {counter})"
            retry: {{until: {{contains: attempt 3}}, timeout: 30, interval: 0.3}}
        """,
        cast=cast,
    )
    assert result.passed and step(result, 0).attempts == 3
    output = "".join(e[2] for e in read_cast(cast)[1] if e[1] == "o")
    assert "attempt 3" in output
    assert "attempt 1" not in output and "attempt 2" not in output
    header, events = read_cast(cast)
    assert events[-1][0] < 3, "the waits between attempts are cut from the timeline"


def test_a_hidden_step_that_enters_or_leaves_a_shell_shows_the_new_prompt(
    run_record, tmp_path
) -> None:
    """The audience types after the prompt of the shell that really reads the line."""
    cast = tmp_path / "nested.cast"
    result = run_record(
        """
        steps:
          - run: echo outside
          - run: PS1='in''ner# ' bash --norc --noprofile
            hidden: true
            enters: {prompt: 'inner# '}
          - run: echo inside
          - run: exit
            hidden: true
            leaves: true
          - run: echo outside again
        """,
        cast=cast,
    )
    assert result.passed, [(s.name, s.failures) for s in result.steps if s.failures]
    header, events = read_cast(cast)
    screen = final_screen(events, header["width"], header["height"])
    lines = [line for line in screen.splitlines() if line.strip()]
    assert lines == [
        "test$ echo outside",
        "outside",
        "test$",
        "inner# echo inside",
        "inside",
        "inner#",
        "test$ echo outside again",
        "outside again",
        "test$",
    ]
