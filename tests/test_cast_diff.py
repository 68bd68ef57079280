"""Cast diff: steps aligned by marker, rendered, masked and classified; `stagecast diff`;
`stagecast rehearse --baseline` against a cast recorded from the same scenario."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import run_cli, scenario_text
from recorder.cast.diff import builtin_masks, diff_casts, ordered_steps
from recorder.cast.reader import CastReadError, load_cast
from recorder.cast.segments import START, render, segments
from recorder.run.record import record
from recorder.run.rehearse import load_baseline, rehearse, rehearse_once
from recorder.run.report import junit_xml
from recorder.run.results import Drift, ScenarioResult, StepResult
from recorder.scenario.loader import load_scenario
from recorder.scenario.masks import compile_masks

PROMPT = "demo$ "


def write_cast(path: Path, steps: list[tuple[str, float, str]], cols: int = 40) -> Path:
    """A v2 cast by hand: a prompt, then for each (label, duration, output) a marker, the
    command's echo and output, and the next prompt."""
    header = {"version": 2, "width": cols, "height": 5, "timestamp": 0}
    events: list[list] = [[0.0, "o", PROMPT]]
    t = 0.5
    for label, duration, output in steps:
        events.append([t, "m", label])
        events.append([t + 0.1, "o", f"{label}\r\n"])
        if output:
            events.append([t + 0.2, "o", output.replace("\n", "\r\n") + "\r\n"])
        events.append([t + duration, "o", PROMPT])
        t += duration
    lines = [json.dumps(header)] + [json.dumps(e) for e in events]
    path.write_text("\n".join(lines) + "\n")
    return path


BASE = [
    ("kubectl get pods", 1.0, "web-7d4b9c6f5d-x2k9p   Running   10.244.1.7"),
    ("echo hello", 1.0, "hello"),
    ("echo bye", 1.0, "bye"),
]


def statuses(diff) -> list[tuple[str, str]]:
    return [(s.status, s.label) for s in diff.steps]


def test_identical_casts_are_the_same_step_by_step(tmp_path: Path) -> None:
    old = write_cast(tmp_path / "old.cast", BASE)
    new = write_cast(tmp_path / "new.cast", BASE)
    diff = diff_casts(load_cast(old), load_cast(new))
    assert statuses(diff) == [("same", START)] + [("same", label) for label, _, _ in BASE]
    assert not diff.semantic
    assert diff.counts()["same"] == 4


def test_a_pod_suffix_and_an_ip_that_differ_are_cosmetic(tmp_path: Path) -> None:
    old = write_cast(tmp_path / "old.cast", BASE)
    drifted = [("kubectl get pods", 1.0, "web-7d4b9c6f5d-q8zzm   Running   10.244.2.19"), *BASE[1:]]
    new = write_cast(tmp_path / "new.cast", drifted)
    diff = diff_casts(load_cast(old), load_cast(new))
    assert diff.steps[1].status == "cosmetic"
    assert diff.steps[1].diff == ""
    assert not diff.semantic
    # Without masks the same difference is a change.
    assert diff_casts(load_cast(old), load_cast(new), masks=[]).steps[1].status == "changed"


def test_a_changed_output_comes_with_a_unified_diff_of_the_masked_text(tmp_path: Path) -> None:
    old = write_cast(tmp_path / "old.cast", BASE)
    changed = [
        ("kubectl get pods", 1.0, "web-7d4b9c6f5d-q8zzm   CrashLoopBackOff   10.244.2.19"),
        *BASE[1:],
    ]
    new = write_cast(tmp_path / "new.cast", changed)
    diff = diff_casts(load_cast(old), load_cast(new))
    step = diff.steps[1]
    assert step.status == "changed" and diff.semantic
    assert step.diff.splitlines()[:2] == ["--- old: kubectl get pods", "+++ new: kubectl get pods"]
    # old -> new, volatile values masked on both sides
    assert "-web-<pod-suffix>   Running   <ip>" in step.diff
    assert "+web-<pod-suffix>   CrashLoopBackOff   <ip>" in step.diff  # wrapped at 40: joined
    assert " kubectl get pods" in step.diff  # context line: the command's echo


def test_added_removed_and_renamed_steps_line_up(tmp_path: Path) -> None:
    old = write_cast(tmp_path / "old.cast", BASE)
    new_steps = [
        BASE[0],
        ("echo hello world", 1.0, "hello"),  # renamed, same output
        ("echo extra", 1.0, "extra"),  # added
        # "echo bye" removed
    ]
    new = write_cast(tmp_path / "new.cast", new_steps)
    diff = diff_casts(load_cast(old), load_cast(new), masks=[])
    by_status = {(s.status, s.label) for s in diff.steps}
    assert ("same", "kubectl get pods") in by_status
    assert ("added", "echo extra") in by_status
    assert ("removed", "echo bye") in by_status
    renamed = next(s for s in diff.steps if s.renamed)
    assert renamed.old is not None and renamed.old.label == "echo hello"
    assert renamed.label == "echo hello world"
    assert renamed.status == "changed"  # the echo of the command differs
    assert diff.semantic


def test_timing_changes_are_reported_but_not_semantic(tmp_path: Path) -> None:
    old = write_cast(tmp_path / "old.cast", BASE)
    slower = [BASE[0], ("echo hello", 6.0, "hello"), BASE[2]]
    new = write_cast(tmp_path / "new.cast", slower)
    diff = diff_casts(load_cast(old), load_cast(new), timing_threshold=2.0)
    step = diff.steps[2]
    assert step.status == "same" and step.timing_changed
    assert step.old is not None and step.new is not None
    assert step.old.duration == pytest.approx(1.0) and step.new.duration == pytest.approx(6.0)
    assert not diff.semantic
    assert [s.timing_changed for s in diff.steps].count(True) == 1
    ignored = diff_casts(load_cast(old), load_cast(new), timing_threshold=None)
    assert not any(s.timing_changed for s in ignored.steps)


def test_a_step_renders_in_full_even_when_it_prints_more_than_a_screen() -> None:
    text = render("".join(f"line {n}\r\n" for n in range(100)) + "x" * 95, cols=40)
    lines = text.splitlines()
    assert lines[0] == "line 0" and lines[99] == "line 99"
    assert lines[100:] == ["x" * 95]  # wrapped at the cast's width, joined back
    # ... so a value the wrap splits is still masked whole, even where it wrapped at a space
    for line in ("web-7d4b9c6f5d-x2k9p   Running   10.244.1.7", "a" * 39 + " b"):
        assert render(line, cols=40) == line
    assert render("a" * 40 + "\r\nb", cols=40) == "a" * 40 + "\nb"  # a newline stays one
    # Rendered, not compared as bytes: a carriage-return redraw leaves what the audience saw.
    assert render("50%\r100%\r\n", cols=40) == "100%"


def test_the_cast_writers_cast_and_a_file_read_the_same_way(tmp_path: Path) -> None:
    from recorder.cast.writer import CastRecording

    cast = CastRecording(40, 5)
    cast.output(0.0, PROMPT)
    cast.marker(0.5, "echo hello")
    cast.output(0.6, "echo hello\r\nhello\r\n" + PROMPT)
    from_writer = segments(cast.to_cast())
    path = write_cast(tmp_path / "x.cast", [("echo hello", 1.0, "hello")])
    from_file = segments(load_cast(path))
    assert [(s.label, s.text) for s in from_writer] == [(s.label, s.text) for s in from_file]


def test_unreadable_casts_raise_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.cast"
    bad.write_text("not json\n")
    with pytest.raises(CastReadError, match="bad.cast: not an asciicast v1, v2 or v3 file"):
        load_cast(bad)
    with pytest.raises(CastReadError):
        load_cast(tmp_path / "missing.cast")


# -- real casts, recorded ------------------------------------------------------------------

SCENARIO = """\
masks: [ip]
steps:
  - say: Where is the pod?
    marker: Pod
    run: echo "pod at 10.0.0.$${SUFFIX:-1} version $${DEMO_VERSION:-1.0}"
  - run: echo done
"""


def record_to(tmp_path: Path, name: str, body: str = SCENARIO) -> tuple[Path, Path]:
    scenario = tmp_path / f"{name}.yaml"
    scenario.write_text(scenario_text(body))
    cast = tmp_path / "casts" / f"{name}.cast"
    result = record(load_scenario(scenario), cast, cps=100)
    assert result.passed, result.error
    return scenario, cast


def test_recorded_casts_of_the_same_scenario_differ_only_where_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, first = record_to(tmp_path, "a")
    monkeypatch.setenv("SUFFIX", "42")
    scenario, second = record_to(tmp_path, "b")
    masks = compile_masks(list(load_scenario(scenario).scenario.masks))
    diff = diff_casts(load_cast(first), load_cast(second), masks, timing_threshold=None)
    assert [s.status for s in diff.steps] == ["same", "cosmetic", "same"]
    monkeypatch.setenv("DEMO_VERSION", "2.0")
    _, third = record_to(tmp_path, "c")
    diff = diff_casts(load_cast(first), load_cast(third), masks, timing_threshold=None)
    assert [s.status for s in diff.steps] == ["same", "changed", "same"]
    assert "-pod at <ip> version 1.0" in diff.steps[1].diff
    assert "+pod at <ip> version 2.0" in diff.steps[1].diff


def test_cli_diff_exit_codes_report_and_json(tmp_path: Path) -> None:
    old = write_cast(tmp_path / "old.cast", BASE)
    cosmetic = write_cast(
        tmp_path / "cosmetic.cast",
        [("kubectl get pods", 1.0, "web-7d4b9c6f5d-q8zzm   Running   10.244.2.19"), *BASE[1:]],
    )
    changed = write_cast(tmp_path / "changed.cast", [*BASE[:2], ("echo bye", 9.0, "farewell")])

    done = run_cli("diff", str(old), str(cosmetic))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "≈ cosmetic" in done.stdout and "EQUIVALENT" in done.stdout

    done = run_cli("diff", str(old), str(changed), "--timing-threshold", "3")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "≠ changed" in done.stdout
    assert "-bye" in done.stdout and "+farewell" in done.stdout
    assert "timing 1.0s → 9.0s" in done.stdout
    assert done.stdout.strip().splitlines()[-1].startswith("DIFFERENT")

    done = run_cli("diff", str(old), str(changed), "--json")
    assert done.returncode == 1
    data = json.loads(done.stdout)
    assert data["semantic"] is True
    assert data["counts"] == {"same": 3, "cosmetic": 0, "changed": 1, "added": 0, "removed": 0}
    last = data["steps"][-1]
    assert last["status"] == "changed" and last["timing_changed"] is True
    assert last["old"]["duration"] == 1.0 and last["new"]["duration"] == 9.0
    assert "+farewell" in last["diff"]

    added = write_cast(tmp_path / "added.cast", [*BASE, ("echo more", 1.0, "more")])
    done = run_cli("diff", str(old), str(added), "--json")
    assert done.returncode == 1
    assert json.loads(done.stdout)["steps"][-1]["status"] == "added"


def test_cli_diff_masks_come_from_the_scenario(tmp_path: Path) -> None:
    old = write_cast(tmp_path / "old.cast", BASE)
    new = write_cast(
        tmp_path / "new.cast",
        [("kubectl get pods", 1.0, "web-7d4b9c6f5d-q8zzm   Running   10.244.2.19"), *BASE[1:]],
    )
    only_ip = tmp_path / "masks.yaml"
    only_ip.write_text(scenario_text("masks: [ip]\nsteps:\n  - run: 'true'\n"))
    done = run_cli("diff", str(old), str(new), "--scenario", str(only_ip))
    assert done.returncode == 1  # the pod suffix is not masked by this scenario
    assert "-web-7d4b9c6f5d-x2k9p   Running   <ip>" in done.stdout
    both = tmp_path / "both.yaml"
    both.write_text(scenario_text("masks: [ip, pod-suffix]\nsteps:\n  - run: 'true'\n"))
    assert run_cli("diff", str(old), str(new), "--scenario", str(both)).returncode == 0


def test_cli_diff_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    good = write_cast(tmp_path / "good.cast", BASE)
    bad = tmp_path / "bad.cast"
    bad.write_text("{}\n")
    done = run_cli("diff", str(good), str(bad))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f'{bad}: not an asciicast v1, v2 or v3 file: it is a JSON object with no "version" key'
    )
    assert done.stdout == ""
    done = run_cli("diff", str(good), str(tmp_path / "missing.cast"))
    assert done.returncode == 2 and "missing.cast" in done.stderr
    assert run_cli("diff", str(good), str(good), "--timing-threshold", "-1").returncode == 2


# -- rehearse --baseline -------------------------------------------------------------------


def test_baseline_names_follow_record(tmp_path: Path) -> None:
    lab = tmp_path / "scenarios" / "lab" / "x.yaml"
    lab.parent.mkdir(parents=True)
    lab.write_text(scenario_text("steps:\n  - run: 'true'\n"))
    baseline = load_baseline(load_scenario(lab), tmp_path / "base")
    assert baseline.path == tmp_path / "base" / "lab-x.cast"
    assert baseline.cast is None


def test_rehearse_matches_a_cast_recorded_from_the_same_scenario(tmp_path: Path) -> None:
    scenario, cast = record_to(tmp_path, "greet")
    done = run_cli("rehearse", str(scenario), "--baseline", str(cast.parent), env={"SUFFIX": "9"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"matches baseline {cast}" in done.stdout
    assert "differ only in masked values" in done.stdout  # the IP changed, and is masked
    # in-process too: rehearse() still returns the plain result
    loaded = load_scenario(scenario)
    assert rehearse(loaded).passed
    check = rehearse_once(loaded, baseline=load_baseline(loaded, cast.parent)).baseline
    assert check is not None and check.status == "equivalent"


def test_rehearse_fails_when_the_output_drifted_from_the_baseline(tmp_path: Path) -> None:
    scenario, cast = record_to(tmp_path, "greet")
    env = {"DEMO_VERSION": "2.0"}
    done = run_cli("rehearse", str(scenario), "--baseline", str(cast.parent), env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    summary = done.stdout.splitlines()[0]
    assert summary.startswith("FAIL ")
    assert f"differs from baseline {cast}: changed 'Pod'" in summary
    assert "+pod at <ip> version 2.0" in done.stdout  # the unified diff follows

    done = run_cli("rehearse", str(scenario), "--baseline", str(cast.parent), "--json", env=env)
    assert done.returncode == 1
    data = json.loads(done.stdout)
    assert data["passed"] is False
    baseline = data["scenarios"][0]["baseline"]
    assert baseline["status"] == "differs" and baseline["cast"] == str(cast)
    assert [s["status"] for s in baseline["diff"]["steps"]] == ["same", "changed", "same"]
    assert baseline["diff"]["timing_threshold"] is None  # rehearsals type instantly


def test_rehearse_without_a_baseline_cast_notes_it_and_passes(tmp_path: Path) -> None:
    scenario = tmp_path / "lonely.yaml"
    scenario.write_text(scenario_text("steps:\n  - run: echo hi\n"))
    empty = tmp_path / "casts"
    empty.mkdir()
    done = run_cli("rehearse", str(scenario), "--baseline", str(empty))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"no baseline cast {empty / 'lonely.cast'}: not compared" in done.stdout
    done = run_cli("rehearse", str(scenario), "--baseline", str(empty), "--json")
    assert done.returncode == 0
    assert json.loads(done.stdout)["scenarios"][0]["baseline"]["status"] == "missing"


def test_rehearse_baseline_bad_input_runs_nothing(tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    scenario = tmp_path / "s.yaml"
    scenario.write_text(scenario_text(f"steps:\n  - run: touch {ran}\n"))
    done = run_cli("rehearse", str(scenario), "--baseline", str(tmp_path / "nowhere"))
    assert done.returncode == 2 and "not a directory" in done.stderr
    (tmp_path / "casts").mkdir()
    (tmp_path / "casts" / "s.cast").write_text("garbage\n")
    done = run_cli("rehearse", str(scenario), "--baseline", str(tmp_path / "casts"))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"stagecast: {tmp_path / 'casts' / 's.cast'}: not an asciicast v1, v2 or v3 file: "
        "it looks like plain text, starting 'garbage'"
    ]
    assert not ran.exists()


def test_builtin_masks_are_all_of_them() -> None:
    from recorder.scenario.masks import BUILTIN_MASKS

    assert [name for name, _ in builtin_masks()] == list(BUILTIN_MASKS)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("veth89fd3276@if2 UP 12:34:56:54:ed:af", "<veth><ifindex> UP <mac>"),
        ('"dataDir": "/tmp/stagecast-lab-cni.gTLbTF/ipam"', '"dataDir": "<tmpdir>/ipam"'),
        ("inet6 fe80::ac9b:bff:feec:7bb7/64", "inet6 <ipv6>"),
        ("rtt min/avg/max/mdev = 0.060/0.115/0.225/0.077 ms", "rtt min/avg/max/mdev <latency>"),
        ("^C2026-11-27T14:46:26Z|00001|fatal_signal", "^C<timestamp>|00001|fatal_signal"),
        ("[1] 3065", "<job>"),
        ("ICMP echo request, id 3323, seq 1", "ICMP echo request, <icmp-id>, seq 1"),
        ("64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=0.071 ms", None),
    ],
)
def test_builtin_masks_cover_volatile_lab_output(text: str, masked: str | None) -> None:
    from recorder.cast.diff import builtin_masks
    from recorder.scenario.masks import apply_masks

    result = apply_masks(text, builtin_masks())
    if masked is None:
        assert "<ip>" in result and "<latency>" in result
    else:
        assert result == masked


def test_the_same_lines_in_another_order_are_cosmetic() -> None:
    from recorder.cast.diff import _compare
    from recorder.cast.segments import RenderedSegment as Segment

    old = Segment(1, "show", "switch a\n  port x\nswitch b\n  port y", 1.0)
    new = Segment(1, "show", "switch b\n  port y\nswitch a\n  port x", 1.0)
    step = _compare(old, new, [], None)
    assert (step.status, step.reordered) == ("cosmetic", True)
    changed = Segment(1, "show", "switch b\n  port y\nswitch a\n  port z", 1.0)
    assert _compare(old, changed, [], None).status == "changed"


def test_a_step_whose_order_matters_opts_out_of_reordered_is_cosmetic(tmp_path: Path) -> None:
    lines = ["1 first", "2 second", "3 third"]
    old = write_cast(tmp_path / "old.cast", [("ls -t", 1.0, "\n".join(lines))])
    new = write_cast(tmp_path / "new.cast", [("ls -t", 1.0, "\n".join(reversed(lines)))])
    loose = tmp_path / "loose.yaml"
    loose.write_text(scenario_text("steps:\n  - run: ls -t\n"))
    strict = tmp_path / "strict.yaml"
    strict.write_text(scenario_text("steps:\n  - run: ls -t\n    order_matters: true\n"))
    assert run_cli("diff", str(old), str(new), "--scenario", str(loose)).returncode == 0
    done = run_cli("diff", str(old), str(new), "--scenario", str(strict))
    assert done.returncode == 1 and "changed" in done.stdout
    ordered = ordered_steps(load_scenario(strict))
    assert ordered == {"ls -t"}
    assert diff_casts(load_cast(old), load_cast(new), ordered=ordered).semantic


# -- rehearse --baseline in JUnit ----------------------------------------------------------


def junit_failures(path: Path) -> tuple[ET.Element, list[tuple[ET.Element, ET.Element]]]:
    """The one testsuite of a JUnit file, and its failed testcases with their <failure>."""
    (suite,) = ET.parse(path).getroot().findall("testsuite")
    failed = [(case, case.find("failure")) for case in suite.findall("testcase")]
    return suite, [(case, failure) for case, failure in failed if failure is not None]


def test_junit_fails_the_step_that_drifted_from_the_baseline(tmp_path: Path) -> None:
    scenario, cast = record_to(tmp_path, "greet")
    junit = tmp_path / "junit.xml"
    done = run_cli(
        "rehearse", str(scenario), "--baseline", str(cast.parent), "--junit", str(junit),
        env={"DEMO_VERSION": "2.0"},
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    suite, failed = junit_failures(junit)
    assert suite.get("failures") == "1" and suite.get("tests") == "2"
    ((case, failure),) = failed
    assert case.get("name") == "00 Pod" and case.get("classname") == "greet.steps"
    assert failure.get("message") == f"differs from baseline {cast}: changed 'Pod'"
    text = failure.text or ""
    assert "-pod at <ip> version 1.0" in text and "+pod at <ip> version 2.0" in text
    err = suite.find("system-err")  # the one-line note stays, beside the failure
    assert err is not None and f"differs from baseline {cast}" in (err.text or "")


def test_junit_fails_the_baseline_for_a_step_only_it_has(tmp_path: Path) -> None:
    scenario, cast = record_to(
        tmp_path, "greet", "steps:\n  - run: echo kept\n  - run: echo dropped-later\n"
    )
    scenario.write_text(scenario_text("steps:\n  - run: echo new-first\n  - run: echo kept\n"))
    junit = tmp_path / "junit.xml"
    done = run_cli("rehearse", str(scenario), "--baseline", str(cast.parent), "--junit", str(junit))
    assert done.returncode == 1, done.stdout + done.stderr
    suite, failed = junit_failures(junit)
    assert suite.get("tests") == "3" and suite.get("failures") == "2"
    assert suite.get("skipped") == "0"
    by_name = {case.get("name"): failure for case, failure in failed}
    assert list(by_name) == ["00 echo new-first", f"baseline {cast}"]
    added, removed = by_name["00 echo new-first"], by_name[f"baseline {cast}"]
    assert added.get("message") == f"differs from baseline {cast}: added 'echo new-first'"
    assert "+echo new-first\n+new-first" in (added.text or "")
    assert removed.get("message") == f"differs from baseline {cast}: removed 'echo dropped-later'"
    assert "only in the baseline: echo dropped-later" in (removed.text or "")
    assert "-dropped-later" in (removed.text or "")


def test_junit_counts_a_drifted_not_run_step_as_failed() -> None:
    """Built by hand: a step declared unable to run whose note drifted fails (it is not
    skipped), and the suite's counts are its testcases'."""
    steps = [
        StepResult("steps", 0, "first", "true", False, status="passed"),
        StepResult("steps", 1, "crictl ps", "crictl ps", False, status="not-run"),
        StepResult("steps", 2, "last", "true", False, status="not-run"),
    ]
    drift = Drift("casts/x.cast", "crictl ps", "changed", "-old\n+new", step=1)
    result = ScenarioResult("x", "x.yaml", "x", "rehearse", steps, drifts=[drift])
    root = ET.fromstring(junit_xml([result]))
    (suite,) = root.findall("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "1", "1")
    cases = suite.findall("testcase")
    failure = cases[1].find("failure")
    assert failure is not None and cases[1].find("skipped") is None
    assert failure.get("message") == "differs from baseline casts/x.cast: changed 'crictl ps'"
    assert failure.text == "differs from baseline casts/x.cast: changed 'crictl ps'\n-old\n+new"
    assert cases[2].find("skipped") is not None


# -- a huge step, read as a stream, compared by digest -------------------------------------

BIG_LINES = 160_000  # lines of 200 characters: a step that printed 32 MB


def write_big_cast(path: Path, changed: dict[int, str] | None = None) -> Path:
    """A v2 cast of one step, `cat big.log`, that printed BIG_LINES numbered lines, 20 to an
    event; `changed` replaces some of them (line number -> text)."""
    changed = changed or {}
    with path.open("w") as f:
        f.write(json.dumps({"version": 2, "width": 80, "height": 24}) + "\n")
        f.write(json.dumps([0.0, "o", PROMPT]) + "\n")
        f.write(json.dumps([0.5, "m", "cat big.log"]) + "\n")
        f.write(json.dumps([0.6, "o", "cat big.log\r\n"]) + "\n")
        for start in range(0, BIG_LINES, 20):
            lines = [
                changed.get(n, f"line {n:08d} at 10.0.0.1 " + "x" * 174)
                for n in range(start, start + 20)
            ]
            f.write(json.dumps([1.0 + start / BIG_LINES, "o", "\r\n".join(lines) + "\r\n"]) + "\n")
        f.write(json.dumps([9.0, "o", PROMPT]) + "\n")
    return path


def test_a_huge_step_is_read_as_a_stream_and_compared_by_digest(tmp_path: Path) -> None:
    import tracemalloc

    from recorder.cast.diff import step_line
    from recorder.cast.reader import stream_cast
    from recorder.cast.seen import EMULATE_UP_TO

    big = write_big_cast(tmp_path / "big.cast")
    assert big.stat().st_size > 6 * EMULATE_UP_TO
    middle = BIG_LINES // 2
    edited = write_big_cast(tmp_path / "edited.cast", {middle: f"line {middle:08d} CHANGED"})

    tracemalloc.start()
    try:
        diff = diff_casts(stream_cast(big), stream_cast(edited))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Neither cast, nor the step's 32 MB of text, was held: only the 4 MB a step may print
    # before it is digested (and what reading it takes).
    assert peak < 4 * EMULATE_UP_TO, f"{peak / 2**20:.1f} MB"

    assert statuses(diff) == [("same", START), ("changed", "cat big.log")]
    step = diff.steps[1]
    assert step.old is not None and step.old.digest is not None
    assert step.old.digest.lines == BIG_LINES + 2  # the command's echo and the last prompt
    assert len(step.old.final) < 20_000  # its first and last lines, to show
    assert step.old.final.splitlines()[:2] == [
        "cat big.log",
        "line 00000000 at 10.0.0.1 " + "x" * 174,
    ]
    assert "more lines, compared by digest" in step.old.final
    assert step.old.final.endswith(PROMPT.strip())
    # How it was compared is said on the step's line, and in JSON.
    assert "[compared by digest: 160,002 lines, 30." in step_line(step)
    assert step.to_dict()["compared"].startswith("by digest: 160,002 lines")
    # The middle that differs was read again: a unified diff of it, as a whole-text diff
    # would give it, lines numbered in the step (the echo is line 1), masked.
    at = middle + 2
    assert step.diff.splitlines() == [
        "--- old: cat big.log",
        "+++ new: cat big.log",
        f"@@ -{at - 3},7 +{at - 3},7 @@",
        *[f" line {n:08d} at <ip> " + "x" * 174 for n in range(middle - 3, middle)],
        f"-line {middle:08d} at <ip> " + "x" * 174,
        f"+line {middle:08d} CHANGED",
        *[f" line {n:08d} at <ip> " + "x" * 174 for n in range(middle + 1, middle + 4)],
    ]

    same = diff_casts(stream_cast(big), stream_cast(big))
    assert statuses(same) == [("same", START), ("same", "cat big.log")]
    assert same.steps[1].compared == step.compared
    # A value a mask hides, changed in the middle: cosmetic, as in a small step.
    other_ip = {middle: f"line {middle:08d} at 10.0.0.2 " + "x" * 174}
    masked = write_big_cast(tmp_path / "masked.cast", other_ip)
    assert statuses(diff_casts(stream_cast(big), stream_cast(masked))) == [
        ("same", START),
        ("cosmetic", "cat big.log"),
    ]
    assert diff_casts(stream_cast(big), stream_cast(masked), masks=[]).steps[1].status == "changed"
    # A huge step against a small one of the same label: compared the same way, and changed.
    small = write_cast(tmp_path / "small.cast", [("cat big.log", 1.0, "line 00000000")])
    against = diff_casts(load_cast(small), stream_cast(big)).steps[1]
    assert against.status == "changed" and against.compared
    assert "+line 00000001 at <ip> " in against.diff


def test_a_huge_step_reads_as_the_whole_output_read_as_plain_text(tmp_path: Path) -> None:
    """The digest streamed from the file is the digest of the text `watch` gives for the
    whole output at once: the stream reads the same lines."""
    from recorder.cast.reader import stream_cast
    from recorder.cast.seen import watch
    from recorder.cast.segments import LineDigest

    big = write_big_cast(tmp_path / "big.cast")
    (step,) = [s for s in segments(stream_cast(big)) if s.label == "cat big.log"]
    assert step.digest is not None
    cast = load_cast(big)
    whole = watch(cast.segments[1].events, 80).final  # the whole output, as plain text
    assert step.digest.blocks == LineDigest.of_text(whole).blocks
    assert (step.digest.lines, step.digest.chars) == (whole.count("\n") + 1, len(whole))
    # The cast held in memory (a rehearsal's) is cut the same way.
    held = [s for s in segments(cast) if s.label == "cat big.log"][0].digest
    assert held is not None and held.blocks == step.digest.blocks


@pytest.mark.parametrize("chunk", [1, 3, 7, 64])
def test_plain_lines_read_in_chunks_read_as_the_whole(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """However the output comes in, PlainLines gives the lines `watch` gives for the whole:
    escape sequences and CR LF split between chunks, an OSC over a line feed, redraws."""
    from recorder.cast import seen
    from recorder.shell.output_cleaner import plain_text

    monkeypatch.setattr(seen, "PLAIN_CHUNK", 5)  # read on after every few characters
    output = (
        "plain line  \r\n"
        "\x1b[1;31mred\x1b[0m and \x1b]0;a title\x07after\r\n"
        "50%\r100%\r\n"
        "\x1b]8;;http://x\nover a line feed\x1b\\link\x1b]8;;\x1b\\ end\n"
        "half\r\n\r\n\r\n"
        "an OSC never closed \x1b]2;and\nits next line\n"
        "tail   "
    )
    whole = [line.rstrip() for line in plain_text(output).split("\n")]
    reader = seen.PlainLines()
    lines: list[str] = []
    for at in range(0, len(output), chunk):
        lines += reader.feed(output[at : at + chunk])
    assert lines + reader.close() == whole


def test_plain_lines_cut_a_line_too_long_to_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    from recorder.cast import seen

    monkeypatch.setattr(seen, "MAX_LINE", 16)
    monkeypatch.setattr(seen, "PLAIN_CHUNK", 4)
    output = "x" * 40 + "\x1b[1m" + "y" * 10 + "\r\nz\r\n"
    reader = seen.PlainLines()
    lines: list[str] = []
    for at in range(0, len(output), 3):
        lines += reader.feed(output[at : at + 3])
    lines += reader.close()
    assert all(len(line) <= 16 for line in lines)
    # Cut into lines, not into pieces of an escape sequence: nothing of it shows.
    assert "".join(lines) == "x" * 40 + "y" * 10 + "z"


def test_cli_diff_of_a_huge_step_and_a_bad_line_found_while_streaming(tmp_path: Path) -> None:
    big = write_big_cast(tmp_path / "big.cast")
    middle = BIG_LINES // 2
    edited = write_big_cast(tmp_path / "edited.cast", {middle: f"line {middle:08d} CHANGED"})
    done = run_cli("diff", str(big), str(edited))
    assert done.returncode == 1, done.stderr
    assert "≠ changed    1 cat big.log [compared by digest: 160,002 lines" in done.stdout
    assert f"+line {middle:08d} CHANGED" in done.stdout
    # A cast read as a stream is found bad when the read gets there: still one line, exit 2.
    bad = tmp_path / "bad.cast"
    lines = write_cast(tmp_path / "good.cast", BASE).read_text().splitlines()
    bad.write_text("\n".join([*lines[:4], "[1.0, oops]", *lines[4:]]) + "\n")
    done = run_cli("diff", str(tmp_path / "good.cast"), str(bad))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == (
        f"{bad}: not an asciicast v1, v2 or v3 file: line 5: not an asciicast event "
        "(Expecting value)"
    )
