"""Each talk demo still tells the story of the speaker's own recording: `stagecast check`
finds at least 80% of its visible steps there, and every found step passes or says why it
differs (`differs:`)."""

from __future__ import annotations

import pytest

from conftest import RECORDINGS, ROOT
from recorder.recording_check.check import FOUND_THRESHOLD, check
from recorder.scenario.loader import load_scenario

PAIRS = [("demo-1.1", "demo11.cast"), ("demo-1.2", "demo12.cast"), ("demo-2", "demo2.cast")]


@pytest.mark.parametrize(("name", "cast"), PAIRS)
def test_demo_matches_the_speakers_recording(name: str, cast: str) -> None:
    if not (RECORDINGS / cast).is_file():
        pytest.skip(f"the speaker's recordings are not here ({RECORDINGS})")
    result = check(load_scenario(ROOT / "scenarios" / f"{name}.yaml"), RECORDINGS / cast)
    counts = result.counts()
    assert counts["found"] >= FOUND_THRESHOLD * counts["visible"], result.summary()
    unexplained = [(s.label, s.reason) for s in result.steps if s.status == "differs"]
    assert not unexplained, unexplained
    # a found step either passed, or is explained by its `differs:`
    assert all(s.status in ("passed", "explained") for s in result.steps if s.found)
    assert result.ok
