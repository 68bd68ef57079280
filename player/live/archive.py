"""`stagecast live --save-cast PATH`: the show as the audience saw it, for the talk's archive.

Everything written to the audience terminal is recorded when it was shown: the live output,
and the segments the safety net played from the verified cast. Each step the show reached gets
a marker with its label, and each segment played back gets one more, "fallback: LABEL", where
it begins. The cast is written once, when the show ends, however it ends (the end of the
scenario, Ctrl-Q, a crash), through the recorder's atomic write: a complete temp file renamed
over PATH, so PATH is never half-written. Its provenance (`stagecast.live`) says it is the
recording of a live show, how it ended and which steps were played back; `verified` is true
only when the show ran to the end and every step passed live.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from recorder.cast.provenance import (
    ClusterFacts,
    LiveFacts,
    PlayedBack,
    ProfileFacts,
    Provenance,
    StepRecord,
    now_iso,
    stagecast_version,
)
from recorder.cast.reader import stream_cast
from recorder.cast.writer import CastRecording, publish_atomically, remove_stale_temps
from recorder.errors import StagecastError
from recorder.run.record import CAST_ENV, step_records
from recorder.run.results import ScenarioResult
from recorder.run.signals import describe
from recorder.scenario.loader import LoadedScenario
from recorder.shell.output_cleaner import Redactor

from .events import Fallback, Hello, LiveEvent, StateChanged, StepStarted

FALLBACK = "fallback: "  # the marker where a segment from the verified cast begins
REST = "the rest of the show played from the verified cast"
COMPLETED = "the end of the scenario"


class SaveCastError(Exception):
    """One line for the user; the CLI exits 2 before the show starts."""


def check_target(path: Path, safety_net: Path | None) -> None:
    """Refuse, before anything runs, a --save-cast path the show could not be saved to, or
    must not replace: the archive is written after the talk, too late to find out then."""
    if path.is_dir():
        raise SaveCastError(f"--save-cast {path} is a directory: pass a file in it, e.g. show.cast")
    if safety_net is not None and path.exists() and path.resolve() == safety_net.resolve():
        raise SaveCastError(
            f"--save-cast {path} is the verified cast the show falls back on: pass another path"
        )
    if path.exists() and not _is_live_recording(path):
        raise SaveCastError(
            f"--save-cast {path} exists and is not the recording of a live show: "
            "pass a new path, or remove it"
        )
    _check_writable(path.parent)


def _is_live_recording(path: Path) -> bool:
    """Only an earlier show's recording may be replaced (e.g. the last dress rehearsal's).
    Its header says so: the events (100 MB, if a step printed that) are not read."""
    try:
        provenance = stream_cast(path).head.provenance
    except (StagecastError, OSError, ValueError):
        return False
    return provenance is not None and provenance.live is not None


def _check_writable(directory: Path) -> None:
    existing = directory.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent  # publishing creates the missing directories
    if not existing.is_dir():
        raise SaveCastError(f"--save-cast: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise SaveCastError(f"--save-cast: cannot write in {existing}")


class ShowArchive:
    """The cast being recorded: fed by the audience writer (`tee`) and the live events."""

    def __init__(self, target: Path, rows: int, cols: int) -> None:
        self.target = target
        self.cast = CastRecording(cols, rows)
        self.played_back: list[PlayedBack] = []
        self.started_at: int | None = None  # unix time of the first thing the audience saw
        self._t0: float | None = None
        self._labels: dict[int, str] = {}

    @property
    def started(self) -> bool:
        return self._t0 is not None

    def tee(self, write: Callable[[str], None]) -> Callable[[str], None]:
        """`write` to the audience, recording the same text at the same moment."""

        def both(text: str) -> None:
            write(text)
            self.output(text)

        return both

    def _now(self) -> float:
        if self._t0 is None:  # the cast starts with the show's first screen, not before
            self._t0, self.started_at = time.monotonic(), int(time.time())
        return round(time.monotonic() - self._t0, 6)

    def output(self, text: str) -> None:
        self.cast.output(self._now(), text)

    def event(self, event: LiveEvent) -> None:
        """The live runner's events mark the steps and the segments played back."""
        if isinstance(event, Hello):
            self._labels = {step.index: step.label for step in event.steps}
        elif isinstance(event, StepStarted) and event.index is not None:
            self.cast.marker(self._now(), self._label(event.index))
        elif isinstance(event, Fallback) and event.index is not None:
            self._played_back(event.index, event.reason or "the presenter fell back")
        elif isinstance(event, StateChanged) and event.state == "recording":
            if event.index is not None:
                self._played_back(event.index, REST)

    def _label(self, index: int) -> str:
        return self._labels.get(index, f"step {index + 1}")

    def _played_back(self, index: int, reason: str) -> None:
        label = self._label(index)
        self.cast.marker(self._now(), FALLBACK + label)
        self.played_back.append(PlayedBack(index, label, reason))

    def save(self, show: ShowFacts) -> str | None:
        """Write the cast atomically (OSError if it cannot be); a warning line if what the
        audience saw looks like it holds a secret, since an archive tends to be published."""
        self.cast.metadata = show.metadata(self)
        remove_stale_temps(self.target)
        publish_atomically(self.cast, self.target)
        # Read back as a stream: a show that printed 100 MB is not held whole to be scanned.
        leaks = self.cast.leaks(show.redactor.secrets)
        if not leaks:
            return None
        more = f" (and {len(leaks) - 1} more)" if len(leaks) > 1 else ""
        return (
            f"the show's recording {self.target} may show a secret: {leaks[0]}{more}; "
            f"check it with `stagecast scan {self.target}` before publishing it"
        )


class ShowFacts:
    """How the show went, for the recording's header."""

    def __init__(
        self,
        loaded: LoadedScenario,
        redactor: Redactor,
        result: ScenarioResult | None,
        *,
        mode: str,
        safety_net: Path | None,
        cluster: dict[str, str],
        stop: str | None = None,
        crash: BaseException | None = None,
    ) -> None:
        self.loaded = loaded
        self.redactor = redactor
        self.result = result
        self.mode = mode
        self.safety_net = safety_net
        self.cluster = cluster
        self.completed, self.ended = _how_it_ended(result, stop, crash)

    def verified(self, archive: ShowArchive) -> bool:
        """Every step passed live: the show reached its end, nothing was played back."""
        result = self.result
        if not self.completed or result is None or archive.played_back or not result.passed:
            return False
        shown = [s for s in result.steps if s.phase == "steps" and not s.hidden]
        return all(step.passed for step in shown)

    def metadata(self, archive: ShowArchive) -> dict[str, Any]:
        clean = self.redactor.clean_text
        scenario, loaded = self.loaded.scenario, self.loaded
        live = LiveFacts(
            mode=self.mode,
            completed=self.completed,
            ended=clean(self.ended),
            played_back=archive.played_back,
            safety_net=str(self.safety_net) if self.safety_net is not None else None,
        )
        provenance = Provenance(
            verified=self.verified(archive),
            scenario=loaded.path.name,
            scenario_sha256=loaded.sha256,
            version=stagecast_version(),
            date=now_iso(),
            profile=(
                ProfileFacts(**loaded.profile.provenance(loaded.path.parent))
                if loaded.profile
                else None
            ),
            cluster=ClusterFacts.from_dict(self.cluster),
            live=live,
            steps=_step_records(self.result, clean),
        )
        metadata: dict[str, Any] = {
            "timestamp": archive.started_at or int(time.time()),
            "title": f"{clean(scenario.title)} (live show)",
            "env": dict(CAST_ENV),
            Provenance.KEY: provenance.to_dict(),
        }
        if scenario.idle_time_limit is not None:  # the presenter's long pauses, capped on replay
            metadata["idle_time_limit"] = scenario.idle_time_limit
        return metadata


def _how_it_ended(
    result: ScenarioResult | None, stop: str | None, crash: BaseException | None
) -> tuple[bool, str]:
    """(completed, how it ended in words)."""
    if crash is not None:
        if isinstance(crash, KeyboardInterrupt):
            return False, f"interrupted ({describe(getattr(crash, 'signum', signal.SIGINT))})"
        return False, f"crashed: {type(crash).__name__}: {crash}"
    if stop is not None:
        return False, stop
    if result is None:
        return False, "ended before the first step"
    if result.interrupted:
        return False, f"interrupted ({describe(result.interrupt_signal or signal.SIGINT)})"
    if result.stopped:
        return False, f"stopped: {result.stopped}"
    return True, COMPLETED


def _step_records(result: ScenarioResult | None, clean: Callable[[str], str]) -> list[StepRecord]:
    return [] if result is None else step_records(result, clean)
