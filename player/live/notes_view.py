"""The presenter view's state: the live session's events in, a screen that fits 80x24 out.

It shows the clock against the verified recording's timing, the current step (narration,
command, pause text, what is happening), the next step, the last check results, fallbacks and
notes. NotesState is pure (events in, a rich renderable out) so it can be tested without a
terminal.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from .events import (
    CheckDone,
    Fallback,
    Finished,
    Hello,
    LiveEvent,
    Note,
    Snapshot,
    StateChanged,
    StepInfo,
    StepStarted,
    from_dict,
)

MAX_CHECKS = 3  # check results shown: the last few are what the presenter acts on
MAX_FAILURES = 2  # failure lines shown per check
MAX_NOTES = 3
MARKS = {"passed": ("✓", "green"), "failed": ("✗", "bold red"), "skipped": ("·", "dim")}


def clock(seconds: float) -> str:
    """0:07, 1:23, 1:02:03."""
    total = round(max(0.0, seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def schedule(delta: float) -> str:
    """+0:12 behind, -0:05 ahead, on time (to the second)."""
    whole = round(delta)
    if whole == 0:
        return "on time"
    return f"+{clock(whole)} behind" if whole > 0 else f"-{clock(-whole)} ahead"


@dataclass
class NotesState:
    """Everything the presenter view knows; apply() one event at a time.

    `now` is a clock (e.g. time.monotonic) that makes the elapsed time tick between events;
    without it the view shows the time of the last event, which keeps render() deterministic.
    """

    now: Callable[[], float] | None = None
    title: str = ""
    scenario: str = ""
    mode: str = ""
    cast: str | None = None
    stale: bool = False
    planned_total: float | None = None
    budget: float | None = None
    steps: dict[int, StepInfo] = field(default_factory=dict)
    current: int | None = None
    state: str | None = None
    step_started: float | None = None  # show time when the current step began
    elapsed: float | None = None  # show time at the last event
    checks: deque[CheckDone] = field(default_factory=lambda: deque(maxlen=MAX_CHECKS))
    fallbacks: int = 0
    fallback_reasons: dict[int, str] = field(default_factory=dict)
    notes: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_NOTES))
    finished: bool = False
    passed: bool | None = None
    # channel "t" minus show time, learnt from step events
    _offset: float | None = field(default=None, init=False, repr=False)
    # now() when the last event arrived
    _arrived: float | None = field(default=None, init=False, repr=False)

    # -- events ---------------------------------------------------------------------------

    def apply(self, event: LiveEvent | dict[str, Any]) -> None:
        """Take one event (typed, or as decoded from the wire); unknown events and keys, and
        values of the wrong type, are ignored."""
        ev = from_dict(event) if isinstance(event, dict) else event
        if ev is None:
            return
        if isinstance(ev, Hello):
            self._on_hello(ev)
        elif isinstance(ev, StepStarted):
            self._on_step(ev)
        elif isinstance(ev, StateChanged):
            if ev.state is not None and (ev.index is None or ev.index == self.current):
                self.state = ev.state
        elif isinstance(ev, CheckDone):
            if ev.index is not None and ev.status is not None:
                self.checks.append(ev)
        elif isinstance(ev, Fallback):
            self._on_fallback(ev)
        elif isinstance(ev, Note):
            if ev.text is not None:
                self.notes.append(ev.text)
        elif isinstance(ev, Finished):
            self._on_finished(ev)
        elif isinstance(ev, Snapshot):
            self._on_snapshot(ev)
        self._tick(ev)

    def _on_hello(self, ev: Hello) -> None:
        self.title = ev.title or self.title
        self.scenario = ev.scenario or self.scenario
        self.mode = ev.mode or self.mode
        self.cast = ev.cast
        self.stale = ev.stale
        self.planned_total = ev.planned_total
        self.budget = ev.budget
        self.steps = {step.index: step for step in ev.steps}
        if ev.elapsed is not None and ev.t is not None:
            self._offset = ev.t - ev.elapsed  # the clock runs from the show's start

    def _on_snapshot(self, ev: Snapshot) -> None:
        """Attached mid-show: everything so far at once, the clock at the server's "now"."""
        if ev.hello is not None:
            self._on_hello(ev.hello)
        self.current, self.state, self.step_started = ev.current, ev.state, ev.step_started
        self.elapsed = ev.elapsed
        if ev.elapsed is not None and ev.t is not None:
            self._offset = ev.t - ev.elapsed
        self.checks.clear()
        self.checks.extend(c for c in ev.checks if c.index is not None and c.status is not None)
        self.fallbacks = len(ev.fallbacks)
        self.fallback_reasons = {
            f.index: f.reason or "no reason given" for f in ev.fallbacks if f.index is not None
        }
        self.notes.clear()
        self.notes.extend(ev.notes)
        self.finished, self.passed = False, None
        if ev.finished is not None:
            self._on_finished(ev.finished)

    def _on_step(self, ev: StepStarted) -> None:
        if ev.index is None:
            return
        self.current, self.state = ev.index, None
        if ev.elapsed is not None:
            self.elapsed = self.step_started = ev.elapsed
            if ev.t is not None:
                self._offset = ev.t - ev.elapsed

    def _on_fallback(self, ev: Fallback) -> None:
        self.fallbacks += 1
        if ev.index is not None:
            self.fallback_reasons[ev.index] = ev.reason or "no reason given"
            if ev.index == self.current:
                self.state = "fallback"

    def _on_finished(self, ev: Finished) -> None:
        self.finished = True
        self.passed = ev.passed
        self.fallbacks = self.fallbacks if ev.fallbacks is None else ev.fallbacks
        if ev.elapsed is not None:
            self.elapsed = ev.elapsed

    def _tick(self, ev: LiveEvent) -> None:
        """Carry the show clock forward from the event's channel time, when we can map it."""
        t, offset = ev.t, self._offset
        explicit = isinstance(ev, StepStarted | Finished | Snapshot)  # they carry show time
        if not explicit and t is not None and offset is not None:
            self.elapsed = max(self.elapsed or 0.0, t - offset)
        if self.now is not None:
            self._arrived = self.now()

    # -- derived --------------------------------------------------------------------------

    def visible(self) -> list[StepInfo]:
        return [step for _, step in sorted(self.steps.items()) if not step.hidden]

    def number(self, index: int) -> str:
        """ "2/5" counting only the steps the audience sees; "hidden" for the others."""
        shown = self.visible()
        for pos, step in enumerate(shown, 1):
            if step.index == index:
                return f"{pos}/{len(shown)}"
        return "hidden" if index in self.steps else f"#{index}"

    def label(self, index: int) -> str:
        step = self.steps.get(index)
        return step.label if step else f"step {index + 1}"

    def next_step(self) -> StepInfo | None:
        after = -1 if self.current is None else self.current
        return next((step for step in self.visible() if step.index > after), None)

    def live_elapsed(self) -> float | None:
        if self.elapsed is None:
            return None
        if self.finished or self.now is None or self._arrived is None:
            return self.elapsed
        return self.elapsed + max(0.0, self.now() - self._arrived)

    def planned_before(self, index: int) -> float | None:
        """Planned show time when step `index` starts; None if a visible step before it has no
        timing (a partial sum would claim the presenter is ahead)."""
        planned = [step.planned for step in self.visible() if step.index < index]
        return None if None in planned else sum(p for p in planned if p is not None)

    def planned_now(self) -> float | None:
        """Where the recording would be now: the steps before the current one, plus the current
        step's own time up to its planned length (a step that runs long puts you behind)."""
        if self.finished:
            if self.planned_total is not None:
                return self.planned_total
            return self.planned_before(max(self.steps, default=0) + 1)
        if self.current is None:
            return None
        before = self.planned_before(self.current)
        step, now = self.steps.get(self.current), self.live_elapsed()
        if before is None or step is None or step.hidden or step.planned is None:
            return before
        if now is None or self.step_started is None:
            return before
        return before + min(max(0.0, now - self.step_started), step.planned)

    def delta(self) -> float | None:
        now, planned = self.live_elapsed(), self.planned_now()
        return None if now is None or planned is None else now - planned

    # -- rendering ------------------------------------------------------------------------

    def render(self) -> RenderableType:
        parts: list[RenderableType] = [self._header(), self._clock_line()]
        parts += self._current_lines()
        parts += self._next_lines()
        parts += self._check_lines()
        parts += self._footer_lines()
        return Group(*parts)

    def _header(self) -> Text:
        text = Text(self.title or "waiting for the live session…", style="bold")
        if self.scenario:
            text.append(f"  {self.scenario}", style="dim")
        if self.mode:
            text.append(f"  [{self.mode}]", style="cyan")
        if self.stale:
            text.append("  stale cast", style="yellow")
        return text

    def _clock_line(self) -> Text:
        now = self.live_elapsed()
        text = Text("elapsed ")
        text.append(clock(now) if now is not None else "—", style="bold")
        planned, delta = self.planned_now(), self.delta()
        if planned is not None:
            text.append(f" / planned {clock(planned)}")
        if delta is not None:
            style = "red" if delta >= 30 else "yellow" if delta >= 1 else "green"
            text.append(f"  {schedule(delta)}", style=style)
        totals = [f"total {clock(self.planned_total)}"] if self.planned_total is not None else []
        totals += [f"budget {clock(self.budget)}"] if self.budget is not None else []
        if totals:
            text.append(f"  ({', '.join(totals)})", style="dim")
        return text

    def _current_lines(self) -> list[Text]:
        if self.current is None:
            return [Text("NOW  not started yet", style="dim")]
        step = self.steps.get(self.current)
        head = Text("NOW  ", style="bold reverse" if not self.finished else "bold")
        head.append(f"{self.number(self.current)} {self.label(self.current)}", style="bold")
        if self.state:
            head.append(f"  · {self.state}", style=_state_style(self.state))
        if step is not None and step.hidden:
            head.stylize("dim")
            return [head]  # hidden: the presenter need not narrate it
        lines = [head]
        if step is not None:
            lines += _step_body(step, full=True)
        reason = self.fallback_reasons.get(self.current)
        if reason:
            lines.append(Text(f"  fallback: {reason}", style="magenta"))
        return lines

    def _next_lines(self) -> list[Text]:
        if self.finished:
            return []
        step = self.next_step()
        if step is None:
            return [Text("NEXT —  (last step)", style="dim")] if self.current is not None else []
        head = Text("NEXT ", style="bold")
        head.append(f"{self.number(step.index)} {step.label}")
        return [head, *_step_body(step, full=False)]

    def _check_lines(self) -> list[Text]:
        lines: list[Text] = []
        for check in self.checks:
            index = check.index
            assert index is not None  # apply() keeps only checks with an index and a status
            mark, style = MARKS.get(check.status or "", ("?", "yellow"))
            line = Text(f"  {mark} ", style=style)
            line.append(f"{self.number(index)} {self.label(index)}  {check.status}")
            if check.rc is not None:
                line.append(f"  rc {check.rc}")
            if check.duration is not None:
                line.append(f"  {check.duration:.1f}s", style="dim")
            lines.append(line)
            lines += [Text(f"      {f}", style="red") for f in check.failures[:MAX_FAILURES]]
        return [Text("CHECKS", style="bold"), *lines] if lines else []

    def _footer_lines(self) -> list[Text]:
        lines: list[Text] = []
        if self.fallbacks:
            lines.append(Text(f"fallbacks: {self.fallbacks}", style="magenta"))
        lines += [Text(f"note: {note}", style="yellow") for note in self.notes]
        if self.finished:
            ok = self.passed is not False
            end = Text("FINISHED ", style="bold green" if ok else "bold red")
            end.append("✓ passed" if self.passed else "✗ failed" if self.passed is False else "")
            end.append(f"  {clock(self.elapsed or 0.0)}")
            if self.fallbacks:
                end.append(f"  {self.fallbacks} fallback{'s' if self.fallbacks != 1 else ''}")
            lines.append(end)
        return lines

    # -- one plain line per event (no terminal) -------------------------------------------

    def line(self, event: LiveEvent | dict[str, Any]) -> str | None:
        """A plain line describing `event` as applied; None for events the view ignores."""
        ev = from_dict(event) if isinstance(event, dict) else event
        index = getattr(ev, "index", None)
        where = f"{self.number(index)} {self.label(index)}" if index is not None else "?"
        if isinstance(ev, Hello):
            return f"hello: {self.title} ({self.scenario}), {len(self.visible())} steps" + (
                ", stale cast" if self.stale else ""
            )
        if isinstance(ev, StepStarted):
            text = f"step {where}"
            delta = self.delta()
            return text + (f": {schedule(delta)}" if delta is not None else "")
        if isinstance(ev, StateChanged):
            return f"state {where}: {ev.state}"
        if isinstance(ev, CheckDone) and self.checks:
            check = self.checks[-1]
            mark = MARKS.get(check.status or "", ("?", ""))[0]
            failures = "; ".join(check.failures)
            return f"check {where}: {mark} {check.status}" + (f": {failures}" if failures else "")
        if isinstance(ev, Fallback):
            reason = self.fallback_reasons.get(index, "") if index is not None else ""
            return f"fallback {where}: {reason}"
        if isinstance(ev, Note):
            return f"note: {ev.text}"
        if isinstance(ev, Finished):
            return self._finished_line()
        if isinstance(ev, Snapshot):
            return self._snapshot_lines(ev)
        return None

    def _finished_line(self) -> str:
        verdict = "passed" if self.passed else "failed" if self.passed is False else "done"
        return f"finished: {verdict}, {self.fallbacks} fallbacks, {clock(self.elapsed or 0)}"

    def _snapshot_lines(self, ev: Snapshot) -> str:
        """Attached mid-show: where the show is, then what happened so far."""
        head = f"now: {self.title} ({self.scenario}), {len(self.visible())} steps"
        head += ", stale cast" if self.stale else ""
        head += f", elapsed {clock(self.elapsed)}" if self.elapsed is not None else ""
        lines = [head]
        for check in ev.checks:
            if check.index is not None and check.status is not None:
                mark = MARKS.get(check.status, ("?", ""))[0]
                failures = "; ".join(check.failures)
                where = f"{self.number(check.index)} {self.label(check.index)}"
                lines.append(f"  done {where}: {mark} {check.status}")
                lines[-1] += f": {failures}" if failures else ""
        for index, reason in self.fallback_reasons.items():
            lines.append(f"  fallback {self.number(index)} {self.label(index)}: {reason}")
        lines += [f"  note: {note}" for note in self.notes]
        if self.finished:
            lines.append(self._finished_line())
        elif self.current is not None:
            where = f"{self.number(self.current)} {self.label(self.current)}"
            lines.append(f"  at {where}" + (f": {self.state}" if self.state else ""))
        return "\n".join(lines)


def _state_style(state: str) -> str:
    return {"fallback": "magenta", "recording": "magenta", "paused": "yellow"}.get(state, "cyan")


def _step_body(step: StepInfo, full: bool) -> list[Text]:
    """The narration, the command and the pause text of a step (the next step: command only)."""
    lines: list[Text] = []
    if full and step.say:
        lines.append(Text(f"  say: {step.say}", style="italic"))
    if step.run:
        lines.append(Text(f"  $ {step.run}", style="bold cyan" if full else "cyan"))
    if full and step.pause:
        lines.append(Text(f"  pause: {step.pause}", style="yellow"))
    return lines
