"""Kubernetes objects as plain dicts: reading their fields, and naming selections and
objects in one-sentence failures."""

from __future__ import annotations

from typing import Any

from recorder.scenario.kube_model import NAMESPACED, Selection

MAX_SHOWN = 5  # objects named in one "last seen" sentence


def namespace(sel: Selection) -> str | None:
    return (sel.namespace or "default") if sel.kind in NAMESPACED else None


def object_name(sel: Selection, name: str) -> str:
    ns = namespace(sel)
    return f"{ns}/{name}" if ns else name


def plural(kind: str, n: int = 2) -> str:
    return kind if n == 1 else kind + "s"


def describe(sel: Selection, count: int | None = None) -> str:
    """'Node kind-worker', 'Pods matching app=web in default', 'all Nodes'; with a count:
    '2 Nodes', '1 Pod matching app=web in default', '0 Pods named web-0 in default'."""
    ns = namespace(sel)
    where = f" in {ns}" if ns else ""
    if count is None:
        if sel.name:
            return f"{sel.kind} {object_name(sel, sel.name)}"
        if sel.selector:
            return f"{plural(sel.kind)} matching {sel.selector}{where}"
        return f"all {plural(sel.kind)}{where}"
    what = f"{count} {plural(sel.kind, count)}"
    if sel.name:
        return f"{what} named {sel.name}{where}"
    if sel.selector:
        return f"{what} matching {sel.selector}{where}"
    return what + where


def value_at(obj: Any, *path: str, default: Any = None) -> Any:
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return default
        obj = obj[key]
    return obj


def name_of(obj: dict) -> str:
    return str(value_at(obj, "metadata", "name", default="?"))


def names_of(objects: dict[str, dict]) -> str:
    names = sorted(objects)
    more = f" and {len(names) - MAX_SHOWN} more" if len(names) > MAX_SHOWN else ""
    return ", ".join(names[:MAX_SHOWN]) + more
