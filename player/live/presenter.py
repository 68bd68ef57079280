"""The presenter channel: what `stagecast live` tells the presenter, never the audience.

The live runner owns the audience terminal, so everything meant only for the presenter (the
narration, the next step, check results, the clock) goes over a local unix socket to a second
terminal running `stagecast notes`. Only the user can reach that socket: its directory is 0700
and owned by the user, the socket itself is 0600, and every connection's peer uid is checked
(SO_PEERCRED) on top of that.

The protocol (`player.live.events`) is one JSON object per line, server to client only. Each
event gets "t" (seconds since the channel opened). A client that connects after the first event
first gets one "now" event: every event sent so far folded into the show's current state, with
the channel's clock and the show time at that moment (`player.live.catch_up`), then the live
events; so a view attached mid-show is right at once, not after the next event. Sending never
blocks the show: each client has its own writer thread and queue, and a client that cannot keep
up is dropped.
"""

from __future__ import annotations

import errno
import os
import queue
import socket
import stat
import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from .catch_up import CatchUp
from .events import LiveEvent, decode_line, encode_line, to_dict

SOCKET_NAME = "live.sock"
SEND_TIMEOUT = 0.5  # seconds one write to a client may take before the client is dropped
MAX_BACKLOG = 10_000  # lines queued for one client before it counts as stuck
PROBE_TIMEOUT = 0.5  # seconds to wait when checking whether a socket file is still served
CLOSE_FLUSH = 1.0  # seconds close() waits for each client's queued lines to go out


class PresenterError(Exception):
    """One-line message for the user (the CLI prints it and exits 2)."""


def default_socket_path() -> Path:
    """$XDG_RUNTIME_DIR/stagecast/live.sock when XDG_RUNTIME_DIR is set and is a directory,
    else /tmp/stagecast-<uid>/live.sock. Does not create anything."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / "stagecast" / SOCKET_NAME
    return Path(f"/tmp/stagecast-{os.getuid()}") / SOCKET_NAME


def _elsewhere(path: Path) -> str:
    return f"remove it, or pass --socket with a path in a directory of your own (not {path})"


def secure_dir(path: Path) -> None:
    """Create the socket's directory with mode 0700 if missing; if it exists it must be a real
    directory (not a symlink) owned by os.getuid() — else PresenterError naming the path and
    what to do — and its mode is forced to 0700.

    One refusal beyond that: a directory that other users can enter and that holds other files
    (e.g. /tmp, a home directory, a project directory given via --socket) is not chmod-ed behind
    the user's back; that is a PresenterError too.
    """
    try:
        path.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        pass  # checked below, like any existing directory
    except OSError as err:
        raise PresenterError(f"cannot create {path}: {err.strerror}") from None
    # Open without following symlinks, then check and chmod that very inode: no race with a swap.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        if path.is_symlink():
            raise PresenterError(f"{path} is a symbolic link: {_elsewhere(path)}") from None
        raise PresenterError(f"{path} is not a directory: {_elsewhere(path)}") from None
    try:
        info = os.fstat(fd)
        if info.st_uid != os.getuid():
            raise PresenterError(
                f"{path} belongs to uid {info.st_uid}, not you (uid {os.getuid()}): "
                + _elsewhere(path)
            )
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077 and _holds_other_files(path):
            raise PresenterError(
                f"{path} is shared (mode {mode:04o}) and holds other files: pass --socket with a "
                "path in a directory of its own"
            )
        os.fchmod(fd, 0o700)
    finally:
        os.close(fd)


def _holds_other_files(path: Path) -> bool:
    try:
        return any(name != SOCKET_NAME for name in os.listdir(path))
    except OSError:
        return True


def _peer_uid(conn: socket.socket) -> int | None:
    """The connecting process's uid, or None where the platform cannot tell."""
    if not hasattr(socket, "SO_PEERCRED"):
        return None  # non-Linux: the 0700 directory and 0600 socket still guard the door
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid


class _Client:
    """One connected presenter view: a queue of lines and the thread that writes them."""

    def __init__(
        self, conn: socket.socket, first: list[bytes], on_drop: Callable[[_Client], None]
    ) -> None:
        self.conn = conn
        self.lines: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        for line in first:
            self.lines.put(line)
        self._on_drop = on_drop
        self.thread = threading.Thread(target=self._write, name="presenter-client", daemon=True)

    def _write(self) -> None:
        self.conn.settimeout(SEND_TIMEOUT)
        try:
            while (line := self.lines.get()) is not None:
                self.conn.sendall(line + self._drain())
        except OSError:
            pass  # gone or too slow: either way it is dropped
        finally:
            self._on_drop(self)
            _close_quietly(self.conn)

    def _drain(self) -> bytes:
        """Whatever else is already queued, so a burst goes out in one write, not hundreds."""
        more: list[bytes] = []
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                break
            if line is None:
                self.lines.put(None)  # keep the stop signal for the loop
                break
            more.append(line)
        return b"".join(more)


def _close_quietly(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class PresenterChannel:
    """The live session's end of the presenter socket: open, send events, close."""

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        self._lock = threading.Lock()
        self._so_far = CatchUp()  # what a view that connects late is told first
        self._clients: list[_Client] = []
        self._listener: socket.socket | None = None
        self._accepter: threading.Thread | None = None
        self._inode: tuple[int, int] | None = None  # (dev, ino) of the socket file we bound
        self._opened_at = time.monotonic()
        self._closed = False

    @property
    def path(self) -> Path:
        return self._path

    def __enter__(self) -> PresenterChannel:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def open(self) -> None:
        secure_dir(self._path.parent)
        self._clear_stale()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._bind(listener)
            listener.listen(8)
        except BaseException:
            listener.close()
            raise
        self._listener = listener
        self._opened_at = time.monotonic()
        self._closed = False
        self._accepter = threading.Thread(target=self._accept, name="presenter-accept", daemon=True)
        self._accepter.start()

    def _clear_stale(self) -> None:
        """Refuse a socket someone still serves; remove one nobody does."""
        try:
            info = os.lstat(self._path)
        except FileNotFoundError:
            return
        if not stat.S_ISSOCK(info.st_mode):
            raise PresenterError(
                f"{self._path} exists and is not a socket: {_elsewhere(self.path)}"
            )
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.settimeout(PROBE_TIMEOUT)
        try:
            probe.connect(str(self._path))
        except (ConnectionRefusedError, FileNotFoundError):
            self._path.unlink(missing_ok=True)  # stale: left by a session that died
            return
        except OSError as err:  # e.g. a full backlog or a timeout: someone is there
            raise PresenterError(self._in_use() + f" ({err.strerror or err})") from None
        finally:
            probe.close()
        raise PresenterError(self._in_use())

    def _in_use(self) -> str:
        return f"another `stagecast live` is using {self._path}: stop it, or pass --socket"

    def _bind(self, listener: socket.socket) -> None:
        old = os.umask(0o177)  # the socket is born 0600: no window where others could connect
        try:
            listener.bind(str(self._path))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:  # another session bound it since we looked
                raise PresenterError(self._in_use()) from None
            raise PresenterError(f"cannot listen on {self._path}: {err.strerror or err}") from None
        finally:
            os.umask(old)
        os.chmod(self._path, 0o600)
        info = os.lstat(self._path)
        self._inode = (info.st_dev, info.st_ino)

    def _accept(self) -> None:
        listener = self._listener
        assert listener is not None
        while not self._closed:
            try:
                conn, _ = listener.accept()
            except OSError:
                # Closed (the loop ends), or e.g. out of file descriptors: try again shortly.
                if not self._closed:
                    time.sleep(0.05)
                continue
            self._admit(conn)

    def _admit(self, conn: socket.socket) -> None:
        try:
            uid = _peer_uid(conn)
        except OSError:
            uid = -1
        if uid is not None and uid != os.getuid():
            _close_quietly(conn)  # another user: the file modes should have stopped it already
            return
        with self._lock:  # under the lock: no event can slip between the snapshot and live ones
            if self._closed:
                _close_quietly(conn)
                return
            client = _Client(conn, self._catch_up_lines(), self._drop)
            self._clients.append(client)
            client.thread.start()  # started here so close() never joins an unstarted thread

    def _clock(self) -> float:
        return round(time.monotonic() - self._opened_at, 3)

    def _catch_up_lines(self) -> list[bytes]:
        """The "now" line a view connecting at this moment gets first (none before the first
        event: then the live events tell it everything). Called under the lock."""
        snapshot = self._so_far.snapshot(self._clock())
        if snapshot is None:
            return []
        return [encode_line({**to_dict(snapshot), "t": snapshot.t})]

    def _drop(self, client: _Client) -> None:
        with self._lock:
            if client in self._clients:
                self._clients.remove(client)

    def send(self, event: LiveEvent | dict[str, Any]) -> None:
        """Queue `event` (typed, or already in its wire form) for every connected view."""
        try:
            payload = dict(event) if isinstance(event, dict) else to_dict(event)
            payload["t"] = self._clock()
            line = encode_line(payload)
            sent = decode_line(line)  # folded as a view reads it, not as the runner meant it
        except Exception:  # a bad event must not stop the show
            return
        with self._lock:
            if self._closed:
                return
            if sent is not None:
                self._so_far.apply(sent)
            for client in list(self._clients):
                if client.lines.qsize() > MAX_BACKLOG:
                    self._clients.remove(client)
                    _close_quietly(client.conn)  # its writer fails and ends
                else:
                    client.lines.put(line)

    @property
    def clients(self) -> int:
        """How many presenter views are connected (for tests and status lines)."""
        with self._lock:
            return len(self._clients)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            clients, self._clients = self._clients, []
            listener, self._listener = self._listener, None
        if listener is not None:
            _close_quietly(listener)  # shutdown wakes the accept thread
        for client in clients:
            client.lines.put(None)  # after what is queued: a last "finished" still goes out
        for client in clients:
            client.thread.join(CLOSE_FLUSH)
            _close_quietly(client.conn)
        if self._accepter is not None:
            self._accepter.join(1.0)
        self._unlink_ours()

    def _unlink_ours(self) -> None:
        """Remove the socket file, unless it is no longer ours (another session took the path)."""
        try:
            info = os.lstat(self._path)
        except OSError:
            return
        if (info.st_dev, info.st_ino) == self._inode:
            self._path.unlink(missing_ok=True)
