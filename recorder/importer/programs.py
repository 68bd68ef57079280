"""What a typed command started, read from its text (and, for Ctrl-C, from its output):
a comment, a line cancelled at the prompt, a nested shell, a pager or full-screen program and
the keys that leave it, a wait loop, a slip (`command not found`)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from recorder.recording_check.matching import ALIASES

SHELLS = {"bash", "sh", "zsh", "ash", "dash", "ksh", "fish", "busybox"}
CONNECT = {"ssh", "mosh", "telnet", "su", "machinectl", "toolbox", "distrobox", "nsenter"}
# the speaker's session around the demo: the terminal multiplexer
SESSION = {"tmux", "screen", "byobu", "zellij"}
PAGERS = {"less", "more", "most", "man", "view"}
# full-screen programs and the keys that leave them
FULL_SCREEN: dict[str, list[str | dict[str, object]]] = {
    **{name: ["q"] for name in ("less", "more", "most", "man", "top", "htop", "btop", "tig")},
    **{name: ["q"] for name in ("lazygit", "lazydocker", "ncdu", "nvtop", "iftop", "glances")},
    "k9s": [{"key": "ctrl-c"}],
    "watch": [{"key": "ctrl-c"}],
    "vim": [{"key": "esc"}, ":q!\r"],
    "vi": [{"key": "esc"}, ":q!\r"],
    "nvim": [{"key": "esc"}, ":q!\r"],
    "view": [{"key": "esc"}, ":q!\r"],
    "nano": [{"key": "ctrl-x"}],
    "emacs": [{"key": "ctrl-x"}, {"key": "ctrl-c"}],
    "mc": [{"key": "f10"}],
}
CTRL_C: list[str | dict[str, object]] = [{"key": "ctrl-c"}]
ERROR = re.compile(
    r"(?im)^(?:error\b|e\d{4} |fatal\b|.*: command not found$|.*: no such file or directory$|"
    r".*permission denied|the connection to the server .* was refused|.*\bunknown command\b)"
)
NOT_FOUND = re.compile(
    r"(?m)^(?:[\w./-]+: )?(?:line \d+: )?(\S+): (?:command )?not found$|"
    r"^zsh: command not found: (\S+)$"
)


@dataclass
class Program:
    """What a command line started."""

    kind: str = "command"  # command, comment, cancelled, shell, screen, follow, wait, session
    keys: list[str | dict[str, object]] | None = None  # how to leave it (screen, follow)
    inner: str = ""  # a wait loop's command (`watch CMD`)
    note: str = ""  # why it was read so


def words(command: str) -> list[str]:
    """The first line's words, as the shell splits them (roughly, when quotes are open)."""
    line = command.replace("\\\n", " ").split("\n")[0]
    try:
        return shlex.split(line, comments=True)
    except ValueError:
        return line.split()


def _program(argv: list[str]) -> tuple[str, list[str]]:
    """The program a command line runs (`sudo`, `env X=1`, `time` skipped; aliases read)."""
    while argv and (argv[0] in ("sudo", "time", "env", "exec", "nohup") or "=" in argv[0]):
        argv = argv[1:]
        while argv and argv[0].startswith("-") and argv[0] != "-":
            argv = argv[1:]  # sudo -E, env -i: their options
    if not argv:
        return "", []
    name = argv[0].rsplit("/", 1)[-1]
    return ALIASES.get(name, name), argv[1:]


def _interactive_flags(args: list[str]) -> bool:
    """-it, -ti, -i -t, --stdin --tty, before a `--` or the image/command."""
    flags = "".join(a.lstrip("-") for a in args if re.fullmatch(r"-[a-zA-Z]+", a))
    long = {a.split("=")[0] for a in args if a.startswith("--")}
    has_i = "i" in flags or "--stdin" in long or "--interactive" in long
    has_t = "t" in flags or "--tty" in long
    return has_i and has_t


def classify(command: str, output: str = "") -> Program:
    text = command.strip()
    if text.startswith("#"):
        return Program("comment")
    if text.endswith("^C"):
        return Program("cancelled", note="a line cancelled with Ctrl-C at the prompt")
    argv = words(text)
    name, args = _program(argv)
    last_stage = text.replace("\\\n", " ").split("\n")[0].rsplit("|", 1)
    piped = _program(words(last_stage[1]))[0] if len(last_stage) > 1 else ""
    ends_with_ctrl_c = bool(re.search(r"(?m)^\^C|\^C$", output))
    if name in SESSION:
        return Program("session", note=f"`{name}`: the speaker's session around the demo")
    if name == "vagrant" and args[:1] == ["ssh"]:
        return Program("shell", note="`vagrant ssh` opens a shell")
    # nested shells
    if (
        name in SHELLS
        and not any(a in ("-c",) for a in args)
        and not any(a.endswith((".sh", ".bash")) for a in args)
    ):
        return Program("shell", note=f"`{name}` starts a shell")
    if name in CONNECT and (name != "ssh" or len([a for a in args if not a.startswith("-")]) <= 1):
        return Program("shell", note=f"`{name}` opens a shell")
    if name in ("docker", "podman", "nerdctl", "kubectl", "oc", "crictl") and args[:1] in (
        ["exec"],
        ["run"],
        ["attach"],
        ["debug"],
    ):
        if _interactive_flags(args):
            rest = args[args.index("--") + 1 :] if "--" in args else args[-1:]
            shell = _program(rest)[0] in SHELLS or (name == "kubectl" and "--" not in args)
            if shell:
                return Program("shell", note=f"`{name} {args[0]} -it` opens a shell")
    # full-screen programs, pagers at the end of a pipe
    if piped in PAGERS:
        return Program("screen", FULL_SCREEN[piped], note=f"piped into the pager `{piped}`")
    if name == "watch":
        inner = " ".join(a for a in _skip_options(args, ("-n", "--interval", "-d")) if a)
        return Program("wait", CTRL_C, inner, note="`watch` repeats a command: a wait loop")
    if name in FULL_SCREEN:
        return Program("screen", FULL_SCREEN[name], note=f"`{name}` is a full-screen program")
    # programs that run until Ctrl-C
    if name == "kubectl" and ("-w" in args or "--watch" in args or "--watch-only" in args):
        inner = " ".join(a for a in args if a not in ("-w", "--watch", "--watch-only"))
        return Program("wait", CTRL_C, f"kubectl {inner}", note="`kubectl get -w` waits")
    if re.match(r"(until|while)\b", text) and "sleep" in text:
        return Program("wait", None, note="a loop that sleeps until something holds: a wait")
    follows = (
        (name == "tail" and any(a in ("-f", "-F", "--follow") for a in args))
        or (name == "journalctl" and ("-f" in args or "--follow" in args))
        or (
            name in ("kubectl", "docker", "podman", "oc")
            and args[:1] == ["logs"]
            and ("-f" in args or "--follow" in args)
        )
        or name == "stern"
        or (name in ("ping", "tcpdump") and "-c" not in args)
    )
    if follows or ends_with_ctrl_c:
        why = f"`{name}` runs until Ctrl-C" if follows else "the recording shows a Ctrl-C"
        return Program("follow", CTRL_C, note=why)
    return Program("command")


def _skip_options(args: list[str], with_value: tuple[str, ...]) -> list[str]:
    """The command `watch` repeats: its own options (and their values) dropped."""
    out: list[str] = []
    skip = False
    for i, arg in enumerate(args):
        if skip:
            skip = False
            continue
        if not out and arg.startswith("-"):
            skip = arg in with_value[:2]
            continue
        out = args[i:]
        break
    return out


def slip(output: str) -> str | None:
    """The word the shell did not know (`ipa: command not found`): a typo or narration."""
    match = NOT_FOUND.search(output)
    return (match[1] or match[2]) if match else None


def looks_failed(output: str) -> bool:
    return ERROR.search(output) is not None
