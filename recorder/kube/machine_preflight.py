"""Machine checks for Kubernetes demos, before anything runs: one line each, naming the fix."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from recorder.scenario.kube_model import Preflight

PROC = Path("/proc")
SYS = Path("/sys")


def _runtime_running() -> str | None:
    tried = []
    for runtime in ("docker", "podman"):
        if shutil.which(runtime) is None:
            continue
        tried.append(runtime)
        if runtime_answer(runtime) is None:
            return None
    if not tried:
        return "no container runtime: install docker (or podman) for kind"
    return (
        f"{' and '.join(tried)} installed but not running: start it "
        "(for example `sudo systemctl start docker`)"
    )


def runtime_answer(
    runtime: str = "docker", env: dict[str, str] | None = None, timeout: float = 15
) -> str | None:
    """None when `runtime info` answers; otherwise the first line of what it said instead."""
    try:
        done = subprocess.run(
            [runtime, "info"],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    except OSError as exc:
        return str(exc)
    except subprocess.TimeoutExpired:
        return f"`{runtime} info` did not answer within {timeout:g}s"
    if done.returncode == 0:
        return None
    lines = [line.strip() for line in (done.stderr + done.stdout).splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower() or "cannot" in line.lower()]
    return (errors or lines or [f"`{runtime} info` exited {done.returncode}"])[0][:300]


def server_version(runtime: str = "docker", env: dict[str, str] | None = None) -> str | None:
    """The container engine's own version (not its client's), for provenance."""
    try:
        done = subprocess.run(
            [runtime, "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            timeout=10,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip()[:80] or None if done.returncode == 0 else None


def _meminfo_gb(field: str, proc: Path) -> float | None:
    try:
        for line in (proc / "meminfo").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        return None
    return None


def _sysctl(name: str, proc: Path) -> int | None:
    try:
        return int((proc / "sys" / name.replace(".", "/")).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _module_loaded(name: str, proc: Path, sys: Path) -> bool:
    if (sys / "module" / name).exists():
        return True
    if name == "br_netfilter" and (proc / "sys/net/bridge/bridge-nf-call-iptables").exists():
        return True  # built into the kernel
    try:
        return any(line.split()[0] == name for line in (proc / "modules").read_text().splitlines())
    except OSError:
        return False


def machine_problems(spec: Preflight, proc: Path = PROC, sys: Path = SYS) -> list[str]:
    """Every unmet requirement, as `what: how to fix it`."""
    problems: list[str] = []
    if spec.container_runtime:
        runtime = _runtime_running()
        if runtime:
            problems.append(runtime)
    if spec.memory_gb is not None:
        available = _meminfo_gb("MemAvailable", proc)
        if available is not None and available < spec.memory_gb:
            problems.append(
                f"{available:.1f} GB of memory available, the demo needs {spec.memory_gb:g} GB: "
                "close other programs or give the machine more memory"
            )
    for name, wanted in (
        ("fs.inotify.max_user_watches", spec.inotify_watches),
        ("fs.inotify.max_user_instances", spec.inotify_instances),
    ):
        if wanted is None:
            continue
        value = _sysctl(name, proc)
        if value is not None and value < wanted:
            problems.append(f"{name} is {value}, needs {wanted}: run `sudo sysctl {name}={wanted}`")
    for module in spec.modules:
        if not _module_loaded(module, proc, sys):
            problems.append(f"kernel module {module} is not loaded: run `sudo modprobe {module}`")
    return problems
