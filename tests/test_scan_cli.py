"""`stagecast scan` as users run it: exit codes, one line per leak, never the value itself."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli

SECRET = "s3cr3t-Value-42"
SCENARIO = """\
title: scanned
env:
  API_TOKEN: {from_env: SCAN_TEST_TOKEN, secret: true}
steps:
  - run: echo hi
"""


def write_cast(path: Path, events: list[list]) -> Path:
    header = {"version": 2, "width": 80, "height": 24}
    path.write_text("\n".join(json.dumps(e) for e in [header, *events]) + "\n")
    return path


def test_a_clean_cast_passes(tmp_path: Path) -> None:
    cast = write_cast(tmp_path / "clean.cast", [[0.1, "o", "$ kubectl get secrets\r\n"]])
    done = run_cli("scan", str(cast))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "clean: 1 cast(s) scanned" in done.stdout


def test_planted_leaks_fail_with_one_line_each(tmp_path: Path) -> None:
    cast = write_cast(
        tmp_path / "leaky.cast",
        [
            [0.1, "o", "-----BEGIN RSA PRIV"],
            [0.2, "o", "ATE KEY-----\r\nMIIEow...\r\n"],
            [0.3, "o", "\x1b]7;file://laptop.local/home/speaker\x07$ "],
        ],
    )
    done = run_cli("scan", str(cast))
    assert done.returncode == 1
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 2
    assert any("private-key" in line for line in lines)
    assert any("osc-7" in line for line in lines)
    assert all(line.startswith(f"{cast}: event ") for line in lines)
    assert "laptop.local/home/speaker" not in done.stdout  # the excerpt is masked


def test_declared_secrets_come_from_the_scenario(tmp_path: Path) -> None:
    scenario = tmp_path / "scanned.yaml"
    scenario.write_text(SCENARIO)
    cast = write_cast(
        tmp_path / "secret.cast",
        [[0.1, "o", f"token is {SECRET[:6]}"], [0.2, "o", f"\x1b[1m{SECRET[6:]}\x1b[0m\r\n"]],
    )
    env = {"SCAN_TEST_TOKEN": SECRET}
    assert run_cli("scan", str(cast), env=env).returncode == 0  # unknown without the scenario
    done = run_cli("scan", "--scenario", str(scenario), str(cast), env=env)
    assert done.returncode == 1
    assert "secret" in done.stdout
    assert SECRET not in done.stdout + done.stderr


def test_an_unreadable_cast_is_bad_input(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.cast"
    bogus.write_text("not a cast\n")
    done = run_cli("scan", str(bogus))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "bogus.cast" in done.stderr
