"""The command line: lint, schema, rehearse with JUnit and JSON, exit codes, the tour."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import ROOT, run_cli, scenario_text

SCENARIOS = sorted(p for p in (ROOT / "scenarios").rglob("*.yaml") if not p.name.startswith("."))


def test_schema_is_valid_json_schema_and_accepts_every_scenario() -> None:
    done = run_cli("schema")
    assert done.returncode == 0
    schema = json.loads(done.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert SCENARIOS, "scenarios/ holds at least the tour"
    for path in SCENARIOS:
        data = yaml.safe_load(path.read_text())
        if isinstance(data, dict) and "title" in data:
            errors = [e.message for e in validator.iter_errors(data)]
            assert errors == [], path
    assert list(validator.iter_errors({"title": "t", "steps": [{"rn": "x"}]}))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_every_shipped_scenario_lints(path: Path) -> None:
    done = run_cli("lint", str(path))
    assert done.returncode == 0, done.stderr
    assert "ok" in done.stdout


def test_tour_rehearses_green() -> None:
    done = run_cli("rehearse", "scenarios/tour.yaml", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(done.stdout)
    assert data["passed"] is True
    steps = data["scenarios"][0]["steps"]
    assert [s["status"] for s in steps] == ["passed"] * len(steps)
    assert any(s["phase"] == "setup" for s in steps)


def test_rehearse_many_with_junit_and_exit_code_1(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(scenario_text("steps:\n  - run: echo fine\n"))
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        scenario_text(
            "steps:\n  - run: echo drifted\n    expect: {contains: v1.31}\n  - run: echo later\n"
        )
    )
    junit = tmp_path / "out" / "junit.xml"
    done = run_cli("rehearse", str(good), str(bad), "--junit", str(junit))
    assert done.returncode == 1
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("PASS ") and lines[1].startswith("FAIL ")
    assert "bad.yaml:6:5 'echo drifted': expected output to contain 'v1.31'" in lines[1]
    root = ET.parse(junit).getroot()
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["good", "bad"]
    assert suites[1].get("failures") == "1" and suites[1].get("skipped") == "1"
    failure = suites[1].find("testcase/failure")
    assert failure is not None and "drifted" in (failure.text or "")


def test_quiet_prints_only_the_summary(tmp_path: Path) -> None:
    path = tmp_path / "q.yaml"
    path.write_text(scenario_text("steps:\n  - run: echo quiet\n"))
    done = run_cli("rehearse", "-q", str(path))
    assert done.returncode == 0
    assert done.stderr == ""
    assert len(done.stdout.strip().splitlines()) == 1


def test_missing_required_program_exits_2_before_anything_runs(tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    path = tmp_path / "req.yaml"
    path.write_text(
        scenario_text(f"requires: [bash, no-such-tool-xyz]\nsteps:\n  - run: touch {ran}\n")
    )
    done = run_cli("rehearse", str(path))
    assert done.returncode == 2
    assert "requires 'no-such-tool-xyz', which is not on PATH" in done.stderr
    assert f"{path}:5:" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not ran.exists()


def test_missing_secret_env_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "env.yaml"
    path.write_text(
        scenario_text(
            "env:\n  TOKEN: {from_env: STAGECAST_UNSET_VAR_XYZ, "
            "secret: true}\nsteps:\n  - run: echo hi\n"
        )
    )
    done = run_cli("record", str(path), "-o", str(tmp_path / "x.cast"))
    assert done.returncode == 2
    assert "STAGECAST_UNSET_VAR_XYZ" in done.stderr and "export" in done.stderr
    assert not (tmp_path / "x.cast").exists()


def test_usage_errors_exit_2_in_one_line() -> None:
    done = run_cli("rehearse")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert run_cli("frobnicate").returncode == 2


def test_record_default_path_is_casts_name(tmp_path: Path) -> None:
    path = tmp_path / "named.yaml"
    path.write_text(scenario_text("steps:\n  - run: echo named\n"))
    done = run_cli("record", str(path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "casts" / "named.cast").exists()
    assert "verified cast: casts/named.cast" in done.stdout


def test_published_schema_file_is_current() -> None:
    published = json.loads((ROOT / "scenarios" / "scenario.schema.json").read_text())
    assert published == json.loads(run_cli("schema").stdout), (
        "run: stagecast schema > scenarios/scenario.schema.json"
    )


def test_default_scenario_is_the_cni_lab_for_root_and_the_tour_otherwise(monkeypatch) -> None:
    from host_state import lab_skip_reason
    from recorder.scenario.defaults import default_scenario

    loaded, why = default_scenario(ROOT)
    if lab_skip_reason("ip", "jq", "ping", cni=True) is None:
        assert loaded.path.name == "cni-from-zero.yaml", why
    else:
        assert loaded.path.name == "tour.yaml", why
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    loaded, why = default_scenario(ROOT)
    assert loaded.path.name == "tour.yaml"
    assert "needs root" in why


def test_default_scenario_outside_a_checkout_says_what_to_do(tmp_path: Path) -> None:
    done = run_cli("record", cwd=tmp_path)
    assert done.returncode == 2
    assert "name a scenario" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_render_tour_chapter_to_png_and_usage_errors(tmp_path: Path) -> None:
    """`stagecast render`: one result line on stdout; a usage error is one line, exit 2."""
    pytest.importorskip("PIL", reason="Pillow is not installed (pip install pillow)")
    from player.render.fonts import MONO, find_font

    if find_font(MONO[0]) is None:
        pytest.skip("DejaVu Sans Mono is not installed (apt-get install fonts-dejavu-core)")
    tour = ROOT / "casts" / "tour.cast"
    done = run_cli("render", str(tour), "--chapter", "capture", "-o", "c.png", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("c.png: still") and done.stderr == ""
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for argv in (
        ["-o", "x.bmp"],
        ["-o", "x.gif", "--fps", "0"],
        ["--chapter", "9999", "-o", "x.gif"],
    ):
        bad = run_cli("render", str(tour), *argv, cwd=tmp_path)
        assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
