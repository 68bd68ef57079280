"""Matching a scenario's steps with the commands found in a recording: both normalised
(aliases, spellings kubectl takes as the same, variables, masks) and scored, then aligned in
order."""

from __future__ import annotations

import difflib
import re

from recorder.scenario.loader import LoadedScenario
from recorder.scenario.masks import BUILTIN_MASKS, apply_masks, compile_masks
from recorder.scenario.rules import VARIABLE, unbraced

FUZZY_RATIO = 0.85
EXACT, NEAR = 100, 90  # alignment weights: as many steps as possible, exactly if possible
ALIASES = {"k": "kubectl", "kubecolor": "kubectl"}  # the speaker's shell aliases
ALIAS = re.compile(r"(^|[|;&(]\s*)(k|kubecolor)(?=\s|$)")
# In a command line `ovn-sbctl` or `-owide` must not read as a pod name's random suffix: mask
# one only after a ReplicaSet hash, or with a digit in it (kube-proxy-2598l, coredns-...-srqrz)
COMMAND_MASKS = {
    "pod-suffix": r"(?<=[a-z0-9]-)(?:[a-f0-9]{8,10}-[a-z0-9]{5}|(?=[a-z]*\d)[a-z0-9]{5})\b"
}
KINDS = {
    **dict.fromkeys(("po", "pods"), "pod"),
    **dict.fromkeys(("no", "nodes"), "node"),
    **dict.fromkeys(("service", "services"), "svc"),
    **dict.fromkeys(("endpoint", "endpoints"), "ep"),
    **dict.fromkeys(("deployment", "deployments"), "deploy"),
    **dict.fromkeys(("daemonset", "daemonsets"), "ds"),
    **dict.fromkeys(("namespace", "namespaces"), "ns"),
}
KUBE_KIND = re.compile(r"(\bkubectl\s+(?:get|describe|delete|edit)\s+)([a-z]+)\b")

ANY = "\x00"  # stands for a value the check cannot know (an uncaptured ${name})


class Matcher:
    """Normalises and scores command lines, with the scenario's variables and masks."""

    def __init__(self, loaded: LoadedScenario) -> None:
        scenario = loaded.scenario
        # masks for command lines: the scenario's own regexes, and the built-ins that name
        # volatile values a command can hold (ages, times and counters are output-only)
        custom = [m for m in scenario.masks if not isinstance(m, str)]
        self.masks = compile_masks(custom) + [
            (name, re.compile(COMMAND_MASKS.get(name, BUILTIN_MASKS[name])))
            for name in ("pod-suffix", "container-id", "uuid", "ip", "mac")
        ]
        self.values = {name: str(value) for name, value in scenario.vars.items()}
        self.env = set(scenario.env)

    def substitute(self, text: str, unknown: str = ANY) -> str:
        def replace(match: re.Match[str]) -> str:
            escaped, name = match.group(1), match.group(2)
            if escaped or name in self.env:
                return "${" + name + "}"
            return self.values.get(name, unknown)

        return VARIABLE.sub(replace, text)

    def head(self, command: str) -> str:
        """The first logical line (continuations joined), normalised and masked."""
        joined = command.strip().replace("\\\n", "")  # bash drops backslash-newline
        lines = [self._line(line) for line in joined.split("\n")]
        return next((line for line in lines if line), "")

    def _line(self, line: str) -> str:
        bare = re.sub(r"(^|\s)#\s.*$", "", line)
        line = bare if bare.strip() else line
        line = " ".join(line.split()).rstrip(";").rstrip()
        line = ALIAS.sub(lambda m: m[1] + ALIASES[m[2]], line)
        line = unbraced(line)  # ${DP} is $DP
        if "kubectl" in line:  # spellings kubectl takes as the same
            line = re.sub(r"(?<=\s)(?:-o|--output)(?:\s+|=)(?=\w)", "-o", line)
            line = KUBE_KIND.sub(lambda m: m[1] + KINDS.get(m[2], m[2]), line)
        return apply_masks(line, self.masks)

    def score(self, wanted: str, got: str) -> int:
        """EXACT when equal once normalised, NEAR when nearly, else 0."""
        if not wanted or not got:
            return 0
        if ANY not in wanted:
            if wanted == got:
                return EXACT
        else:
            pattern = r"\S+".join(re.escape(part) for part in wanted.split(ANY))
            if re.fullmatch(pattern, got):
                return EXACT
        ours, theirs = wanted.replace(ANY, "").split(), got.split()
        if ours[:1] != theirs[:1] or len(ours) < 2 or len(theirs) < 2:
            return 0
        if set(ours) <= set(theirs) or set(theirs) <= set(ours):
            return NEAR  # the same command with an option more or less
        ratio = difflib.SequenceMatcher(None, " ".join(ours), got).ratio()
        return NEAR if ratio >= FUZZY_RATIO else 0


def align(scores: list[list[int]]) -> list[int | None]:
    """For each step, the recorded command it matches, keeping the order of both and
    matching as many steps as possible (exactly if possible); among equal choices, commands
    are used in order: a step typed only much later is left unmatched."""
    n = len(scores)
    m = len(scores[0]) if scores else 0
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            take = scores[i][j] + best[i + 1][j + 1] if scores[i][j] else 0
            best[i][j] = max(take, best[i + 1][j], best[i][j + 1])
    pairs: list[int | None] = [None] * n
    i = j = 0
    while i < n and j < m:
        if scores[i][j] and best[i][j] == scores[i][j] + best[i + 1][j + 1]:
            pairs[i] = j
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1  # this step cannot be matched here without losing a later one
        else:
            j += 1
    return pairs
