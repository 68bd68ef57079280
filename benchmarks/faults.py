"""Fault injection: every fault a user can meet while recording, and what it leaves behind.

    .venv/bin/python benchmarks/faults.py [--json] [--skip-secret-forms]

Rows, each a real `stagecast record` in a temporary directory, beside an older cast of the
same name (which must survive):

- **signals × moments**: SIGINT, SIGTERM, SIGHUP and SIGQUIT while the hidden setup runs,
  while a command is typed at human speed, while it runs, and while teardown runs;
- **disk full** (a 256 KB tmpfs; root), **read-only target** (a read-only bind mount;
  root), **concurrent runs** (a second record of the same cast while the first runs);
- **secret forms**: every encoding of a declared secret (`benchmarks/secret_forms.py`).

Every scenario declares a secret and prints it (base64-encoded), so every row also checks
that no file left in the directory holds the secret in any of its forms. A row is ok when
teardown ran, the cast is intact (the old one byte for byte, or a new verified one), and no
secret is on disk. Root is needed for the tmpfs and bind-mount rows (skipped otherwise).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from secret_forms import traces  # noqa: E402

from recorder.cast.reader import CastReadError, load_cast  # noqa: E402

VAR = "FAULTS_BENCH_TOKEN"
SECRET = "faults-bench-s3cr3t-value"
OLD_CAST = '{"version": 2, "width": 80, "height": 24}\n[0.1, "o", "the old cast"]\n'
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT]
MOMENTS = ["setup", "typing", "command", "teardown"]


@dataclass
class Row:
    fault: str
    exit: int | None
    teardown_ran: bool
    cast_intact: bool
    no_secret: bool
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.teardown_ran and self.cast_intact and self.no_secret


def scenario(tmp: Path, moment: str) -> str:
    """Markers in `tmp` say where the run is; the step prints the secret, base64-encoded."""
    slow = {"setup": "sleep 30", "command": "sleep 30"}
    setup = (
        f"touch {tmp}/setup-started; {slow.get('setup', 'true') if moment == 'setup' else 'true'}"
    )
    command = (
        f'echo "$TOKEN" | base64; touch {tmp}/started; '
        f"{'sleep 30' if moment == 'command' else 'true'}"
    )
    if moment == "typing":  # long enough to still be typing when the signal comes
        command = "echo typing a long command at human speed, one key at a time; " + command
    teardown = f"touch {tmp}/teardown-started; {'sleep 3' if moment == 'teardown' else 'true'}"
    return "\n".join(
        [
            "title: faults",
            f"env: {{TOKEN: {{from_env: {VAR}, secret: true}}}}",
            f"setup:\n  - run: {json.dumps(setup)}",
            f"steps:\n  - run: {json.dumps(command)}",
            f"teardown:\n  - run: {json.dumps(teardown + f'; touch {tmp}/torn-down')}",
            "",
        ]
    )


def start(
    tmp: Path, cast: Path, cps: str | None = "1000", text: str | None = None
) -> subprocess.Popen[str]:
    (tmp / "s.yaml").write_text(text or scenario(tmp, tmp.name))
    args = [sys.executable, "-m", "stagecast", "record", str(tmp / "s.yaml"), "-o", str(cast)]
    return subprocess.Popen(
        args + (["--cps", cps] if cps else []),
        cwd=ROOT,
        env={**os.environ, VAR: SECRET},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{path.name} never appeared")
        time.sleep(0.02)


def secret_on_disk(folder: Path) -> bool:
    forms = traces(SECRET).values()
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix != ".yaml":
            data = path.read_bytes().decode("utf-8", errors="replace")
            if any(form in data for form in forms):
                return True
    return False


def intact(cast: Path, completed: bool) -> bool:
    """The old cast byte for byte, or (the run completed) a new verified one."""
    if cast.read_text() == OLD_CAST:
        return True
    if not completed:
        return False
    try:
        return load_cast(cast).verified
    except CastReadError:
        return False


def judge(fault: str, tmp: Path, cast: Path, proc: subprocess.Popen[str], note: str = "") -> Row:
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        note = "hung: killed"
    if "Traceback" in out + err or "internal error" in out + err:
        note = "traceback"
    return Row(
        fault,
        proc.returncode,
        (tmp / "torn-down").exists(),
        intact(cast, proc.returncode == 0),
        not secret_on_disk(tmp),
        note or _gist(out + err),
    )


def _gist(output: str) -> str:
    """The line that says what happened: the interruption, the refusal, or the last one."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for needle in ("interrupted (", "stagecast:", "cannot write"):
        for line in lines:
            if needle in line:
                return line[line.index(needle) :][:70]
    return lines[-1][:70] if lines else ""


@contextlib.contextmanager
def workdir(name: str) -> Iterator[tuple[Path, Path]]:
    with tempfile.TemporaryDirectory(prefix="stagecast-faults-") as raw:
        tmp = Path(raw) / name
        tmp.mkdir()
        cast = tmp / "casts" / "s.cast"
        cast.parent.mkdir()
        cast.write_text(OLD_CAST)
        yield tmp, cast


def signal_row(signum: signal.Signals, moment: str) -> Row:
    with workdir(moment) as (tmp, cast):
        human = moment == "typing"
        proc = start(tmp, cast, cps=None if human else "1000")
        marker = {"setup": "setup-started", "typing": "setup-started", "command": "started"}
        wait_for(tmp / marker.get(moment, "teardown-started"), proc)
        time.sleep(0.6 if human else 0.3)
        os.killpg(proc.pid, signum)
        return judge(f"{signum.name} during {moment}", tmp, cast, proc)


@contextlib.contextmanager
def mounted(*args: str, target: Path) -> Iterator[None]:
    subprocess.run(["mount", *args, str(target)], check=True, capture_output=True)
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False, capture_output=True)


def disk_full_row() -> Row:
    with workdir("command") as (tmp, cast):
        small = tmp / "small"
        small.mkdir()
        with mounted("-t", "tmpfs", "-o", "size=256k", "tmpfs", target=small):
            target = small / "s.cast"
            target.write_text(OLD_CAST)
            big = "head -c 400000 /dev/zero | tr '\\\\0' x | fold -w 100; touch"
            text = scenario(tmp, "none").replace("echo", big + " /dev/null; echo", 1)
            proc = start(tmp, target, text=text)
            row = judge("disk full (256 KB tmpfs)", tmp, target, proc)
        return row


def read_only_row() -> Row:
    with workdir("none") as (tmp, cast):
        folder = cast.parent
        with mounted("--bind", str(folder), target=folder):
            subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
            proc = start(tmp, cast)
            row = judge("read-only target", tmp, cast, proc)
        # Nothing ran, so no teardown was due: that is what "refused before running" means.
        row.teardown_ran = not (tmp / "setup-started").exists()
        return row


def concurrent_row() -> Row:
    with workdir("command") as (tmp, cast):
        first = start(tmp, cast)
        wait_for(tmp / "started", first)
        second = subprocess.run(
            [sys.executable, "-m", "stagecast", "record", str(tmp / "s.yaml"), "-o", str(cast)],
            cwd=ROOT,
            env={**os.environ, VAR: SECRET},
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        os.killpg(first.pid, signal.SIGTERM)
        row = judge("two records of one cast", tmp, cast, first)
        row.note = f"second run: exit {second.returncode}: {second.stderr.strip()[:60]}"
        row.cast_intact = row.cast_intact and second.returncode == 2
        return row


def secret_form_rows() -> list[Row]:
    import secret_forms

    rows = []
    for form, command in secret_forms.FORMS:
        with tempfile.TemporaryDirectory(prefix="stagecast-faults-") as raw:
            env = {**os.environ, secret_forms.VAR: secret_forms.SECRET}
            got = secret_forms.measure(form, command, Path(raw), env)
            rows.append(Row(f"secret as {form}", 0, True, got.cast_written, got.ok, got.note))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--skip-secret-forms", action="store_true")
    args = parser.parse_args()
    jobs: list[Callable[[], Row | list[Row]]] = [
        (lambda s=s, m=m: signal_row(s, m)) for s in SIGNALS for m in MOMENTS
    ]
    jobs.append(concurrent_row)
    if os.geteuid() == 0:
        jobs += [disk_full_row, read_only_row]
    if not args.skip_secret_forms:
        jobs.append(secret_form_rows)
    rows: list[Row] = []
    for job in jobs:
        got = job()
        rows += got if isinstance(got, list) else [got]
        if not args.json:
            for row in got if isinstance(got, list) else [got]:
                print(line(row), flush=True)
    if args.json:
        print(json.dumps([{**asdict(r), "ok": r.ok} for r in rows], indent=2))
    else:
        good = sum(r.ok for r in rows)
        print(f"{good}/{len(rows)} rows: teardown ran, cast intact, no secret")
    return 0


def line(row: Row) -> str:
    def mark(ok: bool) -> str:
        return "✓" if ok else "✗"

    return (
        f"{row.fault:<32} exit {row.exit!s:>4}  teardown {mark(row.teardown_ran)}  "
        f"cast {mark(row.cast_intact)}  secret-free {mark(row.no_secret)}  {row.note}"
    )


if __name__ == "__main__":
    sys.exit(main())
