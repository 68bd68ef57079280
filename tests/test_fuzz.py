"""Fuzzing the scenario loader: malformed input is one error line, never a traceback, and
nothing runs.

Inputs are mutations of one valid scenario (plus the steps file it includes): structural ones
on its parsed data (wrong types, unknown, missing and misspelt keys, bad regexes and key names,
negative and huge numbers, deep nesting, non-mapping roots, includes of missing files), YAML
syntax ones on its text (duplicate keys, tabs, bad indentation, unclosed quotes and brackets,
tags, aliases, binary garbage), and raw edits (characters deleted, inserted, replaced).

`load_scenario` must either accept the result (then the example says nothing and is skipped)
or raise `ScenarioError` whose str() is one line, `<file>:<line>[:<col>]: <message>`, naming
the scenario or the file it includes. Any other exception fails the test. A smaller sample
runs the real CLI (`stagecast rehearse`): exit 2, one stderr line in that format, no
traceback, and nothing ran: every step of the base scenario would `touch CANARY` (the shell
starts in the scenario's directory), and the directory must hold only the files written.

The quick tests run by default, derandomized; the `slow` ones run 1,000 examples.
"""

from __future__ import annotations

import copy
import re
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import run_cli
from recorder.errors import ScenarioError
from recorder.scenario.loader import load_scenario

MAIN, MORE = "main.yaml", "more.yaml"
CANARY = "CANARY"
BASE = textwrap.dedent(
    """\
    title: "fuzz base"
    terminal: {cols: 80, rows: 24}
    prompt: "fuzz$ "
    typing: {cps: 100, think: 0, seed: 1}
    idle_time_limit: 1
    timeout: 5
    requires: [bash, touch]
    env:
      PLAIN: value
      NUMBER: 3
    vars:
      name: world
    redact: ['s3cr[e]t']
    setup:
      - run: touch CANARY
    steps:
      - say: Hello
        marker: Greeting
        run: echo "hello ${name}" && touch CANARY
        timeout: 10
        expect: {exit: 0, contains: hello, regex: ['hel+o'], lines: ['^hello world$']}
      - run: printf 'apple\\nbanana\\n'; touch CANARY
        capture: {first: '^(\\w+)$'}
      - run: echo "${first}"; touch CANARY
        expect: {exit: [0, 1], not_contains: nope}
      - run: cat; touch CANARY
        keys:
          - text: "hi\\r"
          - {key: ctrl-d, times: 1}
          - {wait: 'hi'}
          - {sleep: 0.1}
      - run: touch CANARY
        retry: {until: {exit: 0}, timeout: 5, interval: 1}
      - include: more.yaml
    teardown:
      - run: touch CANARY
    """
)
BASE_DATA = yaml.safe_load(BASE)
INCLUDED = "- run: echo more; touch CANARY\n  expect: {contains: more}\n"
ERROR_LINE = re.compile(r"(?P<file>.+?):(?P<line>[1-9]\d*)(?::(?P<col>[1-9]\d*))?: (?P<msg>.+)")
HEALTH = [
    HealthCheck.function_scoped_fixture,
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
    HealthCheck.large_base_example,
]

Files = dict[str, bytes]  # file name -> content; MAIN is the scenario given to the loader
Path_ = tuple[Any, ...]  # a path into the parsed scenario


# --- structural mutations, on the parsed scenario ------------------------------------------

# fmt: off
BAD_STRINGS = [
    "", " ", "(", "[", "*", "+x", "a{1", "(?P<x>", "(?<!a+)b", "\\", "[z-a]", "ctrl-", "ctrl-1",
    "ctrl-ctrl-c", "f99", "shift-up", "enter ", "any", "all", "-1", "1e999", "${undefined}", "${",
    "${1x}", "$${HOME}", "${name", "a\nb", "a\rb", "\t", "\x00", "\x1b[31m", "\x85", "\u2028",
    "é", "../../etc/passwd", "/dev/null", "~", "null", "true", "yes", "0x1F", "1_000", ".inf",
    "bash -c", "zsh", "a" * 300,
]
KEY_TYPOS = [
    "titel", "stpes", "expct", "exit_code", "setps", "tearDown", "Steps", "run ", "a b", "1", "-",
    "<<", "a\nb", "a\rb", "é", "${x}", "x" * 200, "include", "keys", "env",
]
INCLUDE_NAMES = [
    "missing.yaml", "../nope.yaml", "", ".", "dir/", MAIN, MORE, "/dev/null", "/", "a\x00b",
    "x" * 300, "a\nb.yaml", "more.yaml ", 5, None, ["more.yaml"],
]
# fmt: on
KEY_NAMES = st.one_of(
    st.sampled_from(KEY_TYPOS), st.from_regex(r"[a-z_]{1,12}", fullmatch=True), st.text(max_size=8)
)


def _nested(depth: int, leaf: Any, as_dict: bool) -> Any:
    for _ in range(depth):
        leaf = {"a": leaf} if as_dict else [leaf]
    return leaf


BAD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.sampled_from([-1, 0, -(10**30), 10**30, 2**63, -(2**63) - 1, 10**200]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(BAD_STRINGS),
    st.text(max_size=30),
    st.lists(st.one_of(st.integers(), st.sampled_from(BAD_STRINGS)), max_size=3),
    st.dictionaries(KEY_NAMES, st.one_of(st.integers(), st.text(max_size=5)), max_size=3),
    st.builds(_nested, st.integers(1, 150), st.sampled_from([1, "x", None]), st.booleans()),
)
INCLUDES = st.one_of(st.sampled_from(INCLUDE_NAMES), st.text(max_size=20))


def _paths(data: Any, here: Path_ = ()) -> list[Path_]:
    """Every path to a value in `data`, the root excluded."""
    out: list[Path_] = []
    items = (
        data.items()
        if isinstance(data, dict)
        else enumerate(data)
        if isinstance(data, list)
        else ()
    )
    for key, value in items:
        out.append(here + (key,))
        out += _paths(value, here + (key,))
    return out


def _parent(data: Any, path: Path_) -> Any:
    for key in path[:-1]:
        data = data[key]
    return data


def _typo(name: str, pos: int, char: str) -> str:
    if not name:
        return char
    pos %= len(name)
    return name[:pos] + char + name[pos + 1 :] if pos % 2 else name[:pos] + name[pos + 1 :]


@st.composite
def structural_op(draw: st.DrawFn) -> Callable[[Any], Any]:
    """One change to the parsed scenario; returns a function from data to new data."""
    op = draw(
        st.sampled_from(
            ["set", "set", "set", "delete", "add_key", "rename_key", "wrap", "root", "include"]
        )
    )
    pick = draw(st.integers(0, 10**6))
    value = draw(BAD_VALUES)
    key = draw(KEY_NAMES)
    typo_at, typo_char = draw(st.integers(0, 50)), draw(st.sampled_from("aeiostx_-"))
    include = draw(INCLUDES)
    include_extra = draw(st.booleans())

    def apply(data: Any) -> Any:
        paths = _paths(data)
        if op == "root" or not paths:
            return value if not isinstance(value, dict) else [value]
        path = paths[pick % len(paths)]
        parent = _parent(data, path)
        if op == "set":
            parent[path[-1]] = value
        elif op == "delete":
            del parent[path[-1]]
        elif op == "wrap":
            parent[path[-1]] = [parent[path[-1]]] if pick % 2 else {key: parent[path[-1]]}
        elif op in ("add_key", "rename_key"):
            dicts = [p for p in paths if isinstance(_parent(data, p), dict)]
            path = dicts[pick % len(dicts)] if dicts else path
            parent = _parent(data, path)
            if isinstance(parent, dict):
                if op == "add_key":
                    parent[key] = value
                else:
                    parent[_typo(str(path[-1]), typo_at, typo_char)] = parent.pop(path[-1])
        elif op == "include":
            steps = data.setdefault("steps", []) if isinstance(data, dict) else None
            if isinstance(steps, list):
                item = {"include": include, **({"run": "x"} if include_extra else {})}
                steps.insert(pick % (len(steps) + 1), item)
        return data

    apply.__name__ = op
    return apply


@st.composite
def structural(draw: st.DrawFn) -> Files:
    ops = draw(st.lists(structural_op(), min_size=1, max_size=3))
    data: Any = copy.deepcopy(BASE_DATA)
    for apply in ops:
        data = apply(data)
    event(f"structural: {'+'.join(apply.__name__ for apply in ops)}")
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=draw(st.booleans()))
    return {MAIN: text.encode("utf-8", "surrogatepass"), MORE: INCLUDED.encode()}


# --- YAML syntax mutations and raw edits, on the text ---------------------------------------

# fmt: off
TAGS = [
    "!!int ", "!!float ", "!!bool ", "!!timestamp ", "!!binary ", "!!null ", "!!str ", "!!set ",
    "!!omap ", "!!pairs ", "!!map ", "!!seq ", "!foo ", "!<tag:x> ", "!!python/object:os.system ",
    "&anchor ", "*nope ",
]
SNIPPETS = [
    '"', "'", "[", "{", "]", "}", ": ", " :", "- ", "#", "|", ">", "&a ", "*a", "!", "%", "@", "`",
    "\t", "\n", "\r\n", "\x00", "\ufeff", "---\n", "...\n", "<<: *a\n", "? ", ",",
]
ROOTS = [
    "", "\n", "# only a comment\n", "---\n...\n", "~\n", "42\n", "just a string\n", "- a\n- b\n",
    "[1, 2]\n", "!!binary aGk=\n", "&a [*a]\n", "title: t\n---\ntitle: u\n", "title: t\n\x00",
]
HUGE_NUMBERS = [
    "9" * 20, "9" * 400, "9" * 5000, "1e999", "-1e999", ".nan", "-.inf", "0x" + "f" * 40, "-0",
    "1_000_000",
]
SYNTAX_MUTATIONS = [
    "duplicate", "tab", "indent", "dedent", "tag", "snippet", "garbage", "huge", "deep", "root",
    "alias", "included",
]
# fmt: on


def _lines_op(text: str, pick: int, how: str, extra: str) -> str:
    lines = text.split("\n")
    i = pick % len(lines)
    line = lines[i]
    indent = len(line) - len(line.lstrip(" "))
    if how == "duplicate":
        keyed = [n for n, ln in enumerate(lines) if re.match(r"\s*[A-Za-z_]+:", ln)]
        i = keyed[pick % len(keyed)]
        match = re.match(r"(\s*(?:- )?)([A-Za-z_]+):", lines[i])
        assert match is not None
        pad = " " * len(match.group(1))
        # before a plain key (its block value stays its own); after a list item's first key
        lines.insert(i + 1 if "- " in match.group(1) else i, f"{pad}{match.group(2)}: duplicate")
    elif how == "tab":
        lines[i] = "\t" + line.lstrip(" ") if indent else "\t" + line
    elif how == "indent":
        lines[i] = " " * (pick % 3 + 1) + line
    elif how == "dedent":
        lines[i] = line[min(indent, pick % 3 + 1) :]
    elif how == "tag":
        colon = line.find(": ")
        if colon != -1:
            lines[i] = line[: colon + 2] + extra + line[colon + 2 :]
    return "\n".join(lines)


@st.composite
def syntax(draw: st.DrawFn) -> Files:
    how = draw(st.sampled_from(SYNTAX_MUTATIONS))
    event(f"syntax: {how}")
    text, more = BASE, INCLUDED
    pick = draw(st.integers(0, 10**6))
    main: bytes
    if how in ("duplicate", "tab", "indent", "dedent", "tag"):
        text = _lines_op(text, pick, how, draw(st.sampled_from(TAGS)))
    elif how == "snippet":
        at = pick % (len(text) + 1)
        text = text[:at] + draw(st.sampled_from(SNIPPETS)) + text[at:]
    elif how == "huge":
        digits = draw(st.sampled_from(HUGE_NUMBERS))
        numbers = list(re.finditer(r"(?<=[ \[])\d+(?:\.\d+)?(?=[,}\]\n])", text))
        m = numbers[pick % len(numbers)]
        text = text[: m.start()] + digits + text[m.end() :]
    elif how == "deep":
        depth = draw(st.sampled_from([10, 100, 500, 1000, 3000, 10000]))
        opening, closing = draw(st.sampled_from([("[", "]"), ("{a: ", "}")]))
        nest = opening * depth + "1" + closing * depth
        text = text.replace("vars:\n  name: world", f"vars:\n  name: {nest}")
    elif how == "root":
        text = draw(st.sampled_from(ROOTS))
    elif how == "alias":
        alias = draw(st.sampled_from(["&v {a: *v}", "&v [*v]", "*undefined", "&v x", "&v [1, *v]"]))
        text = text.replace("name: world", f"name: {alias}")
    elif how == "included":
        at = pick % (len(more) + 1)
        more = more[:at] + draw(st.sampled_from(SNIPPETS + TAGS)) + more[at:]
    main = text.encode("utf-8", "surrogatepass")
    if how == "garbage":
        at = pick % (len(main) + 1)
        main = main[:at] + draw(st.binary(min_size=1, max_size=16)) + main[at:]
    return {MAIN: main, MORE: more.encode("utf-8", "surrogatepass")}


EDIT_CHARS = st.one_of(st.sampled_from(list(":-[]{}\"'#&*!|>%@`,?\t\n \\$")), st.characters())


@st.composite
def raw_edits(draw: st.DrawFn) -> Files:
    """Characters of the valid scenario deleted, inserted or replaced at random."""
    text = BASE
    edits = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["delete", "insert", "replace"]), st.integers(0, 10**6), EDIT_CHARS
            ),
            min_size=1,
            max_size=8,
        )
    )
    for how, pick, char in edits:
        at = pick % (len(text) + (how == "insert"))
        if how == "delete":
            text = text[:at] + text[at + 1 :]
        elif how == "insert":
            text = text[:at] + char + text[at:]
        else:
            text = text[:at] + char + text[at + 1 :]
    event(f"raw: {len(edits)} edits")
    return {MAIN: text.encode("utf-8", "surrogatepass"), MORE: INCLUDED.encode()}


MALFORMED = st.one_of(structural(), syntax(), raw_edits())


# --- checks --------------------------------------------------------------------------------


def write_files(folder: Path, files: Files) -> Path:
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return folder / MAIN


def assert_error_line(message: str, folder: Path) -> None:
    """One line, `file:line[:col]: message`, naming a file of this scenario. A control
    character echoed from the input (a newline in a key, an escape sequence) would break
    the line or drive the user's terminal, so none may appear."""
    bad = sorted({ch for ch in message if not (ch.isprintable() or ch == "\t")})
    assert not bad, f"not one printable line (has {bad!r}): {message!r}"
    match = ERROR_LINE.fullmatch(message)
    assert match, f"not file:line[:col]: message: {message!r}"
    named = Path(match["file"])
    assert named.parent.resolve() == folder.resolve(), f"names another file: {message!r}"
    assert named.name in (MAIN, MORE), f"names another file: {message!r}"


def load_error(main: Path) -> str | None:
    """The loader's one-line error, or None when the mutation left a valid scenario."""
    try:
        load_scenario(main)
    except ScenarioError as exc:
        return str(exc)
    return None


def check_in_process(folder: Path, files: Files) -> str | None:
    main = write_files(folder, files)
    message = load_error(main)
    if message is None:
        return None
    assert_error_line(message, folder)
    return message


def check_cli(folder: Path, files: Files) -> bool:
    """False when the scenario is valid: it would run its steps, not what this is about."""
    message = check_in_process(folder, files)
    if message is None:
        return False
    done = run_cli("rehearse", str(folder / MAIN), timeout=60)
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    assert done.returncode == 2, (done.returncode, output)
    lines = done.stderr.splitlines()
    assert len(lines) == 1, f"stderr is not one line: {done.stderr!r}"
    assert_error_line(lines[0], folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted(files), "a step ran"
    assert not (folder / CANARY).exists()
    return True


def test_the_base_scenario_is_valid(tmp_path: Path) -> None:
    """Otherwise every mutation would be refused for the same reason."""
    write_files(tmp_path, {MAIN: BASE.encode(), MORE: INCLUDED.encode()})
    loaded = load_scenario(tmp_path / MAIN)
    assert len(loaded.scenario.steps) == 6
    assert all(CANARY in (s.run or "") for s in loaded.scenario.setup + loaded.scenario.steps)


# Inputs the fuzzer found, kept as regression cases: (id, text of main.yaml); each must be
# refused with one printable line. `@@` stands for the rest of a valid scenario.
VALID_REST = "title: t\nsteps: [{run: touch CANARY}]\n"
FOUND = [
    ("control-character-in-file", "title: t\x07\nsteps: [{run: touch CANARY}]\n"),
    ("unknown-tag", "title: !foo t\nsteps: [{run: touch CANARY}]\n"),
    ("python-tag", "title: !!python/object:os.system t\nsteps: [{run: touch CANARY}]\n"),
    ("bad-binary", "title: !!binary abc\nsteps: [{run: touch CANARY}]\n"),
    ("omap-on-a-scalar", "vars: !!omap x\n@@"),
    ("int-tag-on-text", "terminal: {cols: !!int abc}\n@@"),
    ("float-tag-on-text", "timeout: !!float abc\n@@"),
    ("bool-tag-on-text", "vars: {x: !!bool abc}\n@@"),
    ("timestamp-tag-on-text", "vars: {x: !!timestamp abc}\n@@"),
    ("int-of-5000-digits", "timeout: " + "9" * 5000 + "\n@@"),
    ("nested-5000-deep", "vars: {x: " + "[" * 5000 + "]" * 5000 + "}\n@@"),
    ("nested-1000-deep", "vars: {x: " + "{a: " * 1000 + "1" + "}" * 1000 + "}\n@@"),
    ("recursive-alias", "vars: &v {a: *v}\n@@"),
    ("recursive-alias-in-steps", "title: t\nsteps: &s [*s]\n"),
    ("include-with-nul", 'title: t\nsteps: [{run: touch CANARY}, {include: "a\\0b"}]\n'),
    (
        "include-name-too-long",
        f"title: t\nsteps: [{{run: touch CANARY}}, {{include: {'a' * 5000}}}]\n",
    ),
    ("include-with-newline", 'title: t\nsteps: [{run: touch CANARY}, {include: "a\\nb"}]\n'),
    ("newline-in-unknown-key", '"a\\nb": 1\n@@'),
    ("carriage-return-in-unknown-key", '"a\\rb": 1\n@@'),
    ("escape-sequence-in-unknown-key", '"\\e[2J\\e]0;pwned\\a": 1\n@@'),
    ("newline-in-var-name", 'vars: {"a\\nb": 1}\n@@'),
    ("newline-in-env-name", 'env: {"A\\nB": x}\n@@'),
    ("newline-in-capture-name", 'title: t\nsteps: [{run: x, capture: {"a\\nb": x}}]\n'),
    ("newline-in-key-name", 'title: t\nsteps: [{run: cat, keys: [{key: "ctrl-\\nx"}]}]\n'),
    ("builds-on-name-too-long", f"builds_on: {{scenario: {'a' * 5000}}}\n@@"),
    ("newline-in-builds-on", 'builds_on: {scenario: "a\\nb"}\n@@'),
]


@pytest.mark.parametrize("text", [t for _, t in FOUND], ids=[i for i, _ in FOUND])
def test_inputs_the_fuzzer_found(tmp_path: Path, text: str) -> None:
    main = text.replace("@@", VALID_REST)
    files = {MAIN: main.encode("utf-8"), MORE: INCLUDED.encode()}
    assert check_in_process(tmp_path, files) is not None


def test_alias_expansion_is_bounded(tmp_path: Path) -> None:
    """A 400-byte file of nested aliases expands to a million nodes (a billion at 9 levels):
    it must be refused quickly, not exhaust memory."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 6)]
    files = {MAIN: ("\n".join(lines) + "\n" + VALID_REST).encode(), MORE: INCLUDED.encode()}
    started = time.monotonic()
    assert check_in_process(tmp_path, files) is not None
    assert time.monotonic() - started < 2.0


QUICK = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=HEALTH)
QUICK_CLI = settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=HEALTH)
SLOW = settings(max_examples=1000, deadline=None, suppress_health_check=HEALTH)
SLOW_CLI = settings(max_examples=100, deadline=None, suppress_health_check=HEALTH)


@QUICK
@given(files=MALFORMED)
def test_malformed_scenarios_are_one_line_errors(tmp_path: Path, files: Files) -> None:
    with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
        event("refused" if check_in_process(Path(folder), files) else "still valid")


@QUICK_CLI
@given(files=MALFORMED)
def test_cli_refuses_malformed_scenarios_before_running_anything(
    tmp_path: Path, files: Files
) -> None:
    with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
        event("through the CLI" if check_cli(Path(folder), files) else "still valid")


@pytest.mark.slow
@SLOW
@given(files=MALFORMED)
def test_malformed_scenarios_are_one_line_errors_many(tmp_path: Path, files: Files) -> None:
    with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
        event("refused" if check_in_process(Path(folder), files) else "still valid")


@pytest.mark.slow
@SLOW_CLI
@given(files=MALFORMED)
def test_cli_refuses_malformed_scenarios_many(tmp_path: Path, files: Files) -> None:
    with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
        event("through the CLI" if check_cli(Path(folder), files) else "still valid")
