"""The one cast model: the reader on v1, v2 and pretty-printed v1 files, markers, segments,
the typed header, provenance written and read back, and the live event protocol."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from player.live import events as live
from recorder.cast.model import Cast
from recorder.cast.provenance import (
    ClusterFacts,
    ProfileFacts,
    Provenance,
    StepRecord,
    step_status,
)
from recorder.cast.reader import CastReadError, load_cast
from recorder.cast.writer import CastRecording

ROOT = Path(__file__).resolve().parent.parent

HEADER = {
    "version": 2,
    "width": 60,
    "height": 20,
    "timestamp": 1700000000,
    "idle_time_limit": 1.5,
    "title": "demo",
    "env": {"TERM": "xterm-256color", "SHELL": "/bin/bash"},
    "theme": {"fg": "#ffffff", "bg": "#000000", "palette": "#000000:#ffffff"},
    "x-unknown": ["kept", "as", "written"],
}
EVENTS = [
    [0.0, "o", "demo$ "],
    [0.5, "m", "first"],
    [0.6, "o", "echo one\r\none\r\n"],
    [0.7, "i", "typed"],
    [2.0, "m", "second"],
    [2.1, "o", "two\r\n"],
    [3.0, "o", "demo$ "],
]


def write_v2(path: Path, header: dict = HEADER, events: list = EVENTS) -> Path:
    path.write_text("\n".join(json.dumps(x) for x in [header, *events]) + "\n")
    return path


def test_v2_keeps_every_header_key_and_event(tmp_path: Path) -> None:
    cast = load_cast(write_v2(tmp_path / "a.cast"))
    assert (cast.version, cast.header) == (2, HEADER)
    assert cast.events == [tuple(e) for e in EVENTS]
    assert (cast.width, cast.height, cast.title, cast.timestamp) == (60, 20, "demo", 1700000000)
    assert cast.idle_time_limit == 1.5
    assert cast.env == HEADER["env"] and cast.theme == HEADER["theme"]
    assert cast.provenance is None and not cast.verified


def test_v2_events_after_a_blank_line_are_still_read(tmp_path: Path) -> None:
    """asciinema's reader stops at an empty line; the leak scan must not."""
    path = tmp_path / "gap.cast"
    lines = [json.dumps(HEADER), json.dumps(EVENTS[0]), "", json.dumps(EVENTS[1])]
    path.write_text("\r\n".join(lines) + "\r\n")
    assert load_cast(path).events == [tuple(EVENTS[0]), tuple(EVENTS[1])]


@pytest.mark.parametrize("indent", [None, 2])
def test_v1_compact_and_pretty_read_alike(tmp_path: Path, indent: int | None) -> None:
    v1 = {
        "version": 1,
        "width": 80,
        "height": 24,
        "duration": 0.6,
        "command": "bash",
        "title": "old",
        "env": {"TERM": "xterm"},
        "x-extra": "every key is kept",
        "stdout": [[0.1, "a"], [0.2, "b"], [0.3, "c"]],
    }
    path = tmp_path / "v1.cast"
    path.write_text(json.dumps(v1, indent=indent))
    cast = load_cast(path)
    assert cast.version == 1
    assert cast.header == {k: v for k, v in v1.items() if k != "stdout"}
    assert [(round(t, 6), code, data) for t, code, data in cast.events] == [
        (0.1, "o", "a"),
        (0.3, "o", "b"),
        (0.6, "o", "c"),
    ]
    assert cast.idle_time_limit is None  # v1 has no such field
    assert (cast.command, cast.title, cast.markers) == ("bash", "old", [])


def test_markers_and_segments(tmp_path: Path) -> None:
    cast = load_cast(write_v2(tmp_path / "a.cast"))
    assert [(m.index, m.time, m.label, m.event) for m in cast.markers] == [
        (1, 0.5, "first", 1),
        (2, 2.0, "second", 4),
    ]
    lead, first, second = cast.segments
    assert (lead.marker, lead.index, lead.start, lead.end, lead.output) == (
        None,
        0,
        0.0,
        0.5,
        "demo$ ",
    )
    assert (first.label, first.start, first.end, first.duration) == ("first", 0.5, 2.0, 1.5)
    assert first.events == [(0.6, "o", "echo one\r\none\r\n"), (0.7, "i", "typed")]
    assert first.output == "echo one\r\none\r\n"  # input is not output
    assert (second.index, second.end, second.output) == (2, 3.0, "two\r\ndemo$ ")


def test_segments_without_markers_and_of_an_empty_cast() -> None:
    plain = Cast("x", 2, {"version": 2}, [(0.0, "o", "a"), (1.0, "o", "b")])
    (lead,) = plain.segments
    assert (lead.end, lead.output) == (1.0, "ab")
    empty = Cast("y", 2, {"version": 2})
    assert [(s.marker, s.end, s.events) for s in empty.segments] == [(None, 0.0, [])]


def test_retimed_keeps_markers_and_moves_segments(tmp_path: Path) -> None:
    cast = load_cast(write_v2(tmp_path / "a.cast"))
    halved = cast.retimed([(t / 2, code, data) for t, code, data in cast.events])
    assert [m.label for m in halved.markers] == ["first", "second"]
    assert halved.segments[1].duration == pytest.approx(0.75)
    with pytest.raises(ValueError):
        cast.retimed([])


def test_typed_fields_ignore_values_of_the_wrong_type() -> None:
    header = {"version": 2, "width": "80", "idle_time_limit": -1, "env": ["x"], "title": 5}
    cast = Cast("odd", 2, header)
    assert (cast.width, cast.idle_time_limit, cast.env, cast.title) == (None, None, {}, None)


@pytest.mark.parametrize(
    ("content", "detail", "header_ok"),
    [
        ("hello\n", "not an asciicast v1, v2 or v3 file", False),
        ('{"version": 2}\n[1, "o"\n', ":2: not an asciicast event (", True),
        ('{"version": 2}\n[1, "o"]\n', ":2: not an asciicast event: [time, code, data]", True),
        ('{"version": 1}', ": an asciicast v1 file without a stdout list", True),
        ('{"version": 1, "stdout": [["x", "y"]]}', ": stdout frame 1 is not [delay, data]", True),
    ],
)
def test_read_errors_say_one_line_and_where(
    tmp_path: Path, content: str, detail: str, header_ok: bool
) -> None:
    path = tmp_path / "bad.cast"
    path.write_text(content)
    with pytest.raises(CastReadError) as caught:
        load_cast(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: not an asciicast v1, v2 or v3 file: ")
    assert "\n" not in message
    assert caught.value.detail.startswith(str(path)) and detail in caught.value.detail
    assert caught.value.header_ok is header_ok and caught.value.exit_code == 2


def test_a_missing_file_and_undecodable_bytes(tmp_path: Path) -> None:
    with pytest.raises(CastReadError) as caught:
        load_cast(tmp_path / "none.cast")
    assert caught.value.missing and "cannot read it" in caught.value.detail
    binary = tmp_path / "bin.cast"
    binary.write_bytes(json.dumps(HEADER).encode() + b'\n[0.1, "o", "\xff"]\n')
    with pytest.raises(CastReadError) as caught:
        load_cast(binary)
    assert not caught.value.missing
    assert load_cast(binary, errors="replace").events == [(0.1, "o", "\ufffd")]


def test_the_writers_cast_reads_back_as_the_same_model(tmp_path: Path) -> None:
    from recorder.cast.writer import publish_atomically

    recording = CastRecording(40, 10, {"title": "t", "idle_time_limit": 2})
    recording.output(0.0, "$ ")
    recording.marker(0.2, "step")
    recording.output(0.1, "early")  # written in time order
    path = tmp_path / "w.cast"
    publish_atomically(recording, path)
    built, read = recording.to_cast(str(path)), load_cast(path)
    assert built == read
    assert [e[2] for e in read.events] == ["$ ", "early", "step"]


# -- provenance --------------------------------------------------------------------------

FULL = Provenance(
    verified=True,
    scenario="demo.yaml",
    scenario_sha256="ab" * 32,
    version="1.2.3",
    date="2026-01-01T00:00:00+00:00",
    tools={"kubectl": "v1.20.2"},
    profile=ProfileFacts("kind", "registry-free kind", "profile.yml", "cd" * 32),
    cluster=ClusterFacts("kind", "node:v1.20.2", "v1.20.2", "20.10.24"),
    steps=[
        StepRecord("setup", 0, "prepare", True, "passed", 0, 0.5),
        StepRecord("steps", 0, "ls", False, "failed", 1, 1.25),
        StepRecord("steps", 1, "crictl ps", False, "not-run", None, 0.0, "no crictl here"),
        StepRecord("steps", 2, "after", False, "skipped", None, 0.0),
    ],
)


def test_provenance_round_trips_through_a_cast_file(tmp_path: Path) -> None:
    recording = CastRecording(80, 24, {Provenance.KEY: FULL.to_dict()})
    path = tmp_path / "p.cast"
    from recorder.cast.writer import publish_atomically

    publish_atomically(recording, path)
    cast = load_cast(path)
    assert cast.provenance == FULL and cast.verified
    written = cast.header["stagecast"]
    assert list(written) == [
        "verified",
        "scenario",
        "scenario_sha256",
        "version",
        "date",
        "tools",
        "profile",
        "cluster",
        "steps",
    ]
    assert written["steps"][2] == {
        "phase": "steps",
        "index": 1,
        "marker": "crictl ps",
        "hidden": False,
        "status": "not-run",
        "exit": None,
        "duration": 0.0,
        "not_run": "no crictl here",
    }
    assert "not_run" not in written["steps"][0]


def test_provenance_without_optional_keys_and_with_unknown_ones() -> None:
    minimal = Provenance(verified=False)
    assert "profile" not in minimal.to_dict() and "cluster" not in minimal.to_dict()
    raw = {"verified": True, "steps": [{"status": "passed", "future": 1}, "junk"], "new": {}}
    read = Provenance.from_dict(raw)
    assert read is not None and read.verified and read.profile is None and read.cluster is None
    assert [s.status for s in read.steps] == ["passed"]
    assert Provenance.from_dict({"verified": "yes"}) == Provenance(verified=False)
    assert Provenance.from_dict("not a mapping") is None


def test_step_status_names_every_status_a_run_writes() -> None:
    for status in ("passed", "failed", "skipped", "not-run"):
        assert step_status(status) == status
    with pytest.raises(ValueError):
        step_status("maybe")


@pytest.mark.parametrize("path", sorted((ROOT / "casts").glob("*.cast")), ids=lambda p: p.name)
def test_committed_casts_read_with_their_provenance(path: Path) -> None:
    cast = load_cast(path)
    provenance = cast.provenance
    assert provenance is not None and provenance.verified
    assert provenance.scenario_sha256 and provenance.steps
    assert provenance.to_dict() == cast.header["stagecast"]  # nothing lost, nothing added
    assert [m.label for m in cast.markers]


# -- the live event protocol -------------------------------------------------------------

SENT: list[live.LiveEvent] = [
    live.Hello(
        title="Demo",
        scenario="demo.yaml",
        steps=[
            live.StepInfo(0, "ls", say="Look", run="ls", planned=1.5),
            live.StepInfo(1, "setup", hidden=True),
        ],
        planned_total=1.5,
        budget=60.0,
        cast="casts/demo.cast",
        stale=True,
        mode="live",
    ),
    live.StepStarted(index=0, elapsed=0.25),
    live.StateChanged(index=0, state="typing"),
    live.CheckDone(index=0, status="failed", failures=("exit 1",), rc=1, duration=0.5),
    live.Fallback(index=0, reason="failed"),
    live.Note(text="hello"),
    live.Finished(passed=False, fallbacks=1, elapsed=3.0),
]


@pytest.mark.parametrize("event", SENT, ids=lambda e: type(e).__name__)
def test_live_events_round_trip_on_the_wire(event: live.LiveEvent) -> None:
    payload = live.to_dict(event)
    assert payload["event"] == type(event).KIND  # type: ignore[union-attr]
    line = live.encode_line({**payload, "t": 1.25})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    decoded = live.decode_line(line)
    assert decoded == type(event)(**{**event.__dict__, "t": 1.25})


def test_live_decoding_is_lenient() -> None:
    assert live.decode_line(b"not json\n") is None
    assert live.decode_line(b"[1, 2]\n") is None
    other = live.decode_line(b'{"event": "from-the-future", "t": 2}\n')
    assert other == live.Other("from-the-future", 2.0)
    odd = live.from_dict({"event": "check", "index": "1", "status": 3, "failures": "x"})
    assert odd == live.CheckDone()
    with pytest.raises(ValueError):
        live.to_dict(live.Other("x"))


@pytest.mark.parametrize("version", [2, 3])
def test_a_big_recording_spills_to_disk_and_writes_the_same_cast(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: int
) -> None:
    from recorder.cast import writer
    from recorder.cast.leak_scan import scan_cast
    from recorder.cast.writer import CastRecording, publish_atomically

    secret = "Zq9-hunter2-spill"

    def recording() -> CastRecording:
        cast = CastRecording(40, 10, {"title": "big"}, version=version)  # type: ignore[arg-type]
        cast.scan_for([secret])
        for n in range(300):
            if n % 50 == 0:
                cast.marker(n * 0.01, f"step {n}")
            cast.output(n * 0.01 + 0.001, f"line {n} " + "x" * 30 + "\r\n")
            if n == 120:  # a secret cut across two events, both of which spill
                cast.output(n * 0.01 + 0.002, f"pass {secret[:5]}")
                cast.output(n * 0.01 + 0.003, f"{secret[5:]}\r\n")
        cast.output(3.5, "token: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc123DEF\r\n")
        return cast

    plain = recording()
    publish_atomically(plain, tmp_path / "plain.cast")
    monkeypatch.setattr(writer, "SPILL_AT", 500)
    spilled = recording()
    assert spilled._spill is not None and len(spilled.events) < 30  # most of it on disk
    publish_atomically(spilled, tmp_path / "spilled.cast")
    assert (tmp_path / "spilled.cast").read_bytes() == (tmp_path / "plain.cast").read_bytes()
    read_back = load_cast(tmp_path / "plain.cast").events
    assert spilled.to_cast().events == plain.to_cast().events == read_back
    # Scanned as it spilled: the same leaks, at the same events, as a scan of the file.
    from_file = [str(leak) for leak in scan_cast(tmp_path / "plain.cast", [secret])]
    assert [str(leak) for leak in spilled.leaks([secret])] == from_file
    assert [leak.split(": ")[1] for leak in from_file] == ["secret", "kubeconfig-token"]
    assert [str(leak) for leak in plain.leaks([secret])] == from_file
    spilled.close()


def test_event_lines_are_what_the_json_encoder_writes() -> None:
    """The writer's fast line builder gives the very text asciinema's writer would."""
    import random

    from recorder.cast.writer import _encode, _event_line

    rng = random.Random(5)
    chars = 'ab\x1b\r\n\t"\\é漢\u2028\x00\x7f😀'
    for _ in range(5000):
        t = round(rng.choice([rng.random() * 1000, 0, 3, 1e-7, 123456.123456]), 6)
        data = "".join(rng.choice(chars) for _ in range(rng.randrange(30)))
        code = rng.choice("omir")
        assert _event_line(t, code, data) == _encode([t, code, data])


def test_a_spill_that_fails_is_raised_where_the_cast_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spill process's error (a real full disk under the spill file) is not lost:
    publishing raises it, again if asked twice, and the cast already there stays as it was."""
    import subprocess
    import tempfile

    from recorder.cast import writer
    from recorder.cast.writer import CastRecording, publish_atomically

    if os.geteuid() != 0:
        pytest.skip("needs root (mount a small tmpfs)")
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(small)], check=True)
    try:
        monkeypatch.setattr(tempfile, "tempdir", str(small))
        monkeypatch.setattr(writer, "SPILL_AT", 1000)
        target = tmp_path / "demo.cast"
        target.write_text("the old cast\n")
        cast = CastRecording(40, 10)
        for n in range(5000):  # 200 KB of lines: more than the disk holds
            cast.output(n * 0.01, "x" * 40 + "\r\n")
        for _ in range(2):
            with pytest.raises(OSError, match="No space left"):
                publish_atomically(cast, target)
        assert target.read_text() == "the old cast\n"
        cast.close()  # after the error: no second one, no process left behind
        assert cast._spiller is None
    finally:
        subprocess.run(["umount", "-l", str(small)], check=False)


def test_spilled_events_are_encoded_and_scanned_by_a_child_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spill's CPU work runs in its own process (not a thread holding the GIL while
    the recorder reads): its lines and leak scan come back, and closing a recording that
    is dropped stops it at once."""
    from recorder.cast import writer
    from recorder.cast.writer import CastRecording, publish_atomically

    monkeypatch.setattr(writer, "SPILL_AT", 1000)
    secret = "Zq9-hunter2-child"
    cast = CastRecording(40, 10)
    cast.scan_for([secret])
    for n in range(200):
        cast.output(n * 0.01, f"line {n} {secret if n == 150 else 'x' * 17}\r\n")
    spiller = cast._spiller
    assert spiller is not None
    child = spiller._proc
    assert child.pid != os.getpid()
    assert b"recorder.cast.spill_process" in Path(f"/proc/{child.pid}/cmdline").read_bytes()
    assert [leak.split(": ")[1] for leak in map(str, cast.leaks([secret]))] == ["secret"]
    assert child.returncode == 0 and cast._spiller is None  # finished, reaped
    publish_atomically(cast, tmp_path / "c.cast")
    assert load_cast(tmp_path / "c.cast").events[150][2] == f"line 150 {secret}\r\n"
    cast.close()

    dropped = CastRecording(40, 10)
    for n in range(200):
        dropped.output(n * 0.01, "y" * 30 + "\r\n")
    assert dropped._spiller is not None
    child = dropped._spiller._proc
    dropped.close()
    assert child.returncode is not None and dropped._spiller is None and dropped._spill is None


def test_a_spill_that_cannot_start_is_said_at_the_end_not_mid_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No temporary folder to spill to: recording goes on (teardown still runs), and
    publishing fails with the cause, leaving the old cast."""
    import tempfile

    from recorder.cast import writer
    from recorder.cast.writer import CastRecording, publish_atomically

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))
    monkeypatch.setattr(writer, "SPILL_AT", 100)
    cast = CastRecording(40, 10)
    for n in range(50):
        cast.output(n * 0.01, "x" * 40 + "\r\n")  # spills, and fails to, without raising
    target = tmp_path / "demo.cast"
    target.write_text("the old cast\n")
    with pytest.raises(FileNotFoundError):
        publish_atomically(cast, target)
    assert target.read_text() == "the old cast\n"
    cast.close()


def test_a_spilled_cast_is_the_same_where_sendfile_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The spilled lines are copied in the kernel (sendfile); a file system that refuses it
    gets them through Python's buffers, and the same bytes."""
    import errno

    from recorder.cast import writer
    from recorder.cast.writer import CastRecording, publish_atomically

    monkeypatch.setattr(writer, "SPILL_AT", 300)

    def recorded() -> CastRecording:
        cast = CastRecording(40, 10)
        for n in range(100):
            cast.output(n * 0.01, f"line {n} " + "z" * 20 + "\r\n")
        return cast

    kernel = recorded()
    publish_atomically(kernel, tmp_path / "kernel.cast")

    def refused(*args: object) -> int:
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(os, "sendfile", refused)
    python = recorded()
    publish_atomically(python, tmp_path / "python.cast")
    assert (tmp_path / "kernel.cast").read_bytes() == (tmp_path / "python.cast").read_bytes()
    assert len(load_cast(tmp_path / "python.cast").events) == 100
    kernel.close()
    python.close()


def test_the_spill_process_ignores_modules_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A speaker's folder may hold a `struct.py` or `pickle.py`: the spill process, started
    there, still imports the standard library's."""
    from recorder.cast import writer
    from recorder.cast.writer import CastRecording, publish_atomically

    for name in ("struct", "pickle", "json"):
        (tmp_path / f"{name}.py").write_text("raise SystemExit('not the standard library')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(writer, "SPILL_AT", 100)
    cast = CastRecording(40, 10)
    for n in range(50):
        cast.output(n * 0.01, "x" * 40 + "\r\n")
    publish_atomically(cast, tmp_path / "out.cast")
    assert len(load_cast(tmp_path / "out.cast").events) == 50
    cast.close()
