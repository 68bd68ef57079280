"""Prompt detection: which shell each command was typed in, which one is the main shell, and
whether its prompt shows the last exit code.

A shell's prompt changes with its working directory (`root@kind-worker:/etc# `,
`[vagrant@fedora ~]$ `), so each prompt is generalised into a *family*: a regex with the
directory left open. The main shell is the family most commands were typed in (or the one
`--prompt` names). A recording whose prompt the extractor's own pattern does not know
(`$ `, `λ `) is scanned for the text in front of the cursor whenever the speaker starts
typing: the commonest such text is taken as the prompt.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyte

from recorder.cast.model import Event

# `user@host:DIR# ` (Debian's default), `[user@host DIR]$ ` (Fedora's), a busybox `DIR # `
_COLON = re.compile(r"(?P<head>[\w.-]+@[\w.-]+:)(?P<dir>[^\s#$%]*)(?P<tail>[#$%] )")
_BRACKET = re.compile(r"(?P<head>\[[\w.-]+@[\w.-]+ )(?P<dir>[^\]\s]*)(?P<tail>\][#$%] )")
_PATH = re.compile(r"(?P<head>)(?P<dir>[/~][^\s]*)(?P<tail> [#$%] )")
# an exit code shown in the prompt: `[1] `, `(130) `, `✘ 1 `, or a number field that varies
_EXIT_TOKEN = re.compile(r"\[(\d{1,3})\]|\((\d{1,3})\)|✘ ?(\d{1,3})")


def escape(text: str) -> str:
    """`re.escape` for readers: only the characters a regex gives a meaning to."""
    return re.sub(r"([.^$*+?{}\[\]\\|()])", r"\\\1", text)


def family_regex(prompt: str) -> str:
    """A regex for this prompt with its working directory and its numbers left open (a
    number on its own, as `[1]` or `✘ 130`, is the last exit code, or a counter)."""
    parts = _NUMBER.split(prompt)
    if len(parts) > 1:
        return r"\d+".join(_family_regex(part) if part else "" for part in parts)
    return _family_regex(prompt)


_COMMENT = re.compile(r"#\s*[A-Za-z]")  # narration being typed, not a prompt
_PROMPT_SIGN = re.compile(r"(?:[$#%>❯»λ→➜:)\]]|\?-) $")  # how prompts end (Prolog's `?- `)
_PROMPT_END = re.compile(r"(.*[$#%>❯»λ→➜] )\S{1,3}$")
_NUMBER = re.compile(r"(?<![\w.-])\d{1,3}(?![\w.-])")


def _family_regex(prompt: str) -> str:
    for pattern in (_COLON, _BRACKET, _PATH):
        match = _at_end(pattern, prompt)
        if match:
            sign = match["tail"].strip()[-1]
            open_dir = r"[^\]\n]*" if pattern is _BRACKET else rf"[^{escape(sign)}\s]*"
            if pattern is _PATH:
                open_dir = r"[/~]\S*"
            before = escape(prompt[: match.start()])
            return before + escape(match["head"]) + open_dir + escape(match["tail"])
    return escape(prompt)


def _at_end(pattern: re.Pattern[str], prompt: str) -> re.Match[str] | None:
    """The pattern's match that ends the prompt (what comes before it is kept as is)."""
    for match in pattern.finditer(prompt):
        if match.end() == len(prompt) and (match.start() == 0 or prompt[match.start() - 1] == " "):
            return match
    return None


@dataclass
class Family:
    """The prompts of one shell."""

    regex: str
    prompts: Counter[str] = field(default_factory=Counter)
    commands: int = 0

    @property
    def shown(self) -> str:
        """The prompt as most often shown."""
        return self.prompts.most_common(1)[0][0]

    @property
    def literal(self) -> bool:
        return self.regex == escape(self.shown)


def families(prompts: Iterable[str], main: str | None = None) -> dict[str, Family]:
    """The prompt families, by regex; a prompt `main` (a regex) matches goes in its family."""
    out: dict[str, Family] = {}
    for prompt in prompts:
        if main is not None and re.fullmatch(main, prompt):
            key = main
        else:
            key = family_regex(prompt)
        family = out.setdefault(key, Family(key))
        family.prompts[prompt] += 1
        family.commands += 1
    return out


def exit_code(prompt: str, family: Family) -> int | None:
    """The exit code a prompt of this family shows, when its prompts show one."""
    shown = [p for p in family.prompts if _EXIT_TOKEN.search(p)]
    if shown:
        match = _EXIT_TOKEN.search(prompt)
        if match is None:
            return 0 if len(shown) < len(family.prompts) else None
        return int(next(g for g in match.groups() if g is not None))
    # a number field that varies between prompts otherwise the same: 0, 1, 127...
    skeletons = {re.sub(r"\d+", "#", p) for p in family.prompts}
    if len(family.prompts) < 2 or len(skeletons) != 1:
        return None
    fields = [re.findall(r"\d+", p) for p in family.prompts]
    varying = [
        i for i in range(len(fields[0])) if len({f[i] for f in fields}) > 1 and
        all(int(f[i]) <= 255 for f in fields) and any(f[i] == "0" for f in fields)
    ]  # fmt: skip
    if len(varying) != 1:
        return None
    return int(re.findall(r"\d+", prompt)[varying[0]])


def typed_prompts(cols: int, rows: int, events: Iterable[Event]) -> Counter[str]:
    """The text in front of the cursor each time the speaker starts typing (a one-character
    echo after anything else), as often as seen: the prompt is the commonest."""
    screen = pyte.Screen(cols, rows)
    stream = pyte.Stream(screen)
    seen: Counter[str] = Counter()
    typing = False
    for _, kind, data in events:
        if kind != "o":
            continue
        key = len(data) == 1 and data.isprintable()
        if key and not typing and screen.cursor.x > 0:
            line = screen.buffer[screen.cursor.y]
            text = "".join(line[x].data for x in range(screen.cursor.x))
            if not text.endswith(" "):  # the prompt and the first key in one write
                head = _PROMPT_END.match(text)
                text = head[1] if head else ""
            telling = _PROMPT_SIGN.search(text) and not _COMMENT.match(text.lstrip())
            if text.strip() and len(text) <= 60 and telling:
                seen[text.lstrip()] += 1
        typing = key
        try:
            stream.feed(data)
        except Exception:  # noqa: BLE001 - pyte on malformed input: the scan is a hint only
            screen.reset()
    return seen


def guessed_prompt(seen: Counter[str], least: int = 2) -> tuple[str, int] | None:
    """The prompt regex the typing scan points at, and how often it was seen (at least
    `least` times): families counted together (the directory left open)."""
    counts: Counter[str] = Counter()
    for text, n in seen.items():
        counts[family_regex(text)] += n
    if not counts:
        return None
    regex, n = counts.most_common(1)[0]
    return (regex, n) if n >= least else None


def prompt_dir(prompt: str) -> str | None:
    """The working directory a prompt shows (`/etc/cni/net.d`, `~`), if it shows one."""
    for pattern in (_COLON, _BRACKET, _PATH):
        match = _at_end(pattern, prompt)
        if match and match["dir"]:
            return match["dir"]
    return None


def prompt_host(prompt: str) -> tuple[str, str] | None:
    """(user, host) of a `user@host` prompt."""
    match = re.match(r"\[?([\w.-]+)@([\w.-]+)", prompt)
    return (match[1], match[2]) if match else None
