"""`stagecast scan` as users run it: exit codes, one line per leak, never the value itself."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

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


# --- secrets the cast's provenance names ---------------------------------------------------


def named_cast(path: Path, events: list[list], value: str = SECRET) -> Path:
    """A cast whose provenance names $SCAN_TEST_TOKEN by fingerprint, recorded as `value`."""
    from recorder.cast.provenance import SecretFingerprint

    named = [vars(SecretFingerprint.of("SCAN_TEST_TOKEN", value))]
    header = {"version": 2, "width": 80, "height": 24}
    header["stagecast"] = {"verified": True, "secrets": named, "steps": []}
    path.write_text("\n".join(json.dumps(e) for e in [header, *events]) + "\n")
    return path


def test_a_secret_the_provenance_names_is_looked_for_from_the_environment(tmp_path: Path) -> None:
    encoded = base64.b64encode(f"user:{SECRET}".encode()).decode()  # inside a longer blob
    cast = named_cast(
        tmp_path / "leaky.cast", [[0.1, "o", f"auth: {encoded[:9]}"], [0.2, "o", encoded[9:]]]
    )
    done = run_cli("scan", str(cast), env={"SCAN_TEST_TOKEN": SECRET})
    assert done.returncode == 1, done.stdout + done.stderr
    # the blob's own start ("user:") stays as context
    assert done.stdout.strip() == f"{cast}: event 1 (0.100s): secret: auth: dXNlcj*** (base64)"
    assert encoded not in done.stdout + done.stderr
    clean = named_cast(tmp_path / "clean.cast", [[0.1, "o", "hi\r\n"]])
    done = run_cli("scan", str(clean), env={"SCAN_TEST_TOKEN": SECRET})
    assert done.returncode == 0 and "clean: 1 cast(s) scanned" in done.stdout


@pytest.mark.parametrize(
    ("value", "why"),
    [(None, "not set in the environment"), ("other-value", "set, but not to the value recorded")],
)
def test_a_named_secret_that_cannot_be_checked_is_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str | None, why: str
) -> None:
    monkeypatch.delenv("SCAN_TEST_TOKEN", raising=False)
    cast = named_cast(tmp_path / "demo.cast", [[0.1, "o", "hi\r\n"]])
    done = run_cli("scan", str(cast), env={"SCAN_TEST_TOKEN": value} if value else None)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"{cast}: cannot check for the secret(s) its provenance names: "
        f"SCAN_TEST_TOKEN ({why}): export the variable(s) or give --scenario",
        "stagecast: not known to be clean: do not publish",
    ]


def test_the_scenario_gives_the_secrets_and_a_leak_is_still_exit_1(tmp_path: Path) -> None:
    scenario = tmp_path / "scanned.yaml"
    scenario.write_text(SCENARIO)
    cast = named_cast(tmp_path / "demo.cast", [[0.1, "o", f"{SECRET.encode().hex()}\r\n"]])
    other = named_cast(tmp_path / "other.cast", [[0.1, "o", "hi\r\n"]], value="recorded-elsewhere")
    done = run_cli(
        "scan", "--scenario", str(scenario), str(cast), str(other), env={"SCAN_TEST_TOKEN": SECRET}
    )
    assert done.returncode == 1
    assert done.stdout.strip() == f"{cast}: event 1 (0.100s): secret: *** (hex)"
    assert f"{other}: cannot check for the secret(s)" in done.stderr
