"""The codebase stays `ruff check` clean, `ruff format` formatted and `mypy` clean."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

# Everything of ours that is Python, for the formatter.
SOURCES = ["recorder", "player", "stagecast", "tests", "benchmarks"]


def _tool(name: str) -> str:
    """The tool from this venv (else PATH), or skip saying how to get it."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (pip install '.[test]')")
    return found


def test_ruff_check_is_clean() -> None:
    done = subprocess.run([_tool("ruff"), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def test_ruff_format_leaves_every_file_as_it_is() -> None:
    done = subprocess.run(
        [_tool("ruff"), "format", "--check", *SOURCES], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_is_clean() -> None:
    """mypy with the pydantic plugin over the packages, as `[tool.mypy]` in pyproject says."""
    done = subprocess.run(
        [_tool("mypy"), "--no-error-summary"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
