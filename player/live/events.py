"""The live event protocol: what `stagecast live` tells `stagecast notes`, typed on both ends.

The live runner sends these events (`player.live.live_runner`), the presenter channel carries
them as one JSON object per line with the channel's clock added as "t"
(`player.live.presenter`), and the presenter view applies them (`player.live.notes_view`).
`to_dict`/`encode_line` and `decode_line`/`from_dict` are the only code that knows the wire
form. Decoding is lenient, as a view must survive a newer or older session: an unknown event
is `Other`, unknown keys are ignored, and a value of the wrong type reads as None.

A view that connects mid-show first gets one `Snapshot` ("now"): the events sent so far,
folded (`player.live.catch_up`), with the show's clock as it is at that moment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class StepInfo:
    """One step of the scenario as the presenter view lists it (in `Hello.steps`)."""

    index: int
    label: str
    say: str | None = None
    run: str | None = None
    pause: str | None = None
    hidden: bool = False
    planned: float | None = None  # seconds the verified cast took for it

    @classmethod
    def from_dict(cls, raw: Any, position: int) -> StepInfo | None:
        if not isinstance(raw, dict):
            return None
        index = _int(raw.get("index"))
        index = position if index is None else index
        return cls(
            index=index,
            label=_str(raw.get("label")) or f"step {index + 1}",
            say=_str(raw.get("say")),
            run=_str(raw.get("run")),
            pause=_str(raw.get("pause")),
            hidden=raw.get("hidden") is True,
            planned=_num(raw.get("planned")),
        )


@dataclass(frozen=True)
class Hello:
    """The session's first event: the scenario, its steps and the recording's timing."""

    KIND: ClassVar[str] = "hello"
    title: str | None = None
    scenario: str | None = None
    steps: list[StepInfo] = field(default_factory=list)
    planned_total: float | None = None
    budget: float | None = None
    cast: str | None = None
    stale: bool = False
    mode: str | None = None  # "live" or "auto"
    elapsed: float | None = None  # show time when the show started (maps "t" to show time)
    t: float | None = None  # the channel's clock; set by the channel, read by the view


@dataclass(frozen=True)
class StepStarted:
    KIND: ClassVar[str] = "step"
    index: int | None = None
    elapsed: float | None = None  # show time
    t: float | None = None


@dataclass(frozen=True)
class StateChanged:
    """What the current step is doing: typing, running, paused, free-shell, fallback, ..."""

    KIND: ClassVar[str] = "state"
    index: int | None = None
    state: str | None = None
    t: float | None = None


@dataclass(frozen=True)
class CheckDone:
    """A step's checks ran: passed, failed or skipped, with the failures."""

    KIND: ClassVar[str] = "check"
    index: int | None = None
    status: str | None = None
    failures: tuple[str, ...] = ()
    rc: int | None = None
    duration: float | None = None
    t: float | None = None


@dataclass(frozen=True)
class Fallback:
    """The safety net played a step from the verified cast."""

    KIND: ClassVar[str] = "fallback"
    index: int | None = None
    reason: str | None = None
    t: float | None = None


@dataclass(frozen=True)
class Note:
    KIND: ClassVar[str] = "note"
    text: str | None = None
    t: float | None = None


@dataclass(frozen=True)
class Finished:
    KIND: ClassVar[str] = "finished"
    passed: bool | None = None
    fallbacks: int | None = None
    elapsed: float | None = None
    t: float | None = None


@dataclass(frozen=True)
class Other:
    """An event this version does not know: only its clock is used."""

    kind: Any = None
    t: float | None = None


@dataclass(frozen=True)
class Snapshot:
    """The show so far, as a view that has been attached all along would know it: what a
    view that connects mid-show receives first, so it is right at once."""

    KIND: ClassVar[str] = "now"
    hello: Hello | None = None
    current: int | None = None
    state: str | None = None
    step_started: float | None = None  # show time when the current step began
    elapsed: float | None = None  # show time now: the server's clock when the view connected
    checks: tuple[CheckDone, ...] = ()  # each step done: its latest result, oldest first
    fallbacks: tuple[Fallback, ...] = ()
    notes: tuple[str, ...] = ()
    finished: Finished | None = None
    t: float | None = None


LiveEvent = (
    Hello | StepStarted | StateChanged | CheckDone | Fallback | Note | Finished | Snapshot | Other
)


def to_dict(event: LiveEvent) -> dict[str, Any]:
    """The wire form without "t" (the channel adds it when it sends)."""
    if isinstance(event, Other):
        raise ValueError("an unknown event is never sent")
    payload: dict[str, Any] = {"event": event.KIND}
    for f in fields(event):
        if f.name != "t":
            payload[f.name] = _wire(getattr(event, f.name))
    return payload


def _wire(value: Any) -> Any:
    """A field's wire form: steps and events nested in a snapshot become objects."""
    if isinstance(value, StepInfo):
        return {f.name: getattr(value, f.name) for f in fields(value)}
    if isinstance(value, Hello | CheckDone | Fallback | Finished):
        nested = to_dict(value)
        del nested["event"]  # its place in the snapshot says what it is
        return nested
    if isinstance(value, list | tuple):
        return [_wire(item) for item in value]
    return value


def from_dict(raw: Any) -> LiveEvent | None:
    """The typed event of a decoded line; None when it is not a JSON object at all."""
    if not isinstance(raw, dict):
        return None
    kind, t = raw.get("event"), _num(raw.get("t"))
    if kind == "hello":
        listed = raw.get("steps")
        steps = listed if isinstance(listed, list) else []
        parsed = (StepInfo.from_dict(step, pos) for pos, step in enumerate(steps))
        return Hello(
            title=_str(raw.get("title")),
            scenario=_str(raw.get("scenario")),
            steps=[step for step in parsed if step is not None],
            planned_total=_num(raw.get("planned_total")),
            budget=_num(raw.get("budget")),
            cast=_str(raw.get("cast")),
            stale=raw.get("stale") is True,
            mode=_str(raw.get("mode")),
            elapsed=_num(raw.get("elapsed")),
            t=t,
        )
    if kind == "step":
        return StepStarted(_int(raw.get("index")), _num(raw.get("elapsed")), t)
    if kind == "state":
        return StateChanged(_int(raw.get("index")), _str(raw.get("state")), t)
    if kind == "check":
        failures = raw.get("failures")
        return CheckDone(
            index=_int(raw.get("index")),
            status=_str(raw.get("status")),
            failures=tuple(str(f) for f in failures) if isinstance(failures, list) else (),
            rc=_int(raw.get("rc")),
            duration=_num(raw.get("duration")),
            t=t,
        )
    if kind == "fallback":
        return Fallback(_int(raw.get("index")), _str(raw.get("reason")), t)
    if kind == "note":
        return Note(_str(raw.get("text")), t)
    if kind == "finished":
        passed = raw.get("passed")
        return Finished(
            passed if isinstance(passed, bool) else None,
            _int(raw.get("fallbacks")),
            _num(raw.get("elapsed")),
            t,
        )
    if kind == "now":
        return _snapshot(raw, t)
    return Other(kind, t)


def _nested(raw: Any, kind: str, of: type[Any]) -> Any:
    """An event nested in a snapshot, decoded as if it had come on its own; None if it is not
    an object, or does not read as `of`."""
    if not isinstance(raw, dict):
        return None
    event = from_dict({**raw, "event": kind, "t": None})
    return event if isinstance(event, of) else None


def _snapshot(raw: dict[str, Any], t: float | None) -> Snapshot:
    def listed(key: str, kind: str, of: type[Any]) -> tuple[Any, ...]:
        items = raw.get(key)
        found = (_nested(item, kind, of) for item in items) if isinstance(items, list) else ()
        return tuple(item for item in found if item is not None)

    notes = raw.get("notes")
    return Snapshot(
        hello=_nested(raw.get("hello"), "hello", Hello),
        current=_int(raw.get("current")),
        state=_str(raw.get("state")),
        step_started=_num(raw.get("step_started")),
        elapsed=_num(raw.get("elapsed")),
        checks=listed("checks", "check", CheckDone),
        fallbacks=listed("fallbacks", "fallback", Fallback),
        notes=tuple(n for n in notes if isinstance(n, str)) if isinstance(notes, list) else (),
        finished=_nested(raw.get("finished"), "finished", Finished),
        t=t,
    )


def encode_line(payload: dict[str, Any]) -> bytes:
    """One line on the wire; a value JSON cannot carry is sent as its str()."""
    return json.dumps(payload, ensure_ascii=False, default=str).encode() + b"\n"


def decode_line(raw: bytes) -> LiveEvent | None:
    """The event on one line; None for a line that is not a JSON object."""
    try:
        payload = json.loads(raw.decode("utf-8", errors="replace"))
    except ValueError:
        return None
    return from_dict(payload)
