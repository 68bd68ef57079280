"""Start-up: how long a `stagecast` command takes from exec to exit, next to asciinema and doitlive.

    .venv/bin/python benchmarks/startup.py [--runs 20] [--json]

Each command is a fresh process, timed from `subprocess.run` to its return (wall time,
time.perf_counter), with stdout and stderr to /dev/null:

- `stagecast --help`;
- `stagecast lint` of every scenario (scenarios/*.yaml scenarios/lab/*.yaml);
- `stagecast play --list casts/tour.cast` (the chapters; nothing is played);
- `asciinema --help` (asciinema 2.4.0) and `doitlive --help` (doitlive 5.2.1), the peers;
- `python -c pass`: the interpreter's own start with the venv's site, the floor under all.

All are the console scripts of the venv that runs this script (`stagecast` is the
`stagecast.cli:entry` entry point, as a user runs it). They run in the same run, in rounds:
each round runs every command once, in a seeded random order, so that a change in the
machine's load falls on all of them alike. One untimed round first checks that every command
exits 0 (and that lint says `ok` for every file) and fills the bytecode cache.

The environment: PYTHONDONTWRITEBYTECODE removed and PYTHONPYCACHEPREFIX set to a temporary
directory, so that every program runs from cached bytecode, as after an install, without
writing into the checkout; ASCIINEMA_CONFIG_HOME set to a temporary directory.

Reported per command: median, p25-p75 and min in ms; the ratios of each stagecast command's
median to each peer's (above 1: stagecast slower). Goals (issue 11): `stagecast --help` no
slower than `asciinema --help` (median ratio <= 1.0), and `stagecast lint` of every scenario
<= 0.3 s (median). Caveats: a 2-core machine shared with whatever else runs; the load average
is printed before and after. Compare several runs rather than trusting one; the figures are
never a test threshold. Exit status: always 0 (a measurement, not a test).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SCENARIOS = sorted(ROOT.glob("scenarios/*.yaml")) + sorted(ROOT.glob("scenarios/lab/*.yaml"))
CAST = ROOT / "casts" / "tour.cast"
GOAL_HELP_RATIO = 1.0
GOAL_LINT_S = 0.3
PEERS = ("asciinema --help", "doitlive --help")
OURS = ("stagecast --help", "stagecast lint", "stagecast play --list")


def commands() -> dict[str, list[str]]:
    scenarios = [str(p.relative_to(ROOT)) for p in SCENARIOS]
    return {
        "stagecast --help": [str(BIN / "stagecast"), "--help"],
        "stagecast lint": [str(BIN / "stagecast"), "lint", *scenarios],
        "stagecast play --list": [
            str(BIN / "stagecast"),
            "play",
            "--list",
            str(CAST.relative_to(ROOT)),
        ],
        "asciinema --help": [str(BIN / "asciinema"), "--help"],
        "doitlive --help": [str(BIN / "doitlive"), "--help"],
        "python -c pass": [sys.executable, "-c", "pass"],
    }


def environment(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    env["ASCIINEMA_CONFIG_HOME"] = str(tmp / "asciinema")
    return env


def check(name: str, cmd: list[str], env: dict[str, str]) -> str | None:
    """Why this command cannot be measured, or None (the untimed first round)."""
    if not Path(cmd[0]).exists():
        return f"{cmd[0]} not found (.venv/bin/pip install -e '.[bench]')"
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"exit {done.returncode}: {last}"
    if name == "stagecast lint":
        ok = sum(1 for line in done.stdout.splitlines() if ": ok (" in line)
        if ok != len(SCENARIOS):
            return f"lint said ok for {ok} of {len(SCENARIOS)} files"
    return None


def time_once(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    return time.perf_counter() - start


def summary(seconds: list[float]) -> dict[str, float]:
    q1, _, q3 = statistics.quantiles(seconds, n=4, method="inclusive")
    ms = 1000.0
    return {
        "n": len(seconds),
        "median_ms": statistics.median(seconds) * ms,
        "p25_ms": q1 * ms,
        "p75_ms": q3 * ms,
        "min_ms": min(seconds) * ms,
        "max_ms": max(seconds) * ms,
    }


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("stagecast", "asciinema", "doitlive", "pydantic", "PyYAML"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = "not installed"
    try:
        import yaml

        out["libyaml"] = "yes" if getattr(yaml, "__with_libyaml__", False) else "no"
    except ImportError:
        out["libyaml"] = "no PyYAML"
    return out


def commit() -> str:
    done = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


def measure(runs: int, seed: int) -> dict[str, Any]:
    cmds = commands()
    skipped: dict[str, str] = {}
    times: dict[str, list[float]] = {name: [] for name in cmds}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="startup-bench-") as td:
        env = environment(Path(td))
        for name, cmd in cmds.items():
            reason = check(name, cmd, env)
            if reason:
                skipped[name] = reason
        live = [name for name in cmds if name not in skipped]
        rng = random.Random(seed)
        for _ in range(runs):
            order = live[:]
            rng.shuffle(order)
            for name in order:
                times[name].append(time_once(cmds[name], env))
    load_after = os.getloadavg()
    results = {name: summary(times[name]) for name in live}
    ratios: dict[str, dict[str, float]] = {}
    for ours in OURS:
        for peer in PEERS:
            if ours in results and peer in results:
                ratios.setdefault(ours, {})[peer] = (
                    results[ours]["median_ms"] / results[peer]["median_ms"]
                )
    help_ratio = ratios.get("stagecast --help", {}).get("asciinema --help")
    lint_s = results["stagecast lint"]["median_ms"] / 1000 if "stagecast lint" in results else None
    goal = {
        "help_ratio_max": GOAL_HELP_RATIO,
        "help_ratio": help_ratio,
        "help_met": None if help_ratio is None else help_ratio <= GOAL_HELP_RATIO,
        "lint_s_max": GOAL_LINT_S,
        "lint_s": lint_s,
        "lint_met": None if lint_s is None else lint_s <= GOAL_LINT_S,
    }
    goal["met"] = (
        None
        if None in (goal["help_met"], goal["lint_met"])
        else goal["help_met"] and goal["lint_met"]
    )
    return {
        "settings": {
            "runs": runs,
            "seed": seed,
            "scenarios": [str(p.relative_to(ROOT)) for p in SCENARIOS],
            "cast": str(CAST.relative_to(ROOT)),
            "cpus": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
            "versions": versions(),
            "commit": commit(),
            "date": datetime.date.today().isoformat(),
        },
        "commands": results,
        "ratios": ratios,
        "goal": goal,
        "skipped": skipped,
    }


def print_markdown(data: dict[str, Any]) -> None:
    st = data["settings"]
    v = st["versions"]
    print(
        f"{st['runs']} runs per command, interleaved (seed {st['seed']}); python {v['python']}, "
        f"asciinema {v['asciinema']}, doitlive {v['doitlive']}, pydantic {v['pydantic']}, "
        f"PyYAML {v['PyYAML']} (libyaml: {v['libyaml']}); {st['cpus']} CPUs; load average "
        f"{st['load_average_before'][0]} before, {st['load_average_after'][0]} after; "
        f"code {st['commit']}.\n"
    )
    print("| command | median ms | p25–p75 ms | min ms |")
    print("|---|---:|---:|---:|")
    for name, r in data["commands"].items():
        print(
            f"| `{name}` | {r['median_ms']:.1f} | {r['p25_ms']:.1f}–{r['p75_ms']:.1f} "
            f"| {r['min_ms']:.1f} |"
        )
    for name, reason in data["skipped"].items():
        print(f"\nSkipped `{name}`: {reason}")
    if data["ratios"]:
        print("\nRatios of medians (above 1: stagecast slower):\n")
        print("| stagecast | / `asciinema --help` | / `doitlive --help` |")
        print("|---|---:|---:|")
        for ours, peers in data["ratios"].items():
            cells = [f"{peers[p]:.2f}×" if p in peers else "n/a" for p in PEERS]
            print(f"| `{ours}` | {' | '.join(cells)} |")
    g = data["goal"]
    verdict = {True: "MET", False: "NOT MET", None: "UNKNOWN"}[g["met"]]
    ratio = f"{g['help_ratio']:.2f}" if g["help_ratio"] is not None else "n/a"
    lint = f"{g['lint_s']:.3f} s" if g["lint_s"] is not None else "n/a"
    print(
        f"\n**Goal {verdict}**: `stagecast --help` / `asciinema --help` {ratio} ≤ "
        f"{g['help_ratio_max']:.1f}; `stagecast lint` of {len(st['scenarios'])} scenarios "
        f"{lint} ≤ {g['lint_s_max']} s (medians)"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--runs", type=int, default=20, help="timed runs per command (20)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the order within each round")
    ap.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    args = ap.parse_args(argv)
    if args.runs < 2:
        ap.error("--runs takes at least 2")
    data = measure(args.runs, args.seed)
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print_markdown(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
