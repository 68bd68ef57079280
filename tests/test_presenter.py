"""The presenter channel and view: real unix sockets, a real tmux server, no socket mocks."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from player.live.notes import run_notes
from player.live.notes_view import NotesState, clock, schedule
from player.live.notes_window import notes_command, open_presenter_terminal
from player.live.presenter import (
    PresenterChannel,
    PresenterError,
    default_socket_path,
    secure_dir,
)

NOBODY = 65534
STEPS = [
    {"index": 0, "label": "Setup", "say": None, "run": "export KUBECONFIG=/tmp/kc",
     "pause": None, "hidden": True, "planned": 2.0},
    {"index": 1, "label": "Create namespace", "say": "First, a namespace of our own.",
     "run": "kubectl create ns demo", "pause": None, "hidden": False, "planned": 10.0},
    {"index": 2, "label": "Install the chart", "say": "Now the chart goes in.",
     "run": "helm install web ./chart", "pause": "Point at the READY column", "hidden": False,
     "planned": 20.0},
    {"index": 3, "label": "Check pods", "say": None, "run": "kubectl get pods", "pause": None,
     "hidden": False, "planned": 15.0},
]  # fmt: skip
HELLO = {
    "event": "hello", "title": "CNI from zero", "scenario": "cni.yaml", "steps": STEPS,
    "planned_total": 45.0, "budget": 60.0, "cast": "casts/cni.cast", "stale": False,
    "mode": "live",
}  # fmt: skip
SHOW = [
    HELLO,
    {"event": "step", "index": 0, "elapsed": 0.0},
    {"event": "step", "index": 1, "elapsed": 1.0},
    {"event": "check", "index": 1, "status": "passed", "failures": [], "rc": 0, "duration": 0.4},
    {"event": "step", "index": 2, "elapsed": 22.0},
    {"event": "state", "index": 2, "state": "running"},
    {"event": "check", "index": 2, "status": "failed", "failures": ["no 'deployed' in output"],
     "rc": 1, "duration": 1.2},
    {"event": "fallback", "index": 2, "reason": "the check failed"},
    {"event": "note", "text": "the verified cast is stale"},
]  # fmt: skip
FINISHED = {"event": "finished", "passed": False, "fallbacks": 1, "elapsed": 50.0}


@pytest.fixture
def sock_path(tmp_path: Path) -> Path:
    return tmp_path / "run" / "live.sock"


@pytest.fixture
def channel(sock_path: Path) -> Iterator[PresenterChannel]:
    with PresenterChannel(sock_path) as chan:
        yield chan


def connect(path: Path) -> socket.socket:
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(5)
    client.connect(str(path))
    return client


def read_lines(stream: io.BufferedReader, count: int) -> list[dict]:
    return [json.loads(stream.readline()) for _ in range(count)]


def wait_for(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def render(state: NotesState) -> str:
    console = Console(record=True, width=80)
    console.print(state.render())
    return console.export_text()


# -- paths and permissions ------------------------------------------------------------------


def test_default_socket_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert default_socket_path() == tmp_path / "stagecast" / "live.sock"
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "missing"))
    assert default_socket_path() == Path(f"/tmp/stagecast-{os.getuid()}/live.sock")
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert default_socket_path() == Path(f"/tmp/stagecast-{os.getuid()}/live.sock")
    assert not (tmp_path / "stagecast").exists()  # nothing created


def test_socket_is_0600_in_a_0700_dir(channel: PresenterChannel, sock_path: Path) -> None:
    assert stat.S_ISSOCK(os.lstat(sock_path).st_mode)
    assert stat.S_IMODE(os.lstat(sock_path).st_mode) == 0o600
    assert stat.S_IMODE(os.lstat(sock_path.parent).st_mode) == 0o700


def test_close_removes_the_socket_and_is_idempotent(sock_path: Path) -> None:
    chan = PresenterChannel(sock_path)
    chan.open()
    chan.close()
    chan.close()
    assert not sock_path.exists()
    chan.send({"event": "note", "text": "after close"})  # never raises


def test_secure_dir_forces_0700_on_an_empty_dir(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    run.chmod(0o755)
    secure_dir(run)
    assert stat.S_IMODE(run.stat().st_mode) == 0o700


def test_secure_dir_refuses_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(PresenterError, match="symbolic link.*--socket"):
        secure_dir(tmp_path / "link")


def test_secure_dir_refuses_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(PresenterError, match="not a directory"):
        secure_dir(tmp_path / "file")


def test_secure_dir_will_not_chmod_a_shared_dir_with_other_files(tmp_path: Path) -> None:
    shared = tmp_path / "project"
    shared.mkdir()
    (shared / "scenario.yaml").write_text("")
    shared.chmod(0o755)
    with pytest.raises(PresenterError, match="shared.*directory of its own"):
        secure_dir(shared)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to make a directory someone else owns")
def test_secure_dir_refuses_a_dir_owned_by_someone_else(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, NOBODY, NOBODY)
    with pytest.raises(PresenterError, match=f"belongs to uid {NOBODY}"):
        secure_dir(theirs)


# -- one session per socket -------------------------------------------------------------------


def test_second_channel_on_the_same_path_is_refused(channel: PresenterChannel) -> None:
    with pytest.raises(PresenterError, match="another `stagecast live` is using .*--socket"):
        PresenterChannel(channel.path).open()
    assert channel.path.exists()  # the first session keeps its socket


def test_stale_socket_file_is_replaced(sock_path: Path) -> None:
    sock_path.parent.mkdir(mode=0o700)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(sock_path))
    dead.close()  # closed without unlink, like a session that was killed
    assert sock_path.exists()
    with PresenterChannel(sock_path) as chan:
        chan.send({"event": "note", "text": "hi"})
        with connect(sock_path) as client, client.makefile("rb") as stream:
            assert read_lines(stream, 1)[0]["notes"] == ["hi"]


def test_a_regular_file_at_the_socket_path_is_not_removed(sock_path: Path) -> None:
    sock_path.parent.mkdir(mode=0o700)
    sock_path.write_text("precious")
    with pytest.raises(PresenterError, match="not a socket"):
        PresenterChannel(sock_path).open()
    assert sock_path.read_text() == "precious"


# -- events ---------------------------------------------------------------------------------


def test_a_client_from_the_start_gets_the_events_as_sent(channel: PresenterChannel) -> None:
    with connect(channel.path) as client, client.makefile("rb") as stream:
        assert wait_for(lambda: channel.clients == 1)
        for n in range(3):
            channel.send({"event": "note", "text": f"live {n}"})
        events = read_lines(stream, 3)
    assert [e["text"] for e in events] == ["live 0", "live 1", "live 2"]  # no "now" first
    times = [e["t"] for e in events]
    assert times == sorted(times) and all(round(t, 3) == t for t in times)


def test_a_late_client_first_gets_the_show_so_far_then_live_ones(
    channel: PresenterChannel,
) -> None:
    for event in SHOW:
        channel.send(event)
    time.sleep(0.3)
    with connect(channel.path) as client, client.makefile("rb") as stream:
        (now,) = read_lines(stream, 1)
        channel.send({"event": "note", "text": "live"})
        (live,) = read_lines(stream, 1)  # the very next line: nothing of the past replayed
    assert now["event"] == "now"
    assert now["hello"]["title"] == "CNI from zero"
    assert [s["label"] for s in now["hello"]["steps"]] == [s["label"] for s in STEPS]
    assert (now["current"], now["state"], now["step_started"]) == (2, "fallback", 22.0)
    assert [(c["index"], c["status"]) for c in now["checks"]] == [(1, "passed"), (2, "failed")]
    assert now["checks"][1]["failures"] == ["no 'deployed' in output"]
    assert now["fallbacks"] == [{"index": 2, "reason": "the check failed"}]
    assert now["notes"] == ["the verified cast is stale"]
    assert now["finished"] is None
    assert now["t"] >= 0.3  # the server's clock when the view connected...
    assert now["elapsed"] >= 22.3  # ...and the show's: 0.3 s and more into step 2
    assert live["text"] == "live" and live["t"] >= now["t"]


def test_the_show_clock_runs_from_the_hello(channel: PresenterChannel) -> None:
    channel.send({**HELLO, "elapsed": 0.0})  # the show starts as the channel opens
    time.sleep(0.6)
    with connect(channel.path) as client, client.makefile("rb") as stream:
        (now,) = read_lines(stream, 1)
    assert now["current"] is None  # not at a step yet, but the clock already runs
    assert now["elapsed"] >= 0.6 and now["t"] - now["elapsed"] < 0.2


def test_a_late_view_shows_what_a_view_there_from_the_start_shows(
    channel: PresenterChannel,
) -> None:
    early = connect(channel.path)
    assert wait_for(lambda: channel.clients == 1)
    for event in SHOW:
        channel.send(event)
    with early, early.makefile("rb") as stream:
        all_along = read_lines(stream, len(SHOW))
    with connect(channel.path) as late, late.makefile("rb") as stream:
        (now,) = read_lines(stream, 1)
    from_start, attached_late = NotesState(), NotesState()
    for event in all_along:
        from_start.apply(event)
    attached_late.apply(now)
    assert render(attached_late) == render(from_start)
    assert "elapsed 0:22" in render(attached_late)  # right at once, not at the next event


def test_a_snapshot_sets_the_view_clock_to_the_servers_now() -> None:
    ticks = [500.0]
    state = NotesState(now=lambda: ticks[0])
    state.apply({"event": "now", "hello": HELLO, "current": 2, "state": "running",
                 "step_started": 22.0, "elapsed": 31.0, "t": 40.0})  # fmt: skip
    assert "elapsed 0:31" in render(state)
    ticks[0] += 4  # ticks on from the server's now between events...
    assert "elapsed 0:35" in render(state)
    state.apply({"event": "state", "index": 2, "state": "paused", "t": 45.0})
    assert "elapsed 0:36" in render(state)  # ...and later events map onto the same clock


def test_a_snapshot_of_a_finished_show_ends_the_view(channel: PresenterChannel) -> None:
    for event in [*SHOW, FINISHED]:
        channel.send(event)
    out = io.StringIO()
    assert run_notes(channel.path, Console(file=out, width=100)) == 0  # returns at once
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("now: CNI from zero (cni.yaml), 3 steps, elapsed 0:50")
    assert lines[-1] == "finished: failed, 1 fallbacks, 0:50"


def test_send_adds_t_to_a_copy_and_survives_bad_events(channel: PresenterChannel) -> None:
    client = connect(channel.path)
    assert wait_for(lambda: channel.clients == 1)
    event = {"event": "note", "text": "x"}
    channel.send(event)
    assert event == {"event": "note", "text": "x"}
    channel.send({"event": "note", "text": object()})  # not JSON: sent as its str()
    channel.send(None)  # type: ignore[arg-type]  # not a dict: ignored
    with client, client.makefile("rb") as stream:
        first, second = read_lines(stream, 2)
    assert first["text"] == "x" and "t" in first
    assert second["text"].startswith("<object object")


def test_a_client_that_never_reads_neither_blocks_sends_nor_stays(
    channel: PresenterChannel,
) -> None:
    client = connect(channel.path)
    assert wait_for(lambda: channel.clients == 1)
    big = "x" * 65536
    started = time.monotonic()
    for _ in range(100):  # ~6.5 MB: far beyond the socket buffer
        channel.send({"event": "note", "text": big})
    assert time.monotonic() - started < 1.0
    assert wait_for(lambda: channel.clients == 0)  # dropped after its write timed out
    client.close()


def test_close_flushes_the_last_event_to_connected_clients(sock_path: Path) -> None:
    chan = PresenterChannel(sock_path)
    chan.open()
    client = connect(sock_path)
    assert wait_for(lambda: chan.clients == 1)
    chan.send(FINISHED)
    chan.close()
    with client, client.makefile("rb") as stream:
        assert read_lines(stream, 1)[0]["event"] == "finished"
        assert stream.readline() == b""  # then the server closed the connection


# -- other users ------------------------------------------------------------------------------


def _as_nobody(action) -> int:
    """Run `action` in a forked child as uid/gid 65534; return the child's exit code."""
    pid = os.fork()
    if pid == 0:  # child: nothing but the attempt, then leave without pytest's cleanup
        code = 3
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            code = action()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.fixture
def open_base() -> Iterator[Path]:
    """A directory other users can traverse, so only the channel's own 0700 dir can stop them."""
    base = Path(tempfile.mkdtemp(dir="/tmp", prefix="stagecast-test-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to try the socket as another user")
def test_another_user_cannot_connect(open_base: Path) -> None:
    path = open_base / "stagecast" / "live.sock"

    def attempt() -> int:
        try:
            connect(path).close()
        except PermissionError:
            return 0
        except OSError:
            return 2
        return 1  # connected: the modes did not protect the socket

    with PresenterChannel(path) as chan:
        chan.send(HELLO)
        assert _as_nobody(attempt) == 0


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to try the socket as another user")
def test_another_users_connection_is_closed_unread(open_base: Path) -> None:
    path = open_base / "stagecast" / "live.sock"

    def attempt() -> int:
        try:
            with connect(path) as client:
                return 0 if client.recv(65536) == b"" else 1
        except OSError:
            return 2

    with PresenterChannel(path) as chan:
        chan.send(HELLO)
        path.parent.chmod(0o755)  # as if the modes had failed: SO_PEERCRED is the last guard
        path.chmod(0o666)
        assert _as_nobody(attempt) == 0
        assert chan.clients == 0


# -- the view -------------------------------------------------------------------------------


def test_clock_and_schedule_texts() -> None:
    assert [clock(7), clock(83.4), clock(3723)] == ["0:07", "1:23", "1:02:03"]
    assert [schedule(12.2), schedule(-5), schedule(0.3)] == [
        "+0:12 behind",
        "-0:05 ahead",
        "on time",
    ]


def test_notes_state_renders_the_show() -> None:
    state = NotesState()
    for event in SHOW:
        state.apply(event)
    text = render(state)
    assert "CNI from zero" in text
    assert "NOW  2/3 Install the chart" in text and "running" not in text  # fallback replaced it
    assert "fallback" in text
    assert "say: Now the chart goes in." in text
    assert "$ helm install web ./chart" in text
    assert "pause: Point at the READY column" in text
    assert "NEXT 3/3 Check pods" in text and "$ kubectl get pods" in text
    assert "✓ 1/3 Create namespace" in text
    assert "✗ 2/3 Install the chart" in text and "no 'deployed' in output" in text
    # 22 s in, where the recording had spent 10 s (hidden steps do not count)
    assert "elapsed 0:22 / planned 0:10  +0:12 behind" in text
    assert "fallbacks: 1" in text and "the verified cast is stale" in text
    assert "Setup" not in text  # hidden: never current or next
    assert "FINISHED" not in text and not state.finished
    assert all(len(line) <= 80 for line in text.splitlines())

    state.apply(FINISHED)
    text = render(state)
    assert state.finished
    assert "FINISHED ✗ failed  0:50  1 fallback" in text
    assert "+0:05 behind" in text  # 50 s against the planned 45 s


def test_notes_state_ahead_and_before_the_first_step() -> None:
    state = NotesState()
    state.apply(HELLO)
    text = render(state)
    assert "not started" in text and "NEXT 1/3 Create namespace" in text
    state.apply({"event": "step", "index": 2, "elapsed": 4.0})
    assert "-0:06 ahead" in render(state)


def test_notes_state_ticks_with_a_clock_and_overrunning_a_step_puts_you_behind() -> None:
    now = [100.0]
    state = NotesState(now=lambda: now[0])
    state.apply(HELLO)
    state.apply({"event": "step", "index": 1, "elapsed": 0.0, "t": 0.5})
    now[0] += 8  # within the step's planned 10 s: on time
    assert "elapsed 0:08 / planned 0:08  on time" in render(state)
    now[0] += 7  # 5 s past it
    assert "+0:05 behind" in render(state)


def test_notes_state_ignores_unknown_and_malformed_events() -> None:
    state = NotesState()
    for event in [
        {"event": "mystery", "x": 1},
        {"no": "event"},
        {"event": "step", "index": "two", "elapsed": "late"},
        {"event": "check", "index": 9, "status": "passed", "failures": "not a list"},
        {"event": "hello", "steps": [None, 3, {"index": 0, "label": "Only", "extra": True}]},
        {"event": "state", "index": 0, "state": "typing"},
        {"event": "step", "index": 0, "elapsed": 1.0},
    ]:
        state.apply(event)
    text = render(state)
    assert "NOW  1/1 Only" in text


# -- run_notes ------------------------------------------------------------------------------


def _serve(chan: PresenterChannel, events: list[dict], close: bool = False) -> threading.Thread:
    def play() -> None:
        time.sleep(0.2)  # after the view has connected: these arrive live, not replayed
        for event in events:
            chan.send(event)
        if close:
            chan.close()

    thread = threading.Thread(target=play, daemon=True)
    thread.start()
    return thread


def test_run_notes_prints_a_line_per_event_and_stops_at_finished(
    channel: PresenterChannel,
) -> None:
    for event in SHOW[:4]:
        channel.send(event)  # before the view connects: told at once, as the show so far
    server = _serve(channel, [*SHOW[4:], FINISHED, {"event": "note", "text": "too late"}])
    out = io.StringIO()
    assert run_notes(channel.path, Console(file=out, width=100)) == 0
    server.join(5)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("now: CNI from zero (cni.yaml), 3 steps, elapsed 0:01")
    assert lines[1:3] == ["  done 1/3 Create namespace: ✓ passed", "  at 1/3 Create namespace"]
    assert "step 2/3 Install the chart: +0:12 behind" in lines
    assert "check 2/3 Install the chart: ✗ failed: no 'deployed' in output" in lines
    assert "fallback 2/3 Install the chart: the check failed" in lines
    assert "note: the verified cast is stale" in lines
    assert lines[-1] == "finished: failed, 1 fallbacks, 0:50"


def test_run_notes_returns_0_when_the_session_closes(sock_path: Path) -> None:
    chan = PresenterChannel(sock_path)
    chan.open()
    server = _serve(chan, [HELLO], close=True)
    out = io.StringIO()
    assert run_notes(sock_path, Console(file=out)) == 0
    server.join(5)
    assert out.getvalue().startswith("hello: CNI from zero")


def test_run_notes_in_a_terminal_redraws_the_view(channel: PresenterChannel) -> None:
    server = _serve(channel, [*SHOW, FINISHED])
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=80, height=24)
    assert run_notes(channel.path, console) == 0
    server.join(5)
    assert "FINISHED" in out.getvalue()


def test_run_notes_without_a_session(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "none.sock"
    assert run_notes(path, Console(file=io.StringIO())) == 2
    err = capsys.readouterr().err
    assert err == f"stagecast: no live session at {path}: start `stagecast live SCENARIO` first\n"


# -- the second terminal --------------------------------------------------------------------


def test_notes_command(sock_path: Path) -> None:
    argv = notes_command(sock_path)
    assert argv == [sys.executable, "-m", "stagecast", "notes", "--socket", str(sock_path)]


def test_no_tmux_and_no_display_says_what_to_run(
    sock_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("TMUX", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(PresenterError) as raised:
        open_presenter_terminal(sock_path)
    assert str(raised.value) == (
        "no second terminal to open here (no tmux, no display): "
        f"run `stagecast notes --socket {sock_path}` in another terminal"
    )


@pytest.fixture
def tmux_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A private tmux server with one detached session; $TMUX points at it as inside a pane."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    tmux = ["tmux", "-L", f"stagecast-test-{uuid.uuid4().hex[:8]}", "-f", "/dev/null"]
    subprocess.run([*tmux, "new-session", "-d", "-s", "show", "-x", "200", "-y", "50"], check=True)
    where = ""
    try:
        # a pane whose command exits (e.g. no `notes` subcommand yet) stays listed
        subprocess.run([*tmux, "set-option", "-g", "remain-on-exit", "on"], check=True)
        where = subprocess.run(
            [*tmux, "display", "-p", "-t", "show", "#{socket_path},#{pid},#{session_id}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        monkeypatch.setenv("TMUX", where.replace("$", ""))
        monkeypatch.delenv("TMUX_PANE", raising=False)
        yield tmux
    finally:
        subprocess.run([*tmux, "kill-server"], check=False, capture_output=True)
        if where:  # tmux leaves its socket file behind after kill-server
            Path(where.split(",")[0]).unlink(missing_ok=True)


def test_open_presenter_terminal_splits_a_tmux_pane(
    tmux_server: list[str], channel: PresenterChannel
) -> None:
    opened = open_presenter_terminal(channel.path)
    assert opened.startswith("tmux pane %")
    pane = opened.removeprefix("tmux pane ")
    panes = subprocess.run(
        [*tmux_server, "list-panes", "-a", "-F", "#{pane_id} #{pane_start_command}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    started = [line for line in panes if line.startswith(f"{pane} ")]
    assert len(panes) == 2 and len(started) == 1
    assert f"-m stagecast notes --socket {channel.path}" in started[0]
