"""Start-up: the CLI imports only what a command needs, when it needs it.

Behaviour, not timing (benchmarks/startup.py measures the time): each check runs in a fresh
interpreter and looks at `sys.modules` afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("kubernetes", "pydantic", "rich", "pyte", "pexpect")


def _imported_after(code: str) -> set[str]:
    """Top-level packages of HEAVY (and asciinema, yaml) imported once `code` has run."""
    probe = (
        "import sys\n"
        f"{code}\n"
        "import json\n"
        "names = ('asciinema', 'yaml') + " + repr(HEAVY) + "\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & set(names))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_importing_the_cli_imports_nothing_heavy() -> None:
    assert _imported_after("import stagecast.cli") == set()


def test_the_console_script_entry_point_imports_nothing_heavy() -> None:
    assert _imported_after("from stagecast.cli import entry") == set()


@pytest.mark.parametrize("argv", [["--help"], ["lint", "--help"], ["live", "--help"], ["bogus"]])
def test_help_and_usage_errors_import_nothing_heavy(argv: list[str]) -> None:
    code = (
        "from stagecast.cli import main\n"
        "import contextlib, io\n"
        "out, err = io.StringIO(), io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):\n"
        "    try:\n"
        f"        main({argv!r})\n"
        "    except SystemExit:\n"
        "        pass"
    )
    assert _imported_after(code) == set()


def test_lint_imports_only_the_scenario_format() -> None:
    """pydantic and YAML, but not the shell driver, the Kubernetes client or rich."""
    code = (
        "from stagecast.cli import main\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['lint', 'scenarios/tour.yaml', 'scenarios/demo-1.1.yaml']) == 0"
    )
    assert _imported_after(code) == {"pydantic", "yaml"}
