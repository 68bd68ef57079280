"""Errors that reach users as one line and map to an exit code."""

from __future__ import annotations

from dataclasses import dataclass


class StagecastError(Exception):
    """Base class: its str() is the whole one-line message shown to the user."""

    exit_code = 1


@dataclass
class ScenarioError(StagecastError):
    """Bad input in a scenario file: reported as `file:line:col: message`, exit 2."""

    file: str
    line: int
    col: int
    message: str

    exit_code = 2

    def __str__(self) -> str:
        # File names and messages quote the user's text: keep it one printable line.
        return f"{printable(self.file)}:{self.line}:{self.col}: {printable(self.message)}"


def printable(text: str) -> str:
    """Control characters (a newline in a key, an escape sequence) shown escaped."""
    return "".join(c if c.isprintable() or c == "\t" else ascii(c)[1:-1] for c in text)


class CommandError(StagecastError):
    """A command refused or failed: one line, with its own exit code."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class PrerequisiteError(StagecastError):
    """Something the scenario needs is missing on this machine (exit 2)."""

    exit_code = 2


class SessionDied(StagecastError):
    """The shell under test exited while a step still expected it."""


class StepTimeout(StagecastError):
    """A step ran past its timeout."""
