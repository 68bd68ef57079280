"""A snapshot of what a lab scenario may touch on the host, to prove teardown undid it."""

from __future__ import annotations

import os
import shutil
import subprocess
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
    out = set()
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
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
