"""A big cast's spilled events, encoded as its lines and leak-scanned in a child process.

A recording that spills (see `writer.CastRecording`) hands each batch of events here: a
thread writes them down a pipe to a child, which escapes them as the cast's lines, appends
them to the spill file and feeds them to the leak scanner. The scanner travels to the child
and back, pickled, so the scan is the one pass it would be in-process.

Why a process and not a thread: escaping and searching megabytes are C calls that hold
Python's GIL for milliseconds, and the recorder needs the GIL for a moment after every read
of the terminal. In a thread that work held up the reads, and the command writing to the
terminal waited: a step printing 100 MB recorded about 1 s slower than with the work
dropped, and as fast as that with the same CPU burnt in another process.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from json.encoder import encode_basestring
from pathlib import Path
from typing import IO, Any, Protocol

from .leak_scan import EventScanner

# An event's time, then the UTF-8 lengths of its code, its line's head and its data.
FRAME = struct.Struct("<dIII")
SIZE = struct.Struct("<I")
PIPE_SIZE = 1 << 20  # fewer wake-ups than the default 64 KB; best effort
WRITE_BUFFER = 1 << 20  # bytes of lines per write(2)
QUEUE = 1  # batches waiting for the pipe (which holds PIPE_SIZE more), at most
# The folder holding the `recorder` package, for the child's imports.
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


class Event(Protocol):
    t: float
    code: str
    data: str


class SpillFailed(OSError):
    """The spill could not be written (the child says why), or the child is gone."""


class SpillProcess:
    """The child process for one spill file (its fd stays the parent's too: the parent
    reads the file once `finish` has returned)."""

    def __init__(self, fd: int, scanner: EventScanner | None) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (PACKAGE_ROOT, env.get("PYTHONPATH")) if p)
        self._proc = subprocess.Popen(
            # -P: not the working directory first on the path (a `struct.py` there)
            [sys.executable, "-P", "-m", __name__, str(fd)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # what went wrong comes back in the result
            pass_fds=(fd,),
            env=env,
            start_new_session=True,  # the presenter's Ctrl-C is the recorder's to handle
        )
        assert self._proc.stdin is not None
        with contextlib.suppress(OSError):
            fcntl.fcntl(self._proc.stdin.fileno(), fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        self._queue: queue.Queue[tuple[list[Event], list[str]] | None] = queue.Queue(QUEUE)
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._send, args=(pickle.dumps(scanner),), name="cast-spill", daemon=True
        )
        self._thread.start()

    def put(self, events: Sequence[Event], heads: list[str]) -> None:
        """Send `events`, whose lines start with `heads` (time and code, see writer)."""
        self._queue.put((list(events), heads))

    def _send(self, scanner: bytes) -> None:
        stdin = self._proc.stdin
        assert stdin is not None
        try:
            stdin.write(SIZE.pack(len(scanner)) + scanner)
            while (item := self._queue.get()) is not None:
                for part in _frames(*item):  # no joined copy of the batch
                    stdin.write(part)
        except BaseException as exc:  # noqa: BLE001 - raised by `finish`, in the recorder
            self._error = exc
            while self._queue.get() is not None:  # the recorder must never wait on us
                pass
        finally:
            with contextlib.suppress(OSError):
                stdin.close()

    def finish(self) -> EventScanner | None:
        """Wait until every event sent is in the file and scanned; the scanner, back.
        The child's error (a full disk) is raised here."""
        self._queue.put(None)
        self._thread.join()
        assert self._proc.stdout is not None
        with self._proc.stdout:
            out = self._proc.stdout.read()
        status = self._proc.wait()
        try:
            result = pickle.loads(out) if out else None
        except Exception:  # noqa: BLE001 - cut short: said as the process stopping
            result = None
        if result is None:
            raise SpillFailed(f"the cast's spill process stopped (exit status {status})")
        if result["error"] is not None:
            raise SpillFailed(*result["error"])
        if self._error is not None and not isinstance(self._error, BrokenPipeError):
            raise self._error
        scanner: EventScanner | None = result["scanner"]
        return scanner

    def kill(self) -> None:
        """Stop now (the recording is dropped): nothing more is written or waited for."""
        with contextlib.suppress(OSError):
            self._proc.kill()
        self._queue.put(None)
        self._thread.join()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._proc.wait()


def _frames(events: list[Event], heads: list[str]) -> Iterator[bytes]:
    for event, head in zip(events, heads, strict=True):
        code, head_bytes, data = event.code.encode(), head.encode(), event.data.encode()
        yield FRAME.pack(event.t, len(code), len(head_bytes), len(data))
        yield code
        yield head_bytes
        yield data


def _spill(fd: int, stdin: IO[bytes]) -> tuple[EventScanner | None, Any]:
    """The child's work: frames in, lines out to `fd`, the scanner fed; (scanner, error).
    After a failed write the rest is still read (the parent never blocks on the pipe) and
    scanned, but not written."""
    (size,) = SIZE.unpack(stdin.read(SIZE.size))
    scanner: EventScanner | None = pickle.loads(stdin.read(size))
    lines = _Lines(fd)
    while len(frame := stdin.read(FRAME.size)) == FRAME.size:
        t, code_size, head_size, data_size = FRAME.unpack(frame)
        body = stdin.read(code_size + head_size + data_size)
        code = body[:code_size].decode()
        data = body[code_size + head_size :].decode()
        lines.add(body[code_size : code_size + head_size], encode_basestring(data).encode())
        if scanner is not None:
            scanner.feed(t, code, data)
    lines.flush()
    return scanner, lines.error


class _Lines:
    """Lines appended to the spill file a megabyte at a time, until a write fails."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.parts: list[bytes] = []
        self.size = 0
        self.error: tuple[int | None, str | None, str | None] | None = None
        os.lseek(fd, 0, os.SEEK_END)

    def add(self, head: bytes, escaped: bytes) -> None:
        if self.error is None:
            self.parts += (head, escaped, b"]\n")
            self.size += len(head) + len(escaped) + 2
            if self.size >= WRITE_BUFFER:
                self.flush()

    def flush(self) -> None:
        data, self.parts, self.size = b"".join(self.parts), [], 0
        try:
            view = memoryview(data)
            while view and self.error is None:
                view = view[os.write(self.fd, view) :]
        except OSError as exc:
            self.error = (exc.errno, exc.strerror, exc.filename)


def main(argv: list[str]) -> int:
    try:
        scanner, error = _spill(int(argv[1]), sys.stdin.buffer)
        result = {"scanner": scanner, "error": error}
    except Exception as exc:  # noqa: BLE001 - said to the recorder, which says it once
        result = {"scanner": None, "error": (None, f"{type(exc).__name__}: {exc}")}
    sys.stdout.buffer.write(pickle.dumps(result))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
