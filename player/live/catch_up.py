"""What a presenter view that attaches mid-show is told first: the show so far, folded.

The presenter channel applies every event it sends to one `CatchUp`, and a view that connects
later receives `snapshot()` before anything else: the scenario, the current step and what it
is doing, each step done with its result, the fallbacks, the notes, and the show's clock as it
is at that moment. The fold follows the view's own rules (`notes_view.NotesState.apply`), so a
late view shows what a view attached from the start would show, without waiting for the next
event and without a replay of hundreds of past lines.
"""

from __future__ import annotations

from collections import deque

from .events import (
    CheckDone,
    Fallback,
    Finished,
    Hello,
    LiveEvent,
    Note,
    Snapshot,
    StateChanged,
    StepStarted,
)

MAX_NOTES = 50  # plenty for a view that shows the last few; bounds a show that chats a lot


class CatchUp:
    """Every event sent so far, folded into what `snapshot` says."""

    def __init__(self) -> None:
        self._seen = False
        self._hello: Hello | None = None
        self._current: int | None = None
        self._state: str | None = None
        self._step_started: float | None = None
        self._offset: float | None = None  # channel "t" minus show time
        self._checks: dict[int, CheckDone] = {}  # insertion order: oldest result first
        self._fallbacks: list[Fallback] = []
        self._notes: deque[str] = deque(maxlen=MAX_NOTES)
        self._finished: Finished | None = None

    def apply(self, event: LiveEvent) -> None:
        self._seen = True
        if isinstance(event, Hello):
            self._hello = event
            self._learn_clock(event.t, event.elapsed)
        elif isinstance(event, StepStarted):
            self._on_step(event)
        elif isinstance(event, StateChanged):
            if event.state is not None and event.index in (None, self._current):
                self._state = event.state
        elif isinstance(event, CheckDone):
            self._on_check(event)
        elif isinstance(event, Fallback):
            self._fallbacks.append(event)
            if event.index is not None and event.index == self._current:
                self._state = "fallback"
        elif isinstance(event, Note):
            if event.text is not None:
                self._notes.append(event.text)
        elif isinstance(event, Finished):
            self._finished = event

    def _on_step(self, event: StepStarted) -> None:
        if event.index is None:
            return
        self._current, self._state = event.index, None
        self._step_started = event.elapsed
        self._learn_clock(event.t, event.elapsed)

    def _on_check(self, event: CheckDone) -> None:
        if event.index is None or event.status is None:
            return
        self._checks.pop(event.index, None)  # a step run again (Ctrl-P): its latest result
        self._checks[event.index] = event

    def _learn_clock(self, t: float | None, elapsed: float | None) -> None:
        if t is not None and elapsed is not None:
            self._offset = t - elapsed

    def elapsed(self, t: float) -> float | None:
        """Show time at channel time `t`; the final time once the show has finished."""
        if self._finished is not None and self._finished.elapsed is not None:
            return self._finished.elapsed
        return None if self._offset is None else round(max(0.0, t - self._offset), 3)

    def snapshot(self, t: float) -> Snapshot | None:
        """The show as of channel time `t` (sent with that "t"); None before any event."""
        if not self._seen:
            return None
        return Snapshot(
            hello=self._hello,
            current=self._current,
            state=self._state,
            step_started=self._step_started,
            elapsed=self.elapsed(t),
            checks=tuple(self._checks.values()),
            fallbacks=tuple(self._fallbacks),
            notes=tuple(self._notes),
            finished=self._finished,
            t=t,
        )
