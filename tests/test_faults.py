"""Faults a user can meet while writing casts: a full disk (a small tmpfs), a read-only
folder (a read-only bind mount), no permission (chmod, as an unprivileged user), a target
that is not a folder, a broken pipe, and two runs writing the same cast. Each is one line
naming the path and the cause, with a documented exit code, and never a broken cast."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ROOT, run_cli, scenario_text
from recorder.cast.reader import load_cast

NOBODY = 65534


def _scenario(tmp_path: Path, body: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(scenario_text(body))
    return path


def _needs_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root (mount)")


@contextlib.contextmanager
def _mounted(*args: str, target: Path) -> Iterator[Path]:
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", *args, str(target)], check=True, capture_output=True)
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False, capture_output=True)


def _assert_one_line(stderr: str, *needles: str) -> None:
    lines = [line for line in stderr.splitlines() if line.startswith("stagecast:")]
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    assert any(all(n in line for n in needles) for line in lines), stderr


def test_a_full_disk_fails_the_run_in_one_line_and_keeps_the_old_cast(tmp_path: Path) -> None:
    _needs_root()
    torn_down = tmp_path / "torn-down"
    big = "head -c 300000 /dev/zero | tr '\\\\0' x | fold -w 100"
    body = f"steps:\n  - run: {big}\nteardown:\n  - run: touch {torn_down}\n"
    scenario = _scenario(tmp_path, body)
    with _mounted("-t", "tmpfs", "-o", "size=256k", "tmpfs", target=tmp_path / "small") as disk:
        old = disk / "s.cast"
        old.write_text('{"version": 2, "width": 80, "height": 24}\n[0.1, "o", "old"]\n')
        before = old.read_bytes()
        done = run_cli("record", str(scenario), "-o", str(old), "--cps", "1000")
        assert done.returncode == 1, done.stdout + done.stderr
        assert "No space left on device" in done.stdout + done.stderr
        assert "internal error" not in done.stdout + done.stderr
        assert old.read_bytes() == before and load_cast(old).events
        assert not list(disk.glob(".*.tmp")), "a temp file was left on the full disk"
        assert torn_down.exists()
        done = run_cli("record", str(scenario), "-o", str(old), "--cps", "1000", "--json")
        assert done.returncode == 1 and '"error":' in done.stdout and "No space" in done.stdout


def test_a_read_only_folder_runs_nothing(tmp_path: Path) -> None:
    _needs_root()
    ran = tmp_path / "ran"
    scenario = _scenario(tmp_path, f"steps:\n  - run: touch {ran}\n")
    folder = tmp_path / "ro"
    folder.mkdir()
    with _mounted("--bind", str(folder), target=folder):
        subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
        done = run_cli("record", str(scenario), "-o", str(folder / "s.cast"))
    assert done.returncode == 2
    _assert_one_line(done.stderr, str(folder / "s.cast"), "Read-only file system")
    assert not ran.exists()


def test_no_permission_runs_nothing(tmp_path: Path) -> None:
    _needs_root()
    if shutil.which("setpriv") is None:
        pytest.skip("needs setpriv (util-linux) to run as an unprivileged user")
    work = Path(tempfile.mkdtemp(prefix="stagecast-nobody-"))  # pytest's tmp is root-only
    os.chmod(work, 0o755)
    ran = work / "ran"
    scenario = _scenario(work, f"steps:\n  - run: touch {ran}\n")
    locked = work / "locked"
    locked.mkdir()
    os.chmod(locked, 0o555)
    os.chown(work, NOBODY, NOBODY)
    done = subprocess.run(
        [
            "setpriv",
            f"--reuid={NOBODY}",
            f"--regid={NOBODY}",
            "--clear-groups",
            sys.executable,
            "-m",
            "stagecast",
            "record",
            str(scenario),
            "-o",
            str(locked / "s.cast"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        timeout=120,
        env={**os.environ, "HOME": str(work)},
    )
    try:
        assert done.returncode == 2, done.stdout + done.stderr
        _assert_one_line(done.stderr, str(locked / "s.cast"), "cannot write", "Permission denied")
        assert not ran.exists()
    finally:
        shutil.rmtree(work)


def test_a_target_under_a_file_runs_nothing_and_a_missing_folder_is_made(tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    scenario = _scenario(tmp_path, f"steps:\n  - run: touch {ran}\n")
    (tmp_path / "file").write_text("x")
    done = run_cli("record", str(scenario), "-o", str(tmp_path / "file" / "s.cast"))
    assert done.returncode == 2
    _assert_one_line(done.stderr, "is not a folder")
    assert not ran.exists()
    deep = tmp_path / "new" / "deeper" / "s.cast"
    done = run_cli("record", str(scenario), "-o", str(deep), "--cps", "1000")
    assert done.returncode == 0 and load_cast(deep).verified


def test_a_broken_pipe_is_one_line() -> None:
    done = subprocess.run(
        f"{sys.executable} -m stagecast schema | head -c 10 >/dev/null; exit ${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode in (0, 1)  # 0 when the schema fitted in the pipe before it closed
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    if done.returncode == 1:
        assert done.stderr.strip() == "stagecast: stdout was closed before all output was written"


def test_two_records_of_the_same_cast_never_break_each_other(tmp_path: Path) -> None:
    started = tmp_path / "started"
    scenario = _scenario(tmp_path, f"steps:\n  - run: touch {started}; sleep 2; echo done\n")
    cast = tmp_path / "casts" / "s.cast"
    first = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stagecast",
            "record",
            str(scenario),
            "-o",
            str(cast),
            "--cps",
            "1000",
        ],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not started.exists():
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.05)
    second = run_cli("record", str(scenario), "-o", str(cast), "--cps", "1000")
    assert second.returncode == 2
    _assert_one_line(second.stderr, str(cast), "another stagecast (pid", "is writing this cast")
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, out + err
    assert load_cast(cast).verified
    again = run_cli("record", str(scenario), "-o", str(cast), "--cps", "1000")
    assert again.returncode == 0, again.stderr  # the lock died with the first run


def test_a_stale_temp_is_removed_only_when_its_owner_is_gone(tmp_path: Path) -> None:
    from recorder.cast.writer import remove_stale_temps

    target = tmp_path / "s.cast"
    mine = tmp_path / f".s.cast.{os.getpid()}.abc.tmp"
    dead = tmp_path / ".s.cast.999999999.abc.tmp"
    legacy = tmp_path / ".s.cast.xyz.tmp"  # from a stagecast before owners were named
    for path in (mine, dead, legacy):
        path.write_text("partial")
    remove_stale_temps(target)
    assert mine.exists() and not dead.exists() and not legacy.exists()


@pytest.mark.parametrize(
    ("start", "says"),
    [
        (b"not a cast\n", "it looks like plain text, starting 'not a cast' (2,048 MB)"),
        (b'{"a": 1,\n', "a 2.0 GB JSON document: too big to read as an asciicast v1 file"),
        (b'{"version": 2, "width": 80, "height": 24}\n[1, "o", "x"]\nzzz\n', "line 3:"),
    ],
    ids=["garbage", "json", "bad-event"],
)
def test_a_2gb_file_is_refused_from_its_first_lines_in_bounded_memory(
    tmp_path: Path, start: bytes, says: str
) -> None:
    """Sparse: 2 GB on paper, nothing on disk. The reader must not read it whole."""
    import resource

    from recorder.cast.reader import CastReadError

    path = tmp_path / "huge.cast"
    with open(path, "wb") as f:
        f.write(start)
        f.truncate(2 << 30)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(CastReadError) as caught:
        load_cast(path)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert says in str(caught.value)
    assert grown_mb < 64, f"reading grew the process by {grown_mb:.0f} MB"


def test_a_big_scenario_is_refused_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("title: big\nsteps:\n" + "  - run: echo x\n" * 80_000)
    done = run_cli("lint", str(big))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"{big}:1:1: the file is 1.3 MB: a scenario may be at most 1 MB (split it with `include:`)"
    )
    many = tmp_path / "many.yaml"
    many.write_text("title: many\nsteps:\n" + "  - run: echo x\n" * 2001)
    done = run_cli("lint", str(many))
    assert done.returncode == 2 and "2001 steps (includes expanded)" in done.stderr


def test_two_rehearsals_writing_the_same_files_never_break_each_other(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, "steps:\n  - run: sleep 1; echo done\n")
    out, junit = tmp_path / "casts", tmp_path / "junit.xml"
    args = ["rehearse", str(scenario), "--cast-dir", str(out), "--junit", str(junit)]
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "stagecast", *args],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for run in runs:
        stdout, stderr = run.communicate(timeout=120)
        assert run.returncode == 0, stdout + stderr
    assert load_cast(out / "s.cast").events
    assert junit.read_text().startswith("<?xml") and junit.read_text().rstrip().endswith(">")
    assert not list(out.glob(".*.tmp")) and not list(tmp_path.glob(".*.tmp"))
