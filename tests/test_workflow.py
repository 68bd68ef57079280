"""The GitHub Actions job that runs the kind demos: triggers, pins, and the scenarios it names."""

from __future__ import annotations

import re

import yaml

from conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "kind-demos.yml"


def test_kind_demos_workflow_runs_weekly_and_on_demand() -> None:
    data = yaml.safe_load(WORKFLOW.read_text())
    triggers = data[True]  # YAML 1.1 reads the key `on` as True
    assert "workflow_dispatch" in triggers
    assert triggers["schedule"][0]["cron"].split()[-1] in {"0", "1", "2", "3", "4", "5", "6"}
    job = data["jobs"]["demo"]
    named = " ".join(entry["scenarios"] for entry in job["strategy"]["matrix"]["include"])
    for demo in ("demo-1.1", "demo-1.2", "demo-2", "demo-2-ovsdb-mon"):
        assert f"scenarios/{demo}.yaml" in named.split()
        assert (ROOT / "scenarios" / f"{demo}.yaml").is_file()
    for pinned in ("KIND_VERSION", "KUBECTL_VERSION", "HELM_VERSION"):
        assert re.fullmatch(r"v\d+\.\d+\.\d+", data["env"][pinned])
    steps = " ".join(str(s.get("run", "")) for s in job["steps"])
    assert "stagecast rehearse" in steps and "--junit" in steps
    assert "modprobe br_netfilter" in steps and "max_user_watches" in steps
