"""Profiles: what differs when the same scenario runs on another kind of machine.

A demo is written once, for the speaker's machine. A profile (`--profile FILE`) says what is
different elsewhere: other pinned images in the environment, another kind node image, a few
hidden setup steps (loading a locally made image into the cluster, say). Steps that cannot
run under a profile say so themselves (`unavailable_on: {PROFILE: reason}`), so the story
stays in the scenario and nothing is faked.
"""

from __future__ import annotations

import copy
import hashlib
import os
from dataclasses import dataclass, replace
from pathlib import Path

from pydantic import Field

from recorder.errors import ScenarioError

from .loader import LoadedScenario, validate_as
from .model import Step, Strict
from .yaml_source import SourceMap, load_yaml


class ProfileCluster(Strict):
    image: str | None = Field(None, description="The kind node image to use instead")


class Profile(Strict):
    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="What scenarios name in `unavailable_on`",
    )
    description: str = Field(description="Where this profile runs; it goes into provenance")
    env: dict[str, str | int | float] = Field(
        default_factory=dict, description="Set in the shell's environment, over the scenario's"
    )
    cluster: ProfileCluster | None = None
    setup: list[Step] = Field(
        default_factory=list, description="Hidden steps run after the scenario's own setup"
    )


@dataclass(frozen=True)
class LoadedProfile:
    profile: Profile
    path: Path
    source: SourceMap
    sha256: str

    @property
    def name(self) -> str:
        return self.profile.name

    def provenance(self, scenario_dir: Path | None = None) -> dict[str, str]:
        """For a cast's header; `file` is relative to the scenario's folder, so that the
        profile can be found again from the scenario (as tests/test_published_casts.py does)."""
        file = self.path.name
        if scenario_dir is not None:
            file = os.path.relpath(self.path.resolve(), scenario_dir.resolve())
        return {
            "name": self.profile.name,
            "description": self.profile.description,
            "file": file,
            "sha256": self.sha256,
        }


def load_profile(path: str | Path) -> LoadedProfile:
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(str(path), 1, 1, "no such profile file: give the path of a profile")
    data, source = load_yaml(path)
    if not isinstance(data, dict):
        raise ScenarioError(str(path), 1, 1, "a profile is a mapping with `name` and `description`")
    profile = validate_as(Profile, data, source, str(path))
    return LoadedProfile(profile, path, source, hashlib.sha256(path.read_bytes()).hexdigest())


def apply_profile(loaded: LoadedScenario, profile: LoadedProfile) -> LoadedScenario:
    """`loaded` as it runs under `profile`: its env, cluster image and setup overlaid."""
    scenario = loaded.scenario.model_copy(deep=True)
    spec = profile.profile
    scenario.env = {**scenario.env, **spec.env}
    if spec.cluster and spec.cluster.image and scenario.cluster is not None:
        scenario.cluster = scenario.cluster.model_copy(update={"image": spec.cluster.image})
    own_setup = len(scenario.setup)
    scenario.setup = [*scenario.setup, *(s.model_copy(deep=True) for s in spec.setup)]
    source = copy.deepcopy(loaded.source)
    for i in range(len(spec.setup)):
        source.graft(profile.source, ("setup", i), ("setup", own_setup + i))
    digest = hashlib.sha256(f"{loaded.sha256}:{profile.sha256}".encode()).hexdigest()
    return replace(loaded, scenario=scenario, source=source, sha256=digest, profile=profile)
