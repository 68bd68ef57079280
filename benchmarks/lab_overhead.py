"""Lab scenarios: rehearse wall time against the commands' own time, and the casts' size.

    .venv/bin/python benchmarks/lab_overhead.py [--runs 3] [--json] [SCENARIO...]

For each scenario (default: every scenarios/lab/*.yaml), rehearse it --runs times and
report the median wall time, the median sum of the commands' own run times (as bash
measures them: PS0 to the next prompt, `$EPOCHREALTIME` both ends), their ratio, and the
verified cast's size and duration (casts/lab-NAME.cast, if present). Needs root.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recorder.run.record import default_cast_path  # noqa: E402
from recorder.run.rehearse import rehearse  # noqa: E402
from recorder.scenario.loader import load_scenario  # noqa: E402


def cast_facts(path: Path) -> dict[str, float | int] | None:
    if not path.is_file():
        return None
    lines = path.read_text().splitlines()
    last = json.loads(lines[-1])[0] if len(lines) > 1 else 0.0
    header = json.loads(lines[0])
    limit = header.get("idle_time_limit")
    # Duration as a player shows it: gaps above idle_time_limit are capped.
    played, previous = 0.0, 0.0
    for line in lines[1:]:
        t = json.loads(line)[0]
        gap = t - previous
        played += min(gap, limit) if limit else gap
        previous = t
    return {
        "bytes": path.stat().st_size,
        "events": len(lines) - 1,
        "duration_s": round(last, 1),
        "played_s": round(played, 1),
    }


def measure(path: Path, runs: int) -> dict[str, object]:
    walls, commands, steps = [], [], 0
    for _ in range(runs):
        loaded = load_scenario(path)
        result = rehearse(loaded)
        if not result.passed:
            failed = result.first_failure
            return {"scenario": str(path), "error": failed.failures if failed else result.error}
        walls.append(result.duration)
        commands.append(sum(s.command_time for s in result.steps))
        steps = len(result.steps)
    wall, command = statistics.median(walls), statistics.median(commands)
    cast = ROOT / default_cast_path(load_scenario(path))
    return {
        "scenario": str(path.relative_to(ROOT)),
        "steps": steps,
        "runs": runs,
        "wall_s": round(wall, 3),
        "commands_s": round(command, 3),
        "overhead_s": round(wall - command, 3),
        "ratio_wall_over_commands": round(wall / command, 2) if command else None,
        "overhead_per_step_ms": round((wall - command) / steps * 1000, 2),
        "cast": str(cast.relative_to(ROOT)),
        "cast_facts": cast_facts(cast),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    paths = [p.resolve() for p in args.scenarios] or sorted((ROOT / "scenarios/lab").glob("*.yaml"))
    rows = [measure(p, args.runs) for p in paths]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(
        "| scenario | steps | rehearse wall s | commands' own s | wall / commands "
        "| overhead per step ms | cast bytes | cast duration s (played) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for row in rows:
        if "error" in row:
            print(f"| {row['scenario']} | failed: {row['error']} |")
            continue
        facts = row["cast_facts"] or {}
        size = facts.get("bytes", "—")
        duration = f"{facts['duration_s']} ({facts['played_s']})" if facts else "—"
        print(
            f"| {Path(str(row['scenario'])).name} | {row['steps']} | {row['wall_s']} "
            f"| {row['commands_s']} | {row['ratio_wall_over_commands']}× "
            f"| {row['overhead_per_step_ms']} | {size} | {duration} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
