"""The lab tests' leak check catches what a scenario leaves behind, and only that."""

from __future__ import annotations

import os
import signal
import subprocess

from host_state import HostState


def test_a_daemon_left_by_a_scenario_is_a_leftover(run_rehearse) -> None:
    before = HostState.take()
    unrelated = subprocess.Popen(["sleep", "299"])  # not from a stagecast shell: not a leak
    result = run_rehearse(
        """
        steps:
          - run: setsid sleep 298 > /dev/null 2>&1 < /dev/null & disown; echo started
        """
    )
    try:
        assert result.passed
        leaked = before.leftovers_now(settle=0.5).get("processes", set())
        assert any("sleep 298" in entry for entry in leaked), leaked
        assert not any("sleep 299" in entry for entry in leaked), leaked
    finally:
        unrelated.kill()
        for entry in HostState.take().processes - before.processes:
            if "sleep 298" in entry:
                os.kill(int(entry.split()[0]), signal.SIGKILL)
