"""`stagecast record`: run at human speed, then publish a verified cast or keep the old one."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from recorder.cast.leak_scan import Leak, mask_leaks
from recorder.cast.provenance import (
    ClusterFacts,
    ProfileFacts,
    Provenance,
    SecretFingerprint,
    StepRecord,
    TypingFacts,
    now_iso,
    stagecast_version,
    step_status,
    tool_version,
)
from recorder.cast.writer import (
    CastFormat,
    CastRecording,
    failed_paths,
    publish_atomically,
    remove_stale_temps,
    target_lock,
    write_text_atomically,
)
from recorder.errors import CommandError
from recorder.scenario.loader import LoadedScenario
from recorder.scenario.preflight import ROOT
from recorder.shell.typing_model import TYPING_MODEL_VERSION

from .progress import Reporter
from .report import failure_report
from .results import ScenarioResult
from .runner import Runner

CAST_ENV = {"TERM": "xterm-256color", "SHELL": "/bin/bash"}


def default_cast_path(loaded: LoadedScenario) -> Path:
    """casts/NAME.cast, where scenarios/lab/x.yaml is named lab-x (and tour.yaml, tour)."""
    parts = loaded.path.resolve().with_suffix("").parts
    if "scenarios" in parts:
        parts = parts[len(parts) - parts[::-1].index("scenarios") :]
        return Path("casts") / f"{'-'.join(parts)}.cast"
    return Path("casts") / f"{loaded.name}.cast"


def record(
    loaded: LoadedScenario,
    output: Path | None = None,
    reporter: Reporter | None = None,
    *,
    cps: float | None = None,
    keep_cluster: bool = False,
    cast_format: CastFormat = 2,
) -> ScenarioResult:
    """Record `loaded`; `cps` overrides the scenario's typing speed (the think pause too).

    Nothing runs when the cast's folder cannot be written, or while another run writes the
    same cast (CommandError, exit 2); a cast that cannot be written at the end (a full disk)
    fails the run with one line, the old cast untouched."""
    target = output or default_cast_path(loaded)
    check_writable(target)
    with target_lock(target):
        return _record(loaded, target, reporter, cps, keep_cluster, cast_format)


def _record(
    loaded: LoadedScenario,
    target: Path,
    reporter: Reporter | None,
    cps: float | None,
    keep_cluster: bool,
    cast_format: CastFormat,
) -> ScenarioResult:
    started_at = int(time.time())
    runner = Runner(loaded, "record", reporter, cps=cps, keep_cluster=keep_cluster)
    runner.cast.version = cast_format
    result = runner.run()
    if result.stopped and result.error is None:
        # Every step that ran passed, but the story is cut short: not a cast to publish.
        result.error = f"stopped at {result.stopped}: a partial demo is never published as verified"
    cast = runner.cast
    cast.metadata = _metadata(loaded, result, runner, started_at)
    try:
        _publish(result, runner, target, cast)
    except OSError as exc:
        _cannot_write(result, runner, target, exc)
    finally:
        cast.close()
    return result


def check_writable(target: Path) -> None:
    """The cast's folder (or the first of its parents that exists: the rest are made) can be
    written to; else one line and exit 2, before anything runs."""
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise CommandError(f"{target}: {folder} is not a folder: write the cast elsewhere", 2)
    probe = folder / f".stagecast-probe-{os.getpid()}"
    try:  # writing is the only true test: root passes os.access on a read-only mount
        probe.touch()
        probe.unlink()
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise CommandError(
            f"{target}: cannot write in {folder}: {why}: write the cast elsewhere (-o)", 2
        ) from None


def _cannot_write(result: ScenarioResult, runner: Runner, target: Path, exc: OSError) -> None:
    """The run is over but its cast (or failed cast) could not be written: say so in one line;
    the report too, if the disk takes it."""
    where = exc.filename or target
    why = exc.strerror or str(exc)
    verified = result.passed
    result.cast_path = result.failed_cast_path = None
    line = f"{where}: cannot write the cast: {why}; {target} is untouched"
    result.error = line if verified else f"{result.error or 'a step failed'}; {line}"
    _, report = failed_paths(target)
    try:
        write_text_atomically(runner.redactor.clean_text(failure_report(result)), report)
        result.report_path = report
    except OSError as again:
        result.error += f" (and no report either: {again.strerror or again})"


def _publish(result: ScenarioResult, runner: Runner, target: Path, cast: CastRecording) -> None:
    remove_stale_temps(target)
    # A failed attempt is a cast on disk too: it gets the same scan as a verified one.
    leaks = cast_leaks(cast, runner.redactor.secrets)
    if leaks:
        _refuse_leaky_cast(result, runner, target, leaks)
    elif result.passed:
        publish_atomically(cast, target)
        result.cast_path = target
        for stale in failed_paths(target):  # an old failure no longer describes this cast
            stale.unlink(missing_ok=True)
    else:
        failed_cast, report = failed_paths(target)
        publish_atomically(cast, failed_cast)
        write_text_atomically(runner.redactor.clean_text(failure_report(result)), report)
        result.failed_cast_path, result.report_path = failed_cast, report


def cast_leaks(cast: CastRecording, secrets: Sequence[str]) -> list[Leak]:
    """The leak scan of `cast` as it would be written (header and events in file order)."""
    return cast.leaks(secrets)


def _refuse_leaky_cast(
    result: ScenarioResult, runner: Runner, target: Path, leaks: list[Leak]
) -> None:
    """The cast shows a leak: write neither it nor a failed cast, and explain why.

    The old cast at `target` stays as it was. No `.failed.cast` is written, since it would
    carry the very leak, and an older one is removed: it would pass for this run's attempt.
    What the run reports (step outputs and failures, the report file) is masked too."""
    _mask_result(result, runner.redactor.secrets)
    more = f" (and {len(leaks) - 1} more)" if len(leaks) > 1 else ""
    unpublished = result.passed  # every check passed: the leak alone keeps the cast back
    if unpublished:
        result.error = f"leak scan: {leaks[0]}{more}"
    failed_cast, report = failed_paths(target)
    removed = f"; removed the older {failed_cast}" if _remove(failed_cast) else ""
    first = leaks[0]
    result.failed_cast_withheld = (
        f"no failed cast written: the leak scan found a {first.kind} at {first.where}{more}"
        + removed
    )
    kept_back = "the verified cast was not published, and no" if unpublished else "no"
    lines = [
        failure_report(result).rstrip("\n"),
        "",
        f"leaks found ({len(leaks)}): {kept_back} failed cast was written, since it would "
        f"contain them{removed}:",
        *(f"  - {leak}" for leak in leaks),
        "",
    ]
    write_text_atomically(runner.redactor.clean_text("\n".join(lines)), report)
    result.report_path = report


def _mask_result(result: ScenarioResult, secrets: Sequence[str]) -> None:
    """What the run says about itself, with the scan's matches masked: a failed step's
    command, output and failures (a `not_regex` one quotes what it found) reach the report,
    the summary line and the JSON."""
    if result.error:
        result.error = mask_leaks(result.error, secrets)
    for step in result.steps:
        step.label = mask_leaks(step.label, secrets)
        if step.command:
            step.command = mask_leaks(step.command, secrets)
        step.output = mask_leaks(step.output, secrets)
        step.failures = [mask_leaks(failure, secrets) for failure in step.failures]


def _remove(path: Path) -> bool:
    """Remove `path`; whether there was one."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def save_rehearsal_cast(
    loaded: LoadedScenario, result: ScenarioResult, runner: Runner, directory: Path
) -> None:
    """`rehearse --cast-dir`: the rehearsal's own cast, for CI's artifacts. It is never
    verified (typed at full speed, not the cast a talk shows), and the leak scan keeps a
    leaking one off disk as it does for `record`."""
    target = directory / default_cast_path(loaded).name
    cast = runner.cast
    cast.metadata = _metadata(loaded, result, runner, int(time.time()), verified=False)
    leaks = cast_leaks(cast, runner.redactor.secrets)
    if leaks:
        result.failed_cast_withheld = f"no rehearsal cast written: the leak scan found {leaks[0]}"
        return
    remove_stale_temps(target)
    publish_atomically(cast, target)
    result.rehearsal_cast_path = target


def step_records(result: ScenarioResult, clean: Callable[[str], str]) -> list[StepRecord]:
    """Each step's outcome, as a cast's provenance keeps it (`clean` redacts its text)."""
    return [
        StepRecord(
            phase=step.phase,
            index=step.index,
            marker=clean(step.label),
            hidden=step.hidden,
            status=step_status(step.status),
            exit=step.rc,
            duration=step.duration,
            not_run=clean(step.not_run_reason) if step.not_run_reason else None,
        )
        for step in result.steps
    ]


def _metadata(
    loaded: LoadedScenario,
    result: ScenarioResult,
    runner: Runner,
    started_at: int,
    *,
    verified: bool = True,
) -> dict[str, object]:
    clean = runner.redactor.clean_text
    scenario = loaded.scenario
    tools = {name: tool_version(name) for name in scenario.requires if name != ROOT}
    metadata: dict[str, object] = {
        "timestamp": started_at,
        "title": clean(scenario.title),
        "env": dict(CAST_ENV),
        Provenance.KEY: Provenance(
            verified=verified and result.passed,
            scenario=loaded.path.name,
            scenario_sha256=loaded.sha256,
            version=stagecast_version(),
            date=now_iso(),
            tools={name: clean(v) for name, v in tools.items() if v is not None},
            profile=(
                ProfileFacts(**loaded.profile.provenance(loaded.path.parent))
                if loaded.profile
                else None
            ),
            cluster=ClusterFacts.from_dict(runner.cluster),
            secrets=[SecretFingerprint.of(*named) for named in dict(runner.secret_names).items()],
            typing=_typing(runner),
            steps=step_records(result, clean),
        ).to_dict(),
    }
    if scenario.idle_time_limit is not None:
        metadata["idle_time_limit"] = scenario.idle_time_limit
    return metadata


def _typing(runner: Runner) -> TypingFacts | None:
    """The typing model and its settings as the keys were typed; None when they were sent at
    once (a rehearsal's cast)."""
    if runner.mode == "rehearse":
        return None
    model = runner.typing
    return TypingFacts(
        model=TYPING_MODEL_VERSION,
        cps=model.cps,
        jitter=model.jitter,
        seed=model.seed,
        think=runner.think_mean,
        preview=runner.cps_override is not None,
    )
