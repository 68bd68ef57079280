"""Every cast in casts/ was made by stagecast from the scenario as it is now."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from asciinema.asciicast import open_from_url

from conftest import ROOT
from recorder.run.record import default_cast_path
from recorder.scenario.loader import load_scenario
from recorder.scenario.profile import apply_profile, load_profile

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
    record = f"stagecast record {SCENARIOS[cast.name].relative_to(ROOT)}"
    if "profile" in provenance:  # made under a profile: the same profile, as it is now
        profile = load_profile(loaded.path.parent / provenance["profile"]["file"])
        loaded = apply_profile(loaded, profile)
        record += f" --profile {profile.path.relative_to(ROOT)}"
    assert provenance["scenario_sha256"] == loaded.sha256, f"{cast.name} is stale: run {record}"
    # Passed, or declared unable to run under the cast's profile: never failed or skipped.
    for step in provenance["steps"]:
        if step["status"] == "not-run":
            spec = getattr(loaded.scenario, step["phase"])[step["index"]]
            assert loaded.profile is not None and loaded.profile.name in spec.unavailable_on
        else:
            assert step["status"] == "passed", step
    markers = [data for _, code, data in events if code == "m"]
    assert markers == [s.label() for s in loaded.scenario.steps if s.in_cast]
    assert (header["width"], header["height"]) == (
        loaded.scenario.terminal.cols,
        loaded.scenario.terminal.rows,
    )
    assert "\\u001b]133;" not in json.dumps([e[2] for e in events])
