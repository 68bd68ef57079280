"""Scenario file → validated Scenario, or one ScenarioError that points at the problem.

Order of work: parse YAML with positions, splice `include:` items, validate with pydantic,
then check what a schema cannot: `${var}` references against what is defined so far.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from recorder.errors import ScenarioError

from .model import EnvFrom, Expect, KeyAction, KeyedError, Scenario, Step
from .rules import TEXT_CHECKS, closest, did_you_mean, references
from .yaml_source import PathKey, SourceMap, load_yaml

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

    from .profile import LoadedProfile

_Model = TypeVar("_Model", bound=BaseModel)
STEP_LISTS = ("setup", "steps", "teardown")
MAX_STEPS = 2000  # includes expanded: a talk's demo has tens; more is a generated mistake


@dataclass
class LoadedScenario:
    scenario: Scenario
    path: Path
    source: SourceMap
    sha256: str  # of the file, every file it includes, and its support folder
    profile: LoadedProfile | None = None  # set by profile.apply_profile

    @property
    def name(self) -> str:
        return self.path.stem

    def where(self, path: PathKey) -> str:
        mark = self.source.locate(path)
        return f"{mark.file}:{mark.line}:{mark.col}" if mark else str(self.path)


def load_scenario(path: str | Path) -> LoadedScenario:
    path = Path(path)
    data, source = load_yaml(path)
    if not isinstance(data, dict):
        mark = source.locate(())
        raise ScenarioError(
            str(path),
            mark.line if mark else 1,
            1,
            "a scenario is a mapping with `title` and `steps`",
        )
    digest = hashlib.sha256(path.read_bytes())
    for list_name in STEP_LISTS:
        if isinstance(data.get(list_name), list):
            data[list_name] = _expand_includes(
                data[list_name], (list_name,), path, source, digest, chain=(path.resolve(),)
            )
    _check_step_count(data, source, path)
    scenario = _validate(data, source, str(path))
    _hash_support_files(path.with_suffix(""), digest)
    if scenario.cluster is not None and scenario.cluster.config:
        # kind demos keep their support files beside the cluster config (scenarios/kind/)
        _hash_support_files((path.parent / scenario.cluster.config).parent, digest)
    loaded = LoadedScenario(scenario, path, source, digest.hexdigest())
    check_files(loaded)
    check_variables(loaded)
    return loaded


def _check_step_count(data: dict[str, Any], source: SourceMap, path: Path) -> None:
    total = sum(len(data[name]) for name in STEP_LISTS if isinstance(data.get(name), list))
    if total > MAX_STEPS:
        mark = source.locate(("steps",)) or source.locate(())
        line, col = (mark.line, mark.col) if mark else (1, 1)
        raise ScenarioError(
            str(path),
            line,
            col,
            f"{total} steps (includes expanded): a scenario may have at most {MAX_STEPS}; "
            "split it into several scenarios",
        )


def _inherited_names(loaded: LoadedScenario, seen: tuple[Path, ...] = ()) -> set[str]:
    """Names a `builds_on` base defines: its vars, env and captures, recursively."""
    spec = loaded.scenario.builds_on
    if spec is None:
        return set()
    target = (loaded.path.parent / spec.scenario).resolve()
    if target in seen or target == loaded.path.resolve():
        mark = loaded.source.locate(("builds_on", "scenario"))
        assert mark is not None
        raise ScenarioError(mark.file, mark.line, mark.col, "builds_on: a scenario cycle")
    base = load_scenario(target)
    names = set(base.scenario.vars) | set(base.scenario.env)
    for base_step in base.scenario.setup + base.scenario.steps:
        names |= set(base_step.capture or {})
    return names | _inherited_names(base, seen + (loaded.path.resolve(),))


def check_files(loaded: LoadedScenario) -> None:
    """Files the scenario names must exist: a typo here would surface only on stage."""
    scenario, base = loaded.scenario, loaded.path.parent
    named: list[tuple[PathKey, str | None]] = []
    if scenario.cluster is not None:
        named.append((("cluster", "config"), scenario.cluster.config))
    if scenario.builds_on is not None:
        named.append((("builds_on", "scenario"), scenario.builds_on.scenario))
    for key, name in named:
        if name is not None and not _is_file(base / name):
            mark = loaded.source.locate(key)
            assert mark is not None
            raise ScenarioError(
                mark.file,
                mark.line,
                mark.col,
                f"{'.'.join(key)}: file not found: {name} (paths are relative to "
                f"{loaded.path.name})",
            )


def _is_file(path: Path) -> bool:
    """False for paths the OS refuses (a NUL byte, a name too long) as for missing files."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _hash_support_files(folder: Path, digest: Any) -> None:
    """Support files live in a folder named like the scenario (lab/cni-from-zero/ beside
    lab/cni-from-zero.yaml): an edit there changes what the demo does, so it changes the hash."""
    if not folder.is_dir():
        return
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(folder)).encode() + b"\0")
        digest.update(file.read_bytes())


def _expand_includes(
    items: list[Any],
    prefix: PathKey,
    file: Path,
    source: SourceMap,
    digest: Any,
    chain: tuple[Path, ...],
) -> list[Any]:
    """Replace `{include: other.yaml}` items by that file's steps, keeping positions."""
    if not any(isinstance(item, dict) and "include" in item for item in items):
        return items
    out: list[Any] = []
    old_positions = SourceMap(dict(source.values), dict(source.keys))
    for index, item in enumerate(items):
        new_index = len(out)
        if not (isinstance(item, dict) and "include" in item):
            out.append(item)
            source.graft(old_positions, prefix + (index,), prefix + (new_index,))
            continue
        here = old_positions.locate(prefix + (index, "include"))
        assert here is not None
        if set(item) != {"include"}:
            raise ScenarioError(
                here.file, here.line, here.col, "an include item takes only `include: FILE`"
            )
        target_name = item["include"]
        if not isinstance(target_name, str):
            raise ScenarioError(here.file, here.line, here.col, "include: give a file path")
        try:
            target = (file.parent / target_name).resolve()
        except (OSError, ValueError):
            target = file.parent / "\0"  # not a usable path: reported as not found below
        if target in chain:
            cycle = " -> ".join(p.name for p in chain[chain.index(target) :] + (target,))
            raise ScenarioError(
                here.file, here.line, here.col, f"include cycle: {cycle}: remove one include"
            )
        if not _is_file(target):
            raise ScenarioError(
                here.file,
                here.line,
                here.col,
                f"included file not found: {target_name} (paths are relative to {file.name})",
            )
        display = str(file.parent / target_name)
        sub_data, sub_source = load_yaml(target, display)
        digest.update(target.read_bytes())
        sub_prefix: PathKey = ()
        if isinstance(sub_data, dict) and isinstance(sub_data.get("steps"), list):
            sub_data, sub_prefix = sub_data["steps"], ("steps",)
        if not isinstance(sub_data, list):
            raise ScenarioError(display, 1, 1, "an included file holds a list of steps")
        expanded = _expand_includes(
            sub_data, sub_prefix, target, sub_source, digest, chain + (target,)
        )
        for offset, step in enumerate(expanded):
            source.graft(sub_source, sub_prefix + (offset,), prefix + (new_index + offset,))
            out.append(step)
    # drop stale positions beyond the new list length
    for table in (source.values, source.keys):
        for key in [k for k in table if k[: len(prefix)] == prefix and len(k) > len(prefix)]:
            if isinstance(key[len(prefix)], int) and key[len(prefix)] >= len(out):
                del table[key]
    return out


def _validate(data: dict[str, Any], source: SourceMap, file: str) -> Scenario:
    return validate_as(Scenario, data, source, file)


def validate_as(root: type[_Model], data: dict[str, Any], source: SourceMap, file: str) -> _Model:
    """`root` validated from YAML data, or the one ScenarioError that points at the problem."""
    try:
        return root.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        # An unknown key often explains a "missing" one (`titel` for `title`): report it first.
        rank = {"extra_forbidden": 0, "missing": 2}
        error = min(errors, key=lambda e: rank.get(e["type"], 1))
        raise _to_scenario_error(error, data, source, file, root) from None


def _data_path(data: Any, loc: tuple[Any, ...]) -> PathKey:
    """Keep only the parts of a pydantic `loc` that index into the data (drop union tags)."""
    path: list[Any] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
            path.append(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            path.append(part)
        elif isinstance(node, dict) and isinstance(part, str) and not path_is_tag(part):
            path.append(part)  # a missing or unknown key
            break
    return tuple(path)


def path_is_tag(part: str) -> bool:
    return (
        part in {"str", "int", "float", "bool", "list", "dict"}
        or "[" in part
        or part
        in {
            "KeyAction",
            "EnvFrom",
            "literal['any']",
        }
    )


def _model_for(path: PathKey, root: type[BaseModel] = Scenario) -> type[BaseModel] | None:
    """The model whose fields are valid at `path`, for 'did you mean' suggestions."""
    model: type[BaseModel] | None = root
    for part in path:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return model
        model = {
            "terminal": _field_model(Scenario, "terminal"),
            "typing": _field_model(Scenario, "typing"),
            "expect": Expect,
            "until": Expect,
            "retry": _field_model(Step, "retry"),
            "enters": _field_model(Step, "enters"),
            "keys": KeyAction,
            "setup": Step,
            "steps": Step,
            "teardown": Step,
            "env": EnvFrom,
        }.get(part) or _field_model(model, part)
    return model


def _field_model(owner: type[BaseModel], name: str) -> type[BaseModel] | None:
    annotation = owner.model_fields[name].annotation
    for candidate in getattr(annotation, "__args__", (annotation,)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _dotted(path: PathKey) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "scenario"


def _to_scenario_error(
    error: ErrorDetails,
    data: dict[str, Any],
    source: SourceMap,
    file: str,
    root: type[BaseModel] = Scenario,
) -> ScenarioError:
    loc = tuple(error["loc"])
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, KeyedError):
        loc = loc + cause.path
    path = _data_path(data, loc)
    kind = error["type"]
    where = _dotted(path)
    if kind == "extra_forbidden":
        bad = path[-1]
        model = _model_for(path[:-1], root)
        known = list(model.model_fields) if model else []
        hint = did_you_mean(str(bad), known, f"allowed keys: {', '.join(known)}")
        message = f"unknown key '{bad}' in {_dotted(path[:-1])}: {hint}"
        mark = source.locate(path, key=True)
    elif kind == "missing":
        message = f"missing required key '{path[-1]}' in {_dotted(path[:-1])}: add it"
        mark = source.locate(path[:-1])
    else:
        msg = error["msg"].removeprefix("Value error, ")
        got = error.get("input")
        plain = isinstance(got, dict | list) or got is None or repr(got) in msg
        shown = "" if plain else f" (got {got!r})"
        message = f"{where}: {msg}{shown}"
        mark = source.locate(path, key=isinstance(cause, KeyedError))
    if mark is None:
        return ScenarioError(file, 1, 1, message)
    return ScenarioError(mark.file, mark.line, mark.col, message)


def _step_strings(step: Step) -> list[tuple[PathKey, str]]:
    """Every text of a step that may hold `${var}` references, with its sub-path."""
    out: list[tuple[PathKey, str]] = []
    for name in ("run", "say", "marker"):
        value = getattr(step, name)
        if isinstance(value, str):
            out.append(((name,), value))
    expects: list[tuple[PathKey, Expect | None]] = [(("expect",), step.expect)]
    if step.retry:
        expects.append((("retry", "until"), step.retry.until))
    for sub, expect in expects:
        if expect is None:
            continue
        for name in TEXT_CHECKS:
            for i, text in enumerate(getattr(expect, name)):
                out.append((sub + (name, i), text))
    for i, action in enumerate(step.keys or []):
        if isinstance(action, str):
            out.append((("keys", i), action))
        else:
            for name in ("text", "wait"):
                value = getattr(action, name)
                if value is not None:
                    out.append((("keys", i, name), value))
    if step.enters:
        out.append((("enters", "prompt"), step.enters.prompt))
    return out


def check_variables(loaded: LoadedScenario) -> None:
    """Every `${name}` must be a var, an env entry, or a capture of an earlier step."""
    scenario = loaded.scenario
    defined = set(scenario.vars) | set(scenario.env) | _inherited_names(loaded)
    for list_name in STEP_LISTS:
        known = set(defined)
        for index, step in enumerate(getattr(scenario, list_name)):
            for sub, text in _step_strings(step):
                for name in references(text):
                    if name in known:
                        continue
                    path = (list_name, index) + sub
                    mark = loaded.source.locate(path)
                    assert mark is not None
                    near = closest(name, sorted(known))
                    hint = (
                        f"did you mean '${{{near}}}'?"
                        if near is not None
                        else "define it under `vars:` or `capture:` it in an earlier step; "
                        "write $${...} for a shell variable"
                    )
                    raise ScenarioError(
                        mark.file, mark.line, mark.col, f"undefined variable ${{{name}}}: {hint}"
                    )
            known |= set(step.capture or {})
            if list_name == "setup":
                defined |= set(step.capture or {})
