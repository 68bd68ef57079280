"""The cni-from-zero lab on real namespaces and real CNI plugins: cast, cleanup, faults."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from asciinema.asciicast import open_from_url

from conftest import ROOT, final_screen, run_cli
from host_state import HostState, require_lab, scenario_variant
from recorder.run.record import record
from recorder.run.rehearse import rehearse
from recorder.scenario.loader import load_scenario

SCENARIO = ROOT / "scenarios" / "lab" / "cni-from-zero.yaml"
NEEDS = ("ip", "jq", "ping")


@pytest.fixture
def lab() -> None:
    require_lab(*NEEDS, cni=True)


def test_records_a_verified_cast_and_leaves_the_host_as_it_was(lab, tmp_path: Path) -> None:
    before = HostState.take()
    loaded = load_scenario(SCENARIO)
    cast = tmp_path / "cni.cast"
    result = record(loaded, cast, cps=80)
    assert result.passed, [(s.label, s.failures) for s in result.steps if s.failures]
    assert before.leftovers_now() == {}

    with open_from_url(str(cast)) as asciicast:
        events = list(asciicast.events())
    markers = [data for _, code, data in events if code == "m"]
    visible = [s for s in loaded.scenario.steps if not s.hidden]
    assert markers == [s.label() for s in visible]
    assert "failed to find plugin" in markers

    term = loaded.scenario.terminal
    shown = final_screen(events, term.cols, term.rows)
    output = "".join(data for _, code, data in events if code == "o")
    assert "cni-exec DEL" in shown
    assert shown.rstrip().endswith("lab$")
    assert 'failed to find plugin "bridge" in path' in output
    assert "3 received, 0% packet loss" in output
    assert "CNI_NETNS: /var/run/netns/sccni-pod1" in output


def test_a_hanging_step_times_out_is_interrupted_and_teardown_cleans(lab) -> None:
    text = SCENARIO.read_text().replace(
        "  - say: CHECK asks the plugin",
        "  - run: ip netns exec sccni-pod1 ping 10.244.0.250\n"
        "    timeout: 2\n"
        "  - say: CHECK asks the plugin",
    )
    before = HostState.take()
    with scenario_variant(SCENARIO, "hang", text) as path:
        result = rehearse(load_scenario(path))
    assert not result.passed
    hung = next(s for s in result.steps if s.status == "failed")
    assert hung.command == "ip netns exec sccni-pod1 ping 10.244.0.250"
    assert hung.failures == ["timed out after 2s; sent Ctrl-C"]
    assert "PING 10.244.0.250" in hung.output
    assert all(s.passed for s in result.steps if s.phase == "teardown")
    assert before.leftovers_now() == {}


def test_a_failed_setup_still_tears_down(lab) -> None:
    text = SCENARIO.read_text().replace(
        "ip netns add sccni-pod2\n", "ip netns add sccni-pod2 && false\n"
    )
    before = HostState.take()
    with scenario_variant(SCENARIO, "setup-fails", text) as path:
        result = rehearse(load_scenario(path))
    assert not result.passed
    assert [s.status for s in result.steps if s.phase == "setup"] == ["passed", "failed"]
    assert before.leftovers_now() == {}


def test_non_root_gets_one_clear_line_and_exit_2(lab) -> None:
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("needs setpriv (util-linux) to drop root")
    done = subprocess.run(
        [
            setpriv,
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            sys.executable,
            "-m",
            "stagecast",
            "rehearse",
            str(SCENARIO),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"{SCENARIO}:" in lines[0] and "needs root" in lines[0]


def test_live_dress_rehearsal_on_the_real_lab(lab, tmp_path: Path) -> None:
    """`live --auto` runs the lab for real, with the committed verified cast as its net."""
    before = HostState.take()
    done = run_cli(
        "live",
        "--auto",
        "--cps",
        "80",
        "--socket",
        str(tmp_path / "sock" / "live.sock"),
        str(SCENARIO),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "3 received, 0% packet loss" in done.stdout
    assert "\x1b]133" not in done.stdout
    assert before.leftovers_now() == {}


def test_a_rehearsal_matches_the_committed_cast_once_masked(lab) -> None:
    """Drift reports on real output: veth names, MACs, temp dirs and latencies differ from
    run to run, and the built-in masks make two healthy runs compare equal."""
    done = run_cli("rehearse", "--baseline", str(ROOT / "casts"), str(SCENARIO), timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
