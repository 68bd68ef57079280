"""Every terminating signal tears down: SIGINT, SIGTERM, SIGHUP and SIGQUIT, and the
terminal itself going away (its pty master closed), for `record`, `rehearse` and
`live --auto`, each run in a real pty. Teardown runs, the exit code is 128 + the signal's
number (130 for Ctrl-C), the signal is named, and no cast is published."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pexpect
import pytest

from conftest import ROOT, scenario_text

SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT]
NAMES = {
    signal.SIGINT: "Ctrl-C",
    signal.SIGTERM: "SIGTERM",
    signal.SIGHUP: "SIGHUP",
    signal.SIGQUIT: "SIGQUIT",
}


def _scenario(tmp_path: Path) -> tuple[Path, Path, Path]:
    started, torn_down = tmp_path / "started", tmp_path / "torn-down"
    scenario = tmp_path / "slow.yaml"
    scenario.write_text(
        scenario_text(
            f"steps:\n  - run: touch {started}; sleep 60\nteardown:\n  - run: touch {torn_down}\n"
        )
    )
    return scenario, started, torn_down


def _spawn(tmp_path: Path, *args: str) -> pexpect.spawn:
    return pexpect.spawn(
        sys.executable,
        ["-m", "stagecast", *args],
        cwd=str(ROOT),
        env={**os.environ, "NO_COLOR": "1"},
        dimensions=(24, 120),
        encoding="utf-8",
        timeout=60,
    )


def _wait_for(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def _finish(child: pexpect.spawn) -> tuple[int, str]:
    """Its exit code (128 + N when a signal killed it outright) and what it printed."""
    output = ""
    try:
        output = child.read()
    except (pexpect.EOF, OSError):
        pass
    child.wait() if child.isalive() else None
    child.close()
    code = child.exitstatus if child.exitstatus is not None else 128 + child.signalstatus
    return code, output


COMMANDS = {
    "record": lambda tmp, scn: ["record", str(scn), "-o", str(tmp / "out.cast")],
    "rehearse": lambda tmp, scn: ["rehearse", str(scn), "--junit", str(tmp / "junit.xml")],
    "live --auto": lambda tmp, scn: ["live", str(scn), "--auto", "--no-fallback"],
}


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_signal_tears_down_and_exits_128_plus_n(
    tmp_path: Path, command: str, signum: int
) -> None:
    scenario, started, torn_down = _scenario(tmp_path)
    child = _spawn(tmp_path, *COMMANDS[command](tmp_path, scenario))
    _wait_for(started)
    time.sleep(0.3)  # into the step's sleep
    child.kill(signum)
    code, output = _finish(child)
    assert code == 128 + signum, output
    assert torn_down.exists(), f"teardown did not run after {signal.Signals(signum).name}"
    assert "Traceback" not in output
    assert not (tmp_path / "out.cast").exists()
    if signum != signal.SIGHUP:  # after a hang-up nobody is there to read it
        assert f"interrupted ({NAMES[signum]}" in output, output
    elif command == "record":
        report = (tmp_path / "out.failed.txt").read_text()
        assert "interrupted (SIGHUP: the terminal went away)" in report
    elif command == "rehearse":
        assert "SIGHUP" in (tmp_path / "junit.xml").read_text()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_the_terminal_going_away_tears_down(tmp_path: Path, command: str) -> None:
    scenario, started, torn_down = _scenario(tmp_path)
    child = _spawn(tmp_path, *COMMANDS[command](tmp_path, scenario))
    _wait_for(started)
    time.sleep(0.3)
    os.close(child.child_fd)  # the terminal closes: the kernel hangs up its session
    child.closed = True
    deadline = time.monotonic() + 60
    while child.isalive():
        assert time.monotonic() < deadline, "stagecast kept running after its terminal closed"
        time.sleep(0.1)
    assert torn_down.exists()
    code = child.exitstatus if child.exitstatus is not None else 128 + child.signalstatus
    assert code == 128 + signal.SIGHUP


def _spill_processes() -> set[int]:
    found = set()
    for proc in Path("/proc").iterdir():
        try:
            if (
                proc.name.isdigit()
                and b"recorder.cast.spill_process" in (proc / "cmdline").read_bytes()
            ):
                found.add(int(proc.name))
        except OSError:
            continue
    return found


def test_ctrl_c_while_a_big_cast_spills_leaves_no_process_behind(tmp_path: Path) -> None:
    """A step that printed 20 MB has its cast's spill process running: Ctrl-C tears down,
    publishes nothing, and that process is gone with stagecast."""
    started, torn_down = tmp_path / "started", tmp_path / "torn-down"
    scenario = tmp_path / "big.yaml"
    big = "head -c 20000000 /dev/zero | tr '\\\\0' x | fold -w 200"
    scenario.write_text(
        scenario_text(
            f"steps:\n  - run: {big}; touch {started}; sleep 60\n"
            f"teardown:\n  - run: touch {torn_down}\n"
        )
    )
    before = _spill_processes()
    child = _spawn(tmp_path, "record", str(scenario), "-o", str(tmp_path / "out.cast"))
    _wait_for(started, 60)
    time.sleep(0.3)
    assert _spill_processes() - before, "the big output did not spill"
    child.kill(signal.SIGINT)
    code, output = _finish(child)
    assert code == 130, output
    assert torn_down.exists() and not (tmp_path / "out.cast").exists()
    deadline = time.monotonic() + 10
    while _spill_processes() - before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _spill_processes() - before
