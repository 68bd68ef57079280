"""Lab: the flannel-vxlan scenario (talk demo 1.2) on real namespaces, CNI plugins and VXLAN.

Needs root, iproute2, iputils-ping, tcpdump, jq and the CNI plugins in /usr/lib/cni; each test
skips with the reason otherwise. Every test proves that teardown left the host as it found it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from asciinema.asciicast import open_from_url

from conftest import ROOT, failures_of, final_screen
from host_state import HostState, lab_lock, require_lab, scenario_variant
from recorder.run.record import record
from recorder.run.rehearse import rehearse
from recorder.scenario.loader import load_scenario

SCENARIO = ROOT / "scenarios" / "lab" / "flannel-vxlan.yaml"
PROGRAMS = ("ip", "bridge", "ping", "tcpdump", "jq")
MARKERS = [
    "Two nodes",
    "Delegated CNI config",
    "CNI ADD on node 1",
    "CNI ADD on node 2",
    "host-local leases",
    "Pod view",
    "No overlay yet",
    "Create flannel.1",
    "flannel.1 details",
    "Peer VTEP MAC",
    "Program node 1",
    "Program node 2",
    "Routes",
    "Neighbour",
    "FDB",
    "Capture the underlay",
    "Ping across nodes",
    "VXLAN on the wire",
]


@pytest.fixture
def lab() -> Iterator[None]:
    """Skip unless the lab can run; hold a lock so that two test runs never share its names."""
    require_lab(*PROGRAMS, cni=True)
    with lab_lock(SCENARIO):
        yield


# About 70 s: the whole lab, typed at 60 characters/s.
def test_records_a_verified_cast_with_one_marker_per_visible_step(lab, tmp_path: Path) -> None:
    before = HostState.take()
    loaded = load_scenario(SCENARIO)
    cast_path = tmp_path / "lab-flannel-vxlan.cast"
    result = record(loaded, cast_path, cps=60)
    assert result.passed, failures_of(result)
    assert before.leftovers_now() == {}

    visible = [s.label() for s in loaded.scenario.steps if not s.hidden]
    assert visible == MARKERS
    with open_from_url(str(cast_path)) as cast:
        events = list(cast.events())  # one pass: the reader streams the file
    assert [data for _, code, data in events if code == "m"] == MARKERS

    term = loaded.scenario.terminal
    shown = final_screen(events, term.cols, term.rows)
    assert re.search(r"3 packets transmitted, 3 received, 0% packet loss", shown), shown
    assert re.search(r"172\.30\.0\.1\.\d+ > 172\.30\.0\.2\.8472: OTV.*instance 1", shown), shown
    assert re.search(r"IP 10\.244\.0\.\d+ > 10\.244\.1\.\d+: ICMP echo request", shown), shown
    assert "4 packets captured" in shown
    output = "".join(data for _, code, data in events if code == "o")
    assert "mktemp" not in output  # hidden setup stays out of the cast
    assert "ip netns del" not in output  # and so does teardown


@pytest.mark.parametrize("marker", ["Routes", "Capture the underlay"])
def test_teardown_cleans_up_after_a_failed_step(lab, marker: str) -> None:
    """A mid-scenario failure (at "Capture the underlay", tcpdump is left running)."""
    data = yaml.safe_load(SCENARIO.read_text())
    index = next(i for i, s in enumerate(data["steps"]) if s.get("marker") == marker)
    data["steps"][index]["expect"] = {"contains": "text that this step never prints"}
    before = HostState.take()
    with scenario_variant(SCENARIO, "flannel-fail", yaml.safe_dump(data, sort_keys=False)) as copy:
        result = rehearse(load_scenario(copy))
    assert not result.passed
    failed = result.first_failure
    assert failed is not None and (failed.phase, failed.index) == ("steps", index)
    assert "never prints" in failed.failures[0]
    later = [s for s in result.steps if s.phase == "steps" and s.index > index]
    assert later and all(s.status == "skipped" for s in later)
    teardown = [s for s in result.steps if s.phase == "teardown"]
    assert teardown and all(s.passed for s in teardown), failures_of(result)
    assert before.leftovers_now() == {}


def _as_nobody() -> list[str] | None:
    if shutil.which("setpriv"):
        return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    if shutil.which("runuser"):
        return ["runuser", "-u", "nobody", "--"]
    return None


def test_non_root_gets_one_clear_line_and_exit_2(lab) -> None:
    prefix = _as_nobody()
    if prefix is None:
        pytest.skip("needs setpriv or runuser (util-linux) to drop root")
    python = ROOT / ".venv" / "bin" / "python"
    probe = subprocess.run([*prefix, str(python), "-c", "import recorder"], cwd=ROOT, check=False)
    if probe.returncode != 0:
        pytest.skip(f"{python} does not run as an unprivileged user here")
    before = HostState.take()
    done = subprocess.run(
        [*prefix, str(python), "-m", "stagecast", "rehearse", "scenarios/lab/flannel-vxlan.yaml"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/", "NO_COLOR": "1"},
    )
    assert done.returncode == 2, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "needs root" in lines[0]
    where = re.search(r"scenarios/lab/flannel-vxlan\.yaml:(\d+):\d+: ", lines[0])
    assert where, lines[0]
    line = SCENARIO.read_text().splitlines()[int(where[1]) - 1]
    assert line.startswith("requires:") and "root" in line
    assert done.stdout == ""
    assert before.leftovers_now() == {}
