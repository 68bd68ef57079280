"""Malformed scenarios: every one must be refused before any command runs.

Each case writes a scenario (and any file it includes) into its own temp directory, runs the
real CLI in a subprocess, and checks the user-facing contract of bad input:

* exit code 2;
* exactly one line on stderr, `<file>:<line>:<col>: <message>`, pointing at the line of the
  offending key or value in the file that holds it;
* a message with a case-specific hint, and never a traceback;
* nothing ran: every scenario starts with a step that would `touch` a marker file.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MARKER = "@RAN@"  # replaced by the path of the file a step would create if anything ran
ERROR_LINE = re.compile(r"(?P<file>.+):(?P<line>[1-9]\d*):(?P<col>[1-9]\d*): (?P<message>.+)")


@dataclass
class Case:
    id: str
    files: dict[str, str]  # name -> YAML text; the first file is the one given to the CLI
    line: int  # expected line of the error in `error_file`
    fragments: tuple[str, ...]  # each must appear in the message
    error_file: str | None = None  # the file the error points into; the main file by default
    bug: str | None = None  # set: the case is a known bug, strict-xfailed with this reason
    marks: list[pytest.MarkDecorator] = field(default_factory=list)


def _yaml(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


CASES = [
    Case(
        "unknown-top-level-key-titel",
        {
            "main.yaml": _yaml(
                """
                terminal: {cols: 80}
                titel: Demo
                setup:
                  - run: touch @RAN@
                steps:
                  - run: echo hi
                """
            )
        },
        line=2,
        fragments=("unknown key 'titel'", "did you mean 'title'"),
    ),
    Case(
        "unknown-step-key-expct",
        {
            "main.yaml": _yaml(
                """
                title: Demo
                setup:
                  - run: touch @RAN@
                steps:
                  - run: echo hi
                    expct:
                      contains: hi
                """
            )
        },
        line=6,
        fragments=("unknown key 'expct'", "did you mean 'expect'"),
    ),
    Case(
        "unknown-expect-key-contain",
        {
            "main.yaml": _yaml(
                """
                title: Demo
                setup:
                  - run: touch @RAN@
                steps:
                  - run: echo hi
                    expect:
                      contain: hi
                """
            )
        },
        line=7,
        fragments=("unknown key 'contain'", "did you mean 'contains'"),
    ),
    Case(
        "wrong-type-step-timeout-soon",
        {
            "main.yaml": _yaml(
                """
                title: Demo
                setup:
                  - run: touch @RAN@
                steps:
                  - run: echo hi
                    timeout: soon
                """
            )
        },
        line=6,
        fragments=("timeout", "valid number", "'soon'"),
    ),
    Case(
        "wrong-type-terminal-cols-wide",
        {
            "main.yaml": _yaml(
                """
                title: Demo
                terminal:
                  cols: wide
                setup:
                  - run: touch @RAN@
                steps:
                  - run: echo hi
                """
            )
        },
        line=3,
        fragments=("terminal.cols", "valid integer", "'wide'"),
    ),
    Case(
        "missing-title",
        {
            "main.yaml": _yaml(
                """
                setup:
                  - run: touch @RAN@
                steps:
                  - run: echo hi
                """
            )
        },
        line=1,
        fragments=("missing required key 'title'",),
    ),
    Case(
        "missing-steps",
        {
            "main.yaml": _yaml(
                """
                title: Demo
                setup:
                  - run: touch @RAN@
                """
            )
        },
        line=1,
        fragments=("missing required key 'steps'",),
    ),
    Case(
        "empty-steps-list",
        {
            "main.yaml": _yaml(
                """
                title: Demo
                setup:
                  - run: touch @RAN@
                steps: []
                """
            )
        },
        line=4,
        fragments=("steps", "at least 1 item"),
    ),
    Case(
        "bad-regex-in-expect-regex",
        {
            "main.yaml": _yaml(
                """
                title: Demo
                setup:
                  - run: touch @RAN@
                steps:
                  - run: echo hi
                    expect:
                      regex: "h(i"
                """
            )
        },
        line=7,
        fragments=("bad regex 'h(i'", "missing )"),
    ),
    Case(
        "bad-regex-in-capture",
        {
            "main.yaml": _yaml(
                """
                title: Demo
                setup:
                  - run: touch @RAN@
                steps:
                  - run: echo v1.2
                    capture:
                      version: "v([0-9.+"
                """
            )
        },
        line=7,
        fragments=("capture.version", "bad regex"),
    ),
    Case(
        "bad-regex-in-redact",
        {
            "main.yaml": _yaml(
                """
                title: Demo
                redact:
                  - "token=\\\\w+"
                  - "sk-[a-z"
                setup:
                  - run: touch @RAN@
                steps:
                  - run: echo hi
                """
            )
        },
        line=4,
        fragments=("redact", "bad regex 'sk-[a-z'"),
    ),
    Case(
        "undefined-variable-in-run",
        {
            "main.yaml": _yaml(
                """
                title: Demo
                vars:
                  name: world
                setup:
                  - run: touch @RAN@
                steps:
                  - run: echo hello
                  - run: echo ${nope}
                """
            )
        },
        line=8,
        fragments=("undefined variable ${nope}", "vars:"),
    ),
    Case(
        "variable-used-before-its-capture",
        {
            "main.yaml": _yaml(
                """
                title: Demo
                setup:
                  - run: touch @RAN@
                steps:
                  - run: echo ${version}
                  - run: echo v1.2
                    capture:
                      version: 'v(\\S+)'
                """
            )
        },
        line=5,
        fragments=("undefined variable ${version}", "earlier step"),
    ),
    Case(
        "missing-include-file",
        {
            "main.yaml": _yaml(
                """
                title: Demo
                setup:
                  - run: touch @RAN@
                steps:
                  - run: echo hi
                  - include: nope.yaml
                """
            )
        },
        line=6,
        fragments=("nope.yaml", "not found"),
    ),
    Case(
        "include-cycle-self",
        {
            "main.yaml": _yaml(
                """
                title: Demo
                setup:
                  - run: touch @RAN@
                steps:
                  - include: main.yaml
                """
            )
        },
        line=5,
        fragments=("include cycle", "main.yaml"),
    ),
    Case(
        "include-cycle-two-files",
        {
            "main.yaml": _yaml(
                """
                title: Demo
                setup:
                  - run: touch @RAN@
                steps:
                  - run: echo main
                  - include: part.yaml
                """
            ),
            "part.yaml": _yaml(
                """
                - run: echo part
                - include: main.yaml
                """
            ),
        },
        line=2,
        error_file="part.yaml",
        fragments=("include cycle", "main.yaml", "part.yaml"),
    ),
    Case(
        "yaml-syntax-unclosed-bracket",
        {
            "main.yaml": _yaml(
                """
                title: Demo
                setup:
                  - run: touch @RAN@
                steps:
                  - run: echo hi
                    expect:
                      contains: [hi, there
                """
            )
        },
        line=7,
        fragments=("invalid YAML", "']'"),
    ),
    Case(
        "yaml-syntax-bad-indentation",
        {
            "main.yaml": _yaml(
                """
                title: Demo
                setup:
                  - run: touch @RAN@
                steps:
                  - run: echo hi
                   expect:
                      contains: hi
                """
            )
        },
        line=6,
        fragments=("invalid YAML", "indent"),
    ),
    Case(
        "duplicate-key",
        {
            "main.yaml": _yaml(
                """
                title: Demo
                setup:
                  - run: touch @RAN@
                steps:
                  - run: echo hi
                    timeout: 5
                    timeout: 10
                """
            )
        },
        line=7,
        fragments=("duplicate key 'timeout'",),
    ),
    Case(
        "unknown-named-key-ctrl-cc",
        {
            "main.yaml": _yaml(
                """
                title: Demo
                setup:
                  - run: touch @RAN@
                steps:
                  - run: cat
                    keys:
                      - text: hi
                      - key: ctrl-cc
                """
            )
        },
        line=8,
        fragments=("unknown key name 'ctrl-cc'", "did you mean 'ctrl-c'"),
    ),
    Case(
        "keys-entry-with-two-actions",
        {
            "main.yaml": _yaml(
                """
                title: Demo
                setup:
                  - run: touch @RAN@
                steps:
                  - run: cat
                    keys:
                      - key: enter
                      - {text: hi, key: enter}
                """
            )
        },
        line=8,
        fragments=("exactly one of",),
    ),
    Case(
        "expect-without-run",
        {
            "main.yaml": _yaml(
                """
                title: Demo
                setup:
                  - run: touch @RAN@
                steps:
                  - say: Now look at this
                    expect:
                      contains: hi
                """
            )
        },
        line=6,
        fragments=("`expect` needs a `run`",),
    ),
    Case(
        "enters-and-leaves-in-one-step",
        {
            "main.yaml": _yaml(
                """
                title: Demo
                setup:
                  - run: touch @RAN@
                steps:
                  - run: bash
                    enters:
                      prompt: "inner$ "
                    leaves: true
                """
            )
        },
        line=8,
        fragments=("both `enters` and `leaves`",),
    ),
    Case(
        "negative-scenario-timeout",
        {
            "main.yaml": _yaml(
                """
                title: Demo
                timeout: -5
                setup:
                  - run: touch @RAN@
                steps:
                  - run: echo hi
                """
            )
        },
        line=2,
        fragments=("timeout", "greater than 0", "-5"),
    ),
    Case(
        "top-level-list",
        {
            "main.yaml": _yaml(
                """
                - run: touch @RAN@
                - run: echo hi
                """
            )
        },
        line=1,
        fragments=("a scenario is a mapping",),
    ),
    Case(
        "empty-file",
        {"main.yaml": ""},
        line=1,
        fragments=("empty",),
    ),
    Case(
        "env-from-env-invalid-variable-name",
        {
            "main.yaml": _yaml(
                """
                title: Demo
                env:
                  API-TOKEN:
                    from_env: TOKEN
                setup:
                  - run: touch @RAN@
                steps:
                  - run: echo hi
                """
            )
        },
        line=3,
        fragments=("'API-TOKEN' is not a valid variable name",),
    ),
    Case(
        "shell-not-bash",
        {
            "main.yaml": _yaml(
                """
                title: Demo
                shell: zsh
                setup:
                  - run: touch @RAN@
                steps:
                  - run: echo hi
                """
            )
        },
        line=2,
        fragments=("shell", "'bash'", "'zsh'"),
    ),
]


def _params() -> list:
    params = []
    for case in CASES:
        marks = list(case.marks)
        if case.bug:
            marks.append(pytest.mark.xfail(strict=True, reason=case.bug))
        params.append(pytest.param(case, id=case.id, marks=marks))
    return params


def _write(directory: Path, files: dict[str, str], ran: Path) -> list[Path]:
    paths = []
    for name, text in files.items():
        path = directory / name
        path.write_text(text.replace(MARKER, str(ran)), encoding="utf-8")
        paths.append(path)
    return paths


def _stagecast(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stagecast", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _parse_one_error(stderr: str) -> re.Match[str]:
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected exactly one line on stderr, got:\n{stderr}"
    assert stderr == lines[0] + "\n", repr(stderr)
    match = ERROR_LINE.fullmatch(lines[0])
    assert match, f"not `file:line:col: message`: {lines[0]!r}"
    return match


def test_cases_are_distinct() -> None:
    assert len(CASES) >= 18
    assert len({case.id for case in CASES}) == len(CASES)
    assert len({tuple(case.files.values()) for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", _params())
def test_malformed_scenario_is_refused(case: Case, tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    paths = _write(tmp_path, case.files, ran)
    main = paths[0]
    error_file = tmp_path / case.error_file if case.error_file else main

    result = _stagecast("rehearse", str(main))

    assert not ran.exists(), "a command ran although the scenario is malformed"
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr)
    error = _parse_one_error(result.stderr)
    assert error["file"] == str(error_file), result.stderr
    message = error["message"]
    for fragment in case.fragments:
        assert fragment in message, f"{fragment!r} not in {result.stderr!r}"
    assert int(error["line"]) == case.line, result.stderr


GOOD = _yaml(
    """
    title: Good
    setup:
      - run: touch @RAN@
    steps:
      - run: echo hi
        expect:
          contains: hi
    """
)
BAD = _yaml(
    """
    title: Bad
    setup:
      - run: touch @RAN@
    steps:
      - run: echo hi
        expct:
          contains: hi
    """
)


def test_lint_reports_the_bad_file_and_accepts_the_good_one(tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    good, bad = _write(tmp_path, {"good.yaml": GOOD, "bad.yaml": BAD}, ran)

    both = _stagecast("lint", str(good), str(bad))
    assert both.returncode == 2, (both.returncode, both.stderr)
    error = _parse_one_error(both.stderr)
    assert error["file"] == str(bad)
    assert int(error["line"]) == 6
    assert "did you mean 'expect'" in error["message"]
    assert str(good) not in both.stderr

    alone = _stagecast("lint", str(good))
    assert alone.returncode == 0, (alone.returncode, alone.stderr)
    assert alone.stderr == ""
    assert f"{good}: ok (1 steps)" in alone.stdout
    assert not ran.exists(), "lint must not run anything"
