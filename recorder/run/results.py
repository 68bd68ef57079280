"""What a run produced: one StepResult per step, one ScenarioResult per scenario."""

from __future__ import annotations

import signal
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

TAIL_LINES = 15


@dataclass
class StepResult:
    phase: str  # "setup", "steps" or "teardown"
    index: int
    label: str
    command: str | None
    hidden: bool
    status: str = "skipped"  # passed, failed, skipped, or not-run (declared unable to run here)
    rc: int | None = None
    duration: float = 0.0
    output: str = ""  # plain text, redacted
    failures: list[str] = field(default_factory=list)
    attempts: int = 0
    location: str = ""  # file:line:col of the step
    command_time: float = 0.0  # what bash measured its commands ran, all attempts
    not_run_reason: str = ""  # why a step declared unavailable under the profile did not run

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def tail(self, lines: int = TAIL_LINES) -> str:
        return "\n".join(self.output.rstrip("\n").splitlines()[-lines:])

    @property
    def name(self) -> str:
        return f"{self.phase}[{self.index}] {self.label}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["output_tail"] = self.tail()
        del data["output"]
        return data


@dataclass
class Drift:
    """A step of a rehearsal that differs in meaning from its baseline cast."""

    baseline: str  # the baseline cast's path
    label: str
    status: str  # changed, added (not in the baseline) or removed (only in the baseline)
    detail: str  # the step's unified diff, baseline -> rehearsal
    step: int | None = None  # its position in ScenarioResult.steps; None: no step of this run

    @property
    def message(self) -> str:
        """One line, as the baseline note words it."""
        return f"differs from baseline {self.baseline}: {self.status} {self.label!r}"


@dataclass
class ScenarioResult:
    name: str
    path: str
    title: str
    mode: str
    steps: list[StepResult] = field(default_factory=list)
    duration: float = 0.0
    error: str | None = None  # a failure outside any step's checks
    interrupted: bool = False
    interrupt_signal: int | None = None  # which signal interrupted it (None: Ctrl-C's)
    cast_path: Path | None = None  # the verified cast `record` published
    rehearsal_cast_path: Path | None = None  # `rehearse --cast-dir`: never a verified cast
    failed_cast_path: Path | None = None
    # Why no failed cast was written (the leak scan found something in it), in one line.
    failed_cast_withheld: str | None = None
    report_path: Path | None = None
    sha256: str = ""
    profile: str | None = None  # the profile's name, when the run used one
    stopped: str | None = None  # where and why the run stopped early, declared by the scenario
    drifts: list[Drift] = field(default_factory=list)  # rehearse --baseline: what changed

    @property
    def interrupt_exit_code(self) -> int:
        """128 + the signal's number: 130 for Ctrl-C (or the presenter's quit key)."""
        return 128 + (self.interrupt_signal or signal.SIGINT)

    @property
    def passed(self) -> bool:
        return (
            self.error is None
            and not self.interrupted
            and all(s.status != "failed" for s in self.steps)
            and any(s.passed for s in self.steps)
        )

    @property
    def first_failure(self) -> StepResult | None:
        return next((s for s in self.steps if s.status == "failed"), None)

    def counts(self) -> dict[str, int]:
        out = {"passed": 0, "failed": 0, "skipped": 0, "not-run": 0}
        for step in self.steps:
            out[step.status] = out.get(step.status, 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "title": self.title,
            "mode": self.mode,
            "passed": self.passed,
            "duration": round(self.duration, 3),
            "error": self.error,
            "interrupted": self.interrupted,
            "signal": (
                signal.Signals(self.interrupt_signal).name if self.interrupt_signal else None
            ),
            "cast": str(self.cast_path) if self.cast_path else None,
            "rehearsal_cast": (str(self.rehearsal_cast_path) if self.rehearsal_cast_path else None),
            "failed_cast": str(self.failed_cast_path) if self.failed_cast_path else None,
            "failed_cast_withheld": self.failed_cast_withheld,
            "report": str(self.report_path) if self.report_path else None,
            "scenario_sha256": self.sha256,
            "profile": self.profile,
            "stopped": self.stopped,
            "counts": self.counts(),
            "steps": [s.to_dict() for s in self.steps],
        }
