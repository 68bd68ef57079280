"""`stagecast rehearse --repeat N`: nearest-rank percentiles, pass rates and flaky steps, the
budget, the JSON of every run, and Ctrl-C stopping after the current run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, run_cli, scenario_text
from recorder.run.rehearsal_stats import RepeatStats, percentile, step_stats, typing_time
from recorder.run.results import ScenarioResult, StepResult
from recorder.scenario.loader import load_scenario
from recorder.shell.typing_model import TypingModel

# Fails on the 2nd run only: a counter file in the scenario's directory (the shell's cwd).
FLAKY = """\
setup:
  - run: echo setting up
steps:
  - run: echo first
  - marker: counter
    run: n=$(( $(cat count 2>/dev/null || echo 0) + 1 )); echo $n > count; test $n -ne 2
  - run: echo after
teardown:
  - run: echo tearing down
"""


def fake_run(durations: dict[str, float], statuses: dict[str, str], total: float) -> ScenarioResult:
    result = ScenarioResult("s", "s.yaml", "t", "rehearse", duration=total)
    for n, (label, duration) in enumerate(durations.items()):
        status = statuses.get(label, "passed")
        step = StepResult("steps", n, label, None, hidden=False, status=status, duration=duration)
        if status == "failed":
            step.failures = ["boom"]
        result.steps.append(step)
    return result


# -- pure functions ------------------------------------------------------------------------


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 11)]
    assert percentile(values, 50) == 5.0
    assert percentile(values, 95) == 10.0
    assert percentile(values, 10) == 1.0
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0  # the median of three
    assert percentile([3.0, 1.0, 2.0], 95) == 3.0  # the slowest of three
    assert percentile([0.4], 95) == 0.4
    assert percentile([1.0, 2.0], 50) == 1.0  # an observed value, never interpolated
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 0)


def test_step_stats_pass_rates_durations_and_verdicts() -> None:
    runs = [
        fake_run({"a": 1.0, "b": 2.0, "c": 0.5}, {}, 3.5),
        fake_run({"a": 3.0, "b": 4.0, "c": 0.0}, {"b": "failed", "c": "skipped"}, 7.0),
        fake_run({"a": 2.0, "b": 1.0, "c": 0.7}, {}, 3.7),
    ]
    a, b, c = step_stats(runs)
    assert (a.passed, a.runs, a.verdict) == (3, 3, "ok")
    assert (a.p50, a.p95) == (2.0, 3.0)
    assert (b.passed, b.failed, b.verdict, b.pass_rate) == (2, 1, "flaky", 2 / 3)
    assert c.verdict == "skipped in some runs" and c.durations == [0.5, 0.7]  # skipped: no time
    stats = RepeatStats("s", "s.yaml", 3, runs, budget=10.0, typing=2.0)
    assert not stats.passed and stats.passed_runs == 2
    assert stats.totals() == [3.5, 3.7]  # failed runs stop early: not counted
    assert (stats.total(50), stats.total(95)) == (3.5, 3.7)
    assert stats.stage(95) == pytest.approx(5.7)
    assert stats.budget_verdict() == "within budget 10s (4.3s to spare)"
    assert "flaky 'steps[1] b' 2/3" in stats.summary()


def test_budget_verdicts() -> None:
    runs = [fake_run({"a": 1.0}, {}, 100.0), fake_run({"a": 1.0}, {}, 130.0)]
    assert RepeatStats("s", "s", 2, runs, budget=120, typing=20).budget_verdict() == (
        "over budget 120s by 30.0s"
    )
    assert RepeatStats("s", "s", 2, runs, budget=120, typing=20).over_budget
    assert RepeatStats("s", "s", 2, runs).budget_verdict() == "no budget set"
    failed = [fake_run({"a": 1.0}, {"a": "failed"}, 1.0)]
    assert "no passing run" in RepeatStats("s", "s", 1, failed, budget=5).budget_verdict()


def test_typing_time_is_what_record_would_type(write_scenario) -> None:
    path = write_scenario(
        """\
        typing: {cps: 10, seed: 3, think: 0.5}
        setup: [{run: echo hidden setup}]
        steps:
          - say: Hello
            run: echo hi
          - run: echo secret
            hidden: true
          - run: cat
            keys: ["abc\\r", {key: ctrl-d, times: 2}]
        """,
        fast=False,
    )
    model = TypingModel(10, seed=3)  # the default jitter
    # The think pauses are drawn per visible step, seeded by its text.
    thinks = model.think(0.5, "Hello\x00echo hi") + model.think(0.5, "\x00cat")
    expected = thinks + sum(
        sum(model.delays(text)) for text in ("# Hello\r", "echo hi\r", "cat\r", "abc\r")
    )
    expected += 2 * 0.25  # two named keys
    assert typing_time(load_scenario(path).scenario) == pytest.approx(expected)


# -- the command line ----------------------------------------------------------------------


def test_repeat_json_has_every_run_and_a_flaky_step(tmp_path: Path) -> None:
    path = tmp_path / "flaky.yaml"
    path.write_text(scenario_text(FLAKY))
    done = run_cli("rehearse", str(path), "--repeat", "3", "--json")
    assert done.returncode == 1, done.stdout + done.stderr
    data = json.loads(done.stdout)
    assert data["passed"] is False and data["interrupted"] is False
    assert data["percentiles"] == "nearest-rank"
    (scenario,) = data["scenarios"]
    assert (scenario["runs_done"], scenario["passed_runs"]) == (3, 2)
    steps = {(s["phase"], s["index"]): s for s in scenario["steps"]}
    counter = steps[("steps", 1)]
    assert (counter["passed"], counter["runs"], counter["verdict"]) == (2, 3, "flaky")
    assert counter["pass_rate"] == pytest.approx(2 / 3, abs=1e-3)
    assert steps[("steps", 2)]["verdict"] == "skipped in some runs"
    assert steps[("setup", 0)]["hidden"] is True and steps[("setup", 0)]["passed"] == 3
    assert steps[("teardown", 0)]["passed"] == 3  # teardown ran after the failure too
    for step in scenario["steps"]:
        assert step["p50"] <= step["p95"]
    runs = scenario["runs"]
    assert [r["passed"] for r in runs] == [True, False, True]
    assert [s["status"] for s in runs[1]["steps"]] == [
        "passed",
        "passed",
        "failed",
        "skipped",
        "passed",
    ]
    assert all(isinstance(s["duration"], float) for r in runs for s in r["steps"])
    assert scenario["total"]["p50"] <= scenario["total"]["p95"]
    assert scenario["budget"] is None and scenario["budget_verdict"] == "no budget set"


def test_repeat_table_shows_pass_rates_and_the_budget(tmp_path: Path) -> None:
    path = tmp_path / "flaky.yaml"
    path.write_text(scenario_text("budget: 3600\n" + FLAKY))
    done = run_cli("rehearse", str(path), "--repeat", "3", env={"COLUMNS": "160"})
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "steps[1] counter" in out and "2/3" in out and "flaky" in out
    assert "setup[0] echo setting up (hidden)" in out
    assert "within budget 3600s" in out
    last = out.strip().splitlines()[-1]
    assert last.startswith(f"FAIL {path}: 2/3 runs passed; flaky 'steps[1] counter' 2/3")
    assert "run 2/3" in done.stderr  # progress, per run, on stderr


def test_repeat_all_green_and_over_budget_is_reported_only(tmp_path: Path) -> None:
    path = tmp_path / "green.yaml"
    # The typing estimate alone (deterministic) is over a millisecond budget.
    path.write_text(scenario_text("budget: 0.001\nsteps:\n  - run: echo hi\n"))
    done = run_cli("rehearse", str(path), "--repeat", "2", "-q")
    assert done.returncode == 0, done.stdout + done.stderr
    (line,) = done.stdout.strip().splitlines()
    assert line.startswith(f"PASS {path}: 2/2 runs passed; over budget 0.001s by ")
    assert done.stderr == ""
    done = run_cli("rehearse", str(path), "--repeat", "1", "--json")
    data = json.loads(done.stdout)["scenarios"][0]
    assert data["over_budget"] is True and data["typing_estimate"] > 0.001


def test_repeat_must_be_at_least_one(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(scenario_text("steps:\n  - run: touch ran\n"))
    done = run_cli("rehearse", str(path), "--repeat", "0")
    assert done.returncode == 2
    assert "--repeat takes a number of runs, 1 or more" in done.stderr
    assert not (tmp_path / "ran").exists()


def test_ctrl_c_stops_after_the_current_run_and_reports_it(tmp_path: Path) -> None:
    started = tmp_path / "started"
    path = tmp_path / "slow.yaml"
    path.write_text(scenario_text(f"steps:\n  - run: touch {started}; sleep 1; echo done\n"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "stagecast", "rehearse", str(path), "--repeat", "3", "--json"],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not started.exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, out + err
    data = json.loads(out)
    assert data["interrupted"] is True and data["passed"] is False
    (scenario,) = data["scenarios"]
    assert scenario["runs_done"] == 1 and scenario["requested_runs"] == 3
    assert scenario["runs"][0]["passed"] is True  # the current run finished
