"""Which scenario `stagecast record` runs when given none: the richest this machine allows."""

from __future__ import annotations

from pathlib import Path

from recorder.errors import PrerequisiteError

from .loader import LoadedScenario, load_scenario
from .preflight import unmet_requirements

PREFERRED = Path("scenarios/lab/cni-from-zero.yaml")
FALLBACK = Path("scenarios/tour.yaml")


def default_scenario(root: Path = Path(".")) -> tuple[LoadedScenario, str]:
    """The scenario to record, and one line saying why it was chosen."""
    preferred = root / PREFERRED
    if preferred.is_file():
        loaded = load_scenario(preferred)
        unmet = [name for _, name in unmet_requirements(loaded)]
        if not unmet:
            return loaded, f"recording {preferred} (root and its packages are here)"
        why = "root" if "root" in unmet else ", ".join(unmet)
        reason = f"{preferred} needs {why}"
    else:
        reason = f"{preferred} is not here"
    fallback = root / FALLBACK
    if not fallback.is_file():
        raise PrerequisiteError(
            f"no scenario given and {fallback} is not here: name a scenario, "
            "or run from a stagecast checkout"
        )
    return load_scenario(fallback), f"recording {fallback} ({reason})"
