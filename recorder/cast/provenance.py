"""Where a verified cast came from: scenario hash, tool versions, profile, cluster, per-step
results. `Provenance` is the one type for the header's `stagecast` key, written by
`recorder.run.record` (and, with `live` set, by `stagecast live --save-cast`) and read (through
`Cast.provenance`) by every consumer."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets as random_secrets
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal
from typing import cast as typed

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


# -- the `stagecast` header key -----------------------------------------------------------

StepStatus = Literal["passed", "failed", "skipped", "not-run"]
STEP_STATUSES: tuple[StepStatus, ...] = ("passed", "failed", "skipped", "not-run")


def step_status(value: str) -> StepStatus:
    """A run's step status as written into a cast; a status this type does not name is a bug."""
    if value not in STEP_STATUSES:
        raise ValueError(f"unknown step status {value!r}: add it to StepStatus")
    return value  # narrowed to StepStatus by the membership test


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _num(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if ok else None


@dataclass(frozen=True)
class ProfileFacts:
    """The `--profile` a cast was made under (`stagecast.profile`)."""

    name: str
    description: str
    file: str
    sha256: str

    @classmethod
    def from_dict(cls, raw: Any) -> ProfileFacts | None:
        if not isinstance(raw, dict):
            return None
        return cls(*(_str(raw.get(key)) or "" for key in ("name", "description", "file", "sha256")))


@dataclass(frozen=True)
class ClusterFacts:
    """The kind cluster the steps ran on (`stagecast.cluster`); versions are best effort."""

    name: str
    node_image: str
    kubernetes: str | None = None
    docker_engine: str | None = None

    @classmethod
    def from_dict(cls, raw: Any) -> ClusterFacts | None:
        if not isinstance(raw, dict) or not raw:
            return None
        return cls(
            name=_str(raw.get("name")) or "",
            node_image=_str(raw.get("node_image")) or "",
            kubernetes=_str(raw.get("kubernetes")),
            docker_engine=_str(raw.get("docker_engine")),
        )

    def to_dict(self) -> dict[str, str]:
        facts = {"name": self.name, "node_image": self.node_image}
        if self.kubernetes:
            facts["kubernetes"] = self.kubernetes
        if self.docker_engine:
            facts["docker_engine"] = self.docker_engine
        return facts


@dataclass(frozen=True)
class StepRecord:
    """One step's outcome in `stagecast.steps`; `not_run` says why a step did not run."""

    phase: str
    index: int
    marker: str
    hidden: bool
    status: StepStatus
    exit: int | None
    duration: float
    not_run: str | None = None

    @classmethod
    def from_dict(cls, raw: Any) -> StepRecord | None:
        if not isinstance(raw, dict):
            return None
        status = _str(raw.get("status")) or ""
        return cls(
            phase=_str(raw.get("phase")) or "",
            index=_int(raw.get("index")) or 0,
            marker=_str(raw.get("marker")) or "",
            hidden=raw.get("hidden") is True,
            # A status this version does not know is kept as written, not guessed.
            status=typed(StepStatus, status),
            exit=_int(raw.get("exit")),
            duration=_num(raw.get("duration")) or 0.0,
            not_run=_str(raw.get("not_run")),
        )

    def to_dict(self) -> dict[str, Any]:
        written: dict[str, Any] = {
            "phase": self.phase,
            "index": self.index,
            "marker": self.marker,
            "hidden": self.hidden,
            "status": self.status,
            "exit": self.exit,
            "duration": round(self.duration, 3),
        }
        if self.not_run:
            written["not_run"] = self.not_run
        return written


@dataclass(frozen=True)
class PlayedBack:
    """A step the audience saw played from the verified cast, not run (`stagecast.live`)."""

    index: int
    marker: str
    reason: str

    @classmethod
    def from_dict(cls, raw: Any) -> PlayedBack | None:
        if not isinstance(raw, dict):
            return None
        index = _int(raw.get("index"))
        return cls(index or 0, _str(raw.get("marker")) or "", _str(raw.get("reason")) or "")


@dataclass(frozen=True)
class LiveFacts:
    """Set only in the recording of a live show (`stagecast live --save-cast`): what the
    audience saw, at the presenter's pace, fallback segments included. Such a cast is an
    archive, never a verified rehearsal cast, whatever its `verified` says."""

    mode: str  # "live" (the presenter's keys) or "auto" (a dress rehearsal)
    completed: bool  # the show ran to the end of the scenario
    ended: str  # how it ended, in words: "the end of the scenario", "Ctrl-Q", "crashed: ..."
    played_back: list[PlayedBack] = field(default_factory=list)
    safety_net: str | None = None  # the verified cast the fallbacks came from

    RECORDING: ClassVar[str] = "live show"  # written first, for whoever reads the header

    @classmethod
    def from_dict(cls, raw: Any) -> LiveFacts | None:
        if not isinstance(raw, dict):
            return None
        played = raw.get("played_back")
        records = (PlayedBack.from_dict(p) for p in played) if isinstance(played, list) else ()
        return cls(
            mode=_str(raw.get("mode")) or "",
            completed=raw.get("completed") is True,
            ended=_str(raw.get("ended")) or "",
            played_back=[r for r in records if r is not None],
            safety_net=_str(raw.get("safety_net")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "recording": self.RECORDING,
            "mode": self.mode,
            "completed": self.completed,
            "ended": self.ended,
            "played_back": [asdict(p) for p in self.played_back],
            "safety_net": self.safety_net,
        }


@dataclass(frozen=True)
class SecretFingerprint:
    """A declared secret named in `stagecast.secrets`: the variable it came from and a salted
    sha256 of its value (never the value), so `upload` and `scan` know what to look for and
    can tell the value in their environment is the one recorded."""

    name: str  # the environment variable (`from_env`)
    salt: str  # random hex, one per secret per cast
    sha256: str  # sha256(salt + value), hex

    @classmethod
    def of(cls, name: str, value: str) -> SecretFingerprint:
        salt = random_secrets.token_hex(16)
        return cls(name, salt, _salted_sha256(salt, value))

    def matches(self, value: str) -> bool:
        return hmac.compare_digest(_salted_sha256(self.salt, value), self.sha256)

    @classmethod
    def from_dict(cls, raw: Any) -> SecretFingerprint | None:
        """Only the name is needed: a fingerprint that cannot be read matches no value."""
        if not isinstance(raw, dict) or not _str(raw.get("name")):
            return None
        return cls(*(_str(raw.get(key)) or "" for key in ("name", "salt", "sha256")))


def _salted_sha256(salt: str, value: str) -> str:
    return hashlib.sha256((salt + value).encode()).hexdigest()


@dataclass(frozen=True)
class TypingFacts:
    """How the keys were typed (`stagecast.typing`): the typing model's version and its
    settings as used. `preview` is set when `--cps` replaced the scenario's speed."""

    model: int
    cps: float
    jitter: float
    seed: int
    think: float  # the mean think pause before a step
    preview: bool = False

    @classmethod
    def from_dict(cls, raw: Any) -> TypingFacts | None:
        if not isinstance(raw, dict):
            return None
        return cls(
            model=_int(raw.get("model")) or 0,
            cps=_num(raw.get("cps")) or 0.0,
            jitter=_num(raw.get("jitter")) or 0.0,
            seed=_int(raw.get("seed")) or 0,
            think=_num(raw.get("think")) or 0.0,
            preview=raw.get("preview") is True,
        )

    def to_dict(self) -> dict[str, Any]:
        written: dict[str, Any] = {
            "model": self.model,
            "cps": round(self.cps, 4),
            "jitter": round(self.jitter, 4),
            "seed": self.seed,
            "think": round(self.think, 4),
        }
        if self.preview:
            written["preview"] = True
        return written


@dataclass(frozen=True)
class Provenance:
    """Where a cast came from: the header's `stagecast` key, written by `record` and read by
    the safety net, the site and upload. The only code that knows its keys.

    Reading is lenient, so every cast ever committed still reads: unknown keys are ignored and
    a missing key reads as empty (a cast is verified only if it says `verified: true`)."""

    verified: bool
    scenario: str = ""
    scenario_sha256: str = ""
    version: str = ""
    date: str = ""
    tools: dict[str, str] = field(default_factory=dict)
    steps: list[StepRecord] = field(default_factory=list)
    profile: ProfileFacts | None = None
    cluster: ClusterFacts | None = None
    live: LiveFacts | None = None  # the recording of a live show, not a rehearsal's cast
    secrets: list[SecretFingerprint] = field(default_factory=list)  # declared, fingerprinted
    typing: TypingFacts | None = None  # the typing model and settings; older casts: None

    KEY: ClassVar[str] = "stagecast"  # its key in the cast header

    @classmethod
    def from_header(cls, header: dict[str, Any]) -> Provenance | None:
        """The provenance in a cast header; None when there is none (or it is not a mapping)."""
        return cls.from_dict(header.get(cls.KEY))

    @classmethod
    def from_dict(cls, raw: Any) -> Provenance | None:
        if not isinstance(raw, dict):
            return None
        tools = raw.get("tools")
        steps = raw.get("steps")
        records = (StepRecord.from_dict(s) for s in steps) if isinstance(steps, list) else ()
        return cls(
            verified=raw.get("verified") is True,
            scenario=_str(raw.get("scenario")) or "",
            scenario_sha256=_str(raw.get("scenario_sha256")) or "",
            version=_str(raw.get("version")) or "",
            date=_str(raw.get("date")) or "",
            tools={k: v for k, v in tools.items() if isinstance(v, str)}
            if isinstance(tools, dict)
            else {},
            steps=[r for r in records if r is not None],
            profile=ProfileFacts.from_dict(raw.get("profile")),
            cluster=ClusterFacts.from_dict(raw.get("cluster")),
            live=LiveFacts.from_dict(raw.get("live")),
            secrets=_fingerprints(raw.get("secrets")),
            typing=TypingFacts.from_dict(raw.get("typing")),
        )

    def to_dict(self) -> dict[str, Any]:
        """The header value, keys in the order casts have always had them."""
        written: dict[str, Any] = {
            "verified": self.verified,
            "scenario": self.scenario,
            "scenario_sha256": self.scenario_sha256,
            "version": self.version,
            "date": self.date,
            "tools": dict(self.tools),
        }
        if self.profile is not None:
            written["profile"] = asdict(self.profile)
        if self.cluster is not None:
            written["cluster"] = self.cluster.to_dict()
        if self.live is not None:
            written["live"] = self.live.to_dict()
        if self.secrets:
            written["secrets"] = [asdict(secret) for secret in self.secrets]
        if self.typing is not None:
            written["typing"] = self.typing.to_dict()
        written["steps"] = [step.to_dict() for step in self.steps]
        return written


def _fingerprints(raw: Any) -> list[SecretFingerprint]:
    read = (SecretFingerprint.from_dict(s) for s in raw) if isinstance(raw, list) else ()
    return [s for s in read if s is not None]
