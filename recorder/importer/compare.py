"""A draft next to a scenario written by hand from the same recording: which of the
hand-written scenario's visible steps the importer drafted too, and, for the others, why not.

Steps are matched as `stagecast check` matches a step with a recorded command (the
hand-written scenario's variables and masks, kubectl's spellings), in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from recorder.recording_check.check import check
from recorder.recording_check.matching import EXACT, Matcher, align
from recorder.scenario.loader import LoadedScenario


@dataclass
class Compared:
    label: str
    command: str
    status: str  # drafted, drafted differently, not drafted
    reason: str = ""


def compare(draft: LoadedScenario, hand: LoadedScenario, cast: str | Path) -> list[Compared]:
    matcher, plain = Matcher(hand), Matcher(draft)
    wanted = [s for s in hand.scenario.steps if s.run is not None and not s.hidden]
    drafted = [s for s in draft.scenario.steps if s.run is not None and not s.hidden]
    heads = [matcher.head(plain.substitute(s.run or "")) for s in drafted]
    scores = [[matcher.score(matcher.head(matcher.substitute(s.run or "")), h) for h in heads]
              for s in wanted]  # fmt: skip
    pairs = align(scores) if heads else [None] * len(wanted)
    in_recording = {item.index: item for item in check(hand, cast).steps}
    index = {id(s): i for i, s in enumerate(hand.scenario.steps)}
    out = []
    for n, step in enumerate(wanted):
        item = Compared(step.label(), (step.run or "").split("\n")[0], "not drafted")
        at = pairs[n]
        if at is not None:
            item.status = "drafted" if scores[n][at] == EXACT else "drafted differently"
            if item.status != "drafted":
                item.reason = f"typed {drafted[at].run!r} in the recording" + (
                    f"; the scenario says why: {step.differs}" if step.differs else ""
                )
        else:
            recorded = in_recording.get(index[id(step)])
            if recorded is None or not recorded.found:
                item.reason = "not typed in the recording" + (
                    f" ({step.differs})" if step.differs else ""
                )
            else:
                item.reason = f"typed as {recorded.recorded!r}, but the importer left it out"
        out.append(item)
    return out
