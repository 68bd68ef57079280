"""Public casts: how every `stagecast` command fares on casts that other projects publish.

    .venv/bin/python benchmarks/public_casts.py CASTS_DIR [--json PATH] [--timeout S] [--jobs N]

CASTS_DIR holds casts gathered from public repositories (asciicast v1 `.json`, v2 and v3
`.cast`, and whatever else those projects ship next to them: broken fixtures, other JSON).
This script holds no cast data; it runs, for every file in CASTS_DIR (every regular file but
dot files and `SOURCES.tsv`/`*.tsv`/`*.md`, which describe where the casts came from):

- `stagecast play --list X`;
- `stagecast play --speed 1000 --idle-limit 0.01 X`, stdin not a tty (/dev/null): it must end,
  exit 0, within the timeout;
- `stagecast diff X X`: exit 0 and `EQUIVALENT`, a cast is the same as itself;
- `stagecast scan X`: exit 0 (clean) or 1 (leaks found);
- `stagecast check scenarios/tour.yaml --against X`: exit 0 or 1 (the cast is read and the
  steps are answered; a stranger's cast is not expected to match the tour);
- `stagecast upload X --force --server URL` against a local fake asciinema server started here
  (it answers POST /api/asciicasts as asciinema-server does: 201 with the recording's URL for
  an asciicast v1, v2 or v3 body, 422 for anything else), with ASCIINEMA_CONFIG_HOME in a
  temporary directory holding a known install id: exit 0;

and once `stagecast site CASTS_DIR -o TMP` over the whole folder (exit 0, or 1 when some
files were left out as unreadable).

Every outcome is one of:
- ok: the exit code the command is expected to give for a readable cast (above);
- refused: exit 2, the one-line refusal on stderr (an unreadable cast, a leak `upload`
  will not send): the reason is kept, with the file's path replaced by `<cast>`;
- failed: another exit code without a crash (diff not EQUIVALENT, the server said no);
- crashed: a Python traceback on stderr, `stagecast: internal error` (exit 70: the CLI's
  catch-all for an unexpected exception), death by a signal, or no exit within the timeout.

Printed: a rich table per command (ok / refused / failed / crashed, median and max time), the
refusal reasons with their counts, and every failure and crash with its file and last stderr
line. `--json PATH` writes every run (command, file, exit code, seconds, traceback, timeout,
outcome, stderr's last line) and the summary. Exit status: 0 when nothing crashed, 1 when
something did (this is a survey, not a test; the numbers are never a threshold).
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import email.parser
import email.policy
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
STAGECAST = str(Path(sys.executable).parent / "stagecast")
TOUR = ROOT / "scenarios" / "tour.yaml"
INSTALL_ID = "5f0c1e2d-3b4a-4c5d-8e7f-9a0b1c2d3e4f"
NOT_CASTS = {".tsv", ".md"}

# What each command exits with for a readable cast.
EXPECTED: dict[str, set[int]] = {
    "play --list": {0},
    "play --speed 1000": {0},
    "diff X X": {0},
    "scan": {0, 1},
    "check tour.yaml": {0, 1},
    "upload --force": {0},
    "site": {0, 1},
}


@dataclass
class Run:
    command: str
    file: str
    exit_code: int | None  # None: killed at the timeout
    seconds: float
    traceback: bool
    timeout: bool
    outcome: str = ""  # ok | refused | failed | crashed
    reason: str = ""  # stderr's last line (refused/failed/crashed)
    extra: dict[str, Any] = field(default_factory=dict)


# --- the fake asciinema server -----------------------------------------------------------


def _is_asciicast(data: bytes) -> bool:
    """What asciinema-server accepts: a v2/v3 header line, or a whole v1 JSON document."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    for candidate in (text.split("\n", 1)[0], text):
        try:
            header = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(header, dict) and header.get("version") in (1, 2, 3):
            return True
    return False


def _handler(received: list[int]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def reply(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
            raw = body.encode()
            self.send_response(status)
            for name, value in {"Content-Length": str(len(raw)), **(headers or {})}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            auth = self.headers.get("Authorization", "")
            password = ""
            if auth.startswith("Basic "):
                password = base64.b64decode(auth[6:]).decode().partition(":")[2]
            head = f"Content-Type: {self.headers.get('Content-Type', '')}\r\n\r\n".encode()
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
            name, data = None, b""
            for part in message.iter_parts() if message.is_multipart() else []:
                name = part.get_param("name", header="content-disposition")
                payload = part.get_payload(decode=True)
                data = payload if isinstance(payload, bytes) else b""
            if self.path != "/api/asciicasts":
                return self.reply(404, "Not Found")
            if password != INSTALL_ID:
                return self.reply(401, "Unauthorized")
            if name != "asciicast":
                return self.reply(400, "missing asciicast field")
            if not _is_asciicast(data):
                return self.reply(422, '{"errors": {"version": ["is invalid"]}}\n')
            received.append(len(data))
            url = f"http://{self.headers.get('Host')}/a/{len(received)}"
            headers = {"Location": url, "Content-Type": "application/json; charset=utf-8"}
            return self.reply(201, json.dumps({"url": url, "message": f"View at {url}"}), headers)

    return Handler


@contextmanager
def fake_server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler([]))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


# --- running the commands ----------------------------------------------------------------


def commands(server: str) -> dict[str, Callable[[str], list[str]]]:
    tour = str(TOUR)
    return {
        "play --list": lambda f: ["play", "--list", f],
        "play --speed 1000": lambda f: ["play", "--speed", "1000", "--idle-limit", "0.01", f],
        "diff X X": lambda f: ["diff", f, f],
        "scan": lambda f: ["scan", f],
        "check tour.yaml": lambda f: ["check", tour, "--against", f],
        "upload --force": lambda f: ["upload", f, "--force", "--server", server],
    }


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _crashed(stderr: str) -> bool:
    return "Traceback (most recent call last)" in stderr or "internal error" in stderr


def run(
    command: str, argv: list[str], file: str, env: dict[str, str], timeout: float, cwd: Path
) -> tuple[Run, str, str]:
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [STAGECAST, *argv],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            env=env,
            cwd=cwd,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode("utf-8", "replace") if isinstance(exc.stderr, bytes) else ""
        seconds = time.perf_counter() - start
        result = Run(command, file, None, seconds, _crashed(err), True, "crashed")
        result.reason = f"no exit after {timeout:g} s"
        return result, "", err
    seconds = time.perf_counter() - start
    result = Run(command, file, done.returncode, seconds, "Traceback" in done.stderr, False)
    result.outcome = classify(command, done.returncode, done.stdout, done.stderr)
    if result.outcome != "ok":
        result.reason = _last_line(done.stderr) or _last_line(done.stdout)
    return result, done.stdout, done.stderr


def classify(command: str, code: int, stdout: str, stderr: str) -> str:
    if _crashed(stderr) or code < 0 or code == 70:
        return "crashed"
    if command == "diff X X" and code == 0 and "EQUIVALENT" not in stdout:
        return "failed"
    if code in EXPECTED[command]:
        return "ok"
    return "refused" if code == 2 else "failed"


def generic(reason: str, file: str) -> str:
    """The refusal with the file's path as `<cast>`, so that equal reasons group."""
    reason = reason.replace(file, "<cast>").replace(Path(file).name, "<cast>")
    return re.sub(r"^stagecast: ", "", reason)


def environment(tmp: Path) -> dict[str, str]:
    home = tmp / "asciinema-config"
    home.mkdir()
    (home / "install-id").write_text(INSTALL_ID + "\n")
    env = dict(os.environ)
    env.update({"ASCIINEMA_CONFIG_HOME": str(home), "USER": "public-casts", "TERM": "dumb"})
    env.update({"COLUMNS": "100", "LINES": "30"})
    for name in ("ASCIINEMA_API_URL", "ASCIINEMA_INSTALL_ID", "ASCIINEMA_API_TOKEN"):
        env.pop(name, None)
    return env


def cast_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix not in NOT_CASTS
    )


def survey(folder: Path, timeout: float, jobs: int, console: Console) -> list[Run]:
    files = cast_files(folder)
    if not files:
        raise SystemExit(f"{folder}: no files")
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="public-casts-") as tmpdir, fake_server() as url:
        tmp = Path(tmpdir)
        env = environment(tmp)
        table = commands(url)
        work = [(name, make(str(f)), str(f)) for f in files for name, make in table.items()]
        console.print(f"{len(files)} files x {len(table)} commands, {jobs} at a time ...")
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(run, name, argv, f, env, timeout, tmp) for name, argv, f in work]
            for future in futures:
                runs.append(future.result()[0])
        out = tmp / "site"
        argv = ["site", str(folder), "-o", str(out)]
        site, stdout, stderr = run("site", argv, str(folder), env, timeout * 4, tmp)
        site.extra = {
            "summary": _last_line(stdout),
            "pages": len(list(out.glob("*.html"))) - 1 if out.is_dir() else 0,
            "left_out": [line for line in stderr.splitlines() if line.startswith("stagecast: ")],
        }
        runs.append(site)
    return runs


# --- the report --------------------------------------------------------------------------


def summary(runs: list[Run]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name in EXPECTED:
        mine = [r for r in runs if r.command == name]
        if not mine:
            continue
        counts = Counter(r.outcome for r in mine)
        seconds = [r.seconds for r in mine]
        out[name] = {
            "files": len(mine),
            **{k: counts.get(k, 0) for k in ("ok", "refused", "failed", "crashed")},
            "median_s": round(statistics.median(seconds), 3),
            "max_s": round(max(seconds), 3),
            "tracebacks": sum(r.traceback for r in mine),
            "timeouts": sum(r.timeout for r in mine),
        }
    return out


def print_report(runs: list[Run], console: Console) -> None:
    table = Table(title="stagecast over public casts")
    for column in ("command", "files", "ok", "refused", "failed", "crashed", "median s", "max s"):
        table.add_column(column, justify="left" if column == "command" else "right")
    for name, row in summary(runs).items():
        table.add_row(
            name,
            str(row["files"]),
            str(row["ok"]),
            str(row["refused"]),
            str(row["failed"]),
            f"[red]{row['crashed']}[/red]" if row["crashed"] else "0",
            f"{row['median_s']:.2f}",
            f"{row['max_s']:.2f}",
        )
    console.print(table)

    refusals = Counter(
        (r.command, generic(r.reason, r.file)) for r in runs if r.outcome == "refused"
    )
    if refusals:
        reasons = Table(title="refused (exit 2): the one-line reasons")
        for column in ("command", "files", "reason"):
            reasons.add_column(column, overflow="fold")
        for (name, reason), n in sorted(refusals.items()):
            reasons.add_row(name, str(n), escape(reason))
        console.print(reasons)

    bad = [r for r in runs if r.outcome in ("failed", "crashed")]
    if bad:
        problems = Table(title="failed and crashed")
        for column in ("command", "outcome", "exit", "file", "stderr's last line"):
            problems.add_column(column, overflow="fold")
        for r in bad:
            code = "timeout" if r.exit_code is None else str(r.exit_code)
            problems.add_row(
                r.command, r.outcome, code, escape(Path(r.file).name), escape(r.reason)
            )
        console.print(problems)

    site = next((r for r in runs if r.command == "site"), None)
    if site is not None:
        console.print(
            f"site: {site.outcome}, exit {site.exit_code}, {site.seconds:.1f} s, "
            f"{site.extra.get('pages')} pages; {site.extra.get('summary')}",
            markup=False,
        )
        for line in site.extra.get("left_out", []):
            console.print(f"  left out: {line}", markup=False, highlight=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("casts_dir", type=Path)
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the runs as JSON")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per command")
    parser.add_argument("--jobs", type=int, default=1, help="commands run at once (default 1)")
    args = parser.parse_args()
    if not args.casts_dir.is_dir():
        parser.error(f"{args.casts_dir}: not a directory")
    console = Console(width=None if sys.stdout.isatty() else 140)
    started = time.perf_counter()
    runs = survey(args.casts_dir.resolve(), args.timeout, max(1, args.jobs), console)
    print_report(runs, console)
    console.print(f"{time.perf_counter() - started:.0f} s in all")
    if args.json:
        report = {
            "casts_dir": str(args.casts_dir),
            "files": len(cast_files(args.casts_dir)),
            "summary": summary(runs),
            "runs": [asdict(r) for r in runs],
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 1 if any(r.outcome == "crashed" for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
