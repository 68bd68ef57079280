"""Imports point one way (recorder ← player ← stagecast), and the top level shows the design."""

from __future__ import annotations

import ast
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGES = ("recorder", "player", "stagecast")
# Each package and the first-party packages it must never import.
FORBIDDEN = {"recorder": {"player", "stagecast"}, "player": {"stagecast"}, "stagecast": set()}
TOP_LEVEL = {
    "scenarios", "player", "recorder", "tests", "casts", "stagecast", "benchmarks",
    "LICENSE", "README.md", "pyproject.toml",
}  # fmt: skip


def _module(path: Path) -> tuple[str, bool]:
    """The dotted module name of a source file, and whether it is a package's __init__."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    package = parts[-1] == "__init__"
    if package:
        parts.pop()
    return ".".join(parts), package


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, relative imports resolved to absolute names."""
    name, package = _module(path)
    here = name.split(".") if package else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            # `from pkg import module` imports the module too.
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_the_walk_sees_every_package() -> None:
    files = sources()
    assert {_module(p)[0].split(".")[0] for p in files} == set(PACKAGES)
    # A relative import resolves: recorder/run/runner.py imports its sibling `.step_output`.
    assert "recorder.run.step_output" in imports_of(ROOT / "recorder" / "run" / "runner.py")


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_one_way(path: Path) -> None:
    package = _module(path)[0].split(".")[0]
    back = sorted(m for m in imports_of(path) if m.split(".")[0] in FORBIDDEN[package])
    assert not back, f"{path.relative_to(ROOT)}: {package} must not import {', '.join(back)}"


def test_top_level_shows_the_design() -> None:
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("git is not available: the top level is read from git's tracked files")
    done = subprocess.run(
        [git, "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    entries = {name.split("/")[0] for name in done.stdout.split("\0") if name}
    unexpected = sorted(e for e in entries - TOP_LEVEL if not e.startswith("."))
    assert not unexpected, f"unexpected top-level entries: {unexpected}"
    assert set(PACKAGES) <= entries
