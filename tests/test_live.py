"""`stagecast live` under a real pty: pexpect is the presenter's keyboard and the audience's
terminal; pyte renders what the audience sees. The safety net is a cast recorded for real."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pyte
import pytest

from conftest import ROOT, run_cli
from player.live.live_runner import LiveRunner
from player.live.show import ShowSettings, run_show
from recorder.cast.model import Cast
from recorder.cast.reader import load_cast
from recorder.scenario.loader import load_scenario

SCENARIO = """\
title: live demo
terminal: {cols: 80, rows: 24}
prompt: 'demo$ '
typing: {cps: 60, think: 0}
idle_time_limit: 0.5
env:
  MODE: {from_env: DEMO_MODE}
  NAP: {from_env: DEMO_NAP}
setup:
  - run: echo setup-noise
steps:
  - say: make a file
    run: echo hello > made.txt && cat made.txt
    expect: {contains: hello}
  - run: test "$MODE" != broken && echo all good
    expect: {contains: all good}
  - run: sleep "$NAP"; echo woke up
    timeout: 60
    expect: {contains: woke up}
  - pause: explain the end
    run: echo the end
  - run: touch hidden-ran; echo hidden-noise
    hidden: true
teardown:
  - run: rm -f made.txt
"""
COMMAND_1 = "echo hello > made.txt && cat made.txt"
CTRL = {"N": "\x0e", "P": "\x10", "F": "\x06", "Q": "\x11", "D": "\x04", "C": "\x03"}


@pytest.fixture(scope="module")
def show(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scenario and its verified cast, recorded for real (all steps passing)."""
    folder = tmp_path_factory.mktemp("live")
    (folder / "demo.yaml").write_text(SCENARIO)
    done = run_cli(
        "record",
        str(folder / "demo.yaml"),
        "-o",
        str(folder / "demo.cast"),
        "-q",
        env={"DEMO_MODE": "ok", "DEMO_NAP": "0"},
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return folder


class Stage:
    """`stagecast live` in a pty: keys in, the audience's screen out."""

    def __init__(self, folder: Path, *args: str, mode: str = "ok", nap: str = "0") -> None:
        self.folder = folder
        self.socket = folder / f"sock-{time.monotonic_ns()}" / "live.sock"
        env = {**os.environ, "DEMO_MODE": mode, "DEMO_NAP": nap, "NO_COLOR": "1"}
        argv = ["-m", "stagecast", "live", "--cast", str(folder / "demo.cast")]
        argv += ["--socket", str(self.socket), *args, str(folder / "demo.yaml")]
        self.child = pexpect.spawn(
            sys.executable, argv, cwd=str(ROOT), env=env, dimensions=(24, 80), timeout=30
        )
        self.child.delaybeforesend = None
        self.raw = b""
        self.screen = pyte.Screen(80, 24)
        self.stream = pyte.ByteStream(self.screen)

    def pump(self, seconds: float = 0.2) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                data = self.child.read_nonblocking(65536, timeout=0.05)
            except pexpect.TIMEOUT:
                continue
            except pexpect.EOF:
                return
            self.raw += data
            self.stream.feed(data)

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def wait_narrated(self, narration: str) -> str:
        """The narration ran and its prompt is back: only then do keys go to the next line
        (keys pressed while a line runs are dropped, by design)."""
        self.wait_screen(f"{narration}\ndemo$")
        self.pump(0.3)
        return self.text()

    def wait_screen(self, wanted: str, timeout: float = 20) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.pump(0.1)
            if wanted in self.text():
                return self.text()
        raise AssertionError(f"{wanted!r} never appeared; screen:\n{self.text()}")

    def keys(self, text: str, gap: float = 0.02) -> None:
        for key in text:
            self.child.send(key)
            self.pump(gap)

    def finish(self, timeout: float = 30) -> int:
        end = time.monotonic() + timeout
        while self.child.isalive() and time.monotonic() < end:
            self.pump(0.1)
        self.pump(0.1)
        self.child.close()
        assert self.child.exitstatus is not None, f"still running; screen:\n{self.text()}"
        return self.child.exitstatus

    def line_with(self, text: str) -> str:
        return next(line for line in self.text().splitlines() if text in line)


@pytest.fixture
def stage(show: Path) -> Iterator[list[Stage]]:
    stages: list[Stage] = []
    yield stages
    for one in stages:
        if one.child.isalive():
            one.child.terminate(force=True)


def start(stages: list[Stage], folder: Path, *args: str, **kwargs: str) -> Stage:
    one = Stage(folder, *args, **kwargs)
    stages.append(one)
    one.wait_screen("demo$")
    return one


def test_each_key_reveals_exactly_the_scripted_characters(show: Path, stage: list[Stage]) -> None:
    live = start(stage, show, "--reveal", "1")
    live.keys("zzzzz")  # whatever the presenter presses, the script is what appears
    live.pump(0.3)
    assert live.line_with("demo$").endswith("demo$ # mak")
    live.keys("qq")
    live.pump(0.3)
    assert live.line_with("demo$").endswith("demo$ # make")
    assert live.screen.cursor.x == len("demo$ # make ")  # the space was revealed too
    live.keys("\x7f\x7f")  # backspace hides the last characters again
    live.pump(0.3)
    assert live.line_with("demo$").endswith("demo$ # mak")
    live.keys("\r")  # early Enter types the rest of the narration, then runs it
    live.wait_screen("demo$ # make a file")
    live.keys("x" * 4)
    live.pump(0.3)
    assert live.text().splitlines()[1] == "demo$ echo"
    live.keys(CTRL["Q"])
    assert live.finish() == 130


def test_enter_runs_the_revealed_command_for_real(show: Path, stage: list[Stage]) -> None:
    made = show / "made.txt"
    made.unlink(missing_ok=True)
    live = start(stage, show, "--reveal", "3")
    live.keys("\r")  # narration
    live.wait_narrated("# make a file")
    presses = -(-len(COMMAND_1) // 3)
    live.keys("k" * presses)
    live.pump(0.3)
    assert live.text().splitlines()[1] == f"demo$ {COMMAND_1}"
    assert not made.exists()  # revealed, not run
    live.keys("\r")
    live.wait_screen("hello\ndemo$")
    assert made.read_text() == "hello\n"
    live.keys(CTRL["Q"])
    assert live.finish() == 130
    assert not made.exists()  # Ctrl-Q ends the show, and teardown still runs


def test_a_failing_step_falls_back_to_the_recording(show: Path, stage: list[Stage]) -> None:
    live = start(stage, show, mode="broken")
    live.keys("\t")  # autopilot: step 1 types itself and runs
    live.wait_screen("hello\ndemo$")
    live.keys("\t")  # step 2 fails live: `test` prints nothing and exits 1
    screen = live.wait_screen("\nall good\ndemo$")
    lines = screen.splitlines()
    failed_live = lines.index('demo$ test "$MODE" != broken && echo all good')
    # The recorded run, typed again from the verified cast, with its output.
    assert lines[failed_live + 1] == 'demo$ test "$MODE" != broken && echo all good'
    assert lines[failed_live + 2] == "all good"
    # Nothing meant for the presenter reached the audience: no prompt marks, no notes.
    assert b"\x1b]133" not in live.raw
    assert b"fall" not in live.raw.lower() and b"check" not in live.raw.lower()
    live.keys("\t")  # the show goes on, live
    live.wait_screen("\nwoke up\ndemo$")
    live.keys(" \t")  # the pause, then the last step
    live.wait_screen("the end")
    assert live.finish() == 1  # a step fell back: the show went on, the run did not pass
    # Setup and the hidden step ran, silently.
    assert (show / "hidden-ran").exists()
    assert b"setup-noise" not in live.raw and b"hidden" not in live.raw


def test_the_fallback_key_stops_a_running_command(show: Path, stage: list[Stage]) -> None:
    live = start(stage, show, nap="60")
    live.keys("\t")
    live.wait_screen("hello\ndemo$")
    live.keys("\t")
    live.wait_screen("\nall good\ndemo$")
    live.keys("\t")  # `sleep 60` runs...
    live.pump(1.0)
    assert "woke up" not in live.text().splitlines()
    started = time.monotonic()
    live.keys(CTRL["F"])  # ...the presenter falls back: Ctrl-C, then the recorded run
    live.wait_screen("\nwoke up\ndemo$", timeout=15)
    assert time.monotonic() - started < 15
    assert "^C" in live.text()
    live.keys(" \t")
    live.wait_screen("the end")
    assert live.finish() == 1


def test_fallback_rest_plays_the_remaining_steps_from_the_recording(
    show: Path, stage: list[Stage]
) -> None:
    live = start(stage, show, "--fallback-rest", mode="broken")
    live.keys("\t")
    live.wait_screen("hello\ndemo$")
    live.keys("\t")
    live.wait_screen("\nall good\ndemo$")
    live.keys(" ")  # each recorded step waits for the presenter's key
    live.wait_screen("\nwoke up\ndemo$")
    live.keys(" ")
    live.wait_screen("the end")
    assert live.finish() == 1


def test_the_free_shell_and_back_to_the_script(show: Path, stage: list[Stage]) -> None:
    live = start(stage, show, "--reveal", "1")
    live.keys("ab")  # "# " revealed, then dropped when the free shell opens
    live.keys("!")
    live.keys("echo free-$((6*7))\r")
    live.wait_screen("free-42")
    live.keys(CTRL["D"])  # back to the script; the shell did not exit
    live.pump(0.3)
    live.keys("\r")
    live.wait_narrated("# make a file")
    live.keys("\t")
    live.wait_screen("hello\ndemo$")
    lines = live.text().splitlines()
    assert lines.count("free-42") == 1
    assert "demo$ # make a file" in lines
    live.keys(CTRL["Q"])
    assert live.finish() == 130


def test_next_and_previous_step_without_running(show: Path, stage: list[Stage]) -> None:
    made = show / "made.txt"
    made.unlink(missing_ok=True)
    live = start(stage, show, "--reveal", "2")
    live.keys("xx")
    live.keys(CTRL["N"])  # skip step 1: its revealed narration is cleared, nothing runs
    live.keys("xxxx")
    live.pump(0.3)
    assert live.line_with("demo$").endswith('demo$ test "$M')
    live.keys(CTRL["P"])  # back to step 1
    live.keys("\r")
    live.wait_narrated("# make a file")
    live.keys("\t")
    live.wait_screen("hello\ndemo$")
    assert made.exists()
    live.keys(CTRL["Q"])
    assert live.finish() == 130


def _events(path: Path, timeout: float = 20) -> Iterator[dict]:
    end = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < end, "the presenter socket never appeared"
        time.sleep(0.05)
    with socket.socket(socket.AF_UNIX) as client:
        client.connect(str(path))
        client.settimeout(timeout)
        for line in client.makefile("r"):
            yield json.loads(line)


def test_the_presenter_view_receives_the_events(show: Path, stage: list[Stage]) -> None:
    live = Stage(show, "--reveal", "1", mode="broken")
    stage.append(live)
    live.pump(0.5)
    events = _events(live.socket)
    first = next(events)  # "hello", or "now" with it when the show was quicker than we were
    hello = first["hello"] if first["event"] == "now" else first
    seen: list[dict] = [first]
    assert first["event"] in ("hello", "now") and hello["title"] == "live demo"
    labels = [s["label"] for s in hello["steps"]]
    assert labels[:2] == ["make a file", 'test "$MODE" != broken && echo all good']
    assert hello["steps"][3]["pause"] == "explain the end"
    assert [s["hidden"] for s in hello["steps"]] == [False, False, False, False, True]
    assert all(s["planned"] is not None for s in hello["steps"] if not s["hidden"])
    live.keys("\t")
    live.wait_screen("hello\ndemo$")
    live.keys("\t")
    live.wait_screen("\nall good\ndemo$")
    live.keys("\t")
    live.wait_screen("\nwoke up\ndemo$")
    live.keys(" \t")
    live.wait_screen("the end")
    live.pump(0.5)
    for event in events:
        seen.append(event)
        if event["event"] == "finished":
            break
    assert live.finish() == 1
    started = {e["index"] for e in seen if e["event"] == "step"}
    started |= {e["current"] for e in seen if e["event"] == "now"}
    assert {0, 1, 2, 3} <= started
    checks = {e["index"]: e for e in seen if e["event"] == "check"}
    assert checks[0]["status"] == "passed"
    assert checks[1]["status"] == "failed"
    assert "expected exit code 0, got 1" in " ".join(checks[1]["failures"])
    fallback = next(e for e in seen if e["event"] == "fallback")
    assert fallback["index"] == 1
    assert {"typing", "running", "paused"} <= {e["state"] for e in seen if e["event"] == "state"}
    assert seen[-1] == {**seen[-1], "event": "finished", "passed": False, "fallbacks": 1}


def test_auto_is_an_unattended_dress_rehearsal(show: Path) -> None:
    done = run_cli(
        "live",
        "--auto",
        "--cps",
        "100",
        "--cast",
        str(show / "demo.cast"),
        "--socket",
        str(show / "auto-sock" / "live.sock"),
        str(show / "demo.yaml"),
        env={"DEMO_MODE": "ok", "DEMO_NAP": "0"},
    )
    assert done.returncode == 0, done.stderr
    assert "woke up" in done.stdout and "the end" in done.stdout
    assert "PASS" in done.stderr


def test_live_refuses_to_start_without_a_verified_cast(show: Path) -> None:
    done = run_cli(
        "live",
        "--auto",
        "--cast",
        str(show / "missing.cast"),
        str(show / "demo.yaml"),
        env={"DEMO_MODE": "ok", "DEMO_NAP": "0"},
    )
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "missing.cast" in done.stderr and "stagecast record" in done.stderr
    assert done.stdout == ""


def test_live_without_a_terminal_needs_auto(show: Path) -> None:
    done = run_cli("live", "--cast", str(show / "demo.cast"), str(show / "demo.yaml"))
    assert done.returncode == 2
    assert "--auto" in done.stderr and len(done.stderr.strip().splitlines()) == 1


TIMEOUT_SCENARIO = """\
title: timeout demo
terminal: {cols: 80, rows: 24}
prompt: 'demo$ '
typing: {cps: 60, think: 0}
env:
  NAP: {from_env: DEMO_NAP}
steps:
  - run: sleep "$NAP"; echo rested
    timeout: 2
    expect: {contains: rested}
  - run: echo after
"""


def test_a_step_that_times_out_falls_back(tmp_path: Path, stage: list[Stage]) -> None:
    (tmp_path / "demo.yaml").write_text(TIMEOUT_SCENARIO)
    done = run_cli(
        "record",
        str(tmp_path / "demo.yaml"),
        "-o",
        str(tmp_path / "demo.cast"),
        "-q",
        env={"DEMO_NAP": "0"},
    )
    assert done.returncode == 0, done.stderr
    live = start(stage, tmp_path, nap="30")
    live.keys("\t")
    started = time.monotonic()
    live.wait_screen("\nrested\ndemo$", timeout=15)  # Ctrl-C after 2 s, then the recording
    assert 1.5 < time.monotonic() - started < 15
    assert "^C" in live.text()
    live.keys("\t")
    live.wait_screen("\nafter\ndemo$")
    assert live.finish() == 1


def test_stagecast_notes_follows_the_show(show: Path, stage: list[Stage]) -> None:
    live = Stage(show, mode="broken")
    stage.append(live)
    live.wait_screen("demo$")
    notes = subprocess.Popen(
        [sys.executable, "-m", "stagecast", "notes", "--socket", str(live.socket)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        live.pump(1.0)
        live.keys("\t")
        live.wait_screen("hello\ndemo$")
        live.keys("\t")
        live.wait_screen("\nall good\ndemo$")
        live.keys("\t")
        live.wait_screen("\nwoke up\ndemo$")
        live.keys(" \t")
        live.wait_screen("the end")
        assert live.finish() == 1
        out, err = notes.communicate(timeout=30)
    finally:
        notes.kill()
    assert notes.returncode == 0, err
    assert "live demo" in out and "make a file" in out
    assert "all good" in out  # the failed step, named in the view...
    assert "fall" in out.lower()  # ...with its fallback
    assert "finished" in out.lower()


def test_a_view_attached_mid_show_is_up_to_date_at_once(show: Path, stage: list[Stage]) -> None:
    live = start(stage, show, mode="broken")
    live.keys("\t")
    live.wait_screen("hello\ndemo$")
    live.keys("\t")  # fails live, then plays from the verified cast
    live.wait_screen("\nall good\ndemo$")
    live.pump(1.5)  # step 3 waits for the presenter's keys: no event for a while
    with socket.socket(socket.AF_UNIX) as client:
        client.connect(str(live.socket))
        client.settimeout(5)
        now = json.loads(client.makefile("r").readline())  # the first line says it all
    assert now["event"] == "now"
    assert now["hello"]["title"] == "live demo" and len(now["hello"]["steps"]) == 5
    assert (now["current"], now["state"]) == (2, "typing")
    assert [(c["index"], c["status"]) for c in now["checks"]] == [(0, "passed"), (1, "failed")]
    assert [f["index"] for f in now["fallbacks"]] == [1]
    assert now["finished"] is None
    # The show's clock as it is now, not as it was at the last event (step 3's start).
    assert now["elapsed"] >= now["step_started"] + 1.2
    notes = subprocess.Popen(
        [sys.executable, "-m", "stagecast", "notes", "--socket", str(live.socket)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        live.pump(1.0)
        live.keys("\t")
        live.wait_screen("\nwoke up\ndemo$")
        live.keys(" \t")
        live.wait_screen("the end")
        assert live.finish() == 1
        out, err = notes.communicate(timeout=30)
    finally:
        notes.kill()
    assert notes.returncode == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("now: live demo (") and ", 4 steps, elapsed 0:0" in lines[0]
    assert lines[1:5] == [
        "  done 1/4 make a file: ✓ passed",
        '  done 2/4 test "$MODE" != broken && echo all good: ✗ failed: '
        "expected exit code 0, got 1; expected output to contain 'all good', it does not",
        '  fallback 2/4 test "$MODE" != broken && echo all good: '
        "expected exit code 0, got 1; expected output to contain 'all good', it does not",
        '  at 3/4 sleep "$NAP"; echo woke up: typing',
    ]
    assert lines[-1].startswith("finished: failed, 1 fallbacks")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (apt-get install tmux)")
def test_presenter_view_opens_in_a_tmux_pane(show: Path, tmp_path: Path) -> None:
    server = f"stagecast-live-{os.getpid()}"
    sock = tmp_path / "sock" / "live.sock"
    done = tmp_path / "exit"
    command = (
        f"{shlex.quote(sys.executable)} -m stagecast live --auto --cps 30 --presenter-view"
        f" --socket {sock} --cast {show / 'demo.cast'} {show / 'demo.yaml'};"
        f" echo $? > {done}; sleep 60"
    )
    tmux = ["tmux", "-L", server]
    subprocess.run(
        [
            *tmux,
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            "160",
            "-y",
            "40",
            "-c",
            str(ROOT),
            "-e",
            "DEMO_MODE=ok",
            "-e",
            "DEMO_NAP=0",
            command,
        ],
        check=True,
    )
    try:
        end = time.monotonic() + 60
        panes: list[str] = []
        notes_screen = ""
        while time.monotonic() < end and not done.exists():
            listing = subprocess.run(
                [*tmux, "list-panes", "-a", "-F", "#{pane_id} #{pane_start_command}"],
                capture_output=True,
                text=True,
            ).stdout
            panes = [line.split()[0] for line in listing.splitlines() if " notes " in line]
            if panes:
                notes_screen = (
                    subprocess.run(
                        [*tmux, "capture-pane", "-p", "-t", panes[0]],
                        capture_output=True,
                        text=True,
                    ).stdout
                    or notes_screen
                )
            time.sleep(0.2)
        assert done.exists() and done.read_text().strip() == "0"
        assert panes, "no pane runs `stagecast notes`"
        time.sleep(0.5)
        notes_screen = subprocess.run(
            [*tmux, "capture-pane", "-p", "-t", panes[0]], capture_output=True, text=True
        ).stdout
        assert "live demo" in notes_screen
        assert "press any key to close" in notes_screen  # the final view stays up
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


def test_the_shell_follows_the_audience_terminal_size(show: Path, stage: list[Stage]) -> None:
    live = start(stage, show)
    live.keys("!")
    live.keys("stty size\r")
    live.wait_screen("\n24 80\n")
    live.child.setwinsize(30, 100)  # the projector's terminal was resized
    live.screen.resize(30, 100)
    live.pump(0.3)
    live.keys("stty size\r")
    live.wait_screen("\n30 100\n")
    live.keys(CTRL["D"] + CTRL["Q"])
    assert live.finish() == 130


# -- --save-cast: the show as the audience saw it, for the archive ---------------------------

STEP_2 = 'test "$MODE" != broken && echo all good'


def _live_auto(show: Path, *args: str, mode: str = "ok") -> subprocess.CompletedProcess[str]:
    return run_cli(
        "live",
        "--auto",
        "--cps",
        "200",
        "--cast",
        str(show / "demo.cast"),
        "--socket",
        str(show / f"sock-{time.monotonic_ns()}" / "live.sock"),
        *args,
        str(show / "demo.yaml"),
        env={"DEMO_MODE": mode, "DEMO_NAP": "0"},
    )


def _output(cast: Cast) -> str:
    return "".join(data for _, code, data in cast.events if code == "o")


def _no_temp_files(folder: Path) -> bool:
    return not list(folder.glob(".*.tmp"))


def test_save_cast_records_what_the_audience_saw_with_the_fallback_marked(
    show: Path, tmp_path: Path
) -> None:
    target = tmp_path / "archive" / "talk.cast"
    done = _live_auto(show, "--save-cast", str(target), mode="broken")
    assert done.returncode == 1, done.stderr
    assert f"the show's recording: {target}" in done.stderr
    cast = load_cast(target)
    # Everything the audience saw, nothing else (run_cli reads with universal newlines).
    assert _output(cast).replace("\r\n", "\n").replace("\r", "\n") == done.stdout
    assert [m.label for m in cast.markers] == [
        "make a file",
        STEP_2,
        f"fallback: {STEP_2}",  # the segment played from the verified cast starts here
        'sleep "$NAP"; echo woke up',
        "echo the end",
    ]
    fallback = next(seg for seg in cast.segments if seg.label == f"fallback: {STEP_2}")
    assert "all good" in fallback.output  # the recorded run, in place of the failed one
    provenance = cast.provenance
    assert provenance is not None and not provenance.verified and not cast.verified
    live = provenance.live
    assert live is not None
    assert (live.mode, live.completed, live.ended) == ("auto", True, "the end of the scenario")
    assert [(p.index, p.marker) for p in live.played_back] == [(1, STEP_2)]
    assert "expected exit code 0, got 1" in live.played_back[0].reason
    assert live.safety_net == str(show / "demo.cast")
    header = cast.header["stagecast"]
    assert header["live"]["recording"] == "live show" and header["verified"] is False
    statuses = {(s.phase, s.index): s.status for s in provenance.steps}
    assert statuses[("steps", 1)] == "failed" and statuses[("steps", 0)] == "passed"
    assert cast.title == "live demo (live show)"
    assert _no_temp_files(target.parent)


def test_save_cast_marks_each_step_played_from_the_recording_after_fallback_rest(
    show: Path, tmp_path: Path
) -> None:
    target = tmp_path / "talk.cast"
    done = _live_auto(show, "--save-cast", str(target), "--fallback-rest", mode="broken")
    assert done.returncode == 1, done.stderr
    cast = load_cast(target)
    later = ['sleep "$NAP"; echo woke up', "echo the end"]
    assert [m.label for m in cast.markers] == [
        "make a file",
        STEP_2,
        f"fallback: {STEP_2}",
        *(marker for label in later for marker in (label, f"fallback: {label}")),
    ]
    assert cast.provenance is not None and cast.provenance.live is not None
    played = cast.provenance.live.played_back
    assert [(p.index, p.marker) for p in played] == [(1, STEP_2), (2, later[0]), (3, later[1])]
    assert {p.reason for p in played[1:]} == {"the rest of the show played from the verified cast"}
    assert cast.provenance.live.completed and not cast.verified


def test_save_cast_of_a_clean_show_is_verified_but_never_a_safety_net(
    show: Path, tmp_path: Path
) -> None:
    target = tmp_path / "talk.cast"
    done = _live_auto(show, "--save-cast", str(target))
    assert done.returncode == 0, done.stderr
    cast = load_cast(target)
    assert cast.verified  # every step passed live...
    assert cast.provenance is not None and cast.provenance.live is not None
    assert not any(m.label.startswith("fallback: ") for m in cast.markers)
    again = _live_auto(show, "--save-cast", str(target))  # an earlier recording: replaced
    assert again.returncode == 0, again.stderr
    # ...but it is the archive of a show, so the safety net will not take it.
    refused = run_cli(
        "live", "--auto", "--cast", str(target), str(show / "demo.yaml"),
        env={"DEMO_MODE": "ok", "DEMO_NAP": "0"},
    )  # fmt: skip
    assert refused.returncode == 2
    assert "recording of a live show" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


def test_save_cast_after_ctrl_q_is_written_as_it_ended(
    show: Path, stage: list[Stage], tmp_path: Path
) -> None:
    target = tmp_path / "talk.cast"
    live = start(stage, show, "--save-cast", str(target))
    live.keys("\t")
    live.wait_screen("hello\ndemo$")
    live.keys(CTRL["Q"])
    assert live.finish() == 130
    cast = load_cast(target)
    assert [m.label for m in cast.markers] == ["make a file", STEP_2]
    assert "hello" in _output(cast)
    provenance = cast.provenance
    assert provenance is not None and provenance.live is not None
    assert (provenance.live.completed, provenance.live.ended) == (False, "Ctrl-Q")
    assert not provenance.verified
    assert _no_temp_files(tmp_path)


def test_save_cast_after_a_crash_is_written_as_it_ended(
    show: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEMO_MODE", "ok")
    monkeypatch.setenv("DEMO_NAP", "0")
    target = tmp_path / "talk.cast"
    real_step = LiveRunner.run_step

    def crash_after_step_2(runner: LiveRunner, step: object, result: object) -> None:
        real_step(runner, step, result)  # type: ignore[arg-type]
        if getattr(result, "phase", "") == "steps" and getattr(result, "index", -1) == 1:
            raise RuntimeError("boom")

    monkeypatch.setattr(LiveRunner, "run_step", crash_after_step_2)
    settings = ShowSettings(
        cast=show / "demo.cast",
        auto=True,
        cps=200,
        socket=tmp_path / "sock" / "live.sock",
        save_cast=target,
    )
    with pytest.raises(RuntimeError, match="boom"):
        run_show(load_scenario(show / "demo.yaml"), settings)
    shown = capfd.readouterr().out
    cast = load_cast(target)
    assert _output(cast) == shown and "all good" in shown
    assert [m.label for m in cast.markers] == ["make a file", STEP_2]
    provenance = cast.provenance
    assert provenance is not None and provenance.live is not None
    assert provenance.live.completed is False
    assert provenance.live.ended == "crashed: RuntimeError: boom"
    assert not provenance.verified
    statuses = {(s.phase, s.index): s.status for s in provenance.steps}
    assert statuses[("steps", 1)] == "passed" and statuses[("steps", 2)] == "skipped"
    assert _no_temp_files(tmp_path)


def test_save_cast_is_whole_or_untouched_when_the_show_is_killed(
    show: Path, stage: list[Stage], tmp_path: Path
) -> None:
    target = tmp_path / "talk.cast"
    live = start(stage, show, "--save-cast", str(target))
    live.keys("\t")
    live.wait_screen("hello\ndemo$")
    live.child.kill(signal.SIGTERM)  # handled like Ctrl-C: teardown, then the recording
    assert live.finish() == 128 + signal.SIGTERM
    first = target.read_bytes()
    provenance = load_cast(target).provenance
    assert provenance is not None and provenance.live is not None
    assert provenance.live.ended == "interrupted (SIGTERM)"
    live = start(stage, show, "--save-cast", str(target))
    live.keys("\t")
    live.wait_screen("hello\ndemo$")
    live.child.kill(signal.SIGKILL)  # nothing can run now: the earlier recording stays whole
    live.child.close(force=True)
    assert live.child.signalstatus == signal.SIGKILL
    assert target.read_bytes() == first


@pytest.mark.parametrize("case", ["directory", "safety net", "scenario", "verified cast"])
def test_save_cast_refuses_a_path_it_must_not_write(show: Path, tmp_path: Path, case: str) -> None:
    shutil.copy(show / "demo.cast", tmp_path / "verified.cast")
    target = {
        "directory": tmp_path,
        "safety net": show / "demo.cast",
        "scenario": show / "demo.yaml",
        "verified cast": tmp_path / "verified.cast",
    }[case]
    before = target.read_bytes() if target.is_file() else None
    done = _live_auto(show, "--save-cast", str(target))
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "--save-cast" in done.stderr
    assert done.stdout == ""  # refused before anything ran
    if before is not None:
        assert target.read_bytes() == before
