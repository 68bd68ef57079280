"""What a `wait_for` or a `kube_check` asks of one object (conditions, phase, rollout), and
whether a set of objects reached a wait's state, with what was last seen."""

from __future__ import annotations

from typing import Any

from recorder.scenario.kube_model import KubeCheck, WaitFor

from .objects import MAX_SHOWN, describe, names_of, plural, value_at


def _condition(obj: dict, wanted: str) -> dict | None:
    for cond in value_at(obj, "status", "conditions", default=None) or []:
        if isinstance(cond, dict) and cond.get("type") == wanted:
            return cond
    return None


def _condition_state(obj: dict, wanted: str) -> tuple[str | None, str]:
    """(status, 'Ready=False (KubeletNotReady: container runtime network not ready)')."""
    cond = _condition(obj, wanted)
    if cond is None:
        return None, f"no {wanted} condition"
    status = str(cond.get("status"))
    why = ": ".join(str(cond[k]).strip() for k in ("reason", "message") if cond.get(k))
    return status, f"{wanted}={status}" + (f" ({why})" if why else "")


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _rollout_state(kind: str, obj: dict) -> tuple[bool, str]:
    generation = _int(value_at(obj, "metadata", "generation"))
    status = value_at(obj, "status", default={}) or {}
    observed = _int(status.get("observedGeneration"))
    if observed < generation:
        return False, f"generation {generation} not observed yet (observed {observed})"
    if kind == "DaemonSet":
        desired = _int(status.get("desiredNumberScheduled"))
        updated = _int(status.get("updatedNumberScheduled"))
        available = _int(status.get("numberAvailable"))
        done = updated == desired and available == desired
        return done, f"{updated}/{desired} updated, {available}/{desired} available"
    spec_replicas = value_at(obj, "spec", "replicas")
    desired = 1 if spec_replicas is None else _int(spec_replicas)
    updated = _int(status.get("updatedReplicas"))
    available = _int(status.get("availableReplicas"))
    total = _int(status.get("replicas"))
    done = updated == desired and available == desired and total == desired
    old = f", {total - updated} old pending termination" if total > updated else ""
    return done, f"{updated}/{desired} updated, {available}/{desired} available{old}"


class Goal:
    """What one object must satisfy for a wait or a check (None: anything)."""

    def __init__(self, kind: str, spec: WaitFor | KubeCheck) -> None:
        self.kind = kind
        self.condition = spec.condition
        self.status = spec.status
        self.phase = spec.phase
        self.rollout = bool(getattr(spec, "rollout", False))

    @property
    def any(self) -> bool:
        return bool(self.condition or self.phase or self.rollout)

    def text(self) -> str:
        parts = []
        if self.condition:
            parts.append(f"condition {self.condition}={self.status}")
        if self.phase:
            parts.append(f"phase {self.phase}")
        if self.rollout:
            parts.append("rollout complete")
        return " and ".join(parts)

    def state(self, obj: dict) -> tuple[bool, str]:
        """(satisfied, what was seen)."""
        ok, seen = True, []
        if self.condition:
            status, text = _condition_state(obj, self.condition)
            ok = ok and status == self.status
            seen.append(text)
        if self.phase:
            phase = value_at(obj, "status", "phase")
            ok = ok and phase == self.phase
            seen.append(f"phase {phase}" if phase else "no phase")
        if self.rollout:
            done, text = _rollout_state(self.kind, obj)
            ok = ok and done
            seen.append(text)
        return ok, ", ".join(seen)


def evaluate_wait(spec: WaitFor, objects: dict[str, dict]) -> tuple[bool, str]:
    """(satisfied, the last state seen, for the timeout sentence)."""
    goal = Goal(spec.kind, spec)
    if not objects:
        seen = "not found" if spec.name else f"no {plural(spec.kind)}"
        return spec.count == 0, seen
    states = [(name, *goal.state(obj)) for name, obj in sorted(objects.items())]
    if not goal.any:
        n = len(objects)
        ok = n == spec.count if spec.count is not None else True
        return ok, f"{n} {plural(spec.kind, n)}: {names_of(objects)}"
    good = sum(1 for _, ok, _ in states if ok)
    ok = good >= spec.count if spec.count is not None else good == len(states)
    if spec.name:
        return ok, states[0][2]
    shown = [f"{name} {seen}" for name, ok_, seen in states if not ok_] or [
        f"{name} {seen}" for name, _, seen in states
    ]
    more = f" and {len(shown) - MAX_SHOWN} more" if len(shown) > MAX_SHOWN else ""
    return ok, (
        f"{good} of {len(states)} with {goal.text()} ({', '.join(shown[:MAX_SHOWN])}{more})"
    )


def wait_text(spec: WaitFor) -> str:
    goal = Goal(spec.kind, spec)
    if spec.count is not None:
        what = describe(spec, spec.count)
        return f"at least {what} with {goal.text()}" if goal.any else what
    what = describe(spec)
    return f"{what} {goal.text()}" if goal.any else f"{what} to exist"
