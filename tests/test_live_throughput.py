"""`stagecast live --auto` with a step that prints tens of MB, in a real pty read as a terminal
reads it: the audience sees the output as it comes (the step waits until the test has seen its
last line on the audience's terminal, so output shown only at the end would never finish),
its checks pass on the last line, and the show's recording has it. A declared secret printed
base64- and hex-encoded all through a big output reaches neither the audience nor the recording.
No timing is asserted: benchmarks/throughput.py measures speed and memory."""

from __future__ import annotations

import base64
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pexpect

from conftest import ROOT
from recorder.cast.reader import stream_cast
from recorder.shell.output_cleaner import REDACTED
from recorder.shell.session import ShellSession

LINES = 600_000
X44 = "x" * 44
# 31 MB in 600 000 lines: past the checks' 8 MB window and the runner's 4 MB spill.
BIG = f"seq 1 {LINES} | sed 's/$/ {X44}/'"
LAST = f"{LINES} {X44}"
TOKEN = "s3cr3t-live-token+value/0123456789"
TAIL = 1 << 20  # what the test keeps of the audience's output to look for a line in


def scenario(folder: Path, body: str) -> Path:
    path = folder / "big.yaml"
    head = "title: big live\nterminal: {cols: 80, rows: 24}\nprompt: 'demo$ '\n"
    path.write_text(head + "typing: {cps: 100, think: 0}\n" + body)
    return path


class Audience:
    """`stagecast live --auto` in a pty; the test reads the pty as the audience's terminal."""

    def __init__(self, path: Path, *args: str, env: dict[str, str] | None = None) -> None:
        argv = ["-m", "stagecast", "live", "--auto", "--no-fallback"]
        argv += ["--socket", str(path.parent / f"sock-{time.monotonic_ns()}" / "live.sock")]
        self.child = pexpect.spawn(
            sys.executable,
            [*argv, *args, str(path)],
            cwd=str(ROOT),
            env={**os.environ, "NO_COLOR": "1", **(env or {})},
            dimensions=(24, 80),
            timeout=600,
        )
        self.tail = b""  # the last TAIL bytes read
        self.size = 0

    def chunks(self) -> Iterator[bytes]:
        """What the audience's terminal reads, as it reads it, until stagecast exits."""
        while True:
            try:
                data = self.child.read_nonblocking(1 << 20, timeout=600)
            except pexpect.EOF:
                return
            self.size += len(data)
            self.tail = (self.tail + data)[-TAIL:]
            yield data

    def wait_for(self, needle: bytes) -> None:
        for _ in self.chunks():
            if needle in self.tail:
                return
        raise AssertionError(f"{needle!r} never reached the audience; last:\n{self.tail[-2000:]!r}")

    def finish(self) -> int:
        for _ in self.chunks():
            pass
        self.child.close()
        assert self.child.exitstatus is not None
        return self.child.exitstatus


def cast_output(path: Path) -> Iterator[str]:
    """The recording's output events' text, read as a stream."""
    for _, code, data in stream_cast(path).events():
        if code == "o":
            yield data


def test_a_step_printing_31mb_streams_to_the_audience_and_passes_on_its_last_line(
    tmp_path: Path,
) -> None:
    path = scenario(
        tmp_path,
        "steps:\n"
        f"  - run: {json.dumps(f'{BIG}; until [ -e shown ]; do sleep 0.1; done; echo the end')}\n"
        "    timeout: 600\n"
        "    expect:\n"
        f"      contains: [{json.dumps(LAST)}, the end]\n"
        f"      lines: ['^1 x', '^300000 x', '^{LINES} x', '^the end$']\n",
    )
    archive = tmp_path / "show.cast"
    live = Audience(path, "--save-cast", str(archive))
    # The command waits for this file, created once its last line is on the audience's
    # terminal: a live that showed the output only once the command ended would wait forever.
    live.wait_for(f"\n{LAST}\r".encode())  # the terminal makes \r\n of each \n
    (tmp_path / "shown").touch()
    live.wait_for(b"\nthe end\r")
    assert live.finish() == 0, live.tail[-2000:]
    assert b"PASS" in live.tail and b"1 passed" in live.tail
    assert live.size > LINES * 50  # the whole output went through the audience's terminal
    provenance = stream_cast(archive).head.provenance
    assert provenance is not None and provenance.verified
    assert provenance.live is not None and provenance.live.completed
    carry, found = "", False
    for text in cast_output(archive):
        found = found or f"\r\n{LAST}\r\n" in carry + text
        carry = (carry + text)[-200:]
    assert found, "the show's recording ends the big output with its last line"


def test_an_encoded_secret_all_through_a_big_output_never_reaches_the_audience(
    tmp_path: Path,
) -> None:
    """5000 lines of varying length, each followed by the secret in base64 and in hex: the
    forms land at every offset of the reads. Then the command waits, with its last lines
    still within the tail held back in case they start a secret: shown once the shell is
    quiet, or the test would wait forever; and its very last line once the step is over."""
    printer = (
        'b=$(printf %s "$TOKEN" | base64 -w0); '
        "h=$(printf %s \"$TOKEN\" | od -An -tx1 | tr -d ' \\n'); "
        'awk -v b="$b" -v h="$h" \'BEGIN { s = "x"; while (length(s) < 4096) s = s s; '
        'for (i = 1; i <= 5000; i++) printf "%s\\n%d %s %s\\n", substr(s, 1, i * 37 % 4096), '
        "i, b, h }'; "
        'echo "$TOKEN"; echo all-printed; until [ -e go ]; do sleep 0.1; done; echo "the-ve"ry-end'
    )
    path = scenario(
        tmp_path,
        "env: {TOKEN: {from_env: LIVE_BIG_TOKEN, secret: true}}\n"
        "steps:\n"
        f"  - run: {json.dumps(printer)}\n"
        "    timeout: 600\n"
        "    expect: {contains: ['5000 ', all-printed]}\n",
    )
    archive = tmp_path / "show.cast"
    live = Audience(path, "--save-cast", str(archive), env={"LIVE_BIG_TOKEN": TOKEN})
    data = TOKEN.encode()
    forms = [TOKEN, base64.b64encode(data).decode(), data.hex()]
    forbidden = [piece for f in forms for piece in (f, f[: len(f) // 2], f[len(f) // 2 :])]
    shown: list[bytes] = []
    for chunk in live.chunks():
        shown.append(chunk)
        if b"\nall-printed\r" in live.tail:
            break
    (tmp_path / "go").touch()
    assert live.finish() == 0, live.tail[-2000:]
    audience = (b"".join(shown) + live.tail).decode("utf-8", "replace")
    assert audience.count(REDACTED) >= 2 * 5000 + 1
    assert "5000 [REDACTED] [REDACTED]" in audience
    assert not [piece for piece in forbidden if piece in audience]
    # The step's last line, within the tail held back, is shown once the step is over
    # (the last step: no next one to show it).
    assert b"\nthe-very-end\r" in live.tail
    assert b"may show a secret" not in live.tail  # the recording's leak scan found nothing
    recorded = "".join(cast_output(archive))
    assert recorded.count(REDACTED) >= 2 * 5000 + 1
    assert not [piece for piece in forbidden if piece in recorded]


def test_the_session_calls_on_quiet_while_a_command_still_runs(tmp_path: Path) -> None:
    session = ShellSession(cols=80, rows=24, cwd=str(tmp_path))
    quiet: list[str] = []  # the output so far, each time the shell went quiet
    try:
        session.start()
        session.on_quiet = lambda: quiet.append(session.text(0))
        session.quiet_after = 0.03
        mark = session.offset
        # The words are quoted apart so that the echo of the line holds neither.
        session.send('echo "bef"ore; until [ -e go ]; do sleep 0.1; done; echo "aft"er\r')
        session.wait_for(re.compile(r"before\r\n"), mark, 30)
        for _ in range(600):  # the command waits for `go`: only `on_quiet` ends this loop
            if any("before\r\n" in text for text in quiet):
                break
            session.poll(1)
        (tmp_path / "go").touch()
        session.wait_prompt(mark, 30)
    finally:
        session.close()
    seen = [text for text in quiet if "before\r\n" in text]
    assert seen and "after\r\n" not in seen[0]
