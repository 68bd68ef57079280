"""The presenter view (`stagecast notes`): the live session as only the presenter sees it.

It connects to the socket `stagecast live` serves (see `player.live.presenter`), reads its
events, and shows them through `NotesState` (`notes_view`): redrawn in a terminal, one plain
line per event otherwise.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console, RenderableType
from rich.live import Live

from .events import LiveEvent, decode_line
from .notes_view import NotesState


class _NoSession(Exception):
    pass


def _connect(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
    except (FileNotFoundError, ConnectionRefusedError, NotADirectoryError):
        sock.close()
        raise _NoSession(
            f"stagecast: no live session at {path}: start `stagecast live SCENARIO` first"
        ) from None
    except OSError as err:
        sock.close()
        raise _NoSession(f"stagecast: cannot connect to {path}: {err.strerror or err}") from None
    return sock


def _events(sock: socket.socket) -> Iterator[LiveEvent]:
    """The events the server sends, one per line; a line that is not one is skipped."""
    with sock.makefile("rb") as stream:
        try:
            for raw in stream:
                event = decode_line(raw)
                if event is not None:
                    yield event
        except ConnectionResetError:
            return  # the session went away: same as a clean close


def _follow_plain(sock: socket.socket, console: Console) -> int:
    state = NotesState()
    for event in _events(sock):
        state.apply(event)
        line = state.line(event)
        if line is not None:
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        if state.finished:
            break
    return 0


def _follow_live(sock: socket.socket, console: Console) -> int:
    state = NotesState(now=time.monotonic)
    lock = threading.Lock()  # Live redraws from its own thread while we apply events

    def view() -> RenderableType:
        with lock:
            return state.render()

    with Live(console=console, get_renderable=view, refresh_per_second=4) as live:
        for event in _events(sock):
            with lock:
                state.apply(event)
            live.refresh()
            if state.finished:
                break
    # A tmux pane closes with its program: keep the final view until the presenter is done.
    console.print("[dim]press any key to close[/dim]")
    _wait_for_a_key()
    return 0


def _wait_for_a_key() -> None:
    from .presenter_keys import presenter_terminal

    with presenter_terminal() as fd:
        if fd is not None:
            os.read(fd, 16)


def run_notes(path: Path, console: Console | None = None) -> int:
    """Connect to the live session's socket and show what it sends until it finishes.

    Exit codes: 0 finished or the session closed, 2 no session at `path`, 130 interrupted.
    A console that is not a terminal gets one plain line per event instead of a redrawn view.
    """
    console = console or Console()
    try:
        sock = _connect(Path(path))
    except _NoSession as err:
        print(err, file=sys.stderr)
        return 2
    try:
        with sock:
            follow = _follow_live if console.is_terminal else _follow_plain
            return follow(sock, console)
    except KeyboardInterrupt:
        return 130
