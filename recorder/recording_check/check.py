"""`stagecast check`: does a scenario still tell the story of the speaker's own recording?

The recording is rendered and its commands found (`commands`), the scenario's visible steps
are matched with them in order (`matching`), and their output expectations evaluated on the
recorded output as the runner evaluates a step's (`recorder.run.step_output.StepOutput`:
whole up to 8 MB, checked as a stream beyond; no exit code, no screen, no kube check: a
recording has none of those).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from recorder.run.step_output import StepOutput
from recorder.scenario.loader import LoadedScenario
from recorder.scenario.model import Expect, Step
from recorder.scenario.rules import OUTPUT_CHECKS

from .commands import PROMPT, RecordedCommand, program_output_blocks, recorded_commands
from .matching import EXACT, Matcher, align

FOUND_THRESHOLD = 0.8
# A step with `differs:` weighs EXACT or NEAR // EXPLAINED: matched only where it costs no
# other step its match.
EXPLAINED = 50


# -- matching steps --------------------------------------------------------------------------


@dataclass
class StepCheck:
    index: int
    label: str
    command: str
    status: str = "not found"  # passed, differs, explained, not found
    reason: str = ""
    found: bool = False
    time: float | None = None
    recorded: str | None = None  # the command as typed in the recording, when found

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CheckResult:
    scenario: str
    recording: str
    steps: list[StepCheck] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        by = [s.status for s in self.steps]
        return {
            "visible": len(self.steps),
            "found": sum(s.found for s in self.steps),
            "passed": by.count("passed"),
            "differs": by.count("differs"),
            "explained": by.count("explained"),
            "not_found": by.count("not found"),
        }

    @property
    def ok(self) -> bool:
        c = self.counts()
        enough = c["found"] >= FOUND_THRESHOLD * c["visible"]
        return c["visible"] > 0 and c["differs"] == 0 and enough

    def summary(self) -> str:
        c = self.counts()
        percent = round(100 * c["found"] / c["visible"]) if c["visible"] else 0
        return (
            f"{c['visible']} visible steps: {c['found']} found ({percent}%), "
            f"{c['passed']} passed, {c['differs']} differ, {c['explained']} explained, "
            f"{c['not_found']} not found"
        )

    def to_dict(self) -> dict[str, Any]:
        c = self.counts()
        c["found_percent"] = round(100 * c["found"] / c["visible"]) if c["visible"] else 0
        return {
            "scenario": self.scenario,
            "recording": self.recording,
            "ok": self.ok,
            "summary": c,
            "line": self.summary(),
            "steps": [s.to_dict() for s in self.steps],
        }


def _output_expect(step: Step, matcher: Matcher) -> Expect | None:
    """The step's text expectations (and retry `until`), without exit, screen and kube."""
    parts = [e for e in (step.expect, step.retry.until if step.retry else None) if e]
    if not parts:
        return None
    fields: dict[str, list[str]] = {}
    for name in OUTPUT_CHECKS:
        fields[name] = [matcher.substitute(v, "") for e in parts for v in getattr(e, name)]
    return Expect.model_validate({"exit": "any", **fields})


NO_CHECKS = Expect.model_validate({"exit": "any"})


def _step_output(
    commands: list[RecordedCommand], at: int, step: Step, expect: Expect | None
) -> StepOutput:
    """The recorded output of the command at `at` (for a step with `keys`, everything the
    interactive program showed, nested prompts included, until its own prompt came back),
    fed to `expect` and the step's captures as the runner feeds a step's output."""
    out = StepOutput([expect or NO_CHECKS], step.capture)
    blocks = program_output_blocks(commands, at) if step.keys else commands[at].output_blocks()
    for block in blocks:
        out.feed(block)
    return out


def check(loaded: LoadedScenario, cast: str | Path) -> CheckResult:
    """Find each visible step of the scenario in the recording and check its output.

    A step's command matches a recorded one when both are equal once normalised: line
    continuations joined, whitespace collapsed, a trailing `# comment` and `;` dropped, `k`
    and `kubecolor` read as `kubectl` (and `-o wide` as `-owide`, `pods` as `pod`...),
    `${X}` as `$X`, and the volatile values a command can hold masked on both sides: the
    scenario's own regex masks and the built-in pod-suffix, container-id, uuid, ip and mac.
    A multi-line step (a heredoc) is matched on its first line. `${var}` is the scenario's
    value, or any word for a value captured at run time. A command that is nearly equal (the
    same program, an option more or less, or 85% similar) matches too, and the step is
    reported as `differs`, with how it was typed.

    Steps and commands are aligned in order, matching as many steps as possible, exactly if
    possible: a step typed in the recording long after (or never) cannot swallow the steps
    around it, and a step with `differs:` is placed only where it costs no other step its
    match. When the speaker typed the matched command again before the next step (waiting for
    a pod, or after a failed try), the first of those repeats whose output passes is used.
    Captures are taken from the recorded outputs, for the expectations of later steps.
    """
    commands = recorded_commands(cast, _unusual_prompt(loaded.scenario.prompt))
    matcher = Matcher(loaded)
    result = CheckResult(str(loaded.path), str(cast))
    visible = [
        (i, s) for i, s in enumerate(loaded.scenario.steps) if s.run is not None and not s.hidden
    ]
    heads = [matcher.head(c.command) for c in commands]
    wanted = [matcher.head(matcher.substitute(s.run or "")) for _, s in visible]
    scores = [[matcher.score(w, h) for h in heads] for w in wanted]
    # a step that differs on purpose is placed only where it costs no other step its match
    weights = [
        [score // EXPLAINED if step.differs else score for score in row]
        for row, (_, step) in zip(scores, visible, strict=True)
    ]
    pairs = align(weights)
    for n, (index, step) in enumerate(visible):
        item = StepCheck(index, step.label(), step.run or "")
        result.steps.append(item)
        at = pairs[n]
        if at is not None:
            following = next((p for p in pairs[n + 1 :] if p is not None), len(commands))
            repeats = [i for i in range(at, following) if scores[n][i] == scores[n][at]]
            at, failures = _first_passing(repeats, commands, step, matcher)
            recorded = commands[at]
            item.found, item.time, item.recorded = True, recorded.time, recorded.command
            if step.capture:
                values, _ = _step_output(commands, at, step, None).capture()
                matcher.values.update(values)
            if scores[n][at] != EXACT:
                failures.insert(0, f"typed differently in the recording: {_short(recorded)!r}")
            item.status = "differs" if failures else "passed"
            item.reason = "; ".join(failures)
        if step.differs:
            item.status, item.reason = "explained", step.differs
    return result


def _unusual_prompt(prompt: str) -> str | None:
    """The scenario's prompt as a regex, when the extractor's own pattern would not know it
    (`$ `, `λ `): a draft `stagecast import` made from such a recording says it there. A
    prompt with bash escapes (`\\u@\\h`) shows differently and is left to the pattern."""
    shown = prompt.replace("\\$", "$").replace("\\\\", "\\")
    if "\\" in shown or PROMPT.match(shown + " ") or not shown.strip():
        return None
    return re.escape(shown)


def _first_passing(
    repeats: list[int], commands: list[RecordedCommand], step: Step, matcher: Matcher
) -> tuple[int, list[str]]:
    """The first repeat whose output passes the step's expectations, else the first one."""
    expect = _output_expect(step, matcher)
    if expect is None:
        return repeats[0], []
    first: list[str] | None = None
    for i in repeats:
        failures = _step_output(commands, i, step, expect).evaluate(None, None, expect)
        if not failures:
            return i, []
        first = failures if first is None else first
    return repeats[0], list(first or [])


def _short(recorded: RecordedCommand) -> str:
    line = recorded.command.split("\n")[0]
    return line if len(line) <= 70 else line[:67] + "..."


# -- reports ---------------------------------------------------------------------------------


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}:{rest:02d}"


STYLES = {"passed": "green", "differs": "red", "explained": "yellow", "not found": "red"}


def print_report(result: CheckResult, console: Any) -> None:
    from rich.table import Table

    table = Table(title=f"{result.scenario} against {result.recording}", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("step", overflow="fold")
    table.add_column("status")
    table.add_column("at", justify="right")
    table.add_column("reason", overflow="fold")
    for item in result.steps:
        status = item.status + (" (found)" if item.status == "explained" and item.found else "")
        table.add_row(
            str(item.index),
            item.label,
            f"[{STYLES[item.status]}]{status}[/]",
            _clock(item.time),
            item.reason,
        )
    console.print(table)
    console.print(result.summary(), style="green" if result.ok else "red", soft_wrap=True)


def result_json(result: CheckResult) -> str:
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False)
