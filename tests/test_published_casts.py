"""Every cast in casts/ was made by stagecast from the scenario as it is now."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from asciinema.asciicast import open_from_url

from conftest import ROOT
from recorder.run.record import default_cast_path
from recorder.scenario.loader import load_scenario

CASTS = sorted(p for p in (ROOT / "casts").glob("*.cast") if ".failed." not in p.name)
SCENARIOS = {
    default_cast_path(load_scenario(p)).name: p
    for p in (ROOT / "scenarios").rglob("*.yaml")
    if not p.name.startswith(".")
}


@pytest.mark.parametrize("cast", CASTS, ids=[c.name for c in CASTS])
def test_published_cast_is_verified_and_current(cast: Path) -> None:
    assert cast.name in SCENARIOS, f"{cast.name} has no scenario in scenarios/"
    loaded = load_scenario(SCENARIOS[cast.name])
    with open_from_url(str(cast)) as asciicast:
        header = asciicast.v2_header
        events = list(asciicast.events())
    provenance = header["stagecast"]
    assert provenance["verified"] is True
    assert provenance["scenario_sha256"] == loaded.sha256, (
        f"{cast.name} is stale: run stagecast record {SCENARIOS[cast.name].relative_to(ROOT)}"
    )
    assert all(step["status"] == "passed" for step in provenance["steps"])
    markers = [data for _, code, data in events if code == "m"]
    assert len(markers) == sum(1 for s in loaded.scenario.steps if not s.hidden)
    assert (header["width"], header["height"]) == (
        loaded.scenario.terminal.cols,
        loaded.scenario.terminal.rows,
    )
    assert "\\u001b]133;" not in json.dumps([e[2] for e in events])
