"""A real bash in a pty, driven through pexpect, with its exit codes carried in the prompt.

The prompt carries `$?` inside an invisible OSC 133 "D" sequence and ends with OSC 133 "B"
(FinalTerm semantic prompts), so the driver knows both when a command finished and how.
Continuation prompts (PS2) are marked with OSC 133 "P;k=s". All of them are stripped from
casts by `output_cleaner`.

Every byte read is timestamped as it arrives and kept in a buffer addressed by offsets;
the driver reads while it waits between keystrokes, so output timing in the cast is real.
"""

from __future__ import annotations

import bisect
import codecs
import contextlib
import fcntl
import os
import re
import select
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pexpect

from recorder.errors import SessionDied, StepTimeout

from .output_buffer import OutputBuffer

PRIMARY_PROMPT = "\\[\\e]133;D;$?;t=$EPOCHREALTIME\\a\\]{prompt}\\[\\e]133;B\\a\\]"
# Printed by bash as a command starts: with the D mark's time, the command's own duration.
COMMAND_START = "\\e]133;C;t=$EPOCHREALTIME\\a"
# What readline writes before redrawing the prompt line (after SIGWINCH).
REDRAW = "\x1b[K\r"
COMMAND_START_RE = re.compile(r"\x1b\]133;C;t=(?P<t>[\d.,]+)\x07")
SECONDARY_PROMPT = "\\[\\e]133;P;k=s\\a\\]> \\[\\e]133;B\\a\\]"
PROMPT_RE = re.compile(
    r"\x1b\]133;(?:D;(?P<rc>\d+)(?:;t=(?P<t>[\d.,]+))?|P;k=(?P<cont>s))\x07"
    r"(?P<text>.*?)\x1b\]133;B\x07",
    re.DOTALL,
)
INPUTRC = "set enable-bracketed-paste off\nset bell-style none\n"
READ_BATCH = 1 << 20  # bytes read in one go while more is waiting (see `_read`)
SEARCH_OVERLAP = 8192  # characters searched again after a miss (see `wait_for`)
SEARCH_CONTEXT = 256


@dataclass
class PromptHit:
    start: int  # buffer offset where the prompt begins
    end: int  # buffer offset just after it
    rc: int | None  # None: a continuation prompt, or a nested shell that does not say
    continuation: bool
    t: float | None = None  # bash's clock ($EPOCHREALTIME) when the prompt was printed


@dataclass
class Chunk:
    t: float  # time.monotonic() when read
    start: int
    end: int


class ShellSession:
    """One interactive bash. Offsets into `buffer` identify what each step printed."""

    def __init__(
        self,
        *,
        cols: int = 100,
        rows: int = 30,
        prompt: str = "$ ",
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        shell: str = "bash",
    ) -> None:
        self.cols, self.rows = cols, rows
        self._tmp = tempfile.TemporaryDirectory(prefix="stagecast-shell-")
        inputrc = Path(self._tmp.name, "inputrc")
        inputrc.write_text(INPUTRC)
        full_env = {
            **os.environ,
            **(env or {}),
            "TERM": "xterm-256color",
            "PS1": PRIMARY_PROMPT.format(prompt=prompt),
            "PS2": SECONDARY_PROMPT,
            "PS0": COMMAND_START,
            "INPUTRC": str(inputrc),
            "HISTFILE": "/dev/null",
            # Like asciinema's ASCIINEMA_REC: programs (and the lab tests' leak check) can
            # tell that they run under stagecast.
            "STAGECAST": "1",
            "COLUMNS": str(cols),
            "LINES": str(rows),
        }
        for name in ("PROMPT_COMMAND", "BASH_ENV", "ENV", "ASCIINEMA_REC"):
            full_env.pop(name, None)
        self._out = OutputBuffer()  # output from `forget`'s offset on
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.chunks: list[Chunk] = []
        self.t0 = time.monotonic()
        self._prompts: list[re.Pattern[str]] = []
        # Live mode: output is also shown as it arrives (each batch `_read` takes, at once),
        # and the presenter's keys are read in the same select as the shell's output (so
        # waiting never stops either).
        self.on_output: Callable[[str], None] | None = None
        # Live mode: called once the shell has been quiet `quiet_after` seconds since its last
        # output, whoever is waiting (a command, a key): the audience's held-back tail is shown.
        self.on_quiet: Callable[[], None] | None = None
        self.quiet_after = 0.0
        self._last_output = 0.0
        self._quiet = True  # no output since on_quiet was last called
        self.input_fd: int | None = None
        self.on_input: Callable[[bytes], None] | None = None
        # Called after each read while waiting: a big output is handed on as it comes.
        self.on_progress: Callable[[], None] | None = None
        self.child = pexpect.spawn(
            shell,
            ["--norc", "--noprofile", "+H", "-i"],
            env=full_env,
            cwd=cwd,
            dimensions=(rows, cols),
            preexec_fn=_default_signals,
            echo=True,
        )
        # Pacing is ours; pexpect's default 50 ms per send would distort it.
        self.child.delaybeforesend = None
        # The shell has exited (we read its EOF) before we close: no need to nap 0.1 s.
        # spawn sets `ptyproc` in _spawn(); types-pexpect does not declare it.
        self.child.ptyproc.delayafterclose = 0.005  # type: ignore[attr-defined]
        self._fd = self.child.child_fd

    # -- reading -------------------------------------------------------------------------

    def _read(self, timeout: float) -> bool:
        """Read what is available within `timeout`; False when nothing came.

        Reads the pty directly (pexpect spawned it): one select, then every read that
        finds data waiting, taken as one chunk (see below).
        """
        fds = [self._fd] if self.input_fd is None else [self._fd, self.input_fd]
        ready = self._select(fds, timeout)
        if not ready:
            return False
        if self.input_fd is not None and self.input_fd in ready:
            self._take_input(self.input_fd)
            if self._fd not in ready:
                return True
        # A fast writer fills the pty 4 KB at a time: take all that is waiting (up to
        # READ_BATCH) as one chunk, as a bigger read would, so that a search, the cast's
        # event and the checks' work are once per batch, not per 4 KB. The fd is
        # non-blocking meanwhile: "nothing more" is a failed read, not a select per read.
        taken: list[bytes] = []
        size = 0
        ended = False
        flags = fcntl.fcntl(self._fd, fcntl.F_GETFL)
        fcntl.fcntl(self._fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)
        try:
            while size < READ_BATCH:
                try:
                    data = os.read(self._fd, 65536)
                except BlockingIOError:
                    break
                except OSError:  # EIO: the other side of the pty is gone
                    data = b""
                if not data:
                    ended = True
                    break
                taken.append(data)
                size += len(data)
        finally:
            with contextlib.suppress(OSError):  # the pty is gone: nothing to restore
                fcntl.fcntl(self._fd, fcntl.F_SETFL, flags)
        if taken:  # the shell's end, if it came too, is reported on the next read
            text = self._decoder.decode(b"".join(taken))
            self._take(text)
            if text and self.on_output is not None:
                self.on_output(text)
            return True
        if ended:
            self.child.close(force=True)
            status = self.child.exitstatus
            if status is None:
                status = self.child.signalstatus
            raise SessionDied(f"the shell exited (status {status})")
        return False

    def _select(self, fds: list[int], timeout: float) -> list[int]:
        """select(2) for reading; with `on_quiet`, calls it when the shell has been quiet
        `quiet_after` seconds since its last output, within this wait."""
        if self.on_quiet is not None and not self._quiet:
            until_quiet = self._last_output + self.quiet_after - time.monotonic()
            if until_quiet < timeout:
                deadline = time.monotonic() + timeout
                ready, _, _ = select.select(fds, [], [], max(until_quiet, 0))
                if ready:
                    return ready
                self._quiet = True
                self.on_quiet()
                timeout = deadline - time.monotonic()
        ready, _, _ = select.select(fds, [], [], max(timeout, 0))
        return ready

    def _take(self, text: str) -> None:
        if text:
            start = self._out.end
            self._out.append(text)
            now = time.monotonic()
            self.chunks.append(Chunk(now, start, start + len(text)))
            self._last_output, self._quiet = now, False

    def _take_input(self, fd: int) -> None:
        try:
            keys = os.read(fd, 1024)
        except OSError:
            keys = b""
        if not keys:  # the presenter's terminal is gone: stop selecting on it
            self.input_fd = None
            return
        if self.on_input is not None:
            self.on_input(keys)  # may raise: the presenter asked to stop or fall back

    def poll(self, timeout: float) -> bool:
        """Wait up to `timeout` for output or a key; False when neither came."""
        return self._read(timeout)

    def pump(self, seconds: float) -> None:
        """Keep reading output for `seconds` (instead of sleeping, so timings stay real)."""
        deadline = time.monotonic() + seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._read(remaining)

    def drain(self) -> None:
        """Take whatever output is already waiting, without blocking."""
        while self._read(0):
            pass

    def wait_for(self, pattern: re.Pattern[str], since: int, timeout: float) -> tuple[int, int]:
        """Offsets (start, end) of the first match of `pattern` at or after `since`.

        Each byte is searched a bounded number of times: after a miss, the next search
        starts SEARCH_OVERLAP characters before what was new (a match may straddle two
        reads), with SEARCH_CONTEXT more before it for look-behinds and anchors. So a match
        longer than SEARCH_OVERLAP that straddles two reads is found only once it is whole
        within a read: prompts and `wait:` patterns are far shorter."""
        deadline = time.monotonic() + timeout
        searched = since  # matches starting before this (less the overlap) were looked for
        while True:
            start = max(since, searched - SEARCH_OVERLAP, self._out.base)
            context = max(self._out.base, start - SEARCH_CONTEXT)
            match = pattern.search(self._out.slice(context), start - context)
            if match:
                return match.start() + context, match.end() + context
            searched = self._out.end
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StepTimeout(f"timed out after {timeout:g}s waiting for /{pattern.pattern}/")
            self._read(remaining)
            if self.on_progress is not None:
                self.on_progress()

    def text(self, start: int, end: int | None = None) -> str:
        """Output between two offsets (both at or after the last `forget`)."""
        return self._out.slice(start, end)

    def forget(self, offset: int) -> None:
        """Drop output before `offset`: it was handed to the cast, and the buffer stays small."""
        if offset <= self._out.base:
            return
        self._out.forget(offset)
        keep = bisect.bisect_right(self.chunks, offset, key=lambda c: c.end)
        del self.chunks[:keep]

    # -- prompts -------------------------------------------------------------------------

    def at_continuation(self) -> bool:
        """Is bash asking for more lines of a command (PS2) rather than a new one? Asked of
        the latest output: the prompt that answers is the last thing bash printed."""
        recent = max(self._out.base, self._out.end - SEARCH_OVERLAP)
        return self._out.rfind("\x1b]133;P;k=s", recent) > self._out.rfind("\x1b]133;D;", recent)

    def resize(self, rows: int, cols: int) -> None:
        self.rows, self.cols = rows, cols
        self.child.setwinsize(rows, cols)

    def push_prompt(self, prompt: str, is_regex: bool = False) -> None:
        """A nested shell: from now on, its prompt ends commands."""
        text = prompt if is_regex else re.escape(prompt)
        self._prompts.append(
            re.compile(
                r"(?:\x1b\]133;D;(?P<rc>\d+)(?:;t=(?P<t>[\d.,]+))?\x07)?(?:"
                + text
                + r")(?:\x1b\]133;B\x07)?"
            )
        )

    def pop_prompt(self) -> None:
        if self._prompts:
            self._prompts.pop()

    @property
    def nested_depth(self) -> int:
        return len(self._prompts)

    def wait_prompt(self, since: int, timeout: float) -> PromptHit:
        pattern = self._prompts[-1] if self._prompts else PROMPT_RE
        deadline = time.monotonic() + timeout
        start, end = self.wait_for(pattern, since, timeout)
        # A nested shell redraws its prompt when its terminal is resized (`docker exec -it`
        # resizes as it attaches): readline's "\r\e[K\r" and the same prompt again. That is
        # not a new prompt: taking it for one would end the next command before it ran.
        while self._prompts and self._out.endswith(REDRAW, start):
            try:
                start, end = self.wait_for(pattern, end, max(deadline - time.monotonic(), 0))
            except StepTimeout:
                raise StepTimeout(
                    f"timed out after {timeout:g}s waiting for /{pattern.pattern}/"
                ) from None
        match = pattern.match(self._out.slice(start, end))
        assert match is not None
        rc = match.group("rc")
        cont = bool(match.groupdict().get("cont"))
        return PromptHit(
            start, end, int(rc) if rc is not None else None, cont, _bash_time(match.group("t"))
        )

    def last_prompt(self, since: int) -> tuple[int, int] | None:
        """Offsets (start, end) of the current shell's last prompt after `since`, if any."""
        pattern = self._prompts[-1] if self._prompts else PROMPT_RE
        found = None
        start = max(since, self._out.base)
        for match in pattern.finditer(self._out.slice(start)):
            found = match
        if found is None:
            return None
        return found.start() + start, found.end() + start

    def command_started(self, start: int, end: int) -> float | None:
        """Bash's clock when the command typed at `start` began (its PS0 mark), if seen."""
        begun = COMMAND_START_RE.search(self._out.slice(start, end))
        return _bash_time(begun.group("t")) if begun else None

    def command_time(
        self, start: int, hit: PromptHit, started: float | None = None
    ) -> float | None:
        """How long bash itself says the command between `start` and `hit` ran; `started`
        when its start mark was already read (and forgotten since)."""
        if hit.t is None:
            return None
        if started is None:
            started = self.command_started(start, hit.start)
        return max(hit.t - started, 0.0) if started is not None else None

    def start(self, timeout: float = 10) -> PromptHit:
        """Wait for the first prompt: input sent before it would echo out of order."""
        hit = self.wait_prompt(0, timeout)
        # readline has read the inputrc: remove it now, so that even a SIGKILLed stagecast
        # leaves no temp dir behind.
        self._tmp.cleanup()
        return hit

    # -- writing -------------------------------------------------------------------------

    def send(self, text: str) -> None:
        if not self.child.isalive():
            raise SessionDied("the shell is no longer running")
        self.child.send(text)

    def type_text(
        self, text: str, delays: list[float] | None, *, literal_tabs: bool = False
    ) -> None:
        """Send `text`; with `delays`, one key at a time at those intervals.

        With `literal_tabs`, a tab goes through readline's quoted-insert (Ctrl-V), so a
        tab inside a command line is inserted instead of triggering completion.
        """
        if literal_tabs:
            text_to_send = text.replace("\t", "\x16\t")
        else:
            text_to_send = text
        if delays is None:
            self.send(text_to_send)
            return
        for ch, delay in zip(text, delays, strict=True):
            self.pump(delay)
            self.send("\x16\t" if literal_tabs and ch == "\t" else ch)

    @property
    def offset(self) -> int:
        return self._out.end

    def interrupt(self, timeout: float = 5) -> PromptHit | None:
        """Ctrl-C, then wait for a prompt; None when the shell does not come back."""
        for key in ("\x03", "\x03", "\x1c"):
            since = self.offset
            try:
                self.send(key)
                return self.wait_prompt(since, timeout)
            except StepTimeout:
                continue
            except SessionDied:
                return None
        return None

    def alive(self) -> bool:
        return self.child.isalive()

    def close(self) -> None:
        try:
            if self.child.isalive():
                self.child.sendline("exit")
                try:
                    self.child.expect(pexpect.EOF, timeout=1)
                except (pexpect.TIMEOUT, pexpect.EOF):
                    pass
            self.child.close(force=True)
        except Exception:  # noqa: BLE001 - closing must never mask the real outcome
            pass
        self._tmp.cleanup()


def _default_signals() -> None:
    """In the child, before exec: signals ignored by whoever started stagecast (nohup, a
    background job of a non-interactive shell, some CI runners) would stay ignored in bash
    and in every program it runs, and Ctrl-C would then stop nothing."""
    for number in (signal.SIGINT, signal.SIGQUIT, signal.SIGTSTP, signal.SIGPIPE):
        signal.signal(number, signal.SIG_DFL)


def _bash_time(text: str | None) -> float | None:
    """$EPOCHREALTIME as a float (its decimal separator follows the locale)."""
    if not text:
        return None
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return None
