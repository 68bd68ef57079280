"""Where a verified cast came from: scenario hash, tool versions, per-step results."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime

from recorder import __version__

VERSION_ARGS = (["--version"], ["version", "--client"], ["version"], ["-V"])
VERSION_RE = re.compile(r"v?\d+\.\d+[\w.+~-]*|\b\d{8}\b")


def tool_version(binary: str, timeout: float = 5) -> str | None:
    """The first version-looking line a tool prints about itself, if any."""
    if shutil.which(binary) is None:
        return None
    for args in VERSION_ARGS:
        try:
            done = subprocess.run(
                [binary, *args],
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode != 0:
            continue
        for line in (done.stdout + "\n" + done.stderr).splitlines():
            if VERSION_RE.search(line):
                return line.strip()[:200]
    return None


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def stagecast_version() -> str:
    return __version__
