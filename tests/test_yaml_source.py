"""YAML loading: libyaml's fast path gives what PyYAML's Python loader gives, or stands aside.

`recorder.scenario.yaml_source` composes with libyaml when the text and the tree are clear of
the known differences between the two loaders, and otherwise lets the Python loader decide.
These tests hold the outcome of `load_yaml` (the data, every position, or the one error
message) to the Python loader's, on the real scenarios, on each known difference, and on
seeded mutations of the scenarios.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from recorder.errors import ScenarioError
from recorder.scenario import yaml_source
from recorder.scenario.yaml_source import load_yaml

ROOT = Path(__file__).resolve().parents[1]
# Dot files are left out: tests write their scratch scenarios there (scenarios/.test-*.yaml).
SCENARIOS = sorted(
    p
    for pattern in ("*.yaml", "*.yml")
    for p in (ROOT / "scenarios").rglob(pattern)
    if not p.name.startswith(".")
)
LINTED = [
    p for p in SCENARIOS if p.parent.relative_to(ROOT) in (Path("scenarios"), Path("scenarios/lab"))
]

needs_libyaml = pytest.mark.skipif(
    getattr(yaml, "CSafeLoader", None) is None, reason="PyYAML without libyaml"
)


def _outcome(path: Path, fast: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    """What `load_yaml` gives: (data, value positions, key positions) or the error line."""
    with monkeypatch.context() as patch:
        if not fast:
            patch.setattr(yaml_source, "_CSafeLoader", None)
        try:
            data, source = load_yaml(path)
        except ScenarioError as exc:
            return ("error", str(exc))
    return ("ok", repr(data), source.values, source.keys)


def _assert_same(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _outcome(path, True, monkeypatch) == _outcome(path, False, monkeypatch)


@needs_libyaml
@pytest.mark.parametrize("path", LINTED, ids=lambda p: str(p.relative_to(ROOT)))
def test_linted_scenarios_take_the_fast_path(path: Path) -> None:
    assert yaml_source._compose_fast(path.read_text(encoding="utf-8")) is not None


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: str(p.relative_to(ROOT)))
def test_scenarios_load_the_same_either_way(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _assert_same(path, monkeypatch)


# Where libyaml and the Python loader differ: each must take the Python loader's path.
DIFFERENCES = {
    "tab-after-colon": "title:\t'x'\nsteps:\n  - run: echo\n",
    "tab-in-flow": "steps: [\t{run: echo}]\n",
    "question-mark-in-flow-plain": "terminal: {col?s: 100, rows: 28}\n",
    "question-mark-in-flow-seq": "steps: [{run: a?b}]\n",
    "bom-inside": "title: x\n\ufeff  steps: []\n",
    "bom-first": "\ufefftitle: x\n",
    "empty-value": "title:\nsteps:\n  - run: echo\n",
    "empty-in-flow": "steps: [{run: }]\n",
    "tag-with-comma-in-flow": "steps: [!2, {run: echo}]\n",
    "explicit-tag": "title: !!str 12\n",
    "carriage-return": "title: x\r\nsteps:\r\n  - run: echo\r\n",
    "next-line": "title: x\x85steps: []\n",
    "line-separator": "title: a\u2028b\n",
    "directive": "%YAML 1.1\n---\ntitle: x\n",
    "yaml-1.2-directive": "%YAML 1.2\n---\ntitle: x\n",
    "deep-flow": "a: " + "[" * 150 + "]" * 150 + "\n",
    "deeper-flow": "a: " + "[" * 600 + "]" * 600 + "\n",
    "control-character": "title: a\x07b\n",
    "comment-right-after-block-indicator": "title: |#\n  x\n",
    "comment-right-after-chomping": "title: >-2#\n   x\n",
}


@pytest.mark.parametrize("text", DIFFERENCES.values(), ids=DIFFERENCES.keys())
def test_known_differences_go_to_the_python_loader(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert yaml_source._compose_fast(text) is None
    path = tmp_path / "main.yaml"
    path.write_text(text, encoding="utf-8")
    _assert_same(path, monkeypatch)


PIECES = list(" \t\n\n\n  :-[]{},#&*!|>'\"%@`?\\\r\x85\u2028\ufeffab1é😀.=$^") + [
    "  ",
    "- ",
    ": ",
    "? ",
    "---\n",
    "...\n",
    "&a ",
    "*a",
    "!!str ",
    "!!int ",
    "<<: ",
    "%YAML 1.1\n",
    "\n  ",
    "\n- ",
    "{",
    "[",
    "}",
    "]",
]


def _mutate(text: str, rnd: random.Random) -> str:
    if len(text) > 1500:
        start = rnd.randrange(len(text) - 1200)
        text = text[start : start + 1200]
    lines = text.split("\n")
    for _ in range(rnd.randint(0, 2)):
        at = rnd.randrange(len(lines))
        op = rnd.random()
        if op < 0.3:
            lines.insert(at, lines[rnd.randrange(len(lines))])
        elif op < 0.6:
            lines[at] = " " * rnd.randint(1, 4) + lines[at]
        elif op < 0.8:
            lines[at] = lines[at][rnd.randint(0, 3) :]
        else:
            del lines[at]
    chars = list("\n".join(lines))
    for _ in range(rnd.randint(0, rnd.choice([1, 2, 4]))):
        op, at = rnd.random(), rnd.randrange(len(chars) + 1)
        if op < 0.45:
            chars.insert(at, rnd.choice(PIECES))
        elif op < 0.75 and at < len(chars):
            del chars[at]
        elif at < len(chars):
            chars[at] = rnd.choice(PIECES)
    return "".join(chars)


@pytest.mark.parametrize("seed", range(4))
def test_mutated_scenarios_load_the_same_either_way(
    seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seeded mutations of the scenarios (a broken indentation, a stray `?`, `[`, tab, tag, BOM
    ...): the same data and positions, or the same error, with or without the fast path."""
    rnd = random.Random(seed)
    texts = [p.read_text(encoding="utf-8") for p in SCENARIOS]
    path = tmp_path / "main.yaml"
    for _ in range(150):
        path.write_text(_mutate(rnd.choice(texts), rnd), encoding="utf-8")
        _assert_same(path, monkeypatch)
