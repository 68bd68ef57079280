"""Real kind clusters for the tests, on the registry-free kind the project builds
(scenarios/registry-free-kind): its own dockerd, kind 0.27 and Kubernetes 1.20.2.

A test that needs one asks for the session's `RealKind` and a cluster by name; the session
deletes every cluster it made, stops the dockerd it started, and then checks that the host
is as it was before (links, iptables rules, mounts, cgroups, daemon processes). Clusters it
did not make (the speaker's `kind`, another session's) are never touched, and the dockerd
keeps running while any of them exists.

`API_CLUSTER` is the one cluster the API tests share: a control plane and a worker, with the
dummy CNI plugin on the worker only, so the worker turns Ready and runs pods while the
control plane stays NotReady, as in demo 1.1.

For development, STAGECAST_KEEP_TEST_CLUSTERS=1 reuses a cluster of the same name when one
exists and leaves the session's clusters (and the dockerd) running at the end; the
host-state check is then skipped, since nothing was taken down.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REGISTRY_FREE = ROOT / "scenarios" / "registry-free-kind"
SCRIPT = REGISTRY_FREE / "registry-free-kind"
PROFILE = REGISTRY_FREE / "profile.yml"
NODE_IMAGE = "stagecast.local/kind-node:v1.20.2"
TEST_IMAGE = "stagecast.local/busybox:1.35"
DUMMY_CNI = ROOT / "scenarios" / "kind" / "dummy-cni"
DUMMY_CONF = ROOT / "scenarios" / "kind" / "99-dummy.conf"
DAEMONS = ("dockerd", "containerd", "containerd-shim-runc-v2", "docker-proxy")
KEEP = os.environ.get("STAGECAST_KEEP_TEST_CLUSTERS") == "1"

API_CLUSTER = "stagecast-kube"
API_CONTROL_PLANE = f"{API_CLUSTER}-control-plane"
API_WORKER = f"{API_CLUSTER}-worker"
# Clusters made with the default CNI off, as demo 1.1's (kind's kindnet is a registry image).
ONE_NODE_CONFIG = """\
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  disableDefaultCNI: true
nodes:
  - role: control-plane
"""
API_CLUSTER_CONFIG = ONE_NODE_CONFIG + "  - role: worker\n"


LOCK = Path("/run/stagecast-kind-tests.lock")


@contextlib.contextmanager
def session_lock() -> Iterator[str | None]:
    """One test session at a time on the registry-free kind: its clusters have fixed names
    (the demos' `kind`) and one dockerd. Yields None when this session holds the lock, or
    who holds it."""
    with LOCK.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            yield handle.read().strip() or "another process"
            return
        handle.truncate(0)
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield None
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


def skip_reason() -> str | None:
    """Why real kind cannot run here, in one line; None when it can."""
    if os.geteuid() != 0:
        return "needs root (the registry-free kind runs its own dockerd)"
    for program, package in (("dockerd", "docker.io"), ("jq", "jq")):
        if shutil.which(program) is None:
            return f"needs {program} (Debian package {package}) for the registry-free kind"
    done = subprocess.run([str(SCRIPT), "check"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return f"the registry-free kind is not built (run: {SCRIPT.relative_to(ROOT)} build)"
    return None


def kind_env() -> dict[str, str]:
    """The environment in which docker, kind and kubectl are the registry-free kind's."""
    done = subprocess.run([str(SCRIPT), "env"], capture_output=True, text=True, check=True)
    env = dict(os.environ)
    for line in done.stdout.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = value.replace("$PATH", os.environ.get("PATH", ""))
    return env


def _lines(*command: str) -> set[str]:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    return {line.strip() for line in done.stdout.splitlines() if line.strip()}


@dataclass
class KindHostState:
    """What docker and kind may add to the host, and must take away again."""

    links: set[str]
    iptables: set[str]
    mounts: set[str]
    cgroups: set[str]
    daemons: set[str]
    paths: set[str]  # host paths docker makes for kind's bind mounts

    @classmethod
    def take(cls) -> KindHostState:
        links = {line.split(":")[1].strip().split("@")[0] for line in _lines("ip", "-o", "link")}
        rules = _lines("iptables-save") if shutil.which("iptables-save") else set()
        cgroups = {str(p) for p in Path("/sys/fs/cgroup").glob("*/docker")}
        cgroups |= {str(p) for p in Path("/sys/fs/cgroup").glob("*/kubelet")}
        daemons = set()
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and (entry / "comm").read_text().strip() in DAEMONS:
                    daemons.add(f"{entry.name} {(entry / 'comm').read_text().strip()}")
            except OSError:
                continue
        return cls(
            links={link for link in links if not link.startswith("lo")},
            iptables={r for r in rules if r.startswith((":", "-A"))},
            mounts=_lines("findmnt", "-rn", "-o", "TARGET"),
            cgroups=cgroups,
            daemons=daemons,
            paths={p for p in ("/lib/modules",) if Path(p).exists()},
        )

    def leftovers(self, after: KindHostState) -> dict[str, set[str]]:
        diff = {
            name: getattr(after, name) - getattr(self, name)
            for name in ("links", "iptables", "mounts", "cgroups", "daemons", "paths")
        }
        return {k: v for k, v in diff.items() if v}


@dataclass
class RealKind:
    """The session's registry-free kind: dockerd started on first use, clusters on demand."""

    env: dict[str, str] = field(default_factory=kind_env)
    before: KindHostState = field(default_factory=KindHostState.take)
    started_docker: bool = False
    clusters: dict[str, Path] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def run(self, *args: str, timeout: float = 300, check: bool = True, **kwargs):
        if "input" not in kwargs:
            kwargs["stdin"] = subprocess.DEVNULL
        done = subprocess.run(
            list(args),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            **kwargs,
        )
        if check and done.returncode:
            # Say why: kind's own error is on its stderr, which CalledProcessError hides.
            why = (done.stderr or done.stdout).strip()[-2000:]
            raise RuntimeError(f"{' '.join(args)} exited {done.returncode}: {why}")
        return done

    def start_docker(self) -> None:
        probe = self.run("docker", "version", check=False, timeout=30)
        if probe.returncode != 0:
            self.run(str(SCRIPT), "start-docker", timeout=120)
            self.started_docker = True

    def cluster(self, name: str, config: Path | None = None, cni_on: tuple[str, ...] = ()) -> Path:
        """A cluster `name`, made (once per session) on the local node image; its kubeconfig.

        `cni_on` lists node names that get demo 1.1's dummy CNI plugin, so that they turn
        Ready and run pods (with the plugin's made-up IP); the others stay NotReady."""
        if name in self.clusters:
            return self.clusters[name]
        self.start_docker()
        kubeconfig = Path(f"/tmp/stagecast-test-kind-{name}.kubeconfig")
        if name == "kind":
            raise ValueError("the cluster named kind is the speaker's: tests never touch it")
        existing = self.run("kind", "get", "clusters", check=False).stdout.split()
        if name in existing and KEEP:
            self.run(
                "kind", "export", "kubeconfig", "--name", name, "--kubeconfig", str(kubeconfig)
            )
            self.clusters[name] = kubeconfig
            return kubeconfig
        if name in existing:
            self.run("kind", "delete", "cluster", "--name", name, timeout=180)
        started = time.monotonic()
        args = ["kind", "create", "cluster", "--name", name, "--image", NODE_IMAGE]
        args += ["--kubeconfig", str(kubeconfig), "--wait", "0s"]
        if config is not None:
            args += ["--config", str(config)]
        self.clusters[name] = kubeconfig
        self.run(*args, timeout=600)
        self.timings[f"create {name}"] = time.monotonic() - started
        self.run("kind", "load", "docker-image", TEST_IMAGE, "--name", name, timeout=300)
        for node in cni_on:
            self.run("docker", "cp", str(DUMMY_CNI), f"{node}:/opt/cni/bin/dummy")
            self.run(
                "docker",
                "exec",
                "-i",
                node,
                "sh",
                "-c",
                "cat > /etc/cni/net.d/99-dummy.conf",
                input=DUMMY_CONF.read_text(),
            )
        return kubeconfig

    def api_cluster(self) -> Path:
        """The API tests' shared cluster (API_CLUSTER); its kubeconfig."""
        config = Path(f"/tmp/stagecast-test-kind-{API_CLUSTER}.yaml")
        config.write_text(API_CLUSTER_CONFIG)
        return self.cluster(API_CLUSTER, config, cni_on=(API_WORKER,))

    def adopt(self, name: str) -> None:
        """A cluster that a scenario makes itself: deleted with the session's own."""
        self.clusters.setdefault(name, Path(f"/tmp/stagecast-test-kind-{name}.kubeconfig"))

    def restart_docker(self) -> None:
        """After a test killed dockerd: clean up after it (its containerd, shims and nodes
        live on), start it again, and delete the clusters it ran, which are dead."""
        self.run(str(SCRIPT), "stop-docker", timeout=300)
        self.run(str(SCRIPT), "start-docker", timeout=120)
        self.started_docker = True
        for name in list(self.clusters):
            self.delete(name)

    def kubectl(self, name: str, *args: str, check: bool = True, timeout: float = 120, **kwargs):
        return self.run(
            "kubectl",
            "--kubeconfig",
            str(self.clusters[name]),
            *args,
            check=check,
            timeout=timeout,
            **kwargs,
        )

    def delete(self, name: str) -> None:
        """Delete a cluster this session made or adopted (the demos' `kind`, say)."""
        if name not in self.clusters:
            raise ValueError(f"cluster {name} is not this session's: tests never delete it")
        self.run("kind", "delete", "cluster", "--name", name, timeout=180, check=False)
        kubeconfig = self.clusters.pop(name, None)
        if kubeconfig is not None:
            kubeconfig.unlink(missing_ok=True)

    def close(self) -> dict[str, set[str]]:
        """Delete what this session made, stop its dockerd: what is left on the host.

        The dockerd stays up while clusters this session did not make still run on it."""
        if KEEP:
            return {}
        for name in list(self.clusters):
            self.delete(name)
        if self.started_docker:
            others = self.run("kind", "get", "clusters", check=False).stdout.split()
            if others:
                return {"clusters this session did not make (dockerd left running)": set(others)}
            self.run(str(SCRIPT), "down", timeout=300, check=False)
        deadline = time.monotonic() + 20
        while True:
            left = self.before.leftovers(KindHostState.take()) if self.started_docker else {}
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.5)
