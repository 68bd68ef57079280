"""A snapshot of what a lab scenario may touch on the host, to prove teardown undid it."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

LAB_PACKAGES = {
    # program: Debian package that provides it
    "ip": "iproute2",
    "ping": "iputils-ping",
    "jq": "jq",
    "tcpdump": "tcpdump",
    "ovn-nbctl": "ovn-central",
    "ovn-controller": "ovn-host",
    "ovs-vswitchd": "openvswitch-switch",
}
CNI_DIR = Path("/usr/lib/cni")


def lab_skip_reason(*programs: str, cni: bool = False) -> str | None:
    """Why a lab test cannot run here, in one line; None when it can."""
    if os.geteuid() != 0:
        return "needs root (network namespaces and links)"
    for program in programs:
        if shutil.which(program) is None:
            package = LAB_PACKAGES.get(program, program)
            return f"needs {program} (Debian package {package})"
    if cni and not (CNI_DIR / "bridge").exists():
        return "needs the CNI reference plugins in /usr/lib/cni (containernetworking-plugins)"
    return None


def require_lab(*programs: str, cni: bool = False) -> None:
    reason = lab_skip_reason(*programs, cni=cni)
    if reason:
        pytest.skip(reason)


def _lines(*command: str) -> set[str]:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    return {line.strip() for line in done.stdout.splitlines() if line.strip()}


def _processes() -> set[str]:
    """Processes started from a stagecast shell (they inherit STAGECAST=1): a scenario's leak
    is one of them, while whatever else the machine runs meanwhile is not."""
    out = set()
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            if b"\0STAGECAST=1\0" not in b"\0" + (entry / "environ").read_bytes():
                continue
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        if cmdline:
            out.add(f"{entry.name} {cmdline}")
    return out


@dataclass
class HostState:
    netns: set[str]
    links: set[str]
    processes: set[str]
    iptables: set[str]
    tmp: set[str]

    @classmethod
    def take(cls) -> HostState:
        links = {line.split(":")[1].strip().split("@")[0] for line in _lines("ip", "-o", "link")}
        iptables = _lines("iptables-save") if shutil.which("iptables-save") else set()
        return cls(
            netns={line.split()[0] for line in _lines("ip", "netns", "list")},
            links=links,
            processes=_processes(),
            iptables={line for line in iptables if line.startswith((":", "-A"))},
            tmp={
                p.name for p in Path("/tmp").iterdir() if "stagecast" in p.name or "lab" in p.name
            },
        )

    def leftovers(self, after: HostState) -> dict[str, set[str]]:
        """What exists after a run that did not before: empty when teardown was complete."""
        diff = {
            "netns": after.netns - self.netns,
            "links": after.links - self.links,
            "processes": {p for p in after.processes - self.processes if not _is_test_machinery(p)},
            "iptables": after.iptables - self.iptables,
            "tmp": after.tmp - self.tmp,
        }
        return {k: v for k, v in diff.items() if v}

    def leftovers_now(self, settle: float = 5.0) -> dict[str, set[str]]:
        """What exists now that did not before, waiting up to `settle` s for exiting processes.

        The snapshot is machine-wide, so processes that others on this machine start meanwhile
        are dropped: those whose parent chain reaches a process already running before, other
        than init and this test's own ancestors. A leak of a lab is either an orphan
        (reparented to init) or still below this test, so it is always kept.
        """
        old = {int(entry.split()[0]) for entry in self.processes}
        ours = _ancestors(os.getpid())
        deadline = time.monotonic() + settle
        while True:
            found = self.leftovers(HostState.take())
            kept = {
                entry
                for entry in found.pop("processes", set())
                if not _in_other_tree(int(entry.split()[0]), old, ours)
            }
            if kept:
                found["processes"] = kept
            if not found or time.monotonic() > deadline:
                return found
            time.sleep(0.25)


@contextlib.contextmanager
def lab_lock(scenario: Path) -> Iterator[None]:
    """Two test runs never use one lab's fixed names at once."""
    with scenario.open() as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


@contextlib.contextmanager
def scenario_variant(scenario: Path, name: str, text: str) -> Iterator[Path]:
    """A modified copy beside the original, so its support-file paths still resolve."""
    path = scenario.with_name(f".test-{name}.yaml")
    path.write_text(text)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _ancestors(pid: int) -> set[int]:
    out: set[int] = set()
    current: int | None = pid
    while current and current not in out:
        out.add(current)
        current = _ppid(current)
    return out


def _in_other_tree(pid: int, old: set[int], ours: set[int]) -> bool:
    current = _ppid(pid)
    for _ in range(200):
        if current is None or current <= 1 or current in ours:
            return False
        if current in old:
            return True
        current = _ppid(current)
    return False


def _is_test_machinery(process: str) -> bool:
    """Other workers of this test session and the snapshot's own commands, not leaks."""
    argv = process.split()[1:]
    if not argv:
        return False
    program = os.path.basename(argv[0])
    if program in {"ip", "iptables-save", "ps"}:
        return True
    if program.startswith("pytest") or argv[1:3] == ["-m", "pytest"]:
        return True
    # `.venv/bin/pytest` runs as `python3 .venv/bin/pytest ...`
    return program.startswith("python") and len(argv) > 1 and argv[1].endswith("/pytest")
