"""Runs a scenario in a real shell: setup, steps, teardown, checks, and the cast timeline.

`record` types at human speed and produces a cast; `rehearse` sends each line at once.
Teardown always runs: after success, a failed check, a timeout, a dead shell or Ctrl-C.

Over 400 lines on purpose: `Runner` is one class whose phases and per-step methods read top
to bottom and are the hooks `player.live`'s runner overrides; split across mixins, that flow
would be harder to follow, not easier.
"""

from __future__ import annotations

import bisect
import copy
import itertools
import os
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from recorder.cast.writer import CastRecording
from recorder.errors import PrerequisiteError, SessionDied, StepTimeout
from recorder.kube.cluster import ClusterFixture
from recorder.kube.machine_preflight import machine_problems, runtime_answer, server_version
from recorder.scenario.keys import key_bytes
from recorder.scenario.loader import LoadedScenario, load_scenario
from recorder.scenario.model import Expect, KeyAction, Step
from recorder.scenario.preflight import check_requires, declared_secrets, resolve_env
from recorder.scenario.rules import narration_lines
from recorder.scenario.variables import substitute, substitute_expect
from recorder.shell.output_cleaner import Redactor, Spans, plain_text
from recorder.shell.screen import AudienceScreen
from recorder.shell.session import PromptHit, ShellSession
from recorder.shell.typing_model import TypingModel

from .progress import NullReporter, Reporter
from .results import ScenarioResult, StepResult
from .signals import Interrupted, ignoring_interrupts, signals_as_interrupts
from .step_output import StepOutput

if TYPE_CHECKING:
    from recorder.kube.gateway import KubeGateway

Mode = Literal["record", "rehearse", "live"]
KEY_GAP = 0.25  # seconds between named keys when typing at human speed
INTERRUPT_GRACE = 5.0
PROGRAM_SETTLE = 0.15  # seconds an interactive program gets to start before its keys
ECHO_END = re.compile(r"\n")
# A command printing more than SPILL_EVERY characters has its output handed on (checks,
# cast) as it comes, all but the last SPILL_HOLD (see `_spill`).
SPILL_EVERY = 4 << 20
SPILL_HOLD = 64 << 10
DEFAULT_EXPECT = Expect()
QUOTED_TAB = "\x16\t"  # readline's quoted-insert: a tab in a heredoc must not complete


class _Deadline:
    """A step's time budget, which typing time can extend."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        return max(self.at - time.monotonic(), 0.0)

    def extend(self, seconds: float) -> None:
        self.at += seconds


class ShellLost(Exception):
    """The session cannot be used any more (it died, or ignores Ctrl-C).

    Raised from `Runner.run_step` and its hooks; `run_one` turns it into a failed step and a
    run error, teardown into a failed teardown step and a fresh shell. Overrides raise it too.
    """


@dataclass
class _Timeline:
    """Maps session time to cast time: hidden work is cut out of the cast."""

    t0: float
    hidden: float = 0.0

    def at(self, t: float) -> float:
        return max(t - self.t0 - self.hidden, 0.0)


@dataclass
class Attempt:
    """One try at a step's command: what `Runner.attempt` returns and the checks read."""

    rc: int | None
    output: StepOutput  # what the command printed, as the checks see it
    start_offset: int
    start_time: float
    failures: list[str] = field(default_factory=list)
    command_time: float = 0.0  # bash's own measure of its commands' run time


class Runner:
    """Runs one scenario in a real shell, in `record`, `rehearse` or `live` mode.

    Call `run()`. Subclasses (the live show's `LiveRunner`) change how steps are driven by
    overriding these hooks, and nothing else:

    - `terminal_size()`: the shell's terminal size;
    - `start_session()`: starting the shell (at the start, and again before teardown);
    - `run_plan(plan, result)`: walking the main plan, calling `run_one` for each step;
    - `run_step(step, result)`: one step, from its marker to its checks;
    - `think_pause()`: the pause before a step is typed;
    - `type_line(line, human)`: typing one line and Enter;
    - `attempt(step, command, human, timeout)`: one try at a step's command.

    `run_one`, `unavailable` and `cluster_facts` are public for overrides and callers to use.
    `ShellLost` is the one exception a hook raises when the shell cannot go on.
    """

    def __init__(
        self,
        loaded: LoadedScenario,
        mode: Mode,
        reporter: Reporter | None = None,
        *,
        cps: float | None = None,
        keep_cluster: bool = False,
    ) -> None:
        self.loaded = loaded
        self.scenario = loaded.scenario
        self.mode = mode
        self.reporter = reporter or NullReporter()
        self.values: dict[str, str] = {k: str(v) for k, v in self.scenario.vars.items()}
        term = self.scenario.terminal
        self.cast = CastRecording(term.cols, term.rows)
        self.screen = AudienceScreen(term.cols, term.rows)
        typing = self.scenario.typing
        # `cps` overrides the scenario's speed: a quick preview, or a test.
        self.typing = TypingModel(cps or typing.cps, typing.jitter, typing.seed)
        self.cps_override = cps
        self.think_mean = typing.think * (typing.cps / cps if cps else 1.0)
        self.think = 0.0  # the pause before the current step, drawn for it in `run_step`
        self.redactor = Redactor()
        self.secret_names: list[tuple[str, str]] = []  # (variable, value): `declared_secrets`
        self.session: ShellSession | None = None
        self.cursor = 0  # buffer offset up to which output was assigned to the cast or cut
        self.step_visible = False  # the step being run is in the cast
        self.timeline = _Timeline(time.monotonic())
        self._env: dict[str, str] = {}
        self._kube_gateway: KubeGateway | None = None
        self.notes: list[str] = []  # what the fixtures did, for the report
        self.profile = loaded.profile.name if loaded.profile is not None else None
        # Set by a step that cannot run under the profile and takes the rest with it.
        self.rest_unavailable: str | None = None
        self.stopped: str | None = None  # a declared stop: where, and why
        self.cluster: dict[str, str] = {}  # what ran the steps, read before the cluster goes
        self.fixture = (
            ClusterFixture(self.scenario.cluster, loaded.path.parent, keep=keep_cluster)
            if self.scenario.cluster is not None
            else None
        )

    # -- public ----------------------------------------------------------------------------

    def run(self) -> ScenarioResult:
        """Run everything; raises PrerequisiteError (exit 2) before any command runs."""
        scenario = self.scenario
        check_requires(self.loaded)
        env, secrets = resolve_env(self.loaded)
        self.secret_names = declared_secrets(self.loaded)
        base = self._load_builds_on()
        if base is not None:
            check_requires(base)
            base_env, base_secrets = resolve_env(base)
            self.secret_names = declared_secrets(base) + self.secret_names
            env, secrets = {**base_env, **env}, base_secrets + secrets
            self.values = {**{k: str(v) for k, v in base.scenario.vars.items()}, **self.values}
        if scenario.preflight is not None:
            self._check_machine()
        self.redactor = Redactor.of(secrets, scenario.redact)
        self.cast.scan_for(self.redactor.secrets)  # a big cast is scanned as it spills
        result = ScenarioResult(
            name=self.loaded.name,
            path=str(self.loaded.path),
            title=self.redactor.clean_text(scenario.title),
            mode=self.mode,
            sha256=self.loaded.sha256,
            profile=self.profile,
        )
        before: list[tuple[str, int, Step]] = []
        if base is not None:
            before = [("builds_on", i, s) for i, s in enumerate(base.scenario.setup)]
            before += [("builds_on", len(before) + i, s) for i, s in enumerate(base.scenario.steps)]
        plan = [("setup", i, s) for i, s in enumerate(scenario.setup)] + [
            ("steps", i, s) for i, s in enumerate(scenario.steps)
        ]
        for phase, index, step in (
            before + plan + [("teardown", i, s) for i, s in enumerate(scenario.teardown)]
        ):
            result.steps.append(self._blank_result(phase, index, step))
        if self.fixture is not None:
            cluster_env, why = self.fixture.up()
            env = {**env, **cluster_env}
            self.notes.append(why)
        self.reporter.scenario_started(self.loaded, result.steps)
        started = time.monotonic()
        self._env = env
        try:
            with signals_as_interrupts():
                self._run_main(before, plan, result)
        except Interrupted as exc:
            result.interrupted = True
            result.interrupt_signal = exc.signum
            result.error = f"interrupted ({exc.why}): teardown ran, no verified cast was written"
        finally:
            with ignoring_interrupts():
                self._run_teardown(result)
                if self.scenario.cluster is not None and self.session is not None:
                    self.cluster = self.cluster_facts()
                if self.session is not None:
                    self.session.close()
                if self._kube_gateway is not None:
                    self._kube_gateway.close()
                if self.fixture is not None:
                    failure = self.fixture.down()
                    if failure and result.error is None:
                        result.error = failure
            result.duration = time.monotonic() - started
        result.stopped = self.stopped
        self.reporter.scenario_finished(result)
        return result

    def _load_builds_on(self) -> LoadedScenario | None:
        spec = self.scenario.builds_on
        if spec is None:
            return None
        return load_scenario(self.loaded.path.parent / spec.scenario)

    def _check_machine(self) -> None:
        assert self.scenario.preflight is not None
        problems = machine_problems(self.scenario.preflight)
        if problems:
            where = self.loaded.where(("preflight",))
            raise PrerequisiteError("\n".join(f"{where}: preflight: {p}" for p in problems))

    # -- phases ----------------------------------------------------------------------------

    def _blank_result(self, phase: str, index: int, step: Step) -> StepResult:
        # API waits are invisible: the audience never sees them (their time is cut too).
        hidden = phase != "steps" or not step.in_cast
        return StepResult(
            phase=phase,
            index=index,
            label=self.redactor.clean_text(step.label()),
            command=self.redactor.clean_text(step.run) if step.run else None,
            hidden=hidden,
            location=(
                str(self.loaded.path.parent / self.scenario.builds_on.scenario)
                if phase == "builds_on" and self.scenario.builds_on
                else self.loaded.where((phase, index))
            ),
        )

    def start_session(self) -> ShellSession:
        """Hook: start bash at `terminal_size()`; called at the start of the run and when
        teardown needs a fresh shell. An override may call this and then attach to the
        session (its output, its input); it must return the started session."""
        rows, cols = self.terminal_size()
        session = ShellSession(
            cols=cols,
            rows=rows,
            prompt=self.scenario.prompt,
            env=self._env,
            cwd=str(self.loaded.path.parent.resolve()),
        )
        try:
            session.start()
        except (StepTimeout, SessionDied) as exc:
            session.close()
            raise PrerequisiteError(f"could not start bash: {exc}") from None
        return session

    def terminal_size(self) -> tuple[int, int]:
        """Hook: (rows, cols) of the shell's terminal, asked by `start_session`: the
        scenario's, as casts are replayed at it. An override may use the real terminal's."""
        return self.scenario.terminal.rows, self.scenario.terminal.cols

    def _run_main(
        self,
        before: list[tuple[str, int, Step]],
        plan: list[tuple[str, int, Step]],
        result: ScenarioResult,
    ) -> None:
        self.session = self.start_session()
        self.timeline = _Timeline(self.session.t0)
        # The first prompt is what the audience sees first.
        self._emit(0, self.session.offset)
        by_key = {(r.phase, r.index): r for r in result.steps}
        if before and self._base_state_present():
            before = []  # the other scenario's end state is already there
        steps = [(step, by_key[(phase, index)]) for phase, index, step in before + plan]
        self.run_plan(steps, result)

    def run_plan(self, plan: list[tuple[Step, StepResult]], result: ScenarioResult) -> None:
        """Hook: every step of the main plan (builds_on, setup, steps) in order, stopping at
        the first failure; called once the shell runs. An override may reorder, skip or go
        back, recover after a failure, or stop; it runs each step through `run_one`."""
        for step, step_result in plan:
            if self.rest_unavailable is not None:
                step_result.status = "not-run"
                step_result.not_run_reason = self.rest_unavailable
                continue
            if not self.run_one(step, step_result, result):
                self._diagnose(step_result)
                return

    def _diagnose(self, step_result: StepResult) -> None:
        """After a failed step of a kind demo: did docker die under it? Then say that first,
        since every later symptom (a node gone, a refused connection) follows from it."""
        if self.scenario.cluster is None or step_result.status != "failed":
            return
        problem = runtime_answer("docker", env={**os.environ, **self._env}, timeout=10)
        if problem is not None:
            step_result.failures.insert(
                0, f"docker stopped answering, so the cluster's nodes are gone: {problem}"
            )

    def unavailable(self, step: Step) -> str | None:
        """Why `step` cannot run under this run's profile (its own declaration), if it cannot."""
        if self.profile is None or not step.unavailable_on:
            return None
        spec = step.unavailable_on.get(self.profile)
        return spec.reason if spec is not None else None

    def _not_run(self, step: Step, result: StepResult, visible: bool, timeout: float) -> None:
        """A step declared unable to run here: never faked. The audience reads why instead."""
        reason = self.unavailable(step)
        assert reason is not None and self.profile is not None
        result.status = "not-run"
        result.not_run_reason = reason
        spec = (step.unavailable_on or {})[self.profile]
        if spec.rest:
            self.rest_unavailable = f"after {result.label!r}, which cannot run here: {reason}"
            where = f"{result.location} {result.label!r}"
            self.stopped = f"{where} cannot run on {self.profile}: {reason}"
        if visible:  # stagecast's own note, not the presenter's words: shown, not typed
            self._say(f"[not run on {self.profile}: {reason}]", False, timeout)
        self._finish_output(visible)

    def run_one(self, step: Step, step_result: StepResult, result: ScenarioResult) -> bool:
        """Run one step of the main plan through `run_step`; False when the run cannot go
        on. A lost shell becomes the step's failure and the run's error here."""
        assert self.session is not None
        try:
            self.run_step(step, step_result)
        except Interrupted as exc:
            step_result.status = "failed"
            step_result.failures.append(f"interrupted ({exc.why})")
            self._after_interrupt()
            raise
        except ShellLost as exc:
            step_result.status = "failed"
            step_result.failures.append(str(exc))
            result.error = f"{step_result.location}: {exc}"
            if not step_result.output:  # the report shows what the step printed
                tail = plain_text(self.session.text(self.cursor))
                step_result.output = self.redactor.clean_text(tail)
            if not step_result.hidden:  # and so does the failed cast
                self._emit(self.cursor, self.session.offset)
            self.session.close()
            self.session = None
            return False
        return step_result.status != "failed"

    def _base_state_present(self) -> bool:
        """Run `builds_on.unless`, hidden: does the other scenario's end state exist?"""
        spec = self.scenario.builds_on
        if spec is None or spec.unless is None:
            return False
        probe = StepResult("builds_on", -1, "builds_on.unless", spec.unless, hidden=True)
        self.run_step(Step(run=spec.unless, hidden=True, expect=Expect(exit="any")), probe)
        return probe.rc == 0

    def _after_interrupt(self) -> None:
        if self.session is not None and self.session.alive():
            with ignoring_interrupts():
                if self.session.interrupt(INTERRUPT_GRACE) is None:
                    self.session.close()
                    self.session = None

    def _run_teardown(self, result: ScenarioResult) -> None:
        teardown = [r for r in result.steps if r.phase == "teardown"]
        if not teardown:
            return
        try:
            self._ready_for_teardown()
        except (PrerequisiteError, ShellLost) as exc:
            for step_result in teardown:
                step_result.status = "failed"
                step_result.failures.append(f"teardown could not start a shell: {exc}")
            return
        for step_result in teardown:
            step = self.scenario.teardown[step_result.index]
            try:
                self.run_step(step, step_result)
            except Interrupted:  # pragma: no cover - interrupts are ignored here
                step_result.status = "failed"
            except ShellLost as exc:
                step_result.status = "failed"
                step_result.failures.append(str(exc))
                if self.session is not None:
                    self.session.close()
                try:
                    self.session = self.start_session()
                    self.cursor = self.session.offset
                except PrerequisiteError:
                    self.session = None
                    return

    def _ready_for_teardown(self) -> None:
        """A top-level prompt to run teardown at: leave nested shells, or start afresh."""
        session = self.session
        if session is not None and session.alive():
            while session.nested_depth:
                session.pop_prompt()
                since = session.offset
                try:
                    session.send("\x03")
                    session.pump(0.1)
                    session.send("exit\r")
                    session.wait_prompt(since, INTERRUPT_GRACE)
                except (StepTimeout, SessionDied):
                    break
            else:
                self._skip_to_end()
                return
        if session is not None:
            session.close()
        self.session = self.start_session()
        self.cursor = self.session.offset

    def _skip_to_end(self) -> None:
        assert self.session is not None
        self.session.drain()
        self.cursor = self.session.offset

    # -- one step ------------------------------------------------------------------------

    def run_step(self, step: Step, result: StepResult) -> None:
        """Hook: run one step (of any phase, hidden or visible) and fill in `result`: its
        marker, narration, command, checks and waits. Called by `run_one`, by teardown and
        for `builds_on.unless`. An override may prepare the step, call this, and adjust the
        result; it raises `ShellLost` when the shell cannot go on."""
        session = self.session
        if session is None:
            raise ShellLost("the shell is gone")
        visible = not result.hidden
        self.step_visible = visible
        human = self.mode != "rehearse" and visible
        timeout = step.timeout or self.scenario.timeout
        t_start = time.monotonic()
        self.reporter.step_started(result)
        session.drain()
        if visible:
            self._emit(self.cursor, session.offset)
            self.cast.marker(self.timeline.at(t_start), result.label)
        else:
            self._cut(session.offset)
        session.forget(self.cursor)
        if human and (step.run or step.say):
            self.think = self.typing.think(self.think_mean, think_key(step))
            self.think_pause()
        depth, since = session.nested_depth, session.offset
        try:
            if self.unavailable(step) is not None:
                if step.say:
                    self._say(step.say, human, timeout)
                self._not_run(step, result, visible, timeout)
                return
            if step.say:
                self._say(step.say, human, timeout)
            if step.run:
                self._run_command(step, result, human, t_start, timeout)
            else:
                result.status = "passed"
                self._finish_output(visible)
            if step.wait_for is not None and result.status == "passed":
                failure = self._kube().wait_for(step.wait_for)
                if failure:
                    result.failures.append(failure)
                    result.status = "failed"
        except SessionDied as exc:
            raise ShellLost(f"{exc} during this step") from None
        except KeyboardInterrupt as exc:
            raise Interrupted.from_keyboard(exc) from None
        finally:
            result.duration = time.monotonic() - t_start
            if not visible:
                self.timeline.hidden += result.duration
            self.reporter.step_finished(result)
        if not visible and session.nested_depth != depth and result.status == "passed":
            self._show_new_prompt(since)

    def _show_new_prompt(self, since: int) -> None:
        """A hidden step entered or left a shell, so the audience would type the next line
        after the old prompt: show the shell's new one, on a line of its own, as printed."""
        session = self.session
        assert session is not None
        found = session.last_prompt(since)
        if found is None:
            return
        text = self.redactor.clean_text("\r\n" + session.text(*found))
        self.cast.output(self.timeline.at(time.monotonic()), text)
        self.screen.feed(text)

    def think_pause(self) -> None:
        """Hook: the presenter's pause before a visible step is typed, at human speed only:
        `self.think` seconds, drawn for this step from the typing model's pause distribution.
        An override may wait differently or not at all (live: the presenter's own pace)."""
        assert self.session is not None
        self.session.pump(self.think)

    def _finish_output(self, visible: bool) -> None:
        assert self.session is not None
        if visible:
            self._emit(self.cursor, self.session.offset)
        else:
            self._cut(self.session.offset)

    def _say(self, text: str, human: bool, timeout: float) -> None:
        session = self.session
        assert session is not None
        for line in narration_lines(self._substitute(text)):
            mark = self.type_line(line, human)
            session.wait_prompt(mark, timeout)

    def type_line(self, line: str, human: bool) -> int:
        """Hook: type `line` and Enter, for each line of a command or narration; returns the
        buffer offset where its echo starts. An override may type differently (live: key by
        key as the presenter reveals it) but must send the whole line and Enter."""
        session = self.session
        assert session is not None
        mark = session.offset
        if not human:
            session.send(line.replace("\t", QUOTED_TAB) + "\r")
            return mark
        delays = self.typing.delays(line + "\r")
        session.type_text(line, delays[:-1], literal_tabs=True)
        session.pump(delays[-1])
        session.send("\r")
        return mark

    def _run_command(
        self, step: Step, result: StepResult, human: bool, t_start: float, timeout: float
    ) -> None:
        session = self.session
        assert session is not None
        visible = not result.hidden
        command = self._substitute(step.run or "")
        first: Attempt | None = None
        retry_deadline = t_start + (step.retry.timeout if step.retry else 0)
        while True:
            result.attempts += 1
            attempt = self.attempt(step, command, human, timeout)
            result.command_time += attempt.command_time
            first = first or attempt
            if step.retry is None or attempt.failures:
                break
            until = self._evaluate(step.retry.until, attempt, visible, preview=True)
            if not until:
                break
            now = time.monotonic()
            if now + step.retry.interval > retry_deadline:
                attempt.failures = [
                    f"retry: still failing after {result.attempts} attempts "
                    f"({step.retry.timeout:g}s): " + "; ".join(until)
                ]
                break
            session.pump(step.retry.interval)
        # The audience sees the final attempt only, as if it ran at once.
        if attempt is not first and visible:
            self._emit(self.cursor, first.start_offset)
            self.timeline.hidden += attempt.start_time - first.start_time
            self._cut(attempt.start_offset)
        self._finish_output(visible)
        result.rc = attempt.rc
        output = attempt.output.text
        result.output = self.redactor.clean_text(output) if output else ""
        failures = list(attempt.failures)
        if not failures:
            failures += self._evaluate(step.expect or DEFAULT_EXPECT, attempt, visible)
        if not failures and step.expect is not None and step.expect.kube:
            failures += self._kube().check_all(step.expect.kube)
        if not failures and step.capture:
            values, missing = attempt.output.capture()
            self.values.update(values)
            failures += missing
        result.failures = [self.redactor.clean_text(f) for f in failures]
        result.status = "failed" if failures else "passed"

    def _evaluate(
        self, expect: Expect, attempt: Attempt, visible: bool, preview: bool = False
    ) -> list[str]:
        expect = self._substitute_expect(expect)
        session = self.session
        assert session is not None
        rc = attempt.rc
        if "exit" not in expect.model_fields_set and (rc is None or session.nested_depth):
            expect = expect.model_copy(update={"exit": "any"})
        screen_text = None
        if expect.screen:
            if preview:
                self.screen.render()
                screen = copy.deepcopy(self.screen)
                pieces = self.redactor.clean_pieces(
                    self._pieces(attempt.start_offset, session.offset)
                )
                for _, text in pieces:
                    screen.feed(text)
                screen_text = screen.text()
            elif visible:
                screen_text = self.screen.text()
        return attempt.output.evaluate(rc, screen_text, expect)

    def attempt(self, step: Step, command: str, human: bool, timeout: float) -> Attempt:
        """Hook: one try at the step's (substituted) command, typed line by line through
        `type_line`; `timeout` runs from each Enter, not from typing. Called once, or per
        try of a `retry`. An override may note the try and then call this."""
        session = self.session
        assert session is not None
        attempt = Attempt(None, self._step_output(step), session.offset, time.monotonic())
        lines = command.rstrip("\n").split("\n")
        mark = session.offset
        fed = _Fed(mark)
        try:
            for n, line in enumerate(lines):
                last = n == len(lines) - 1
                mark = self.type_line(line, human)
                deadline = _Deadline(timeout)
                if last and step.enters:
                    session.push_prompt(step.enters.prompt, step.enters.regex)
                if last and step.leaves:
                    session.pop_prompt()
                if last and step.keys:
                    # Let the program start before keys arrive: input queued while
                    # readline still owns the terminal would skip the line discipline.
                    session.wait_for(ECHO_END, mark, deadline.left())
                    session.pump(PROGRAM_SETTLE)
                    self._drive_keys(step.keys, mark, human, deadline)
                since = mark
                if session.nested_depth:
                    # A nested shell's literal prompt may well appear in the command
                    # that starts it: search after the echo. (Our own prompt cannot.)
                    _, since = session.wait_for(ECHO_END, mark, deadline.left())
                fed = _Fed(mark)
                hit = self._wait_streaming(step, attempt, fed, since, deadline)
                self._feed(attempt, fed, hit.start)
                attempt.command_time += session.command_time(mark, hit, fed.started) or 0.0
                if hit.continuation:
                    if last:
                        attempt.failures.append(
                            "the command is incomplete: bash asked for more input "
                            "(an unclosed quote, heredoc or trailing backslash?)"
                        )
                        self._interrupt_or_lose()
                    continue
                attempt.rc = hit.rc
        except StepTimeout:
            self._feed(attempt, fed, session.offset)
            if step.enters:
                session.pop_prompt()
            attempt.failures.append(f"timed out after {timeout:g}s; sent Ctrl-C")
            self._interrupt_or_lose()
        return attempt

    # -- output as it comes --------------------------------------------------------------

    def _step_output(self, step: Step) -> StepOutput:
        checks = [self._substitute_expect(step.expect or DEFAULT_EXPECT)]
        if step.retry is not None:
            checks.append(self._substitute_expect(step.retry.until))
        return StepOutput(checks, step.capture)

    def _wait_streaming(
        self, step: Step, attempt: Attempt, fed: _Fed, since: int, deadline: _Deadline
    ) -> PromptHit:
        """Wait for the prompt; meanwhile a big output goes to the checks, and (no retry) to
        the cast and the audience screen, as it comes, and the shell's buffer forgets it:
        memory stays bounded however much the command prints. (A retry's attempts are cut
        from the cast afterwards, so their output is kept until then.)"""
        session = self.session
        assert session is not None
        # Every mode: live's own cast keeps no output (the show's archive records what the
        # audience saw), but its screen answers `expect.screen` as in record.
        to_cast = step.retry is None

        def spill() -> None:
            if session.offset - fed.offset >= SPILL_EVERY:
                self._spill(attempt, fed, to_cast, self.step_visible)

        session.on_progress = spill
        try:
            return session.wait_prompt(since, deadline.left())
        finally:
            session.on_progress = None

    def _spill(self, attempt: Attempt, fed: _Fed, to_cast: bool, visible: bool) -> None:
        session = self.session
        assert session is not None
        # Up to the last line end that leaves SPILL_HOLD behind it (a secret's encoded
        # form or an escape sequence may be cut there), and outside any redacted span.
        hold_from = session.offset - SPILL_HOLD
        cut = session.text(fed.offset, hold_from).rfind("\n")
        if cut < 0:
            return
        cut += fed.offset + 1
        spans = None
        if to_cast:  # one scan for secrets finds where to cut and cleans up to there
            text = session.text(self.cursor, session.offset)
            spans = self.redactor.spans(text)
            cut = self.cursor + self.redactor.safe_cut(text, cut - self.cursor, spans)
            del text  # a copy of up to 4 MB: not kept while the checks and cast get theirs
        if cut <= fed.offset:
            return
        if fed.started is None:
            fed.started = session.command_started(fed.mark, cut)
        self._feed(attempt, fed, cut)
        if to_cast:
            if visible:
                self._emit(self.cursor, cut, spans)
            else:
                self._cut(cut)
            session.forget(min(self.cursor, fed.offset))

    def _feed(self, attempt: Attempt, fed: _Fed, end: int) -> None:
        """Hand the output from where the checks got to, up to `end`, to them."""
        assert self.session is not None
        text = self.session.text(fed.offset, end)
        if fed.offset == fed.mark:
            text = _after_echo(text)  # the command's own echo is not its output
        attempt.output.feed(plain_text(text))
        fed.offset = max(fed.offset, end)

    def _interrupt_or_lose(self) -> None:
        assert self.session is not None
        if self.session.interrupt(INTERRUPT_GRACE) is None:
            raise ShellLost("the shell did not come back after Ctrl-C")

    def _drive_keys(
        self, keys: list[KeyAction | str], since: int, human: bool, deadline: _Deadline
    ) -> None:
        session = self.session
        assert session is not None
        for action in keys:
            if isinstance(action, str):
                action = KeyAction(text=action)
            if action.text is not None:
                text = self._substitute(action.text)
                delays = self.typing.delays(text) if human else None
                typed_at = time.monotonic()
                session.type_text(text, delays)
                deadline.extend(time.monotonic() - typed_at)  # typing is not the program's time
            elif action.key is not None:
                for _ in range(action.times):
                    if human:
                        session.pump(KEY_GAP)
                    session.send(key_bytes(action.key))
            elif action.wait is not None:
                pattern = re.compile(self._substitute(action.wait))
                _, since = session.wait_for(pattern, since, deadline.left())
            elif action.sleep is not None:
                session.pump(min(action.sleep, deadline.left()))

    def cluster_facts(self) -> dict[str, str]:
        """What the cast was made on, for provenance: the kind cluster, its node image and the
        API server's version (asked only where the scenario has a cluster)."""
        cluster = self.scenario.cluster
        if cluster is None:
            return {}
        facts = {"name": cluster.name, "node_image": cluster.image}
        version = self._kube().server_version()
        if version:
            facts["kubernetes"] = version
        engine = server_version("docker", env={**os.environ, **self._env})
        if engine:
            facts["docker_engine"] = engine
        return facts

    def _kube(self) -> KubeGateway:
        """The Kubernetes API, reached with the shell's KUBECONFIG (made on first use)."""
        if self._kube_gateway is None:
            from recorder.kube.gateway import KubeGateway

            self._kube_gateway = KubeGateway(
                self._env.get("KUBECONFIG"), base_dir=self.loaded.path.parent
            )
        return self._kube_gateway

    # -- cast bookkeeping ----------------------------------------------------------------

    def _pieces(self, start: int, end: int) -> list[tuple[float, str]]:
        """Timed pieces of the buffer between two offsets."""
        assert self.session is not None
        chunks = self.session.chunks
        # Chunks are sorted by offset: binary-search the first one, so runs stay linear.
        first = bisect.bisect_right(chunks, start, key=lambda c: c.end)
        out = []
        for chunk in itertools.islice(chunks, first, None):
            if chunk.start >= end:
                break
            out.append((chunk.t, self.session.text(max(chunk.start, start), min(chunk.end, end))))
        return out

    def _emit(self, start: int, end: int, spans: Spans | None = None) -> None:
        """Send buffer[start:end] to the cast and the audience screen (`spans`: the
        Redactor's, of the buffer from `start`, when the caller has them)."""
        if end <= start:
            self.cursor = max(self.cursor, end)
            return
        for t, text in self.redactor.clean_pieces(self._pieces(start, end), spans):
            self.cast.output(self.timeline.at(t), text)
            self.screen.feed(text)
        self.cursor = end

    def _cut(self, end: int) -> None:
        """Keep the buffer up to `end` out of the cast (callers account for its time)."""
        self.cursor = max(self.cursor, end)

    # -- variables -----------------------------------------------------------------------

    def _substitute(self, text: str) -> str:
        return substitute(text, self.values)

    def _substitute_expect(self, expect: Expect) -> Expect:
        return substitute_expect(expect, self.values)


def think_key(step: Step) -> str:
    """What seeds the think pause before `step`: its narration and command as written."""
    return f"{step.say or ''}\x00{step.run or ''}"


@dataclass
class _Fed:
    """How far one command line's output has gone to the checks."""

    mark: int  # where the line was typed: its echo comes first
    offset: int = -1
    started: float | None = None  # bash's clock as the command started (PS0), once seen

    def __post_init__(self) -> None:
        self.offset = self.mark if self.offset < 0 else self.offset


def _after_echo(segment: str) -> str:
    """What a command printed: everything after the echo of its own line."""
    newline = segment.find("\n")
    return segment[newline + 1 :] if newline != -1 else ""
