"""`stagecast rehearse`: the same scenario at full speed, for CI."""

from __future__ import annotations

from .loader import LoadedScenario
from .progress import Reporter
from .results import ScenarioResult
from .runner import Runner


def rehearse(
    loaded: LoadedScenario, reporter: Reporter | None = None, *, keep_cluster: bool = False
) -> ScenarioResult:
    return Runner(loaded, "rehearse", reporter, keep_cluster=keep_cluster).run()
