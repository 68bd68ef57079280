"""`stagecast import REC.cast`: the recording read, its prompt detected, its commands found,
and the draft scenario written: see the package's docstring for the parts."""

from __future__ import annotations

import re
import time
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recorder.cast.model import Event
from recorder.cast.reader import CastReadError, load_cast
from recorder.errors import CommandError
from recorder.recording_check.commands import (
    PROMPT,
    CommandExtractor,
    RecordedCommand,
    prompt_pattern,
)
from recorder.scenario.masks import BUILTIN_MASKS
from recorder.scenario.model import Step

from . import yaml_writer
from .programs import ALIASES, classify, words
from .prompts import Family, families, guessed_prompt, typed_prompts
from .session import DraftStep, Session, SessionBuilder, wrappers

USAGE = 2
DRAFT_MARK = "# Drafted by `stagecast import`"
ALTERNATE = re.compile(r"\x1b\[\?(?:1049|1047|47)h")
CSI = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]")
# programs a scenario may `require`: ones whose absence a preflight should catch
KNOWN_TOOLS = {
    "kubectl", "docker", "kind", "helm", "k9s", "podman", "minikube", "k3d", "jq", "yq",
    "curl", "git", "terraform", "ansible", "vagrant", "virsh", "ovs-vsctl", "ovn-nbctl",
    "tcpdump", "crictl", "nerdctl", "kustomize", "oc", "aws", "gcloud", "az", "make",
}  # fmt: skip


@dataclass
class ImportResult:
    text: str  # the draft scenario, YAML
    line: str  # what was detected, in one line
    commands: int  # commands found in the recording (comments included)
    steps: int  # steps with a command in the draft
    seconds: float  # how long the import took
    main: str = ""  # the main shell's prompt
    nested: list[str] = field(default_factory=list)


def _refuse(path: Path, message: str) -> CommandError:
    return CommandError(f"{path}: {message}", USAGE)


def _read(path: Path) -> tuple[int, int, list[Event], float | None, str | None]:
    try:
        cast = load_cast(path, errors="replace")
    except CastReadError as exc:
        reason = str(exc)
        if not reason.startswith(str(path)):
            reason = f"{path}: {reason}"
        raise CommandError(
            f"{reason}: give `stagecast import` an asciicast v1, v2 or v3 recording", USAGE
        ) from None
    if cast.width is None or cast.height is None:
        raise _refuse(path, "its header gives no terminal size: it is not a cast asciinema wrote")
    if not any(kind == "o" for _, kind, _ in cast.events):
        raise _refuse(path, "it holds no output events: nothing to import")
    return cast.width, cast.height, list(cast.events), cast.idle_time_limit, cast.title


def _extract(
    cols: int, rows: int, events: list[Event], prompt: str | None
) -> list[RecordedCommand]:
    pattern = prompt_pattern(prompt) if prompt else PROMPT
    return CommandExtractor(cols, rows, pattern).feed(events)


def _hints(events: list[Event]) -> list[tuple[float, str]]:
    """Lines a program printed that say how a shell was opened (k9s' shell banner)."""
    starts, parts, at = [], [], 0
    for t, kind, data in events:
        if kind == "o":
            text = CSI.sub(" ", data)
            starts.append(at)
            parts.append((t, text))
            at += len(text)
    whole = "".join(text for _, text in parts)
    out = []
    for match in re.finditer(r"<<K9s-Shell>>[^\n\r]{0,160}", whole):
        index = bisect_right(starts, match.start()) - 1
        out.append((parts[max(index, 0)][0], " ".join(match[0].split())))
    return out


def import_cast(
    path: str | Path, prompt: str | None = None, title: str | None = None
) -> ImportResult:
    """The draft scenario of a hand-made recording; CommandError (exit 2) when there is none."""
    started = time.perf_counter()
    path = Path(path)
    if prompt is not None:
        try:
            re.compile(prompt)
        except re.error as exc:
            message = f"--prompt {prompt!r}: not a regular expression: {exc}"
            raise CommandError(message, USAGE) from None
    cols, rows, events, idle, cast_title = _read(path)
    how = "given by --prompt" if prompt else "detected"
    commands = _extract(cols, rows, events, prompt)
    real = [c for c in commands if not c.command.startswith("#")]
    if prompt is None and len(real) < 5:  # few found: is the prompt one PROMPT does not know?
        guess = guessed_prompt(typed_prompts(cols, rows, events), 1 if not real else 2)
        if guess is not None and (not real or guess[1] > 2 * len(real)):
            retried = _extract(cols, rows, events, guess[0])
            if len(retried) > len(commands):
                commands, prompt, how = retried, guess[0], "detected where typing starts"
    if not commands:
        full = any(ALTERNATE.search(data) for _, kind, data in events if kind == "o")
        what = (
            "it looks like a recording of a full-screen program only"
            if full
            else "no line where a command was typed after a prompt"
        )
        raise _refuse(
            path,
            f"no shell prompt found ({what}): nothing to import; if it has a prompt "
            "stagecast does not know, give it with --prompt REGEX",
        )
    known = families([c.prompt for c in commands], prompt)
    family_of = [next(k for k, f in known.items() if c.prompt in f.prompts) for c in commands]
    main = prompt if prompt in known else _main(commands, family_of, known)
    session = SessionBuilder(commands, family_of, known, main, _hints(events)).build()
    runs = [s for s in session.steps if s.run is not None and not s.hidden]
    if not runs and not any(s.say for s in session.steps):
        raise _refuse(
            path,
            f"found {len(commands)} command(s), none of them a step of a demo "
            f"({'; '.join(session.left_out)}): nothing to import",
        )
    _markers(session, events)
    nested = [known[f].shown for f in session.shells if f != main]
    text = _write(path, session, known[main], nested, cols, rows, idle, title or cast_title, events)
    ended = time.perf_counter() - started
    shown = known[main].shown.strip()
    line = (
        f"{path}: prompt {shown!r} ({how}"
        + (f"; nested shells: {', '.join(repr(n.strip()) for n in nested)}" if nested else "")
        + f"); {len(commands)} commands found, {len(runs)} steps drafted"
        + (f", {session.left_count} left out" if session.left_count else "")
    )
    return ImportResult(text, line, len(commands), len(runs), ended, shown, nested)


def _main(commands: list[RecordedCommand], family_of: list[str], known: dict[str, Family]) -> str:
    """The family most commands (comments aside) were typed in; the first seen on a tie. Not
    a shell a typed command opened (`docker exec -it … bash` right before its first prompt)."""
    opened = {
        family_of[i + 1]
        for i, command in enumerate(commands[:-1])
        if family_of[i + 1] != family_of[i]
        and family_of[i + 1] not in family_of[:i]
        and classify(command.command).kind == "shell"
        and not _session_only(commands, family_of, family_of[i])
    }
    counts: dict[str, float] = {}
    for command, family in zip(commands, family_of, strict=True):
        if family in opened and len(opened) < len(known):
            continue
        weight = 1.0 if not command.command.startswith("#") else 0.5
        counts[family] = counts.get(family, 0.0) + weight
    return max(counts, key=lambda f: counts[f])


def _session_only(commands: list[RecordedCommand], family_of: list[str], family: str) -> bool:
    """Is this the speaker's session around the demo (only connections typed there)?"""
    return family in wrappers(commands, family_of, main="")


def _markers(session: Session, events: list[Event]) -> None:
    """The cast's own markers, on the first step typed after each."""
    timed = [s for s in session.steps if s.time is not None and not s.hidden]
    for t, kind, label in events:
        if kind != "m":
            continue
        step = next((s for s in timed if s.time is not None and s.time >= t), None)
        if step is None:
            continue
        label = label.strip().replace("${", "$${") or f"marker at {t:.1f} s"
        if step.marker is None:
            default = Step.model_construct(run=step.run, say=step.say).label()
            step.marker = None if label == default else label
        else:
            step.comments.append(f"the recording has another marker here: {label!r}")


def _requires(session: Session) -> list[str]:
    found: dict[str, None] = {}
    for step in session.steps:
        if step.run and not step.hidden:
            argv = words(step.run)
            name = ALIASES.get(argv[0], argv[0]) if argv else ""
            if name in KNOWN_TOOLS:
                found[name] = None
    return list(found)


def _aliases(session: Session) -> list[str]:
    used = []
    for step in session.steps:
        if step.run:
            for alias, program in ALIASES.items():
                if re.search(rf"(^|[|;&(]\s*){alias}(?=\s|$)", step.run, re.M):
                    used.append(f"alias {alias}={program}")
    return list(dict.fromkeys(used))


def _prompt_ps1(prompt: str) -> str:
    """A prompt as shown, as bash's PS1 shows it: backslashes, `$(`, `${`, backquotes."""
    text = prompt.replace("\\", "\\\\").replace("`", "\\`")
    return re.sub(r"\$(?=[({A-Za-z_])", r"\\$", text)


def _write(
    path: Path,
    session: Session,
    main: Family,
    nested: list[str],
    cols: int,
    rows: int,
    idle: float | None,
    title: str | None,
    events: list[Event],
) -> str:
    duration = max((t for t, _, _ in events), default=0.0)
    header = [
        f"{DRAFT_MARK[2:]} from {path.name} ({duration:.0f} s, {cols}x{rows}).",
        "Where the importer had to guess, a comment above the step says what it guessed. Read "
        "them, tidy up (narration, masks, captures for values that change between runs), then "
        f"`stagecast check THIS.yaml --against {path.name}` and `stagecast rehearse THIS.yaml`.",
        f"The main shell's prompt: {main.shown.strip()!r}"
        + (f"; nested shells: {', '.join(repr(n.strip()) for n in nested)}" if nested else ""),
    ]
    if session.left_out:
        header.append("Left out: " + "; ".join(session.left_out) + ".")
    top: dict[str, Any] = {
        "title": title or f"{path.stem} (imported)",
        "terminal": {"cols": min(max(cols, 20), 500), "rows": min(max(rows, 5), 200)},
        "prompt": _prompt_ps1(main.shown),
        "idle_time_limit": idle or 2,
        "timeout": 30,
    }
    comments: dict[str, list[str]] = {
        "terminal": ["the recording's terminal size"],
        "prompt": ["as the recording showed it, working directory included"],
    }
    requires = _requires(session)
    if requires:
        top["requires"] = requires
        comments["requires"] = ["guessed from the programs the steps run"]
    if session.masks:
        top["masks"] = [name for name in BUILTIN_MASKS if name in session.masks]
        comments["masks"] = [
            "proposed: values that vary between runs, as the outputs showed them: "
            + ", ".join(
                f"{name} ({session.masks[name]}, e.g. {session.examples[name]!r})"
                for name in top["masks"]
            )
        ]
    setup: list[tuple[dict[str, Any], list[str]]] = []
    aliases = _aliases(session)
    if aliases:
        setup.append(
            ({"run": "; ".join(aliases)}, ["guessed: the speaker's shell aliases the steps use"])
        )
    steps = [(step.as_dict(), step.comments) for step in session.steps]
    return yaml_writer.write(header, top, comments, {"setup": setup, "steps": steps})


__all__ = ["DRAFT_MARK", "DraftStep", "ImportResult", "import_cast"]
