"""Opening the presenter view beside the show: a tmux pane, or a terminal window, running
`stagecast notes` on the live session's socket."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from .presenter import PresenterError

TERMINALS = ("x-terminal-emulator", "gnome-terminal", "konsole", "xterm")


def notes_command(socket_path: Path) -> list[str]:
    """argv that runs the notes view: [sys.executable, "-m", "stagecast", "notes", "--socket",
    str(path)]"""
    return [sys.executable, "-m", "stagecast", "notes", "--socket", str(socket_path)]


def _no_terminal_hint(socket_path: Path) -> str:
    return f"run `stagecast notes --socket {shlex.quote(str(socket_path))}` in another terminal"


def open_presenter_terminal(socket_path: Path) -> str:
    """Open a second terminal running notes_command(socket_path); return a one-line description
    of what was opened (e.g. "tmux pane %3").

    Inside tmux: a pane split to the right (a new window when there is no room). Else, with a
    display: $TERMINAL or the first of x-terminal-emulator, gnome-terminal, konsole, xterm.
    """
    argv = notes_command(socket_path)
    if os.environ.get("TMUX") and shutil.which("tmux"):
        return _open_tmux(argv, socket_path)
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return _open_emulator(argv, socket_path)
    raise PresenterError(
        f"no second terminal to open here (no tmux, no display): {_no_terminal_hint(socket_path)}"
    )


def _open_tmux(argv: list[str], socket_path: Path) -> str:
    # -c: the pane starts where we are, so `-m stagecast` resolves as it does here.
    common = ["-d", "-P", "-F", "#{pane_id}", "-c", os.getcwd(), shlex.join(argv)]
    errors = []
    for kind, cmd in (
        ("pane", ["tmux", "split-window", "-h", *common]),
        ("window", ["tmux", "new-window", *common]),  # the split fails when the pane is too small
    ):
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=5, check=False)
        except (OSError, subprocess.TimeoutExpired) as err:
            errors.append(str(err))
            continue
        if done.returncode == 0:
            return f"tmux {kind} {done.stdout.strip()}"
        errors.append(done.stderr.strip() or f"rc {done.returncode}")
    raise PresenterError(
        f"tmux could not open a pane ({errors[-1]}): {_no_terminal_hint(socket_path)}"
    )


def _emulator() -> list[str] | None:
    """$TERMINAL (may carry options), else the first known terminal emulator on PATH."""
    candidates = [shlex.split(os.environ.get("TERMINAL", ""))] + [[name] for name in TERMINALS]
    for cmd in candidates:
        if cmd and shutil.which(cmd[0]):
            return cmd
    return None


def _open_emulator(argv: list[str], socket_path: Path) -> str:
    emulator = _emulator()
    if emulator is None:
        raise PresenterError(
            f"no terminal emulator found ($TERMINAL, {', '.join(TERMINALS)}): "
            + _no_terminal_hint(socket_path)
        )
    separator = "--" if Path(emulator[0]).name == "gnome-terminal" else "-e"
    cmd = [*emulator, separator, *argv]
    try:
        proc = subprocess.Popen(  # own session: a Ctrl-C on stage does not close the notes
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as err:
        raise PresenterError(f"cannot start {emulator[0]}: {err.strerror or err}") from None
    try:  # an emulator that fails at once (bad option, no display) says so by its exit code
        rc = proc.wait(timeout=0.3)
    except subprocess.TimeoutExpired:
        rc = 0
    if rc != 0:
        raise PresenterError(f"{emulator[0]} exited with rc {rc}: {_no_terminal_hint(socket_path)}")
    return f"{Path(emulator[0]).name} window (pid {proc.pid})"
