"""Lab: the ovn-from-zero scenario (talk demo 2 and the ovsdb-mon segment) on a real OVN.

OVN's databases, ovn-northd, ovs-vswitchd (userspace datapath) and ovn-controller all run for
real, on unix sockets in a temp dir. Needs root and the Debian packages ovn-central, ovn-host,
openvswitch-switch, iproute2 and iputils-ping; each test skips with the reason otherwise.
Every test proves that teardown left the host as it found it.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from asciinema.asciicast import open_from_url

from conftest import ROOT, failures_of, final_screen
from host_state import HostState, lab_lock, require_lab, scenario_variant
from recorder.run.progress import NullReporter
from recorder.run.record import record
from recorder.run.results import StepResult
from recorder.run.runner import Runner
from recorder.scenario.loader import load_scenario

SCENARIO = ROOT / "scenarios" / "lab" / "ovn-from-zero.yaml"
LAB_GLOB = "/tmp/stagecast-lab-ovn.*"
# Programs the scenario uses, with the Debian package that ships each.
PACKAGES = {
    "ip": "iproute2",
    "ping": "iputils-ping",
    "ovn-nbctl": "ovn-central",
    "ovn-sbctl": "ovn-central",
    "ovn-northd": "ovn-central",
    "ovn-appctl": "ovn-common",
    "ovn-controller": "ovn-host",
    "ovs-vswitchd": "openvswitch-switch",
    "ovsdb-server": "openvswitch-switch",
    "ovsdb-tool": "openvswitch-common",
    "ovsdb-client": "openvswitch-common",
    "ovs-vsctl": "openvswitch-common",
    "ovs-appctl": "openvswitch-common",
    "ovs-ofctl": "openvswitch-common",
}
MARKERS = [
    "From zero",
    "Logical switches",
    "ls-list",
    "Logical router",
    "lr-list",
    "Router ports",
    "Pod ports",
    "ovn-nbctl show",
    "Ports down",
    "Pod plumbing",
    "Plug two pods",
    "Port bindings",
    "Ports up",
    "Ping across the router",
    "Flows",
    "ACL drop",
    "Ping blocked",
    "ACL removed",
    "Ping restored",
    "Live NB monitor",
    "Final state",
]


@pytest.fixture
def lab() -> Iterator[None]:
    """Skip unless the lab can run; hold a lock so that two test runs never share its names."""
    require_lab("ip", "ping", "ovn-nbctl", "ovn-controller", "ovs-vswitchd")
    for program, package in PACKAGES.items():
        if shutil.which(program) is None:
            pytest.skip(f"needs {program} (Debian package {package})")
    with lab_lock(SCENARIO):
        yield


def test_records_a_verified_cast_with_one_marker_per_visible_step(lab, tmp_path: Path) -> None:
    before = HostState.take()
    loaded = load_scenario(SCENARIO)
    cast_path = tmp_path / "lab-ovn-from-zero.cast"
    result = record(loaded, cast_path, cps=60)
    assert result.passed, failures_of(result)
    assert before.leftovers_now() == {}
    assert glob.glob(LAB_GLOB) == []

    visible = [s.label() for s in loaded.scenario.steps if not s.hidden]
    assert visible == MARKERS
    with open_from_url(str(cast_path)) as cast:
        events = list(cast.events())  # one pass: the reader streams the file
    assert [data for _, code, data in events if code == "m"] == MARKERS

    output = "".join(data for _, code, data in events if code == "o")
    assert re.search(r"3 packets transmitted, 3 received, 0% packet loss", output)
    assert re.search(r"2 packets transmitted, 0 received, 100% packet loss", output)
    assert re.search(r"from 10\.244\.1\.5: icmp_seq=1 ttl=63", output)
    assert "mktemp" not in output and "lab-up.sh" not in output  # hidden setup
    assert "lab-down.sh" not in output  # and teardown

    term = loaded.scenario.terminal
    shown = final_screen(events, term.cols, term.rows)
    assert re.search(r"^[0-9a-f-]{36} insert\s+pod-c$", shown, re.M), shown
    assert re.search(r"^[0-9a-f-]{36} delete\s+pod-c$", shown, re.M), shown
    assert re.search(r"^[0-9a-f-]{36} \(stor-node1\)$", shown, re.M), shown
    assert re.search(r"^ovn\$ ovn-nbctl ls-list && ovn-nbctl lsp-list node1$", shown, re.M)
    assert shown.rstrip().endswith("ovn$"), shown


class _KillNorthd(NullReporter):
    """A reporter that kills ovn-northd as one chosen step starts, as a crash would."""

    def __init__(self, label: str, labs_before: set[str]) -> None:
        self.label = label
        self.labs_before = labs_before
        self.killed: int | None = None

    def step_started(self, step: StepResult) -> None:
        if step.phase != "steps" or step.label != self.label:
            return
        labs = set(glob.glob(LAB_GLOB)) - self.labs_before
        assert len(labs) == 1, labs
        pid = int(Path(labs.pop(), "ovn-northd.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        self.killed = pid


def test_a_crashed_northd_fails_the_next_wait_and_teardown_still_cleans_up(lab) -> None:
    """ovn-northd dies as the pods are plugged in: no new nb_cfg reaches the chassis, so the
    `--wait=hv sync` of "Port bindings" never returns; the step times out and says so."""
    data = yaml.safe_load(SCENARIO.read_text())
    labels = [s.get("marker") for s in data["steps"]]
    waiting = labels.index("Port bindings")
    data["steps"][waiting]["timeout"] = 5
    before = HostState.take()
    reporter = _KillNorthd("Plug two pods", set(glob.glob(LAB_GLOB)))
    with scenario_variant(SCENARIO, "ovn-fault", yaml.safe_dump(data, sort_keys=False)) as copy:
        result = Runner(load_scenario(copy), "rehearse", reporter).run()
    assert reporter.killed is not None, "the kill never happened"
    assert not result.passed
    failed = result.first_failure
    assert failed is not None, failures_of(result)
    assert (failed.phase, failed.index) == ("steps", waiting), failures_of(result)
    assert failed.failures == ["timed out after 5s; sent Ctrl-C"]
    ran = [s for s in result.steps if s.phase == "steps" and s.index < waiting]
    assert all(s.passed for s in ran), failures_of(result)
    later = [s for s in result.steps if s.phase == "steps" and s.index > waiting]
    assert later and all(s.status == "skipped" for s in later)
    teardown = [s for s in result.steps if s.phase == "teardown"]
    assert teardown and all(s.passed for s in teardown), failures_of(result)
    assert before.leftovers_now() == {}
    assert glob.glob(LAB_GLOB) == []
