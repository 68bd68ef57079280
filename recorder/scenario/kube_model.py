"""Scenario fields for Kubernetes demos: the kind cluster fixture, API waits and state checks,
and machine preflight. Kept apart from the core format so that lab scenarios never need them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Kind = Literal[
    "Node",
    "Pod",
    "DaemonSet",
    "Deployment",
    "CustomResourceDefinition",
    "NetworkAttachmentDefinition",
]
NAMESPACED = {"Pod", "DaemonSet", "Deployment", "NetworkAttachmentDefinition"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Selection(_Strict):
    """Which objects: one by `name`, or all that match `selector` (a label selector)."""

    kind: Kind
    name: str | None = None
    namespace: str | None = Field(None, description="Default: 'default' for namespaced kinds")
    selector: str | None = Field(None, description="Label selector, e.g. 'app=flannel'")

    @model_validator(mode="after")
    def _namespace_fits(self) -> Selection:
        if self.namespace and self.kind not in NAMESPACED:
            raise ValueError(f"{self.kind} is not namespaced: remove `namespace`")
        if self.name and self.selector:
            raise ValueError("give `name` or `selector`, not both")
        return self


class WaitFor(Selection):
    """Wait through the API (watch, not sleep) until the objects reach a state.

    Waits are invisible in the cast: the audience never sees them, and the time they take
    is cut from the cast's timeline.
    """

    condition: str | None = Field(
        None, description="A status condition that must be True: Ready, Established, ..."
    )
    status: Literal["True", "False", "Unknown"] = Field(
        "True", description="The condition's required status"
    )
    phase: str | None = Field(None, description="Pod phase: Pending, Running, Succeeded, ...")
    count: int | None = Field(None, ge=0, description="How many objects must match")
    rollout: bool = Field(False, description="DaemonSet/Deployment: the rollout is complete")
    exists: bool = Field(False, description="Only wait until the objects exist")
    timeout: float = Field(120, gt=0, le=3600)

    @model_validator(mode="after")
    def _one_goal(self) -> WaitFor:
        goals = [self.condition, self.phase, self.rollout or None, self.exists or None]
        if not any(goals) and self.count is None:
            raise ValueError("say what to wait for: condition, phase, rollout, exists or count")
        if self.rollout and self.kind not in {"DaemonSet", "Deployment"}:
            raise ValueError("`rollout` applies to DaemonSet and Deployment only")
        if self.phase and self.kind != "Pod":
            raise ValueError("`phase` applies to Pod only")
        return self


class FieldCheck(_Strict):
    """A value inside the object, by a dotted path such as status.podIP or
    metadata.annotations.k8s.v1.cni.cncf.io/network-status (the longest key that exists wins)."""

    path: str
    equals: str | int | bool | None = None
    matches: str | None = Field(None, description="A regex the value (as text) must match")
    contains: str | None = None


class NetworkStatus(_Strict):
    """Multus' k8s.v1.cni.cncf.io/network-status annotation on a pod."""

    interfaces: list[str] = Field(description="Interface names that must be listed, in order")
    cidrs: dict[str, str] = Field(
        default_factory=dict, description="interface: CIDR its IPs must lie in"
    )


class KubeCheck(Selection):
    """State of objects in the API after the step's command."""

    condition: str | None = None
    status: Literal["True", "False", "Unknown"] = "True"
    phase: str | None = None
    count: int | None = Field(None, ge=0)
    fields: list[FieldCheck] = Field(default_factory=list)
    network_status: NetworkStatus | None = None


class Cluster(_Strict):
    """A kind cluster the scenario runs against."""

    name: str = Field("kind", pattern=r"^[a-z0-9][a-z0-9.-]*$")
    config: str | None = Field(None, description="kind config file, relative to the scenario")
    image: str = Field("kindest/node:v1.31.0", description="Node image, pinned")
    reuse: bool = Field(
        True, description="Keep a cluster of this name and node count if one exists"
    )
    create: Literal["fixture", "steps"] = Field(
        "fixture",
        description="fixture: stagecast creates the cluster, hidden, before the steps; "
        "steps: the audience sees a step create it (stagecast only removes a stale one first)",
    )


class Preflight(_Strict):
    """Machine checks before anything runs; each failure is one line naming the fix."""

    container_runtime: bool = Field(True, description="docker or podman must be running")
    memory_gb: float | None = Field(None, gt=0, description="Available memory needed")
    inotify_watches: int | None = Field(None, description="fs.inotify.max_user_watches at least")
    inotify_instances: int | None = Field(
        None, description="fs.inotify.max_user_instances at least"
    )
    modules: list[str] = Field(
        default_factory=list, description="Kernel modules, e.g. br_netfilter"
    )


class BuildsOn(_Strict):
    """Another scenario whose end state this one starts from."""

    scenario: str = Field(description="Path relative to this scenario")
    unless: str | None = Field(
        None,
        description="A shell command that succeeds when that end state is already there; "
        "otherwise the other scenario's setup and steps run first, hidden",
    )
