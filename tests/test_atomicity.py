"""A verified cast is replaced only by a complete, passing run; crashes never corrupt it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import ROOT, read_cast, scenario_text

GOOD = "steps:\n  - run: echo good-run\n"
BAD = "steps:\n  - run: echo bad-run\n    expect: {contains: not-there}\n"


def test_failing_run_keeps_the_old_cast_byte_identical(run_record, tmp_path) -> None:
    cast = tmp_path / "casts" / "demo.cast"
    assert run_record(GOOD, cast=cast).passed
    before = cast.read_bytes()
    failed = run_record(BAD, cast=cast)
    assert not failed.passed
    assert cast.read_bytes() == before
    failed_cast = tmp_path / "casts" / "demo.failed.cast"
    report = tmp_path / "casts" / "demo.failed.txt"
    assert failed.failed_cast_path == failed_cast and failed_cast.exists()
    header, _ = read_cast(failed_cast)
    assert header["stagecast"]["verified"] is False
    text = report.read_text()
    assert "expected output to contain 'not-there', it does not" in text
    assert "| bad-run" in text, "the report carries the output tail"
    assert "echo bad-run" in text, "the report names the command"
    leftovers = [p.name for p in cast.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_passing_run_replaces_the_cast(run_record, tmp_path) -> None:
    cast = tmp_path / "demo.cast"
    cast.write_text("old\n")
    assert run_record(GOOD, cast=cast).passed
    assert "good-run" in cast.read_text()
    assert cast.stat().st_mode & 0o044, "a published cast is readable like any other file"


def _start_record(tmp_path: Path, body: str, cast: Path) -> subprocess.Popen[str]:
    scenario = tmp_path / "slow.yaml"
    scenario.write_text(scenario_text(body))
    return subprocess.Popen(
        [sys.executable, "-m", "stagecast", "record", str(scenario), "-o", str(cast)],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_sigkill_mid_run_leaves_the_old_cast_intact(run_record, tmp_path) -> None:
    cast = tmp_path / "demo.cast"
    assert run_record(GOOD, cast=cast).passed
    before = cast.read_bytes()
    started = tmp_path / "started"
    proc = _start_record(tmp_path, f"steps:\n  - run: touch {started}; sleep 30\n", cast)
    try:
        _wait_for(started)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert cast.read_bytes() == before
    # The next run cleans any temp file a killed recorder left behind, and publishes.
    assert run_record(GOOD.replace("good-run", "next-run"), cast=cast).passed
    assert "next-run" in cast.read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_ctrl_c_runs_teardown_and_keeps_the_old_cast(run_record, tmp_path) -> None:
    cast = tmp_path / "demo.cast"
    assert run_record(GOOD, cast=cast).passed
    before = cast.read_bytes()
    started, torn_down = tmp_path / "started", tmp_path / "torn-down"
    body = f"steps:\n  - run: touch {started}; sleep 30\nteardown:\n  - run: touch {torn_down}\n"
    proc = _start_record(tmp_path, body, cast)
    try:
        _wait_for(started)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert torn_down.exists(), "teardown must run after Ctrl-C"
    assert cast.read_bytes() == before
    assert "Traceback" not in stderr
