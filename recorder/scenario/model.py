"""The scenario format, as pydantic models: the single source of validation and of the
JSON Schema that `stagecast schema` prints."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from recorder.shell.typing_model import DEFAULT_CPS, DEFAULT_JITTER, DEFAULT_THINK

from .keys import NAMED_KEYS
from .kube_model import BuildsOn, Cluster, KubeCheck, Preflight, WaitFor
from .masks import MaskSpec
from .rules import closest, is_name
from .validators import valid_regex


class KeyedError(ValueError):
    """A model-level error that belongs to one key, so that it is reported at that key."""

    def __init__(self, message: str, *path: str) -> None:
        super().__init__(message)
        self.path = path


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Regex = Annotated[str, AfterValidator(valid_regex)]
# One string or a list of them; the schema says so too.
StrList = Annotated[list[str], BeforeValidator(_as_list, json_schema_input_type=str | list[str])]
RegexList = Annotated[
    list[Regex], BeforeValidator(_as_list, json_schema_input_type=str | list[str])
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False, populate_by_name=True)


class Terminal(Strict):
    cols: int = Field(100, ge=20, le=500, description="Terminal width in columns")
    rows: int = Field(30, ge=5, le=200, description="Terminal height in rows")


class Typing(Strict):
    """The human typing model. The defaults are the speaker's pace, fitted on their recordings."""

    cps: float = Field(
        DEFAULT_CPS, gt=0, le=100, description="Mean characters per second, pauses included"
    )
    jitter: float = Field(
        DEFAULT_JITTER, ge=0, le=2, description="Spread of per-key delays (lognormal sigma)"
    )
    seed: int = Field(0, description="Same seed, same typed timings")
    think: float = Field(
        DEFAULT_THINK,
        ge=0,
        le=10,
        description="Mean seconds the presenter pauses before typing a step; each pause is "
        "drawn, seeded, from the typing model's think-pause distribution",
    )


class EnvFrom(Strict):
    from_env: str = Field(
        description="Take the value from this variable of stagecast's environment"
    )
    secret: bool = Field(False, description="Redact the value from casts and reports")


class Expect(Strict):
    """What a step must print and return. Text checks see the output with colours removed."""

    exit: int | list[int] | Literal["any"] = Field(
        0, description="Expected exit code(s), or 'any'. Defaults to 0"
    )
    contains: StrList = Field(default_factory=list)
    not_contains: StrList = Field(default_factory=list)
    regex: RegexList = Field(default_factory=list)
    not_regex: RegexList = Field(default_factory=list)
    lines: RegexList = Field(
        default_factory=list, description="Regexes that must match output lines, in this order"
    )
    screen: StrList = Field(
        default_factory=list, description="Text visible on the rendered screen after the step"
    )
    kube: list[KubeCheck] = Field(
        default_factory=list, description="Object state in the Kubernetes API after the step"
    )


class Retry(Strict):
    """Run the step again until `until` passes. The cast keeps only the passing run."""

    until: Expect
    timeout: float = Field(60, gt=0)
    interval: float = Field(2, ge=0)


def _check_key(name: str) -> str:
    if name.lower() not in NAMED_KEYS:
        near = closest(name.lower(), NAMED_KEYS)
        hint = f" (did you mean '{near}'?)" if near else f"; known keys: {', '.join(NAMED_KEYS)}"
        raise ValueError(f"unknown key name '{name}'{hint}")
    return name.lower()


class KeyAction(Strict):
    """One action for an interactive program: exactly one of text, key, wait, sleep."""

    text: str | None = Field(None, description="Typed at human speed")
    key: Annotated[str, AfterValidator(_check_key)] | None = Field(
        None, description="A named key: enter, ctrl-c, up, down, esc, tab, ..."
    )
    times: int = Field(1, ge=1, le=1000, description="Repeat the key")
    wait: Regex | None = Field(None, description="Wait until the output matches this regex")
    sleep: float | None = Field(None, ge=0, le=600, description="Seconds to wait")

    @model_validator(mode="after")
    def _one_action(self) -> KeyAction:
        given = [n for n in ("text", "key", "wait", "sleep") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("a keys entry takes exactly one of: text, key, wait, sleep")
        return self


class Enters(Strict):
    """The step starts a nested shell; later steps run inside it until one `leaves`."""

    prompt: str = Field(description="The nested shell's prompt, as printed")
    regex: bool = Field(False, description="Treat `prompt` as a regex instead of literal text")

    @model_validator(mode="after")
    def _valid(self) -> Enters:
        if self.regex:
            valid_regex(self.prompt)
        return self


class Unavailable(Strict):
    """Why a step cannot run under a profile; it is then reported as not run, never passed."""

    reason: str = Field(min_length=1, description="What is missing, and why")
    rest: bool = Field(
        False, description="The later steps cannot run either (they need what this one makes)"
    )


def _as_unavailable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: {"reason": v} if isinstance(v, str) else v for k, v in value.items()}
    return value


UnavailableOn = Annotated[
    dict[str, Unavailable],
    BeforeValidator(_as_unavailable, json_schema_input_type=dict[str, str | Unavailable]),
]


class Step(Strict):
    run: str | None = Field(None, description="The command; several lines and heredocs allowed")
    say: str | None = Field(None, description="Narration, typed as a comment before the command")
    marker: str | None = Field(None, description="Chapter label; defaults to `say` or the command")
    hidden: bool = Field(False, description="Run, but keep out of the cast")
    timeout: float | None = Field(None, gt=0, description="Seconds; the scenario default otherwise")
    expect: Expect | None = None
    retry: Retry | None = None
    capture: dict[str, Regex] | None = Field(
        None, description="name: regex; group 1 (or the match) becomes ${name} in later steps"
    )
    keys: list[KeyAction | str] | None = Field(
        None, description="Actions for an interactive program started by `run`"
    )
    enters: Enters | None = None
    leaves: bool = Field(False, description="The step leaves the current nested shell")
    pause: bool | str = Field(False, description="Wait for the presenter here in live mode")
    wait_for: WaitFor | None = Field(
        None, description="Wait through the Kubernetes API; invisible in the cast"
    )
    differs: str | None = Field(
        None,
        description="Why this step differs on purpose from the speaker's recording "
        "(a pinned version, a fixed typo): `stagecast check` reports it",
    )
    unavailable_on: UnavailableOn | None = Field(
        None,
        description="profile name: why this step cannot run there (`--profile`); the step is "
        "reported as not run, and the cast says so instead of faking it",
    )
    order_matters: bool = Field(
        False,
        description="Drift diffs: the same lines in another order are a change, not cosmetic "
        "(by default they are cosmetic, since tables in hash order reorder between runs)",
    )

    @model_validator(mode="after")
    def _coherent(self) -> Step:
        if self.run is None and self.say is None and not self.pause and self.wait_for is None:
            raise ValueError("a step needs `run`, `say`, `pause` or `wait_for`")
        if self.run is None:
            for name in ("expect", "retry", "capture", "keys", "enters"):
                if getattr(self, name) is not None:
                    raise KeyedError(f"`{name}` needs a `run` command in the same step", name)
            if self.leaves:
                raise KeyedError("`leaves` needs a `run` command, such as `exit`", "leaves")
        if self.enters is not None and self.leaves:
            raise KeyedError("a step cannot both `enters` and `leaves` a shell: split it", "leaves")
        if self.capture:
            for name in self.capture:
                if not is_name(name):
                    raise KeyedError(
                        f"capture name '{name}' must be an identifier", "capture", name
                    )
        return self

    @property
    def in_cast(self) -> bool:
        """Shown to the audience (in `steps`): not hidden, and not an API wait on its own."""
        return not self.hidden and not (self.wait_for is not None and not self.run)

    def label(self) -> str:
        """The chapter label used for this step's marker."""
        if self.marker:
            return self.marker
        if self.say:
            return self.say.strip().lstrip("#").strip()
        first = (self.run or "").strip().splitlines()[0] if self.run else "pause"
        return first if len(first) <= 60 else first[:57] + "..."


class Scenario(Strict):
    title: str = Field(description="Shown in the cast header")
    terminal: Terminal = Field(default_factory=Terminal)
    shell: Literal["bash"] = Field("bash", description="The shell to drive (bash only, for now)")
    prompt: str = Field("$ ", description="The prompt the audience sees (bash PS1 syntax)")
    typing: Typing = Field(default_factory=Typing)
    idle_time_limit: float | None = Field(2.0, gt=0, description="Caps pauses in playback")
    timeout: float = Field(30, gt=0, description="Default timeout of each step, in seconds")
    requires: list[str] = Field(
        default_factory=list, description="Programs that must be on PATH before anything runs"
    )
    env: dict[str, str | int | float | EnvFrom] = Field(default_factory=dict)
    vars: dict[str, str | int | float] = Field(default_factory=dict)
    redact: RegexList = Field(default_factory=list, description="Regexes removed from the cast")
    setup: list[Step] = Field(default_factory=list, description="Hidden steps run first")
    steps: list[Step] = Field(min_length=1)
    teardown: list[Step] = Field(
        default_factory=list, description="Hidden steps that always run, even after a failure"
    )
    cluster: Cluster | None = Field(None, description="The kind cluster this demo runs on")
    preflight: Preflight | None = None
    builds_on: BuildsOn | None = None
    masks: list[MaskSpec] = Field(
        default_factory=list,
        description="Volatile values to mask when comparing runs: built-in names "
        "(pod-suffix, ip, age, mac, uuid, container-id, ...) or {name, regex}",
    )
    budget: float | None = Field(None, gt=0, description="The talk slot for this demo, seconds")

    @model_validator(mode="after")
    def _names(self) -> Scenario:
        for table in ("env", "vars"):
            for name in getattr(self, table):
                if not is_name(name):
                    raise KeyedError(
                        f"'{name}' is not a valid variable name: use letters, digits and _",
                        table,
                        name,
                    )
        return self


def json_schema() -> dict[str, Any]:
    """The published JSON Schema; step lists also accept `{include: file}` items."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://stagecast.invalid/schema/scenario.json"
    schema.setdefault("$defs", {})["Include"] = {
        "type": "object",
        "properties": {"include": {"type": "string", "description": "A YAML file of steps"}},
        "required": ["include"],
        "additionalProperties": False,
    }
    for name in ("setup", "steps", "teardown"):
        prop = schema["properties"][name]
        prop["items"] = {"anyOf": [{"$ref": "#/$defs/Step"}, {"$ref": "#/$defs/Include"}]}
    return schema
