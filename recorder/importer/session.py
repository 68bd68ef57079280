"""The recorded commands as the steps of one shell session.

The speaker may have typed in several shells (tmux panes, a node's shell, a pod's): the
main shell's commands are steps; a shell entered from it (`docker exec -it … bash`,
`kubectl run -it … -- sh`, a local `bash`) gets `enters` on the command that opened it and
`leaves` on its `exit`. A shell the speaker switched to in another pane, or left with
Ctrl-D, is entered and left by hidden steps, with the command that opened it (seen earlier,
or guessed from its prompt), and a `cd` back to the directory its prompt showed. The
speaker's own session around the demo (the laptop's shell, `ssh`, `tmux attach`) is left
out. `# comment` lines become `say:` narration on the next command; full-screen programs,
pagers and programs that run until Ctrl-C get `keys` that leave them; wait loops get a
`wait_for` or a hidden `retry` before them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from recorder.recording_check.commands import RecordedCommand

from . import expectations
from .programs import Program, classify, looks_failed, slip, words
from .prompts import Family, escape, exit_code, prompt_dir, prompt_host

LEAVE = ("exit", "logout")
K9S_SHELL = re.compile(r"<<K9s-Shell>> Pod: ([\w.-]+)/([\w.-]+) \| Contai\s*ner: ([\w.-]+)")
RS_POD = re.compile(r"^(?P<owner>[\w.-]+?)-[a-f0-9]{8,10}-[a-z0-9]{5}$")
KUBE_KINDS = {
    **dict.fromkeys(("po", "pod", "pods"), "Pod"),
    **dict.fromkeys(("no", "node", "nodes"), "Node"),
    **dict.fromkeys(("ds", "daemonset", "daemonsets"), "DaemonSet"),
    **dict.fromkeys(("deploy", "deployment", "deployments"), "Deployment"),
}
DEFAULT_TIMEOUT = 30


@dataclass
class DraftStep:
    run: str | None = None
    say: str | None = None
    marker: str | None = None
    hidden: bool = False
    enters: dict[str, Any] | None = None
    leaves: bool = False
    timeout: float | None = None
    keys: list[Any] | None = None
    retry: dict[str, Any] | None = None
    expect: dict[str, Any] | None = None
    wait_for: dict[str, Any] | None = None
    comments: list[str] = field(default_factory=list)
    at: int | None = None  # the recorded command it was drafted from
    time: float | None = None
    program: Program | None = None

    def as_dict(self) -> dict[str, Any]:
        """The step as the scenario format spells it, keys in a reader's order."""
        out: dict[str, Any] = {}
        for name in ("say", "marker", "run", "hidden", "enters", "leaves", "timeout"):
            value = getattr(self, name)
            if value not in (None, False):
                out[name] = value
        for name in ("keys", "retry", "expect", "wait_for"):
            value = getattr(self, name)
            if value:
                out[name] = value
        return out


@dataclass
class Session:
    steps: list[DraftStep] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # one line per kind of command left out
    masks: dict[str, int] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)
    shells: list[str] = field(default_factory=list)  # families of the shells entered
    left_count: int = 0  # commands left out


def variables_escaped(text: str) -> str:
    """`${x}` is a stagecast variable: a shell's `${x}` is written `$${x}`."""
    return text.replace("${", "$${")


def _same_pane(a: RecordedCommand, b: RecordedCommand) -> bool:
    if a.pane is None or b.pane is None:
        return True
    return a.pane[2:] == b.pane[2:] and a.pane[0] <= b.pane[1] and b.pane[0] <= a.pane[1]


def _session_like(command: RecordedCommand) -> bool:
    text = command.command.strip()
    if classify(text).kind in ("session", "shell"):
        return True
    argv = words(text)
    return text in (*LEAVE, "clear", "reset") or argv[:1] == ["cd"] or len(argv) == 1


def wrappers(commands: list[RecordedCommand], family_of: list[str], main: str) -> set[str]:
    """Families of the speaker's own session around the demo: shells where only
    connections, `tmux`, `exit`, `clear`, `cd` and bare aliases (`vssh`) were typed."""
    by: dict[str, list[RecordedCommand]] = {}
    for command, family in zip(commands, family_of, strict=True):
        if not command.command.lstrip().startswith("#"):
            by.setdefault(family, []).append(command)
    return {
        family
        for family, typed in by.items()
        if family != main and typed and all(_session_like(c) for c in typed)
    }


class SessionBuilder:
    def __init__(
        self,
        commands: list[RecordedCommand],
        family_of: list[str],
        families: dict[str, Family],
        main: str,
        hints: list[tuple[float, str]],
    ) -> None:
        self.commands, self.family_of = commands, family_of
        self.families, self.main = families, main
        self.hints = hints  # (time, text) of lines that may say how a shell was opened
        self.session = Session()
        self.stack = [main]
        self.parent: dict[str, str] = {}
        self.entered_by: dict[str, str] = {}
        self.say: tuple[str, list[str]] | None = None  # pending narration: its family, lines
        self.last: DraftStep | None = None  # the last command step, for `enters`
        self.last_index = -1
        self.left: dict[str, list[str]] = {}
        self.visible: set[str] = set()  # shells entered by a typed command

    def build(self) -> Session:
        skip = wrappers(self.commands, self.family_of, self.main)
        for i, command in enumerate(self.commands):
            family = self.family_of[i]
            text = command.command.strip()
            program = classify(text, command.output)
            if family in skip:
                self._left("the speaker's session around the demo", text)
                continue
            if program.kind == "cancelled":
                self._left("lines cancelled with Ctrl-C at the prompt", text)
                continue
            if family == self.main and len(self.stack) == 1 and text in LEAVE:
                self._left("`exit` of the main shell", text)
                continue
            if family != self.stack[-1]:
                self._flush_say()
                self._switch(i, family)
            if program.kind == "comment":
                self._narrate(family, text)
                continue
            self._step(i, command, program)
        self._flush_say()
        while len(self.stack) > 1:
            self._leave("the recording ends inside this shell")
        for reason, texts in self.left.items():
            shown = ", ".join(f"`{t}`" for t in dict.fromkeys(texts))
            self.session.left_out.append(f"{reason} ({len(texts)}): {shown}")
        return self.session

    # narration
    def _narrate(self, family: str, text: str) -> None:
        line = variables_escaped(text.lstrip("#").strip())
        if self.say is None or self.say[0] != family:
            self._flush_say()
            self.say = (family, [])
        lines = self.say[1]
        if lines and line.startswith(lines[-1]):
            lines[-1] = line  # the same comment again, finished (the first was cut short)
        elif line:
            lines.append(line)

    def _flush_say(self) -> None:
        if self.say and self.say[1]:
            self.session.steps.append(DraftStep(say="\n".join(self.say[1])))
        self.say = None

    # steps
    def _step(self, i: int, command: RecordedCommand, program: Program) -> None:
        text = command.command.strip("\n")
        step = DraftStep(run=variables_escaped(text), at=i, time=command.time, program=program)
        if self.say and self.say[0] == self.family_of[i] and self.say[1]:
            step.say = "\n".join(self.say[1])
            self.say = None
        self._flush_say()
        if program.kind == "shell":
            nxt = self._next(i)
            if nxt is not None and self.family_of[nxt] == self.family_of[i]:
                if _same_pane(command, self.commands[nxt]):
                    # a shell with the same prompt: nested, the same family once more
                    step.enters = self._prompt_spec(self.family_of[i])
                    step.comments.append(f"{program.note}; its prompt looks like this one's")
                    self._push(self.family_of[i])
        if text in LEAVE and len(self.stack) > 1:
            step.leaves = True
            self.stack.pop()
        self._expect(i, command, program, step)
        self._interactive(i, command, program, step)
        self._timeout(command, step)
        self.session.steps.append(step)
        self.last, self.last_index = step, i

    def _next(self, i: int) -> int | None:
        for j in range(i + 1, len(self.commands)):
            if classify(self.commands[j].command).kind not in ("cancelled",):
                return j
        return None

    def _expect(self, i: int, command: RecordedCommand, program: Program, step: DraftStep) -> None:
        together = [c for c in self.commands if c.time == command.time and c.pane == command.pane]
        if len(together) > 1 and together[-1] is not command:
            step.comments.append(
                "pasted with the next command(s): their output is checked on the last"
            )
            return
        output = command.output
        drafted = expectations.draft(output)
        expect = drafted.expect
        code = self._exit_code(i)
        missing = slip(output)
        if code is not None:
            expect = {"exit": code, **expect}
            if code:
                step.comments.append(f"the prompt after it showed exit code {code}")
        elif missing is not None:
            expect = {"exit": "any", **expect}
            step.comments.append(
                f"the shell did not know `{missing}`: a typo, or narration without its `#`? "
                "Fix or delete this step"
            )
        elif looks_failed(output) and program.kind != "shell":
            expect = {"exit": "any", **expect}
            step.comments.append("guessed: it printed an error, so its exit code is not checked")
        elif program.kind in ("screen", "follow", "wait") and self.stack[-1] == self.main:
            expect = {"exit": "any", **expect}  # left with a key: Ctrl-C exits 130
        for name, n in drafted.masks.items():
            self.session.masks[name] = self.session.masks.get(name, 0) + n
            self.session.examples.setdefault(name, drafted.examples[name])
        if len(output.splitlines()) > 60:
            step.comments.append(
                f"{len(output.splitlines())} lines of output: checks drafted from its "
                "first and last lines"
            )
        step.expect = expect or None

    def _exit_code(self, i: int) -> int | None:
        """The exit code the prompt after this command showed (its shell's next prompt)."""
        family = self.family_of[i]
        after = self.commands[i].after
        if after and re.fullmatch(family, after):
            return exit_code(after, self.families[family])
        for j in range(i + 1, len(self.commands)):
            if self.family_of[j] == family:
                return exit_code(self.commands[j].prompt, self.families[family])
        return None

    def _interactive(
        self, i: int, command: RecordedCommand, program: Program, step: DraftStep
    ) -> None:
        if program.kind not in ("screen", "follow", "wait") or not program.keys:
            if program.kind == "wait":
                step.comments.append(f"{program.note}: on stage, a `retry` or `wait_for`")
            return
        wait = _wait_text(command.output) if program.kind == "follow" else None
        first: list[Any] = [{"wait": wait}] if wait else []
        step.keys = [*first, {"sleep": 2}, *program.keys]
        if self.family_of[i] != self.main:
            step.expect = {k: v for k, v in (step.expect or {}).items() if k != "exit"} or None
        what = "what it showed" if wait else "a moment"
        step.comments.append(f"guessed: {program.note}: wait for {what}, then leave it")
        if program.kind == "wait":
            self._wait_suggestion(i, command, program, step)

    def _wait_suggestion(
        self, i: int, command: RecordedCommand, program: Program, step: DraftStep
    ) -> None:
        """`kubectl get -w` becomes a `wait_for` before it; `watch CMD` a hidden retry of CMD
        until what the watch showed last."""
        argv = words(program.inner)
        if argv[:2] == ["kubectl", "get"] and len(argv) > 2 and argv[2] in KUBE_KINDS:
            kind = KUBE_KINDS[argv[2]]
            wait: dict[str, Any] = {"kind": kind}
            rest = argv[3:]
            name = next((a for a in rest if not a.startswith("-")), None)
            for flag in ("-n", "--namespace"):
                if flag in rest and rest.index(flag) + 1 < len(rest):
                    wait["namespace"] = rest[rest.index(flag) + 1]
                    name = next(
                        (a for a in rest if not a.startswith("-") and a != wait["namespace"]),
                        None,
                    )
            if name:
                wait["name"] = name
            if kind == "Node" and "namespace" in wait:
                del wait["namespace"]
            if kind in ("DaemonSet", "Deployment"):
                wait["rollout"] = True
            else:
                wait["condition"] = "Ready"
            wait["timeout"] = 300
            suggestion = DraftStep(wait_for=wait)
            suggestion.comments.append(
                f"guessed from `{command.command.strip()}`: the wait, through the API and out "
                "of sight; the watch below then shows the end state at once"
            )
            self.session.steps.append(suggestion)
            return
        drafted = expectations.draft(command.output, limit=2).expect
        if program.inner and drafted:
            retry = DraftStep(
                run=variables_escaped(program.inner),
                hidden=True,
                retry={"until": drafted, "timeout": 120, "interval": 2},
            )
            retry.comments.append(
                f"guessed from `{command.command.strip()}`: wait, out of sight, until "
                "`" + program.inner + "` shows what the watch showed last; the watch below "
                "then shows it at once"
            )
            self.session.steps.append(retry)
        else:
            step.comments.append(
                f"suggestion: `{command.command.strip()}` waits for something the recording "
                "does not show (its screen was full-screen): a hidden step with "
                f"`run: {program.inner or '...'}` and `retry: {{until: {{contains: ...}}}}` "
                "could wait for it instead"
            )

    def _timeout(self, command: RecordedCommand, step: DraftStep) -> None:
        if command.done is None:
            return
        took = command.done - command.time
        if took > DEFAULT_TIMEOUT * 0.8 and not step.keys:
            step.timeout = float(int(took * 1.5 / 10 + 1) * 10)
            step.comments.append(f"it took {took:.0f} s in the recording")

    # shells
    def _prompt_spec(self, family: str) -> dict[str, Any]:
        known = self.families[family]
        if known.literal:
            return {"prompt": known.shown}
        return {"prompt": known.regex, "regex": True}

    def _switch(self, i: int, family: str) -> None:
        """The speaker typed in another shell: leave or enter shells to get there."""
        if family in self.stack:
            while self.stack[-1] != family:
                visible = self.stack[-1] in self.visible
                self._leave(
                    "the shell ended without a typed `exit` (Ctrl-D?), or the speaker went "
                    "back to another tmux pane"
                    if visible
                    else "the speaker went back to another shell (another tmux pane?)"
                )
            return
        previous = self.commands[self.last_index] if self.last_index >= 0 else None
        if (
            self.last is not None
            and self.last.program is not None
            and self.last.program.kind in ("shell", "command")
            and self.last_index == self._previous(i)
            and self.family_of[self.last_index] == self.stack[-1]
            and previous is not None
            and _same_pane(previous, self.commands[i])
            and self.last.enters is None
            and (self.last.program.kind == "shell" or len(words(previous.command)) == 1)
        ):
            self.last.enters = self._prompt_spec(family)
            if self.last.program.kind != "shell":
                self.last.comments.append("guessed: this opened the shell whose prompt follows")
            self.parent[family] = self.stack[-1]
            self.entered_by[family] = self.last.run or ""
            self.visible.add(family)
            self._push(family)
            self._reset_keys(self.last)
            return
        parent = self.parent.get(family, self.main)
        while len(self.stack) > 1 and self.stack[-1] != parent:
            self._leave("the speaker went to another shell (another tmux pane?)")
        run, why = self._entry(i, family)
        step = DraftStep(run=run, hidden=True, enters=self._prompt_spec(family))
        step.comments.append(why)
        self.session.steps.append(step)
        self.parent[family] = self.stack[-1]
        self.entered_by.setdefault(family, run)
        self._push(family)
        where = prompt_dir(self.commands[i].prompt)
        if where and where not in ("/",):
            cd = DraftStep(run=f"cd {where}", hidden=True)
            cd.comments.append(f"back where its prompt showed: {where}")
            self.session.steps.append(cd)

    def _push(self, family: str) -> None:
        self.stack.append(family)
        if family not in self.session.shells:
            self.session.shells.append(family)

    @staticmethod
    def _reset_keys(step: DraftStep) -> None:
        if step.program is not None and step.program.kind == "shell":
            step.keys = None

    def _previous(self, i: int) -> int:
        for j in range(i - 1, -1, -1):
            if classify(self.commands[j].command).kind != "cancelled":
                return j
        return -1

    def _leave(self, why: str) -> None:
        step = DraftStep(run="exit", hidden=True, leaves=True)
        step.comments.append(f"guessed: {why}: this shell is left here, out of sight")
        self.session.steps.append(step)
        self.visible.discard(self.stack.pop())

    def _entry(self, i: int, family: str) -> tuple[str, str]:
        """The command that opens this shell: seen before, or guessed from its prompt."""
        known = self.entered_by.get(family)
        if known:
            return known, (
                "the speaker typed in this shell again (another tmux pane?): re-entered out "
                "of sight, as it was opened before"
            )
        first = self.commands[i]
        prompt = self.families[family].shown
        for time, text in reversed(self.hints):
            match = K9S_SHELL.search(text)
            if match and time <= first.time and first.time - time < 600:
                namespace, pod, container = match.groups()
                owner = RS_POD.match(pod)
                target = f"deploy/{owner['owner']}" if owner else pod
                shell = "sh" if re.fullmatch(r"[/~]\S* [#$] ", prompt) else "bash"
                return (
                    f"kubectl exec -it -n {namespace} {target} -c {container} -- {shell}",
                    f"guessed: the speaker opened this shell from k9s (pod {pod}, container "
                    f"{container}); here with kubectl exec, out of sight",
                )
        host = prompt_host(prompt)
        if host is not None:
            _, name = host
            for earlier in self.commands[:i]:
                argv = words(earlier.command)
                if argv[:2] in (["docker", "exec"], ["podman", "exec"]) and name in argv:
                    return (
                        f"{argv[0]} exec -it {name} bash",
                        f"guessed: a shell in the container {name} (the prompt's host), "
                        "opened out of sight",
                    )
            if name.startswith("kind-"):
                return (
                    f"docker exec -it {name} bash",
                    f"guessed: a shell on the kind node {name} (the prompt's host), opened "
                    "out of sight",
                )
        if re.fullmatch(r"[/~]\S* [#$] ", prompt):
            for earlier in reversed(self.commands[:i]):
                argv = words(earlier.command)
                if argv[:2] in (["kubectl", "run"], ["k", "run"]) and len(argv) > 2:
                    pod = argv[2]
                    return (
                        f"kubectl exec -it {pod} -- sh",
                        f"guessed: a shell in the pod {pod} (the last one `kubectl run` made), "
                        "opened out of sight",
                    )
        return (
            "bash",
            f"guessed: the shell of `{prompt.strip()}` was opened out of sight: replace "
            "`bash` with the command that opens it",
        )

    def _left(self, reason: str, text: str) -> None:
        self.session.left_count += 1
        self.left.setdefault(reason, []).append(text.split("\n")[0][:60])


def _wait_text(output: str) -> str | None:
    """A regex for a telling piece of the last lines a following program printed."""
    for line in reversed(output.splitlines()[-20:]):
        line = line.strip()
        if expectations.telling(line) and not expectations.spans(line) and "^C" not in line:
            return escape(expectations.cut(line, 40))
    return None
