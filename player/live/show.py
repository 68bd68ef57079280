"""One live show, start to end: the safety net loaded, the presenter channel open, the
presenter's keyboard in raw mode, the runner, and everything put back afterwards; with
--save-cast, the show's recording written however the show ends."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from recorder.errors import PrerequisiteError
from recorder.run.record import default_cast_path
from recorder.run.results import ScenarioResult
from recorder.run.signals import handling
from recorder.scenario.loader import LoadedScenario
from recorder.scenario.preflight import resolve_env
from recorder.shell.output_cleaner import Redactor
from recorder.shell.typing_model import TypingModel

from .archive import SaveCastError, ShowArchive, ShowFacts, check_target
from .audience import write_fd
from .live_runner import LiveOptions, LiveRunner
from .presenter import PresenterChannel, PresenterError, default_socket_path
from .presenter_keys import AutoPresenter, RevealWidth, presenter_terminal
from .safety_net import SafetyNet, SafetyNetError


@dataclass
class ShowSettings:
    cast: Path | None = None  # the verified cast (default casts/NAME.cast)
    fallback: bool = True
    fallback_rest: bool = False
    reveal: RevealWidth | None = None
    auto: bool = False
    cps: float | None = None
    presenter_view: bool = False
    socket: Path | None = None
    keep_cluster: bool = False
    save_cast: Path | None = None  # --save-cast: the show's recording, for the archive


@dataclass
class ShowOutcome:
    result: ScenarioResult
    fallbacks: int
    presenter: str  # where the presenter view is (or how to open one)
    saved: Path | None = None  # where the show's recording was written
    archive_problem: str | None = None  # one line: it could not be written, or may leak


def visible_labels(loaded: LoadedScenario, redactor: Redactor) -> list[str]:
    """The marker labels a verified cast of this scenario has, in order."""
    return [redactor.clean_text(step.label()) for step in loaded.scenario.steps if step.in_cast]


def _redactor(loaded: LoadedScenario) -> Redactor:
    try:
        _, secrets = resolve_env(loaded)
    except PrerequisiteError:
        secrets = []  # the run itself reports the missing variable
    return Redactor.of(secrets, loaded.scenario.redact)


def load_safety_net(loaded: LoadedScenario, settings: ShowSettings) -> SafetyNet | None:
    if not settings.fallback:
        return None
    cast = settings.cast or default_cast_path(loaded)
    labels = visible_labels(loaded, _redactor(loaded))
    try:
        return SafetyNet.load(cast, loaded, labels, loaded.scenario.idle_time_limit)
    except SafetyNetError as exc:
        raise PrerequisiteError(str(exc)) from None


def run_show(loaded: LoadedScenario, settings: ShowSettings) -> ShowOutcome:
    """Raises PrerequisiteError (exit 2) before anything runs when the show cannot start."""
    if not settings.auto and not os.isatty(sys.stdin.fileno()):
        raise PrerequisiteError(
            "live needs a terminal for the presenter's keys: run it in one, "
            "or pass --auto for an unattended dress rehearsal"
        )
    net = load_safety_net(loaded, settings)
    if settings.save_cast is not None:
        try:
            check_target(settings.save_cast, net.cast_path if net is not None else None)
        except SaveCastError as exc:
            raise PrerequisiteError(str(exc)) from None
    channel = PresenterChannel(settings.socket or default_socket_path())
    try:
        channel.open()
    except PresenterError as exc:
        raise PrerequisiteError(str(exc)) from None
    try:
        where = _presenter_view(channel, settings)
        size = _audience_size()
        archive = _archive(loaded, settings, size)
        options = LiveOptions(
            audience=write_fd(sys.stdout.fileno()),
            safety_net=net,
            channel=channel,
            fallback_rest=settings.fallback_rest,
            size=size,
            archive=archive,
        )
        made: list[LiveRunner] = []
        try:
            result = _perform(loaded, settings, options, made)
        except BaseException as crash:
            # What the audience saw until here is still the show: written, marked as ended early.
            if archive is not None and made and archive.started:
                with contextlib.suppress(Exception):
                    archive.save(_facts(loaded, settings, net, made[0], crash))
            raise
        outcome = ShowOutcome(result, made[0].fallbacks, where)
        if archive is not None:
            _save(archive, _facts(loaded, settings, net, made[0]), outcome)
        return outcome
    finally:
        channel.close()


def _presenter_view(channel: PresenterChannel, settings: ShowSettings) -> str:
    """Where the presenter view is, opening it with --presenter-view."""
    if not settings.presenter_view:
        return f"presenter view: `stagecast notes --socket {channel.path}`"
    from .notes_window import open_presenter_terminal

    try:
        return open_presenter_terminal(channel.path)
    except PresenterError as exc:
        raise PrerequisiteError(str(exc)) from None


def _perform(
    loaded: LoadedScenario, settings: ShowSettings, options: LiveOptions, made: list[LiveRunner]
) -> ScenarioResult:
    """The show itself, with the presenter's keyboard in raw mode (or --auto pressing keys);
    the runner goes into `made` as soon as it exists, for whoever needs it after a crash."""
    typing = loaded.scenario.typing
    if settings.auto:
        options.auto = AutoPresenter(
            TypingModel(settings.cps or typing.cps, typing.jitter, typing.seed)
        )
    options.reveal = settings.reveal
    if options.archive is not None:  # everything the audience sees goes to the archive too
        options.audience = options.archive.tee(options.audience)
    # --auto reads no keys: Ctrl-C keeps its usual meaning (stop, then teardown).
    keyboard = contextlib.nullcontext(None) if settings.auto else presenter_terminal()
    with keyboard as key_fd, _following_resizes(lambda: made[0] if made else None):
        options.key_fd = key_fd
        runner = LiveRunner(loaded, options, cps=settings.cps, keep_cluster=settings.keep_cluster)
        made.append(runner)
        return runner.run()


def _archive(
    loaded: LoadedScenario, settings: ShowSettings, size: tuple[int, int] | None
) -> ShowArchive | None:
    if settings.save_cast is None:
        return None
    terminal = loaded.scenario.terminal
    rows, cols = size or (terminal.rows, terminal.cols)  # what the shell runs at, as the runner
    return ShowArchive(settings.save_cast, rows, cols)


def _facts(
    loaded: LoadedScenario,
    settings: ShowSettings,
    net: SafetyNet | None,
    runner: LiveRunner,
    crash: BaseException | None = None,
) -> ShowFacts:
    return ShowFacts(
        loaded,
        runner.redactor,
        runner.result,
        mode="auto" if settings.auto else "live",
        safety_net=net.cast_path if net is not None else None,
        cluster=runner.cluster,
        stop=runner.stop_reason,
        crash=crash,
    )


def _save(archive: ShowArchive, facts: ShowFacts, outcome: ShowOutcome) -> None:
    if not archive.started:
        outcome.archive_problem = f"nothing was shown, so {archive.target} was not written"
        return
    try:
        outcome.archive_problem = archive.save(facts)
    except OSError as exc:
        outcome.archive_problem = (
            f"could not write the show's recording {archive.target}: {exc.strerror or exc}"
        )
        return
    outcome.saved = archive.target


def _audience_size() -> tuple[int, int] | None:
    try:
        size = os.get_terminal_size(sys.stdout.fileno())
    except OSError:
        return None  # not a terminal: the scenario's size
    return size.lines, size.columns


@contextlib.contextmanager
def _following_resizes(runner: Callable[[], LiveRunner | None]) -> Iterator[None]:
    """When the audience terminal is resized, so is the shell's (programs redraw to fit)."""

    def on_resize(signum: int, frame: object) -> None:
        current = runner()
        size = _audience_size()
        if current is not None and current.session is not None and size is not None:
            current.session.resize(*size)

    with handling({signal.SIGWINCH: on_resize}):
        yield
