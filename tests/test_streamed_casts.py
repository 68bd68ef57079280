"""`stagecast play`, `render` and `check --against` read a cast as a stream: a cast holding a
step that printed tens of MB is played, rendered and checked whole, while the command's peak
memory stays well below what holding the cast would take. The casts are written here, a JSON
line at a time. No timing is asserted (benchmarks/throughput.py measures speed).

Also here, the parts that make it so: the fast path for plain text in pyte's `draw` gives
pyte's own cells, and a recorded command's output built row by row (spilled to a file past
KEEP) is the text the extractor always made of its rows."""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import pyte
import pytest

from conftest import ROOT, scenario_text
from recorder.recording_check import commands as extraction
from recorder.recording_check import output as output_module
from recorder.recording_check.bash_syntax import split_commands
from recorder.recording_check.check import check
from recorder.recording_check.commands import recorded_commands
from recorder.recording_check.output import OutputText
from recorder.run import step_output
from recorder.scenario.loader import load_scenario
from recorder.shell.pyte_draw import FastDraw

COLS, ROWS = 100, 30
PROMPT = "demo$ "
COMMAND = "print-lines --numbered --width 150"
MB = 1 << 20


def numbered(n: int) -> str:
    """Output line n: 150 characters, so each takes two rows of a 100-column terminal."""
    return f"{n:08d} " + "x" * 141


def write_cast(path: Path, lines: int, *, version: int = 2, after: str = "") -> str:
    """A cast of one step printing `lines` numbered lines (8 to an event, as a fast program
    writes), then a prompt, and optionally a second step typed there (`after`). Returns the
    sha256 of everything it printed."""
    digest = hashlib.sha256()
    clock = [0.0, 0.0]  # absolute time, and the time of the event before (v3's intervals)

    def event(f: TextIO, dt: float, code: str, data: str) -> None:
        clock[0] += dt
        t = clock[0] - clock[1] if version == 3 else clock[0]
        clock[1] = clock[0]
        print(json.dumps([round(t, 6), code, data]), file=f)
        if code == "o":
            digest.update(data.encode())

    header = (
        {"version": 3, "term": {"cols": COLS, "rows": ROWS}, "idle_time_limit": 1.0}
        if version == 3
        else {"version": 2, "width": COLS, "height": ROWS, "idle_time_limit": 1.0}
    )
    with open(path, "w", encoding="utf-8") as f:
        print(json.dumps(header), file=f)
        event(f, 0.01, "o", PROMPT)
        event(f, 0.01, "m", "big step")
        for char in COMMAND:
            event(f, 0.05, "o", char)
        event(f, 0.2, "o", "\r\n")
        for first in range(1, lines + 1, 8):
            chunk = "".join(numbered(n) + "\r\n" for n in range(first, min(first + 8, lines + 1)))
            event(f, 0.0001, "o", chunk)
        event(f, 0.01, "o", PROMPT)
        if after:
            event(f, 0.5, "m", "after")
            for char in after:
                event(f, 0.05, "o", char)
            event(f, 0.2, "o", "\r\n" + after.upper() + "\r\n" + PROMPT)
    return digest.hexdigest()


def lines_for(size: int) -> int:
    return size // (len(numbered(1)) + 2)


# Started from a small process: a child's peak RSS starts at its parent's size when it forks
# (Linux keeps it through exec), and this test's process may be big.
MEASURE = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
with open(sys.argv[1], "w") as f:
    unit = 1024 if sys.platform.startswith("linux") else 1 << 20  # KB on Linux, else bytes
    print(os.waitstatus_to_exitcode(status), usage.ru_maxrss // unit, file=f)
"""


def run_measured(*args: str | Path, stdout: object = subprocess.DEVNULL) -> tuple[int, int]:
    """Run stagecast without a terminal: (exit status, its peak RSS in MB)."""
    with tempfile.NamedTemporaryFile("r") as result:
        subprocess.run(
            [sys.executable, "-c", MEASURE, result.name]
            + [sys.executable, "-m", "stagecast", *map(str, args)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=stdout,  # type: ignore[arg-type]
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            check=True,
        )
        status, peak = map(int, result.read().split())
    return status, peak


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(MB):
            digest.update(block)
    return digest.hexdigest()


@pytest.fixture(scope="module")
def big_cast(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A 64 MB cast: one step that printed 64 MB, then a second, small one."""
    path = tmp_path_factory.mktemp("big") / "big.cast"
    digest = write_cast(path, lines_for(64 * MB), after="echo done")
    return path, digest


# -- play ------------------------------------------------------------------------------------


def test_play_writes_all_of_a_big_cast_holding_little_of_it(
    big_cast: tuple[Path, str], tmp_path: Path
) -> None:
    path, digest = big_cast
    out = tmp_path / "played"
    with open(out, "wb") as f:
        status, peak = run_measured("play", "--speed", "1000", path, stdout=f)
    assert status == 0
    assert sha256_of(out) == digest  # every byte it printed, in order
    size = path.stat().st_size >> 20
    assert peak < size, f"play peaked at {peak} MB on a {size} MB cast"


def test_play_lists_and_starts_at_a_marker_after_a_big_step(
    big_cast: tuple[Path, str], tmp_path: Path
) -> None:
    path, digest = big_cast
    listed = subprocess.run(
        [sys.executable, "-m", "stagecast", "play", "--list", path],
        cwd=ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    assert listed.returncode == 0
    assert [line.split(None, 2)[2] for line in listed.stdout.splitlines()] == ["big step", "after"]
    out = tmp_path / "from"
    with open(out, "wb") as f:  # the screen as of the marker first: the whole big output
        status, _ = run_measured("play", "--speed", "1000", "--from", "after", path, stdout=f)
    assert status == 0
    assert sha256_of(out) == digest


# -- render ----------------------------------------------------------------------------------


def test_render_of_a_big_cast_ends_on_its_last_line(tmp_path: Path) -> None:
    pytest.importorskip("PIL", reason="Pillow is not installed (pip install pillow)")
    from PIL import Image

    from player.render import fonts

    if fonts.find_font(fonts.MONO[0]) is None:
        pytest.skip(
            f"{Path(fonts.MONO[0]).name} is not installed (apt-get install {fonts.MONO[1]})"
        )
    lines = lines_for(24 * MB)
    big = tmp_path / "big.cast"
    write_cast(big, lines, version=3)
    # The same last screen from a small cast: its last 15 lines (two rows each), then the prompt.
    small = tmp_path / "small.cast"
    with open(small, "w", encoding="utf-8") as f:
        print(json.dumps({"version": 2, "width": COLS, "height": ROWS}), file=f)
        tail = "".join(numbered(n) + "\r\n" for n in range(lines - 14, lines + 1)) + PROMPT
        print(json.dumps([0.5, "o", tail]), file=f)
    status, small_peak = run_measured("render", small, "-o", tmp_path / "small.png")
    assert status == 0
    status, peak = run_measured("render", big, "-o", tmp_path / "big.gif")
    assert status == 0
    with Image.open(tmp_path / "big.gif") as gif:
        gif.seek(gif.n_frames - 1)
        last = gif.convert("RGB").tobytes()
    assert last == Image.open(tmp_path / "small.png").convert("RGB").tobytes()
    # Frames are taken as the events are read: nothing like the cast's 24 MB is held.
    assert peak < small_peak + 12, f"render peaked at {peak} MB, {small_peak} MB for a line"


# -- check --against ---------------------------------------------------------------------------


def test_check_against_a_big_recording_finds_the_step_and_checks_its_output(
    tmp_path: Path,
) -> None:
    lines = lines_for(20 * MB)
    recording = tmp_path / "rec.cast"
    write_cast(recording, lines, after="echo 00099999")
    scenario = tmp_path / "big.yaml"
    scenario.write_text(
        scenario_text(
            f"steps:\n  - run: {COMMAND}\n"
            f"    expect:\n      contains: [{json.dumps(numbered(lines)[:12])}]\n"
            "      regex: ['^00000001 x+$', '^00050000 x{141}$']\n"
            f"      not_contains: ['{lines + 1:08d}']\n"
            "    capture: {middle: '^(00099999) x'}\n"
            "  - run: echo ${middle}\n"
            "    expect: {regex: ['^ECHO ${middle}$']}\n"  # the value captured in 20 MB
        )
    )
    result = check(load_scenario(scenario), recording)
    assert [s.status for s in result.steps] == ["passed", "passed"], result.steps
    # The CLI holds about what the runner holds of a step's output, not the recording: up to
    # KEEP of the output as it is read, then its checks (StepOutput: its first KEEP, and that
    # joined), against a one-line recording.
    small = tmp_path / "small.cast"
    write_cast(small, 1)
    status, small_peak = run_measured("check", scenario, "--against", small)
    assert status == 1  # the second step is not in it
    status, peak = run_measured("check", scenario, "--against", recording)
    assert status == 0
    bound = small_peak + 4 * (step_output.KEEP >> 20)
    assert peak < bound, f"check peaked at {peak} MB, {small_peak} MB on a one-line recording"


@pytest.fixture
def small_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """KEEP, MOVE_AT and the runner's KEEP made small, so a small cast takes the big paths."""
    monkeypatch.setattr(output_module, "KEEP", 20_000)
    monkeypatch.setattr(output_module, "TAIL", 5_000)
    monkeypatch.setattr(output_module, "BLOCK", 10_000)
    monkeypatch.setattr(step_output, "KEEP", 20_000)
    monkeypatch.setattr(step_output, "OVERLAP", 2_000)
    monkeypatch.setattr(step_output, "TAIL", 5_000)
    monkeypatch.setattr(extraction, "MOVE_AT", 50)
    monkeypatch.setattr(extraction, "BURST_MAX", 4_000)


def test_a_spilled_output_is_the_whole_output_read_back(
    tmp_path: Path, small_limits: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = 2000  # 300 KB: fifteen times the KEEP above
    recording = tmp_path / "rec.cast"
    write_cast(recording, lines, after="echo done")
    longest = [0]  # the longest transcript an open command had
    scrolled = extraction.CommandExtractor.scrolled

    def watched(self: extraction.CommandExtractor, *args: object) -> None:
        scrolled(self, *args)  # type: ignore[arg-type]
        longest[0] = max([longest[0], *(len(item.rows) for item in self.open)])

    monkeypatch.setattr(extraction.CommandExtractor, "scrolled", watched)
    big, done = recorded_commands(recording)
    assert longest[0] <= 50 + ROWS + 1  # MOVE_AT above, and the pane
    assert big.command == COMMAND and big.whole is not None
    whole = "".join(big.output_blocks())
    assert whole == "\n".join(numbered(n) for n in range(1, lines + 1))
    assert whole.endswith(big.output) and len(big.output) <= 5_000  # its tail
    assert (done.command, done.output) == ("echo done", "ECHO DONE")


def test_a_check_that_needs_more_than_the_stream_says_so(
    tmp_path: Path, small_limits: None
) -> None:
    recording = tmp_path / "rec.cast"
    write_cast(recording, 2000)
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        scenario_text(
            f"steps:\n  - run: {COMMAND}\n"
            "    expect: {regex: ['(?s)^00000001 x.*^00002000 x']}\n"  # spans the whole output
        )
    )
    (step,) = check(load_scenario(scenario), recording).steps
    assert step.found and step.status == "differs"
    assert "expected output to match" in step.reason and "checked as a stream" in step.reason


# -- the parts ---------------------------------------------------------------------------------


def _screen_state(screen: pyte.Screen) -> tuple[object, ...]:
    cells = {y: dict(line) for y, line in screen.buffer.items() if line}
    return cells, screen.cursor.x, screen.cursor.y, set(screen.dirty), screen.cursor.attrs


def test_fast_draw_leaves_the_screen_as_pyte_draws_it() -> None:
    rng = random.Random(7)
    specials = [
        "é", "你", "\u0301", "\t", "\x7f", "\r\n", "\n", "\x1b[31m", "\x1b[0m", "\x1b[4h",
        "\x1b[4l", "\x1b[?7l", "\x1b[?7h", "\x1b(0", "\x1b(B", "\x0e", "\x0f", "\x1b[5;3H",
        "\x1b[2;5r", "\x1b[r", "\x1b[10D",
    ]  # fmt: skip
    for _ in range(500):
        cols, rows = rng.randint(1, 12), rng.randint(1, 6)
        ours, pytes = FastDraw(cols, rows), pyte.Screen(cols, rows)
        feed_ours, feed_pytes = pyte.Stream(ours), pyte.Stream(pytes)
        for _ in range(rng.randint(1, 20)):
            text = "".join(
                rng.choice(specials)
                if rng.random() < 0.3
                else "".join(rng.choice("abxyz~ lqk") for _ in range(rng.randint(1, 30)))
                for _ in range(rng.randint(1, 5))
            )
            feed_ours.feed(text)
            feed_pytes.feed(text)
            assert _screen_state(ours) == _screen_state(pytes), repr(text)
            if rng.random() < 0.1:
                ours.resize(rng.randint(1, 6), rng.randint(1, 12))
                pytes.resize(ours.lines, ours.columns)


def _reference_output(rows: list[str], width: int, text: str) -> str:
    """The extractor's output of a command's rows as it was computed before it was built
    row by row (no prompt row among them)."""
    output: list[str] = []
    wrapped = False
    for row in rows:
        if wrapped:
            output[-1] += row
        else:
            output.append(row)
        wrapped = len(row) >= width
    while output and not output[-1].strip():
        output.pop()
    if len(split_commands(text)) > 1 and output and output[0] == text.split("\n")[-1]:
        output.pop(0)
    return "\n".join(output)


def _rows(rng: random.Random, width: int, redrawn: str) -> Iterator[str]:
    for _ in range(rng.randint(0, 12)):
        kind = rng.random()
        if kind < 0.25:
            yield ""
        elif kind < 0.4:
            yield "x" * width  # a full row: the next one continues it
        elif kind < 0.55:
            yield redrawn[:width]
        else:
            yield "".join(rng.choice("ab c") for _ in range(rng.randint(1, width))).rstrip()


@pytest.mark.parametrize("keep", [10**9, 3])  # whole, and spilled to a file at once
def test_output_text_is_the_extractor_s_output(keep: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(output_module, "KEEP", keep)
    rng = random.Random(keep)
    for _ in range(3000):
        width = rng.randint(1, 6)
        text = rng.choice(["ls", "cd /\nls", "cd /\nab", "echo a\n", "x\nxxx", "cd\n"])
        rows = list(_rows(rng, width, text.split("\n")[-1]))
        several = len(split_commands(text)) > 1
        out = OutputText(width, text.split("\n")[-1] if several else None)
        for row in rows:
            out.add(row)
        shown, whole = out.close()
        got = shown if whole is None else "".join(whole.blocks())
        assert got == _reference_output(rows, width, text), (rows, width, text)
