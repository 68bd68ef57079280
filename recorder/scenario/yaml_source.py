"""YAML loading that remembers where every key and value came from.

pydantic reports errors by path (`steps`, 3, `expect`); this module maps such a path
back to `file:line:col`, so users see where to fix their scenario.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from recorder.errors import ScenarioError

PathKey = tuple[Any, ...]


@dataclass(frozen=True)
class Mark:
    file: str
    line: int  # 1-based
    col: int  # 1-based


@dataclass
class SourceMap:
    """Positions of values and of mapping keys, by data path."""

    values: dict[PathKey, Mark] = field(default_factory=dict)
    keys: dict[PathKey, Mark] = field(default_factory=dict)

    def locate(self, path: PathKey, *, key: bool = False) -> Mark | None:
        """The closest known position for `path`, walking up to its ancestors."""
        table = self.keys if key else self.values
        probe = tuple(path)
        while True:
            if probe in table:
                return table[probe]
            if key and probe in self.values:
                return self.values[probe]
            if not probe:
                return None
            probe = probe[:-1]

    def graft(self, other: SourceMap, old_prefix: PathKey, new_prefix: PathKey) -> None:
        """Copy `other`'s positions under `old_prefix` to live under `new_prefix`."""
        for table, mine in ((other.values, self.values), (other.keys, self.keys)):
            for path, mark in table.items():
                if path[: len(old_prefix)] == old_prefix:
                    mine[new_prefix + path[len(old_prefix) :]] = mark


def _mark(file: str, node: yaml.Node) -> Mark:
    return Mark(file, node.start_mark.line + 1, node.start_mark.column + 1)


MAX_NODES = 100_000  # aliases may repeat a subtree; a few nested ones must not explode
MAX_DEPTH = 100  # scenarios are a few levels deep; deeper is a mistake or an attack


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.source = SourceMap()
        self._constructor = yaml.SafeLoader("")
        self._nodes = 0
        self._open: set[int] = set()  # nodes being built: an alias back to one is a cycle

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise ScenarioError(
                self.file,
                *_line_col(node),
                f"the YAML expands to over {MAX_NODES} values "
                "(aliases of aliases?): write the values out",
            )
        if len(path) > MAX_DEPTH:
            raise ScenarioError(self.file, *_line_col(node), f"nested over {MAX_DEPTH} levels deep")
        if id(node) in self._open:
            raise ScenarioError(
                self.file, *_line_col(node), "a YAML alias refers to itself: remove the cycle"
            )
        self._open.add(id(node))
        try:
            return self._build(node, path)
        finally:
            self._open.discard(id(node))

    def _construct(self, node: yaml.Node) -> Any:
        """A scalar's value; a bad tag or value (`!!int abc`) is an error at that node."""
        try:
            return self._constructor.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            raise _yaml_error(self.file, exc) from None
        except Exception as exc:  # noqa: BLE001 - PyYAML raises ValueError, KeyError, ...
            raise ScenarioError(
                self.file, *_line_col(node), f"invalid value for {node.tag}: {exc}"
            ) from None

    def _build(self, node: yaml.Node, path: PathKey) -> Any:
        self.source.values[path] = _mark(self.file, node)
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise ScenarioError(
                        self.file, *_line_col(key_node), "YAML merge keys (<<) are not supported"
                    )
                key = self._construct(key_node)
                if not isinstance(key, str | int | float | bool) and key is not None:
                    raise ScenarioError(
                        self.file, *_line_col(key_node), "mapping keys must be plain scalars"
                    )
                if key in result:
                    raise ScenarioError(
                        self.file,
                        *_line_col(key_node),
                        f"duplicate key '{key}': keep one of them",
                    )
                self.source.keys[path + (key,)] = _mark(self.file, key_node)
                result[key] = self.build(value_node, path + (key,))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        return self._construct(node)


def _line_col(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


# A scenario (or an included file) is a few kilobytes; a megabyte is thousands of steps. A
# bigger file is a mistake (a log, a cast, a generated dump), refused before parsing costs
# minutes and gigabytes.
MAX_SCENARIO_BYTES = 1_000_000


def load_yaml(path: Path, display_name: str | None = None) -> tuple[Any, SourceMap]:
    """Parse one YAML document; raise ScenarioError with a position on any problem."""
    name = display_name or str(path)
    try:
        size = path.stat().st_size
        if size > MAX_SCENARIO_BYTES:
            raise ScenarioError(
                name,
                1,
                1,
                f"the file is {size / 1e6:.1f} MB: a scenario may be at most "
                f"{MAX_SCENARIO_BYTES / 1e6:g} MB (split it with `include:`)",
            )
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(name, 1, 1, "file not found: check the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(name, 1, 1, f"cannot read the file ({exc})") from None
    node = _compose_fast(text)
    try:
        if node is None:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(name, exc) from None
    except yaml.reader.ReaderError as exc:
        line, col = _position(text, exc.position)
        raise ScenarioError(
            name, line, col, f"invalid YAML: character {exc.character!r} is not allowed here"
        ) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(name, 1, 1, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise ScenarioError(name, 1, 1, "invalid YAML: nested too deep") from None
    if node is None:
        raise ScenarioError(name, 1, 1, "the file is empty: a scenario needs `title` and `steps`")
    builder = _Builder(name)
    try:
        data = builder.build(node, ())
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(name, exc) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(name, 1, 1, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise ScenarioError(name, 1, 1, "invalid YAML: nested too deep") from None
    return data, builder.source


# libyaml (PyYAML's C extension) composes a scenario some 25 times faster than PyYAML's own
# Python loader, most of `stagecast lint`'s time otherwise. The two do not accept exactly the
# same documents, though, nor place every node alike: libyaml takes tabs as separators, a `?`
# inside a plain scalar in a flow collection, a BOM inside the text and deeper nesting; it
# marks an empty value and scans a tag in a flow collection differently. So its tree is used
# only for text and trees clear of all of these, and when libyaml accepts the text; otherwise
# the Python loader decides, as it always has: what is accepted, the positions and every
# error message stay the same. tests/test_yaml_source.py compares the two on mutated scenarios.
_CSafeLoader = getattr(yaml, "CSafeLoader", None)
# Characters outside the printable set both readers accept (or line breaks other than \n),
# `%` directives, and a `#` right after a block scalar's indicators (`|#`).
_PYTHON_ONLY = re.compile(
    r"[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
    r"|^%|[|>][-+0-9]*#",
    re.MULTILINE,
)


def _compose_fast(text: str) -> yaml.Node | None:
    """The node tree as libyaml composes it, or None when PyYAML's Python loader must."""
    if _CSafeLoader is None or _PYTHON_ONLY.search(text):
        return None
    try:
        node = yaml.compose(text, Loader=_CSafeLoader)
    except Exception:  # noqa: BLE001 - any failure: the Python loader reports it its own way
        return None
    if node is None or not _same_in_python(node, tags="!" in text):
        return None
    return node


_RESOLVER = yaml.resolver.Resolver()


def _same_in_python(root: yaml.Node, *, tags: bool) -> bool:
    """False when the tree holds something the Python loader reads differently: nesting
    deeper than MAX_DEPTH, an empty plain value, a plain `?` in a flow collection, or (when
    the text has a `!`, so that there may be some) an explicit tag."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 0, False)]
    while stack:
        node, depth, in_flow = stack.pop()
        if id(node) in seen:  # an alias: checked where its anchor is
            continue
        seen.add(id(node))
        if depth > MAX_DEPTH:
            return False
        if isinstance(node, yaml.ScalarNode):
            plain = not node.style
            if plain and (node.value == "" or (in_flow and "?" in node.value)):
                return False
            if tags and node.tag != _RESOLVER.resolve(
                yaml.ScalarNode, node.value, (plain, not plain)
            ):
                return False
            continue
        assert isinstance(node, yaml.CollectionNode)
        if tags and node.tag != _RESOLVER.resolve(type(node), None, None):
            return False
        children = (
            [child for pair in node.value for child in pair]
            if isinstance(node, yaml.MappingNode)
            else list(node.value)
        )
        stack.extend((child, depth + 1, bool(node.flow_style)) for child in reversed(children))
    return True


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def _yaml_error(name: str, exc: yaml.MarkedYAMLError) -> ScenarioError:
    """PyYAML's message, pointed at the construct that was left open, with a hint."""
    problem = exc.problem or exc.context or "invalid YAML"
    mark = exc.problem_mark or exc.context_mark
    hint = ""
    if "<stream end>" in problem and exc.context_mark is not None:
        mark = exc.context_mark  # the end of the file says little; the opening does
        hint = f"; {exc.context} here was never closed"
    elif "block" in problem:
        hint = "; check the indentation of this line against the lines above"
    elif "mapping values are not allowed" in problem:
        hint = "; quote a value that contains ': '"
    elif "found character '\\t'" in problem:
        hint = "; indent with spaces, not tabs"
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return ScenarioError(name, line, col, f"invalid YAML: {problem}{hint}")
