"""One live show, start to end: the safety net loaded, the presenter channel open, the
presenter's keyboard in raw mode, the runner, and everything put back afterwards."""

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


@dataclass
class ShowOutcome:
    result: ScenarioResult
    fallbacks: int
    presenter: str  # where the presenter view is (or how to open one)


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
    channel = PresenterChannel(settings.socket or default_socket_path())
    try:
        channel.open()
    except PresenterError as exc:
        raise PrerequisiteError(str(exc)) from None
    try:
        where = f"presenter view: `stagecast notes --socket {channel.path}`"
        if settings.presenter_view:
            from .notes_window import open_presenter_terminal

            try:
                where = open_presenter_terminal(channel.path)
            except PresenterError as exc:
                raise PrerequisiteError(str(exc)) from None
        typing = loaded.scenario.typing
        auto = (
            AutoPresenter(TypingModel(settings.cps or typing.cps, typing.jitter, typing.seed))
            if settings.auto
            else None
        )
        # --auto reads no keys: Ctrl-C keeps its usual meaning (stop, then teardown).
        keyboard = contextlib.nullcontext(None) if settings.auto else presenter_terminal()
        made: list[LiveRunner] = []
        with keyboard as key_fd, _following_resizes(lambda: made[0] if made else None):
            options = LiveOptions(
                audience=write_fd(sys.stdout.fileno()),
                key_fd=key_fd,
                auto=auto,
                reveal=settings.reveal,
                safety_net=net,
                channel=channel,
                fallback_rest=settings.fallback_rest,
                size=_audience_size(),
            )
            runner = LiveRunner(
                loaded, options, cps=settings.cps, keep_cluster=settings.keep_cluster
            )
            made.append(runner)
            result = runner.run()
        return ShowOutcome(result, runner.fallbacks, where)
    finally:
        channel.close()


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
