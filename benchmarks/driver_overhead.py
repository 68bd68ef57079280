"""Per-step driver overhead: stagecast rehearse against asciinema-automation 0.2.2.

Both drivers run the same N trivial steps (`true`) in a bare interactive bash, in this one
process, one after the other. A step's wall time runs from the moment the driver starts it
until the shell's prompt is back. The command's own time is measured, not assumed: `true`
timed with $EPOCHREALTIME inside one plain `bash --norc -c`, N times, median. That median
is subtracted from every step; what remains is the driver's overhead.

    .venv/bin/python benchmarks/driver_overhead.py [--steps 200] [--json]

Needs the peer: .venv/bin/pip install asciinema-automation==0.2.2 (the `bench` extra).
Exit status: 0 whenever both drivers were measured, whether or not the goal is met;
1 when a driver could not be measured at all (the output says why).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing stagecast

PEER = "asciinema-automation"
PEER_VERSION = "0.2.2"
GOAL_MEDIAN_MS = 2.0
GOAL_RATIO = 10.0
PEER_PROMPT = "%%> "  # no letter of `true`: its echo must not match inside the prompt
PEER_EXPECT_TIMEOUT = 10  # seconds per expect; the peer's default is 30

TRUE_LOOP = (
    "for ((i = 0; i < $1; i++)); do "
    "s=$EPOCHREALTIME; true; e=$EPOCHREALTIME; "
    'printf "%s %s\\n" "$s" "$e"; '
    "done"
)


@dataclass
class DriverResult:
    name: str
    timing: str  # where the per-step numbers come from
    step_ms: list[float] = field(default_factory=list)  # raw wall time per step
    overhead_ms: list[float] = field(default_factory=list)  # step_ms minus `true`'s own time
    steps_phase_s: float | None = None  # first step start to last step end
    startup_s: float | None = None  # before the first step: shell (and recorder) start
    whole_run_s: float | None = None  # the driver's whole run, scenario loading excluded
    cross_check: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "timing": self.timing,
            "steps_measured": len(self.overhead_ms),
            "error": self.error,
            "steps_phase_s": _round(self.steps_phase_s, 4),
            "startup_s": _round(self.startup_s, 4),
            "whole_run_s": _round(self.whole_run_s, 4),
            "cross_check": self.cross_check,
        }
        if self.overhead_ms:
            data = self.overhead_ms
            quarter = max(len(data) // 4, 1)
            out |= {
                "median_ms": _round(statistics.median(data)),
                "p95_ms": _round(_p95(data)),
                "mean_ms": _round(statistics.fmean(data)),
                "min_ms": _round(min(data)),
                "max_ms": _round(max(data)),
                "first_quarter_median_ms": _round(statistics.median(data[:quarter])),
                "last_quarter_median_ms": _round(statistics.median(data[-quarter:])),
            }
        return out


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _p95(data: list[float]) -> float:
    if len(data) == 1:
        return data[0]
    return statistics.quantiles(data, n=100, method="inclusive")[94]


# -- the command's own time ------------------------------------------------------------------


def measure_true(count: int) -> list[float]:
    """`true`'s own time in ms, `count` times, inside one plain non-interactive bash."""
    proc = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", TRUE_LOOP, "bench", str(count)],
        env={**os.environ, "LC_ALL": "C"},  # EPOCHREALTIME's decimal point follows the locale
        capture_output=True,
        text=True,
        check=True,
    )
    samples = []
    for line in proc.stdout.splitlines():
        start, end = line.split()
        samples.append(float((Decimal(end) - Decimal(start)) * 1000))
    if len(samples) != count:
        raise RuntimeError(f"expected {count} timings from bash, got {len(samples)}")
    return samples


# -- stagecast ------------------------------------------------------------------------------


class _StepClock:
    """A progress reporter that only notes when the runner starts and finishes things."""

    def __init__(self) -> None:
        self.begun = 0.0
        self.ended = 0.0
        self.starts: list[float] = []
        self.ends: list[float] = []

    def scenario_started(self, loaded: Any, steps: Any) -> None:
        self.begun = time.monotonic()

    def step_started(self, step: Any) -> None:
        if step.phase == "steps":
            self.starts.append(time.monotonic())

    def step_finished(self, step: Any) -> None:
        if step.phase == "steps":
            self.ends.append(time.monotonic())

    def scenario_finished(self, result: Any) -> None:
        self.ended = time.monotonic()


def run_stagecast(steps: int, workdir: Path, own_ms: float) -> DriverResult:
    from recorder.errors import StagecastError
    from recorder.run.rehearse import rehearse
    from recorder.scenario.loader import load_scenario

    out = DriverResult("stagecast rehearse", "StepResult.duration of each step")
    path = workdir / "driver_overhead.yaml"
    lines = ["title: driver overhead benchmark", "steps:"]
    lines += ['  - run: "true"'] * steps
    path.write_text("\n".join(lines) + "\n")
    loaded = load_scenario(path)

    clock = _StepClock()
    t0 = time.monotonic()
    try:
        result = rehearse(loaded, clock)
    except StagecastError as exc:  # bash could not start, for one
        out.error = f"{type(exc).__name__}: {exc}"
        return out
    finally:
        out.whole_run_s = time.monotonic() - t0

    measured = [s for s in result.steps if s.phase == "steps"]
    if not result.passed or len(measured) != steps:
        failure = result.first_failure
        out.error = result.error or (
            f"{failure.name}: {'; '.join(failure.failures)}" if failure else "run did not pass"
        )
        return out
    out.step_ms = [s.duration * 1000 for s in measured]
    out.overhead_ms = [ms - own_ms for ms in out.step_ms]
    out.steps_phase_s = clock.ends[-1] - clock.starts[0]
    out.startup_s = clock.starts[0] - clock.begun
    # Start-to-start of consecutive steps, as the peer is timed: includes the runner's
    # work between steps, which StepResult.duration does not see.
    cycles = [(b - a) * 1000 for a, b in itertools.pairwise(clock.starts)]
    cycles.append((clock.ends[-1] - clock.starts[-1]) * 1000)
    out.cross_check = {
        "start_to_start_median_ms": _round(statistics.median(cycles) - own_ms),
        "sum_of_durations_s": _round(sum(s.duration for s in measured), 4),
        "shutdown_s": _round(clock.ended - clock.ends[-1], 4),
        "scenario_duration_s": _round(result.duration, 4),
    }
    return out


# -- the peer: asciinema-automation ---------------------------------------------------------


@contextlib.contextmanager
def _environ(changes: dict[str, str | None]) -> Iterator[None]:
    """The peer spawns `asciinema rec` with this process's environment: set it, then undo."""
    saved = {name: os.environ.get(name) for name in changes}

    def apply(values: dict[str, str | None]) -> None:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    apply(changes)
    try:
        yield
    finally:
        apply(saved)


def run_peer(steps: int, workdir: Path, own_ms: float) -> DriverResult:
    out = DriverResult(
        f"{PEER} {PEER_VERSION}", "per instruction: hooked marks around each `true` + expect"
    )
    try:
        from importlib.metadata import version

        from asciinema_automation import parse
        from asciinema_automation.script import Instruction, Script
    except ImportError:
        out.error = f"not installed: .venv/bin/pip install {PEER}=={PEER_VERSION}"
        return out
    installed = version(PEER)
    if installed != PEER_VERSION:
        out.name = f"{PEER} {installed}"
        out.timing += f" (expected {PEER_VERSION})"
    bindir = str(Path(sys.executable).parent)
    search_path = bindir + os.pathsep + os.environ.get("PATH", "")
    if shutil.which("asciinema", path=search_path) is None:
        out.error = "`asciinema` is not on PATH nor next to this Python"
        return out

    from recorder.shell.session import INPUTRC

    marks: list[float] = []

    class Mark(Instruction):
        """Notes the time; the peer runs instructions in order, so marks bracket steps."""

        def run(self, script: Script) -> None:
            marks.append(time.monotonic())

    # The peer's own script format: a shell line is typed, `#$ expect` waits for output.
    # It does not wait for a command to finish by itself, so each step expects the prompt.
    expect = f"#$ expect {PEER_PROMPT.strip()}\n"
    source = workdir / "peer_script.sh"
    source.write_text(expect + ("true\n" + expect) * steps)
    parsed = parse.parse_script_file(source, PEER_EXPECT_TIMEOUT)
    if len(parsed) != 1 + 2 * steps:
        out.error = f"the peer parsed {len(parsed)} instructions, expected {1 + 2 * steps}"
        return out
    # The first expect (the first prompt) belongs to startup, as stagecast's does.
    instructions: list[Any] = [parsed[0], Mark()]
    for i in range(steps):
        instructions += [parsed[1 + 2 * i], parsed[2 + 2 * i], Mark()]

    config = workdir / "asciinema-config"
    config.mkdir()
    inputrc = workdir / "inputrc"
    inputrc.write_text(INPUTRC)
    cast = workdir / "peer.cast"
    # The same bare bash and environment stagecast's session gives its shell.
    env: dict[str, str | None] = {
        "PATH": search_path,
        "ASCIINEMA_CONFIG_HOME": str(config),
        "PS1": PEER_PROMPT,
        "INPUTRC": str(inputrc),
        "HISTFILE": "/dev/null",
        "TERM": "xterm-256color",
    }
    env |= dict.fromkeys(("PROMPT_COMMAND", "BASH_ENV", "ENV", "PS0", "ASCIINEMA_REC"))
    # CLI equivalent: asciinema-automation -dt 0 -sd 0 -wt 0 -aa "-c '...'" script out.cast
    script = Script(
        outputfile=cast,
        asciinema_arguments="-c 'bash --norc --noprofile -i'",
        timeout=PEER_EXPECT_TIMEOUT,
        wait=0.0,
        delay=0.0,
        standard_deviation=0.0,
        instructions=instructions,
    )
    with _environ(env):
        t0 = time.monotonic()
        try:
            script.execute()
        except Exception as exc:  # noqa: BLE001 - a measurement reports, it does not crash
            out.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            with contextlib.suppress(Exception):
                script.process.close(force=True)
            return out
        finally:
            out.whole_run_s = time.monotonic() - t0
    if len(marks) != steps + 1:
        out.error = (
            f"asciinema rec did not start or stopped early ({len(marks)} of {steps + 1} marks)"
        )
        return out
    out.step_ms = [(b - a) * 1000 for a, b in itertools.pairwise(marks)]
    out.overhead_ms = [ms - own_ms for ms in out.step_ms]
    out.steps_phase_s = marks[-1] - marks[0]
    out.startup_s = marks[0] - t0
    out.cross_check = {
        "steps_phase_per_step_ms": _round(out.steps_phase_s / steps * 1000 - own_ms),
        "whole_run_per_step_ms": _round(out.whole_run_s / steps * 1000 - own_ms),
        "shutdown_s": _round(t0 + out.whole_run_s - marks[-1], 4),
        "cast_bytes": cast.stat().st_size if cast.exists() else None,
    }
    return out


# -- report ---------------------------------------------------------------------------------


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f}×" if unit == "×" else f"{value:.3f}{unit}"


def build_report(steps: int, own: list[float], ours: DriverResult, peer: DriverResult) -> dict:
    a, b = ours.summary(), peer.summary()
    ratio: dict[str, float | None] = {"median": None, "p95": None}
    if ours.overhead_ms and peer.overhead_ms:
        for key, stat in (("median", statistics.median), ("p95", _p95)):
            mine, theirs = stat(ours.overhead_ms), stat(peer.overhead_ms)
            ratio[key] = round(theirs / mine, 2) if mine > 0 else None
    median_ok = statistics.median(ours.overhead_ms) <= GOAL_MEDIAN_MS if ours.overhead_ms else None
    ratio_ok = None if ratio["median"] is None else ratio["median"] >= GOAL_RATIO
    goal_met = None if median_ok is None or ratio_ok is None else median_ok and ratio_ok
    return {
        "benchmark": "driver_overhead",
        "date": datetime.date.today().isoformat(),
        "steps": steps,
        "command": "true",
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "goal": {
            "stagecast_median_ms_at_most": GOAL_MEDIAN_MS,
            "peer_over_stagecast_median_at_least": GOAL_RATIO,
            "median_ok": median_ok,
            "ratio_ok": ratio_ok,
            "met": goal_met,
        },
        "true_own_time": {
            "how": f"median of {len(own)} × `s=$EPOCHREALTIME; true; e=$EPOCHREALTIME` "
            "in one `bash --norc --noprofile -c`",
            "median_ms": round(statistics.median(own), 4),
            "p95_ms": round(_p95(own), 4),
            "subtracted_ms": round(statistics.median(own), 4),
        },
        "stagecast": a,
        "peer": b,
        "ratio_peer_over_stagecast": ratio,
    }


def markdown(report: dict) -> str:
    a, b, ratio = report["stagecast"], report["peer"], report["ratio_peer_over_stagecast"]
    goal = report["goal"]
    own = report["true_own_time"]
    lines = [
        f"### Driver overhead per step: {report['steps']} × `true` ({report['date']})",
        "",
        f"Goal: stagecast median ≤ {GOAL_MEDIAN_MS:g} ms per step "
        f"and ≥ {GOAL_RATIO:g}× lower than {PEER} {PEER_VERSION}",
        "",
        "| driver | median ms | p95 ms | mean ms | steps phase s | startup s | per-step timing |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in (a, b):
        lines.append(
            f"| {r['name']} | {_fmt(r.get('median_ms'))} | {_fmt(r.get('p95_ms'))} "
            f"| {_fmt(r.get('mean_ms'))} | {_fmt(r['steps_phase_s'])} "
            f"| {_fmt(r['startup_s'])} | {r['timing']} |"
        )
    lines.append(
        f"| ratio peer / stagecast | {_fmt(ratio['median'], '×')} | {_fmt(ratio['p95'], '×')} "
        "| | | | |"
    )
    lines += [
        "",
        f"Overhead = step wall time − `true`'s own time, measured: {own['median_ms'] * 1000:.1f} µs"
        f" ({own['how']}).",
    ]
    for r in (a, b):
        if r["error"]:
            lines.append(f"**{r['name']} could not be measured:** {r['error']}")
    if a.get("median_ms") is not None:
        check = a["cross_check"]
        lines.append(
            "stagecast cross-check: start-to-start median "
            f"{_fmt(check['start_to_start_median_ms'])} ms; "
            f"first/last quarter median {_fmt(a['first_quarter_median_ms'])}"
            f"/{_fmt(a['last_quarter_median_ms'])} ms."
        )
    if b.get("median_ms") is not None:
        check = b["cross_check"]
        lines.append(
            f"peer totals: steps phase / {report['steps']} = "
            f"{_fmt(check['steps_phase_per_step_ms'])} ms, whole run incl. `asciinema rec` "
            f"start and stop / {report['steps']} = {_fmt(check['whole_run_per_step_ms'])} ms; "
            f"first/last quarter median {_fmt(b['first_quarter_median_ms'])}"
            f"/{_fmt(b['last_quarter_median_ms'])} ms."
        )
    verdict = {True: "MET", False: "NOT MET", None: "UNKNOWN (a driver was not measured)"}
    yes_no = {True: "yes", False: "no"}
    parts = []
    if goal["median_ok"] is not None:
        limit = f"{GOAL_MEDIAN_MS:g} ms"
        parts.append(f"median {a['median_ms']:.3f} ms ≤ {limit}: {yes_no[goal['median_ok']]}")
    if goal["ratio_ok"] is not None:
        limit = f"{GOAL_RATIO:g}×"
        parts.append(f"ratio {ratio['median']:.2f}× ≥ {limit}: {yes_no[goal['ratio_ok']]}")
    detail = f" ({'; '.join(parts)})" if parts else ""
    lines += ["", f"**Goal {verdict[goal['met']]}**{detail}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="trivial steps per driver")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error("--steps must be at least 1")

    own = measure_true(args.steps)
    own_ms = statistics.median(own)
    with tempfile.TemporaryDirectory(prefix="stagecast-bench-") as tmp:
        workdir = Path(tmp)
        (workdir / "stagecast").mkdir()
        (workdir / "peer").mkdir()
        ours = run_stagecast(args.steps, workdir / "stagecast", own_ms)
        peer = run_peer(args.steps, workdir / "peer", own_ms)
    report = build_report(args.steps, own, ours, peer)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(markdown(report))
    # A measurement, not a test: the goal's outcome never fails the run.
    return 1 if ours.error or peer.error else 0


if __name__ == "__main__":
    sys.exit(main())
