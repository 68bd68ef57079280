"""`stagecast play`: chapters (--list), --from, and the keys under a real pty."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pyte
import pytest

from conftest import ROOT, scenario_text
from player.play import find_marker, output_before, timed_events
from recorder.cast.reader import load_cast
from recorder.run.record import record
from recorder.scenario.loader import load_scenario

SCENARIO = """
steps:
  - marker: First
    run: echo "alpha one" | tr a-z A-Z
  - marker: Second chapter
    run: echo "bravo two" | tr a-z A-Z
  - marker: Third
    run: echo "charlie three" | tr a-z A-Z
"""
COLS, ROWS = 80, 24
TIMEOUT = 60


@pytest.fixture(scope="module")
def cast(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("play")
    scenario = tmp / "three.yaml"
    scenario.write_text(scenario_text(SCENARIO, title="three chapters"))
    path = tmp / "three.cast"
    result = record(load_scenario(scenario), path, cps=100)
    assert result.passed, result
    return path


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """No controlling terminal (new session): asciinema's Player falls back to keyless playback."""
    return subprocess.run(
        [sys.executable, "-m", "stagecast", "play", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        timeout=TIMEOUT,
    )


def _screen_text(data: str) -> str:
    screen = pyte.Screen(COLS, ROWS)
    pyte.Stream(screen).feed(data)
    return "\n".join(line.rstrip() for line in screen.display)


def test_list_shows_the_chapters_of_a_recorded_cast(cast: Path) -> None:
    proc = _cli("--list", cast)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [line.split(None, 2)[2] for line in lines] == ["First", "Second chapter", "Third"]
    assert [line.split()[0] for line in lines] == ["1", "2", "3"]
    assert all(":" in line.split()[1] and "." in line.split()[1] for line in lines)


def test_list_on_a_v1_cast_and_a_cast_without_markers(tmp_path: Path) -> None:
    v1 = tmp_path / "old.json"
    v1.write_text(
        json.dumps(
            {
                "version": 1,
                "width": 80,
                "height": 24,
                "duration": 0.2,
                "command": None,
                "title": None,
                "env": {},
                "stdout": [[0.1, "hello\r\n"], [0.1, "world\r\n"]],
            }
        )
    )
    proc = _cli("--list", v1)
    assert proc.returncode == 0 and "v1" in proc.stdout and "no markers" in proc.stdout
    played = _cli(v1)
    assert played.returncode == 0 and "hello\nworld" in played.stdout

    v2 = tmp_path / "plain.cast"
    v2.write_text('{"version": 2, "width": 80, "height": 24}\n[0.1, "o", "hi\\r\\n"]\n')
    proc = _cli("--list", v2)
    assert proc.returncode == 0 and "no markers" in proc.stdout
    assert _cli("--from", "x", v2).returncode == 2


@pytest.mark.parametrize("content", ["junk\n", "", '{"version": 3}\n', '{"version": 2}\n[1,'])
def test_not_a_cast_is_one_line_and_exit_2(tmp_path: Path, content: str) -> None:
    bad = tmp_path / "bad.cast"
    bad.write_text(content)
    proc = _cli(bad)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"{bad}: not an asciicast v1, v2 or v3 file: ")
    assert proc.stderr.count("\n") == 1
    missing = _cli(tmp_path / "missing.cast")
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1


def test_unknown_marker_names_the_available_ones(cast: Path) -> None:
    proc = _cli("--from", "nowhere", cast)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert all(label in proc.stderr for label in ("First", "Second chapter", "Third"))


@pytest.mark.parametrize(
    ("wanted", "label"),
    [("Second chapter", "Second chapter"), ("second", "Second chapter"), ("3", "Third")],
)
def test_from_marker_by_label_substring_and_index(cast: Path, wanted: str, label: str) -> None:
    loaded = load_cast(cast)
    marker = find_marker(loaded, wanted)
    assert marker.label == label
    # the instant prefix: the screen as it was when the marker was reached
    before = _screen_text(output_before(timed_events(loaded), marker.event + 1))
    assert "ALPHA ONE" in before
    assert ("BRAVO TWO" in before) == (label == "Third")
    assert "CHARLIE THREE" not in before and "charlie" not in before
    # the CLI plays from there to the end (no terminal: timing, no keys)
    proc = _cli("--from", wanted, "--speed", "20", cast)
    assert proc.returncode == 0, proc.stderr
    assert "CHARLIE THREE" in _screen_text(proc.stdout)


class Term:
    """`stagecast play` under a real pty, its output rendered through pyte."""

    def __init__(self, *args: str | Path) -> None:
        self.screen = pyte.Screen(COLS, ROWS)
        self.stream = pyte.Stream(self.screen)
        env = {**os.environ, "NO_COLOR": "1"}
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "stagecast", "play", *map(str, args)],
            cwd=str(ROOT),
            env=env,
            dimensions=(ROWS, COLS),
            encoding="utf-8",
            codec_errors="replace",
        )

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def pump(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.stream.feed(self.child.read_nonblocking(65536, timeout=0.1))
            except pexpect.TIMEOUT:
                pass
            except pexpect.EOF:
                return

    def until(self, predicate, what: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not predicate(self.text()):
            assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{self.text()}"
            try:
                self.stream.feed(self.child.read_nonblocking(65536, timeout=0.2))
            except pexpect.TIMEOUT:
                pass
            except pexpect.EOF:
                assert predicate(self.text()), f"exited before {what}:\n{self.text()}"

    def exit_status(self) -> int | None:
        self.child.expect(pexpect.EOF, timeout=TIMEOUT)
        self.child.close()
        return self.child.exitstatus


def test_keys_pause_next_previous_resume_under_a_real_pty(cast: Path) -> None:
    term = Term("--pause-on-markers", cast)
    # paused at marker 1 (the first prompt): nothing more arrives until a key
    term.until(lambda s: "test$" in s, "the first prompt")
    term.pump(2)
    assert "ALPHA ONE" not in term.text()
    term.child.send("]")
    term.until(lambda s: "ALPHA ONE" in s, "chapter 1's output after ]")
    term.pump(1)
    assert "bravo" not in term.text()
    term.child.send("]")
    term.until(lambda s: "BRAVO TWO" in s, "chapter 2's output after ]")
    term.child.send("[")  # back to marker 2: screen redrawn without chapter 2
    term.until(lambda s: "ALPHA ONE" in s and "BRAVO" not in s, "the redraw at marker 2")
    term.pump(1)
    assert "bravo" not in term.text()
    term.child.send(" ")  # resume: plays chapter 2, pauses at marker 3
    term.until(lambda s: "BRAVO TWO" in s, "chapter 2 played after space")
    term.pump(1)
    assert "CHARLIE" not in term.text()
    term.child.send(" ")
    term.until(lambda s: "CHARLIE THREE" in s, "chapter 3 played after space")
    assert term.exit_status() == 0


def test_from_marker_under_a_pty_starts_paused_with_the_screen_restored(cast: Path) -> None:
    term = Term("--pause-on-markers", "--from", "second", cast)
    term.until(lambda s: "ALPHA ONE" in s, "the screen at marker 2")
    term.pump(2)
    assert "bravo" not in term.text()
    term.child.send("q")
    assert term.exit_status() == 0


def test_q_quits_and_ctrl_c_exits_130_without_traceback(cast: Path) -> None:
    term = Term("--pause-on-markers", cast)
    term.until(lambda s: "test$" in s, "the first prompt")
    term.child.send("q")
    assert term.exit_status() == 0

    term = Term("--pause-on-markers", cast)
    term.until(lambda s: "test$" in s, "the first prompt")
    term.child.send("\x03")
    term.pump(5)
    assert "Traceback" not in term.text()
    assert term.exit_status() == 130
