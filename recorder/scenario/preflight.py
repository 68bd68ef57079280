"""Checks made before any command runs: required programs and environment values."""

from __future__ import annotations

import os
import shutil

from recorder.errors import PrerequisiteError
from recorder.shell.secret_forms import MIN_ENCODED_CHARS

from .loader import LoadedScenario
from .model import EnvFrom

ROOT = "root"  # a `requires` entry that asks for root rather than a program


def unmet_requirements(loaded: LoadedScenario) -> list[tuple[int, str]]:
    """(index, name) of every `requires` entry this machine does not satisfy."""
    out = []
    for i, name in enumerate(loaded.scenario.requires):
        if name == ROOT:
            if os.geteuid() != 0:
                out.append((i, name))
        elif shutil.which(name) is None:
            out.append((i, name))
    return out


def check_requires(loaded: LoadedScenario) -> None:
    missing = unmet_requirements(loaded)
    for index, name in missing:
        if name == ROOT:
            raise PrerequisiteError(
                f"{loaded.where(('requires', index))}: this scenario needs root: "
                "run it as root (for example with sudo)"
            )
    if missing:
        index, name = missing[0]
        others = f" (also missing: {', '.join(n for _, n in missing[1:])})" if missing[1:] else ""
        raise PrerequisiteError(
            f"{loaded.where(('requires', index))}: requires '{name}', which is not on PATH: "
            f"install it first{others}"
        )


def resolve_env(loaded: LoadedScenario) -> tuple[dict[str, str], list[str]]:
    """The shell's extra environment, and the values that must never reach a cast."""
    env: dict[str, str] = {}
    secrets: list[str] = []
    for name, value in loaded.scenario.env.items():
        if isinstance(value, EnvFrom):
            taken = os.environ.get(value.from_env)
            if taken is None:
                raise PrerequisiteError(
                    f"{loaded.where(('env', name))}: env {name} comes from ${value.from_env}, "
                    f"which is not set: export {value.from_env}=... before running"
                )
            env[name] = taken
            if value.secret:
                secrets.append(taken)
        else:
            env[name] = str(value)
    return env, secrets


def declared_secrets(loaded: LoadedScenario) -> list[tuple[str, str]]:
    """(variable, value) of each `secret: true` env entry whose variable is set: what a cast's
    provenance names by fingerprint."""
    found: list[tuple[str, str]] = []
    for value in loaded.scenario.env.values():
        if isinstance(value, EnvFrom) and value.secret:
            taken = os.environ.get(value.from_env)
            if taken is not None:
                found.append((value.from_env, taken))
    return found


def short_secret_warnings(loaded: LoadedScenario) -> list[str]:
    """One line per declared secret whose value (if set) is too short to be redacted in its
    encoded forms: they would match ordinary output."""
    warnings = []
    for name, value in loaded.scenario.env.items():
        if not (isinstance(value, EnvFrom) and value.secret):
            continue
        taken = os.environ.get(value.from_env)
        if taken and len(taken) < MIN_ENCODED_CHARS:
            warnings.append(
                f"{loaded.where(('env', name))}: warning: env {name}: ${value.from_env} is "
                f"shorter than {MIN_ENCODED_CHARS} characters: only the value itself is "
                "redacted and scanned for, not its base64, hex, URL or JSON forms (they would "
                "match ordinary output)"
            )
    return warnings
