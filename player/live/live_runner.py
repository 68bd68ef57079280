"""`stagecast live`: the scenario runs for real in the audience terminal, paced by the presenter.

Each key press reveals the next characters of the scripted command; Enter runs it. Checks run
as in `record`; hidden steps and API waits run silently. When a step fails, times out or the
presenter presses the fallback key, that step's segment of the verified cast is played in
place (the safety net), and the show goes on: live again, or from the recording to the end.
Everything meant for the presenter goes to the presenter channel, never to the audience.

Over 400 lines on purpose: `LiveRunner` is one subclass of the recorder's `Runner`, and its
sections (presenter channel, keys, revealing, the free shell, the safety net) share that
runner's state and override its steps, so splitting it into mixins would scatter one flow.
"""

from __future__ import annotations

import collections
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from recorder.run.results import ScenarioResult, StepResult
from recorder.run.runner import Attempt, Runner, ShellLost
from recorder.scenario.model import Step
from recorder.shell.session import ShellSession

from .audience import AudienceStream
from .events import (
    CheckDone,
    Fallback,
    Finished,
    Hello,
    LiveEvent,
    Note,
    StateChanged,
    StepInfo,
    StepStarted,
)
from .presenter_keys import (
    BACKSPACE,
    END_FREE_SHELL,
    ENTER,
    FALLBACK,
    FREE_SHELL,
    INTERRUPT,
    NEXT_STEP,
    PREV_STEP,
    QUIT,
    TAB,
    AutoPresenter,
    RevealWidth,
    split_keys,
)

if TYPE_CHECKING:
    from recorder.scenario.loader import LoadedScenario

    from .archive import ShowArchive
    from .presenter import PresenterChannel
    from .safety_net import SafetyNet

QUIT_KEY = "Ctrl-Q"
TERMINAL_GONE = "the presenter's terminal went away"
IDLE_FLUSH = 0.03  # seconds of silence after which held-back output is shown anyway
CLEAR_SCREEN = "\x1b[H\x1b[2J"
KILL_LINE = "\x15"  # readline's unix-line-discard: the revealed part disappears


class _Navigate(Exception):
    """Ctrl-N or Ctrl-P: leave this step without running it."""

    def __init__(self, delta: int) -> None:
        super().__init__(delta)
        self.delta = delta


class _FallbackRequested(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class LiveOptions:
    audience: Callable[[str], None]  # writes to the audience terminal
    key_fd: int | None = None  # the presenter's keyboard (raw); None with --auto
    auto: AutoPresenter | None = None
    reveal: RevealWidth | None = None
    safety_net: SafetyNet | None = None
    channel: PresenterChannel | None = None
    fallback_rest: bool = False
    size: tuple[int, int] | None = None  # (rows, cols) of the audience terminal
    archive: ShowArchive | None = None  # --save-cast: it sees every event too


class LiveRunner(Runner):
    """The recorder's `Runner`, paced by the presenter and backed by the safety net.

    It overrides Runner's hooks: `terminal_size` and `start_session` (the audience terminal),
    `run_plan` (navigation and the safety net), `run_step`, `think_pause`, `type_line` (the
    reveal) and `attempt` (a retry types itself).
    """

    def __init__(self, loaded: LoadedScenario, options: LiveOptions, **kwargs: Any) -> None:
        super().__init__(loaded, "live", **kwargs)
        # The runner's own cast is never written live (the archive records what the audience
        # saw): its markers are kept, a step's 100 MB of output is not.
        self.cast.keep_output = False
        self.options = options
        self.audience = AudienceStream(self.redactor, options.audience)
        self.reveal = options.reveal or RevealWidth()
        self.fallbacks = 0
        self.result: ScenarioResult | None = None  # the run's, once the steps start
        self.stop_reason: str | None = None  # why the show ended before its end, if it did
        self.show_started = time.monotonic()
        self._keys: collections.deque[bytes] = collections.deque()
        self._autopilot = False
        self._recording_rest = False
        self._typing = False  # keys reveal the command (else: a command is running)
        self._revealed = 0
        self._free_done = False
        self._free_running = False  # a command typed in the free shell may still run
        self._free_mark = 0
        self._current = -1
        self._attempts = 0
        self._started = False
        # Position of each visible step among the cast's markers.
        self._ordinal: dict[int, int] = {}
        for i, step in enumerate(self.scenario.steps):
            if step.in_cast:
                self._ordinal[i] = len(self._ordinal)

    # -- presenter channel ---------------------------------------------------------------

    def _send(self, event: LiveEvent) -> None:
        if self.options.channel is not None:
            self.options.channel.send(event)
        if self.options.archive is not None:
            self.options.archive.event(event)

    def _quit(self, why: str = QUIT_KEY) -> KeyboardInterrupt:
        """The show ends here (teardown still runs); raise what this returns."""
        self.stop_reason = self.stop_reason or why
        return KeyboardInterrupt()

    def _state(self, state: str, index: int) -> None:
        self._send(StateChanged(index=index, state=state))

    def hello(self) -> None:
        net = self.options.safety_net
        planned = net.planned() if net is not None else []
        steps = []
        for i, step in enumerate(self.scenario.steps):
            ordinal = self._ordinal.get(i)
            steps.append(
                StepInfo(
                    index=i,
                    label=self.redactor.clean_text(step.label()),
                    say=step.say,
                    run=self.redactor.clean_text(step.run) if step.run else None,
                    pause=step.pause if isinstance(step.pause, str) else None,
                    hidden=ordinal is None,
                    planned=planned[ordinal] if ordinal is not None and planned else None,
                )
            )
        hello = Hello(
            title=self.redactor.clean_text(self.scenario.title),
            scenario=str(self.loaded.path),
            steps=steps,
            planned_total=round(sum(planned), 3) if planned else None,
            budget=self.scenario.budget,
            cast=str(net.cast_path) if net is not None else None,
            stale=bool(net and net.stale),
            mode="auto" if self.options.auto else "live",
            elapsed=self._elapsed(),
        )
        self._send(hello)
        if net is not None and net.stale:
            self._send(Note(text=f"{net.cast_path} was recorded from an older scenario"))

    def _elapsed(self) -> float:
        return round(time.monotonic() - self.show_started, 3)

    # -- the shell -----------------------------------------------------------------------

    def terminal_size(self) -> tuple[int, int]:
        return self.options.size or super().terminal_size()

    def start_session(self) -> ShellSession:
        session = super().start_session()
        self.audience.redactor = self.redactor  # run() made it from the scenario's secrets
        session.on_output = self.audience.feed
        # Held-back output (the tail that may start a secret) is shown once the shell is
        # quiet, also while a command runs: a line printed before a long wait is not held.
        session.on_quiet, session.quiet_after = self.audience.flush, IDLE_FLUSH
        session.input_fd = self.options.key_fd
        session.on_input = self._on_key_running
        if not self._started:  # the show starts on a clean screen with the first prompt
            self._started = True
            self.show_started = time.monotonic()
            self.audience.play(CLEAR_SCREEN + self.redactor.clean_text(session.text(0)))
            self.hello()
        return session

    def _on_key_running(self, data: bytes) -> None:
        """While a visible command runs, only Ctrl-C (to the command), fallback and quit
        count: other keys are dropped, so a key pressed twice cannot run the next step early.
        Keys pressed during hidden work are kept for the next visible step."""
        for key in split_keys(data):
            if key == INTERRUPT and self.session is not None:
                self.session.send(INTERRUPT.decode())
            elif key == FALLBACK:
                raise _FallbackRequested("the presenter pressed the fallback key")
            elif key == QUIT:
                raise self._quit()
            elif not self.audience.showing:
                self._keys.append(key)

    def _queue_key(self, data: bytes) -> None:
        self._keys.extend(split_keys(data))

    def _next_key(self, complete: bool) -> bytes:
        session = self.session
        assert session is not None
        if self.options.auto is not None:
            delay, key = self.options.auto.next_key(self._revealed, complete)
            session.pump(delay)
            return key
        return self._wait_key()

    def _wait_key(self, timeout: float | None = None) -> bytes:
        """The presenter's next key (b"" at the timeout), showing output meanwhile."""
        session = self.session
        assert session is not None
        end = None if timeout is None else time.monotonic() + timeout
        while not self._keys:
            if session.input_fd is None:
                raise self._quit(TERMINAL_GONE)
            left = IDLE_FLUSH if end is None else min(IDLE_FLUSH, end - time.monotonic())
            if left <= 0:
                return b""
            if not session.poll(left):
                self.audience.flush()
        return self._keys.popleft()

    # -- steps ---------------------------------------------------------------------------

    def think_pause(self) -> None:
        """Live, the presenter's own pace is the think time."""

    def run_plan(self, plan: list[tuple[Step, StepResult]], result: ScenarioResult) -> None:
        self.result = result  # kept: a show that crashes is still saved with its steps so far
        position = 0
        while position < len(plan):
            step, step_result = plan[position]
            if self._recording_rest:
                self._from_recording(step, step_result)
                position += 1
                continue
            try:
                if step.pause and not step_result.hidden:
                    self._pause(step_result)
                ok = self.run_one(step, step_result, result)
            except _Navigate as move:
                position = _moved(plan, position, move.delta)
                continue
            if not ok and not self._after_failure(step_result):
                return
            position += 1

    def _after_failure(self, result: StepResult) -> bool:
        """The safety net: the recorded step in place of the failed one; False to stop."""
        lost = self.session is None
        reason = "; ".join(result.failures) or "failed"
        played = not result.hidden and self._fall_back(result, reason)
        if lost or result.hidden:
            # The live system is broken: only the recording can carry the show now.
            why = "the shell is gone" if lost else f"hidden step '{result.label}' failed"
            if self.options.safety_net is None:
                self.stop_reason = f"{why}, and there is no recording to go on with"
                self._send(Note(text=self.stop_reason))
                return False
            self._send(Note(text=f"{why}: the rest plays from the verified cast"))
            self._recording_rest = True
        elif played and self.options.fallback_rest:
            self._recording_rest = True
        return True

    def run_step(self, step: Step, result: StepResult) -> None:
        session = self.session
        if session is None:
            raise ShellLost("the shell is gone")
        visible = not result.hidden
        # The previous command is over: keys from now on are for this step.
        session.on_input = self._queue_key
        session.drain()
        session.on_input = self._on_key_running
        self.audience.flush()
        self.audience.show(visible)
        self._autopilot = False
        self._attempts = 0
        self._current = result.index
        depth = session.nested_depth
        if visible:
            self._send(StepStarted(index=result.index, elapsed=self._elapsed()))
            self._state("typing", result.index)
        try:
            super().run_step(step, result)
        except _FallbackRequested as request:
            result.status = "failed"
            result.failures.append(request.reason)
            self._settle(depth)
        except _Navigate:
            result.status = "skipped"
            result.failures.clear()
            raise
        finally:
            self._typing = False
            # The prompt is back (or the step was left): no more of this output is coming,
            # so the tail held back in case it starts a secret is shown now, not at the next
            # step's start (after the last step, there is none).
            self.audience.flush()
            if visible:
                self._send(_check_done(result))

    def _settle(self, depth: int) -> None:
        """Back to a clean prompt after the fallback key: the line cleared, or Ctrl-C."""
        session = self.session
        assert session is not None
        while session.nested_depth > depth:
            session.pop_prompt()
        if self._typing and not session.at_continuation():
            session.send(KILL_LINE)
            session.pump(0.05)
            return
        if session.interrupt() is None:
            raise ShellLost("the shell did not come back after Ctrl-C")

    def _pause(self, result: StepResult) -> None:
        """A `pause` step waits for a key; the free shell and going back work here too."""
        self._state("paused", result.index)
        if self.options.auto is not None:
            delay, _ = self.options.auto.pause_key()
            assert self.session is not None
            self.session.pump(delay)
            return
        assert self.session is not None
        self.session.on_input = self._queue_key
        try:
            while True:
                key = self._wait_key()
                if key == QUIT:
                    raise self._quit()
                if key == PREV_STEP:
                    raise _Navigate(-1)
                if key == FREE_SHELL:
                    self._free_shell(result.index)
                    self._state("paused", result.index)
                    continue
                if key != FALLBACK:
                    return
        finally:
            self.session.on_input = self._on_key_running

    # -- typing ----------------------------------------------------------------------------

    def type_line(self, line: str, human: bool) -> int:
        session = self.session
        assert session is not None
        if not human:
            return super().type_line(line, human)
        if self._autopilot:
            mark = session.offset
            self._autotype(line, 0)
            return mark
        if self.options.auto is not None:
            self.options.auto.start_line(line)
        self._typing, self._revealed = True, 0
        mark = session.offset
        session.on_input = self._queue_key
        try:
            while True:
                key = self._next_key(self._revealed >= len(line))
                if key in ENTER or key == TAB:
                    self._autopilot = key == TAB
                    break
                if not self._typing_key(key, line):
                    mark = session.offset  # back from the free shell: the line starts here
        finally:
            session.on_input = self._on_key_running
        self._autotype(line, self._revealed)
        return mark

    def _typing_key(self, key: bytes, line: str) -> bool:
        """Act on one key while revealing `line`; False after a free shell."""
        session = self.session
        assert session is not None
        if key in (NEXT_STEP, PREV_STEP, QUIT):
            self._clear_line()
            if key == QUIT:
                raise self._quit()
            raise _Navigate(1 if key == NEXT_STEP else -1)
        if key == FALLBACK:
            raise _FallbackRequested("the presenter pressed the fallback key")
        if key == INTERRUPT:
            self._clear_line()
        elif key in BACKSPACE:
            if self._revealed:
                session.send("\x7f")
                self._revealed -= 1
        elif key == FREE_SHELL and not session.at_continuation():
            self._clear_line()
            index = self._current_index()
            self._free_shell(index)
            self._state("typing", index)
            return False
        elif key != END_FREE_SHELL and self._revealed < len(line):
            chunk = line[self._revealed : self._revealed + self.reveal.next()]
            session.type_text(chunk, None, literal_tabs=True)
            self._revealed += len(chunk)
        return True

    def _autotype(self, line: str, revealed: int) -> None:
        """The rest of the line at human speed, then Enter (at once if all was revealed)."""
        session = self.session
        assert session is not None
        rest = line[revealed:]
        if rest:
            delays = self.typing.delays(rest + "\r")
            session.type_text(rest, delays[:-1], literal_tabs=True)
            session.pump(delays[-1])
        self._revealed = len(line)
        session.send("\r")
        self._typing = False
        self._state("running", self._current_index())

    def _clear_line(self) -> None:
        session = self.session
        assert session is not None
        if session.at_continuation():
            session.interrupt()
        elif self._revealed:
            session.send(KILL_LINE)
        self._revealed = 0

    def _current_index(self) -> int:
        return self._current

    # -- the free shell --------------------------------------------------------------------

    def _free_shell(self, index: int) -> None:
        """Every key goes to the shell until Ctrl-D at an idle prompt."""
        session = self.session
        assert session is not None
        self._state("free-shell", index)
        self._free_done = False
        self._free_running = False
        session.on_input = self._free_key
        try:
            while not self._free_done:
                if session.input_fd is None:
                    raise self._quit(TERMINAL_GONE)
                if not session.poll(IDLE_FLUSH):
                    self.audience.flush()
        finally:
            session.on_input = self._queue_key

    def _free_key(self, data: bytes) -> None:
        session = self.session
        assert session is not None
        for key in split_keys(data):
            if key == QUIT:
                raise self._quit()
            if key == END_FREE_SHELL and not self._free_busy():
                session.send(KILL_LINE)
                session.pump(0.05)
                self._free_done = True
                return
            if key in ENTER:
                self._free_running, self._free_mark = True, session.offset
            session.send(key.decode("utf-8", "replace"))

    def _free_busy(self) -> bool:
        """Is a command started in the free shell still running (no prompt since Enter)?"""
        session = self.session
        assert session is not None
        if self._free_running and "\x1b]133;D;" in session.text(self._free_mark):
            self._free_running = False
        return self._free_running

    # -- the safety net --------------------------------------------------------------------

    def _fall_back(self, result: StepResult, reason: str) -> bool:
        """Play the step's segment of the verified cast in place; False when there is none."""
        net = self.options.safety_net
        ordinal = self._ordinal.get(result.index) if result.phase == "steps" else None
        if net is None or ordinal is None:
            self._send(Note(text=f"'{result.label}' failed and there is no recording of it"))
            return False
        self._send(Fallback(index=result.index, reason=reason))
        self._state("fallback", result.index)
        self._play_segment(ordinal)
        self.fallbacks += 1
        return True

    def _play_segment(self, ordinal: int) -> None:
        net = self.options.safety_net
        assert net is not None
        if self.session is not None:
            self.session.drain()
            self.session.on_input = self._queue_key
        self.audience.flush()
        self.audience.show(False)
        self._keys.clear()
        try:
            outcome = net.play(ordinal, self.audience.play, self._poll_key)
        finally:
            self._keys.clear()  # keys pressed during playback must not reveal anything
            if self.session is not None:
                self.session.on_input = self._on_key_running
        if outcome == "quit":
            raise self._quit()

    def _poll_key(self, timeout: float) -> bytes | None:
        """For the player: a key within `timeout`, reading the shell's output meanwhile."""
        if self.session is None:
            return _read_key(self.options.key_fd, timeout)
        if self.options.auto is not None:
            self.session.pump(timeout)
            return None
        end = time.monotonic() + timeout
        while not self._keys:
            left = end - time.monotonic()
            if left <= 0 or self.session.input_fd is None:
                if left > 0:
                    self.session.pump(left)
                return None
            self.session.poll(left)
        return self._keys.popleft()

    def _from_recording(self, step: Step, result: StepResult) -> None:
        """After --fallback-rest or a broken live system: each step from the recording."""
        ordinal = self._ordinal.get(result.index) if result.phase == "steps" else None
        if ordinal is None or self.options.safety_net is None:
            return  # hidden steps served the live system only
        self._send(StepStarted(index=result.index, elapsed=self._elapsed()))
        self._state("recording", result.index)
        if self.options.auto is None:  # the presenter still sets the pace
            if self.session is not None:
                self.session.on_input = self._queue_key
            key = (
                self._wait_key()
                if self.session is not None
                else _read_key(self.options.key_fd, None)
            )
            if key == QUIT:
                raise self._quit()
        self._play_segment(ordinal)
        self._send(_check_done(result))

    def attempt(self, step: Step, command: str, human: bool, timeout: float) -> Attempt:
        # A retry's later attempts type themselves: the presenter revealed the first one.
        self._attempts += 1
        if self._attempts > 1:
            self._autopilot = True
        return super().attempt(step, command, human, timeout)

    def run(self) -> ScenarioResult:
        result = super().run()  # teardown has run too: this is the final word
        self._send(
            Finished(
                passed=result.passed and not self.fallbacks,
                fallbacks=self.fallbacks,
                elapsed=self._elapsed(),
            )
        )
        return result


def _moved(plan: list[tuple[Step, StepResult]], position: int, delta: int) -> int:
    """Where Ctrl-N (+1) or Ctrl-P (-1) leads: the previous visible step of the show."""
    if delta > 0:
        return position + 1
    for earlier in range(position - 1, -1, -1):
        result = plan[earlier][1]
        if result.phase == "steps" and not result.hidden:
            return earlier
    return position  # already at the first step: stay


def _check_done(result: StepResult) -> CheckDone:
    return CheckDone(
        index=result.index,
        status=result.status,
        failures=tuple(result.failures),
        rc=result.rc,
        duration=round(result.duration, 3),
    )


def _read_key(fd: int | None, timeout: float | None) -> bytes | None:
    """A key straight from the presenter's terminal, when there is no shell to read too."""
    import select

    if fd is None:
        if timeout:
            time.sleep(timeout)
        return None
    ready, _, _ = select.select([fd], [], [], timeout)
    return os.read(fd, 1024) if ready else None
