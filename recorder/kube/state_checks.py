"""`kube_check` on listed objects: conditions and counts, fields by dotted path, and Multus'
network-status annotation; every failure is one 'expected ..., got ...' sentence."""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

from recorder.scenario.kube_model import KubeCheck, NetworkStatus

from .objects import describe, names_of, object_name, plural, value_at
from .waits import Goal

NETWORK_STATUS = "k8s.v1.cni.cncf.io/network-status"


def check_failures(check: KubeCheck, objects: dict[str, dict]) -> list[str]:
    """A `kube_check` on the objects it selects, as 'expected ..., got ...' sentences."""
    what = describe(check)
    goal = Goal(check.kind, check)
    n = len(objects)
    if check.count is not None and not goal.any and n != check.count:
        got = f"{n} ({names_of(objects)})" if n else "none"
        return [f"{what}: expected {check.count} {plural(check.kind, check.count)}, got {got}"]
    if not objects:
        if check.count == 0:
            return []
        return [f"{what}: expected {'it' if check.name else 'at least one'} to exist, got none"]
    out = []
    if goal.any:
        states = [(name, *goal.state(obj)) for name, obj in sorted(objects.items())]
        if check.count is not None:
            good = sum(1 for _, ok, _ in states if ok)
            if good < check.count:
                seen = ", ".join(f"{name} {s}" for name, ok, s in states if not ok)
                out.append(
                    f"{what}: expected at least {check.count} with {goal.text()}, "
                    f"got {good} ({seen})"
                )
        else:
            for name, ok, seen in states:
                if not ok:
                    out.append(
                        f"{check.kind} {object_name(check, name)}: "
                        f"expected {goal.text()}, got {seen}"
                    )
    for name, obj in sorted(objects.items()):
        prefix = f"{check.kind} {object_name(check, name)}: "
        out += [prefix + f for f in field_failures(check, obj)]
        if check.network_status is not None:
            out += [prefix + f for f in network_failures(check.network_status, obj)]
    return out


MISSING = object()


def lookup(obj: Any, path: str) -> Any:
    """A value by dotted path; where a dict holds a key with dots (an annotation such as
    k8s.v1.cni.cncf.io/network-status), the longest key that exists wins."""
    parts = path.split(".")
    i = 0
    while i < len(parts):
        if isinstance(obj, dict):
            for j in range(len(parts), i, -1):
                key = ".".join(parts[i:j])
                if key in obj:
                    obj, i = obj[key], j
                    break
            else:
                return MISSING
        elif isinstance(obj, list) and re.fullmatch(r"-?\d+", parts[i]):
            index = int(parts[i])
            if not -len(obj) <= index < len(obj):
                return MISSING
            obj, i = obj[index], i + 1
        else:
            return MISSING
    return obj


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return "" if value is None else str(value)


def _show(value: Any, limit: int = 80) -> str:
    text = _text(value)
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def field_failures(check: KubeCheck, obj: dict) -> list[str]:
    out = []
    for field in check.fields:
        value = lookup(obj, field.path)
        if value is MISSING:
            wants = [
                f"{word} {_show(v)}"
                for word, v in (
                    ("to equal", field.equals),
                    ("to match", field.matches),
                    ("to contain", field.contains),
                )
                if v is not None
            ]
            out.append(
                f"expected {field.path} {' and '.join(wants) or 'to exist'}, got no such field"
            )
            continue
        text = _text(value)
        if field.equals is not None and not _equal(value, field.equals):
            out.append(f"expected {field.path} to equal {_show(field.equals)}, got {_show(value)}")
        if field.matches is not None and not re.search(field.matches, text):
            out.append(f"expected {field.path} to match /{field.matches}/, got {_show(value)}")
        if field.contains is not None and not _contains(value, field.contains):
            out.append(
                f"expected {field.path} to contain {_show(field.contains)}, got {_show(value)}"
            )
    return out


def _equal(value: Any, wanted: str | int | bool) -> bool:
    if type(value) is type(wanted) and value == wanted:
        return True
    return _text(value) == _text(wanted)


def _contains(value: Any, wanted: str) -> bool:
    if isinstance(value, list) and any(_text(v) == wanted for v in value):
        return True
    return wanted in _text(value)


def network_failures(spec: NetworkStatus, obj: dict) -> list[str]:
    raw = value_at(obj, "metadata", "annotations", NETWORK_STATUS)
    if raw is None:
        return [f"expected a {NETWORK_STATUS} annotation, got none"]
    try:
        entries = json.loads(raw)
    except (TypeError, ValueError):
        return [f"expected {NETWORK_STATUS} to be JSON, got {_show(raw)}"]
    if not isinstance(entries, list):
        return [f"expected {NETWORK_STATUS} to be a JSON list, got {_show(raw)}"]
    entries = [e for e in entries if isinstance(e, dict)]
    names = [str(e["interface"]) for e in entries if e.get("interface")]
    out = []
    if not _in_order(spec.interfaces, names):
        out.append(
            f"expected interfaces {', '.join(spec.interfaces)} in network-status, "
            f"got {', '.join(names) or 'none'}"
        )
    for iface, cidr in spec.cidrs.items():
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            out.append(f"expected a CIDR for {iface}, got {cidr!r}")
            continue
        ips = [ip for e in entries if e.get("interface") == iface for ip in e.get("ips") or []]
        if not any(e.get("interface") == iface for e in entries):
            out.append(f"expected {iface} IPs in {cidr}, got no {iface} in network-status")
        elif not ips:
            out.append(f"expected {iface} IPs in {cidr}, got no IPs on {iface}")
        else:
            outside = [ip for ip in ips if not _ip_in(ip, network)]
            if outside:
                out.append(f"expected {iface} IPs in {cidr}, got {', '.join(map(str, outside))}")
    return out


def _in_order(wanted: list[str], names: list[str]) -> bool:
    it = iter(names)
    return all(any(name == want for name in it) for want in wanted)


def _ip_in(ip: Any, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    try:
        return ipaddress.ip_interface(str(ip)).ip in network
    except ValueError:
        return False
