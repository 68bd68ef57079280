"""The kind cluster a demo runs on: created or reused before the steps, deleted after.

The shell gets its own KUBECONFIG file (in a temp dir), so the commands typed on stage stay
short (`kubectl get nodes`) and never touch the speaker's ~/.kube/config.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from recorder.errors import PrerequisiteError
from recorder.scenario.kube_model import Cluster

Runner = Callable[[list[str], float], tuple[int, str]]


def run_command(argv: list[str], timeout: float) -> tuple[int, str]:
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
    except FileNotFoundError:
        return 127, f"{argv[0]}: not found"
    except subprocess.TimeoutExpired:
        return 124, f"{' '.join(argv)}: timed out after {timeout:g}s"
    return done.returncode, done.stdout + done.stderr


def expected_nodes(spec: Cluster, scenario_dir: Path) -> int:
    """How many nodes the kind config asks for (kind's default is one)."""
    if spec.config is None:
        return 1
    data = yaml.safe_load((scenario_dir / spec.config).read_text())
    nodes = data.get("nodes") if isinstance(data, dict) else None
    return len(nodes) if nodes else 1


@dataclass
class ClusterPlan:
    """What the fixture will do, decided from what exists: testable without kind."""

    delete_first: bool
    create: bool
    reason: str


def plan(spec: Cluster, existing: list[str], nodes_now: int, nodes_wanted: int) -> ClusterPlan:
    exists = spec.name in existing
    right_shape = exists and nodes_now == nodes_wanted
    if spec.create == "steps":
        # The audience sees the cluster being created: a stale one would make that fail.
        return ClusterPlan(exists, False, "a step creates it" + (" (stale one removed)" * exists))
    if right_shape and spec.reuse:
        return ClusterPlan(False, False, f"reusing cluster {spec.name} ({nodes_now} nodes)")
    if exists:
        why = "reuse: false" if right_shape else f"{nodes_now} nodes, need {nodes_wanted}"
        return ClusterPlan(True, True, f"recreating cluster {spec.name} ({why})")
    return ClusterPlan(False, True, f"creating cluster {spec.name}")


@dataclass
class ClusterFixture:
    spec: Cluster
    scenario_dir: Path
    keep: bool = False
    run: Runner = run_command
    _tmp: tempfile.TemporaryDirectory[str] = field(
        default_factory=lambda: tempfile.TemporaryDirectory(prefix="stagecast-kube-")
    )

    @property
    def kubeconfig(self) -> str:
        return str(Path(self._tmp.name) / "kubeconfig")

    def up(self, timeout: float = 600) -> tuple[dict[str, str], str]:
        """Make the cluster ready for the steps; the shell's env and a line saying what happened."""
        name = self.spec.name
        rc, out = self.run(["kind", "get", "clusters"], 30)
        if rc != 0:
            raise PrerequisiteError(f"`kind get clusters` failed: {out.strip()[:200]}")
        existing = out.split()
        nodes_now = 0
        if name in existing:
            rc, out = self.run(["kind", "get", "nodes", "--name", name], 30)
            nodes_now = len(out.split()) if rc == 0 else 0
        decided = plan(self.spec, existing, nodes_now, expected_nodes(self.spec, self.scenario_dir))
        reason = decided.reason
        if decided.delete_first:
            self._kind("delete", "cluster", "--name", name, timeout=timeout)
        if decided.create:
            self._create(timeout)
        elif self.spec.create == "fixture":
            rc, _ = self.run(
                ["kind", "export", "kubeconfig", "--name", name, "--kubeconfig", self.kubeconfig],
                120,
            )
            if rc != 0:  # its nodes are stopped (a reboot, a killed docker): make it anew
                self._kind("delete", "cluster", "--name", name, timeout=timeout)
                self._create(timeout)
                reason = f"recreating cluster {name} (its nodes do not answer)"
        # With `create: steps`, the visible `kind create cluster` writes this KUBECONFIG.
        return {"KUBECONFIG": self.kubeconfig}, reason

    def _create(self, timeout: float) -> None:
        args = ["create", "cluster", "--name", self.spec.name, "--image", self.spec.image]
        if self.spec.config:
            args += ["--config", str(self.scenario_dir / self.spec.config)]
        self._kind(*args, "--kubeconfig", self.kubeconfig, timeout=timeout)

    def down(self) -> str | None:
        """Delete the cluster unless asked to keep it; a failure sentence, or None."""
        try:
            if self.keep:
                return None
            rc, out = self.run(["kind", "delete", "cluster", "--name", self.spec.name], 300)
            return None if rc == 0 else f"kind delete cluster failed: {out.strip()[:200]}"
        finally:
            self._tmp.cleanup()

    def _kind(self, *args: str, timeout: float = 120) -> None:
        rc, out = self.run(["kind", *args], timeout)
        if rc != 0:
            raise PrerequisiteError(kind_failure(f"kind {' '.join(args[:2])}", self.spec, out))


# What kind says when it fails, and what to do about it: (pattern in its output, the fix).
KIND_FAILURES = (
    (
        re.compile(r"failed to pull image|pull access denied|manifest unknown|not found: manifest"),
        "the node image {image} is not on this machine and could not be pulled: build or load "
        "it (docker pull {image}; on the registry-free kind: registry-free-kind build)",
    ),
    (
        re.compile(r"Cannot connect to the Docker daemon|docker daemon is not running"),
        "docker is not running: start it (or point DOCKER_HOST at a running one)",
    ),
    (
        re.compile(r"node\(s\) already exist for a cluster with the name"),
        "a cluster named {name} already exists: kind delete cluster --name {name}",
    ),
    (
        re.compile(r"timed out after|context deadline exceeded"),
        "kind timed out bringing up {name}: see `kind create cluster --name {name} --retain -v 1`",
    ),
)


def kind_failure(what: str, spec: Cluster, output: str) -> str:
    """One line for a failed kind command: the cause it names, and the fix."""
    for pattern, fix in KIND_FAILURES:
        if pattern.search(output):
            return f"{what} failed: " + fix.format(image=spec.image, name=spec.name)
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")] or lines[-1:]
    said = errors[0][:160] if errors else "no output"
    # kind's ERROR line names the command; the daemon's own words say what went wrong.
    daemon = [line for line in lines if "Error response from daemon" in line]
    if daemon:
        said += " — " + daemon[0].split("Error response from daemon:", 1)[1].strip()[:200]
    return f"{what} failed: {said} (kind delete cluster --name {spec.name}, then try again)"
