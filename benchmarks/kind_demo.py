"""Demo 1.1 on the registry-free kind: bring-up, rehearsal overhead, and the cast's length.

    sudo .venv/bin/python benchmarks/kind_demo.py [--runs 3] [--json]

Measures, in one run, on the registry-free kind (scenarios/registry-free-kind, built first):
- warm bring-up: `kind create cluster` of demo 1.1's two-node config on the local node image
  (the images already built), to the API answering;
- demo 1.1 rehearsed under the profile, --runs times: the median wall time against the sum of
  its commands' own run times as bash measures them (the peer: the commands themselves);
- the committed verified cast (casts/demo-1.1.cast) against the speaker's own recording of the
  same demo (../shared/seed/meetup-recordings/demo11.cast, 493 s): duration, and as played
  with the idle limit.
Holds the kind tests' lock, so that no test session shares the cluster meanwhile.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from real_kind import NODE_IMAGE, PROFILE, kind_env, session_lock, skip_reason  # noqa: E402
from recorder.cast.reader import load_cast  # noqa: E402

DEMO = ROOT / "scenarios" / "demo-1.1.yaml"
CAST = ROOT / "casts" / "demo-1.1.cast"
SPEAKER = ROOT.parent / "shared" / "seed" / "meetup-recordings" / "demo11.cast"
CONFIG = ROOT / "scenarios" / "kind" / "demo-1-cluster.yml"


def durations(path: Path) -> dict[str, float] | None:
    """Length of a cast as recorded, and as played with its idle_time_limit."""
    if not path.is_file():
        return None
    cast = load_cast(path)
    times = [t for t, _, _ in cast.events]
    limit = cast.idle_time_limit
    played, previous = 0.0, 0.0
    for t in times:
        gap = t - previous
        played += min(gap, limit) if limit else gap
        previous = t
    return {"duration_s": round(times[-1] if times else 0.0, 1), "played_s": round(played, 1)}


def warm_bring_up(env: dict[str, str]) -> float:
    name = "bench-warm"
    subprocess.run(["kind", "delete", "cluster", "--name", name], env=env, capture_output=True)
    started = time.monotonic()
    subprocess.run(
        [
            "kind",
            "create",
            "cluster",
            "--name",
            name,
            "--image",
            NODE_IMAGE,
            "--config",
            str(CONFIG),
            "--kubeconfig",
            f"/tmp/{name}.kubeconfig",
        ],
        env=env,
        capture_output=True,
        check=True,
    )
    took = time.monotonic() - started
    subprocess.run(["kind", "delete", "cluster", "--name", name], env=env, capture_output=True)
    Path(f"/tmp/{name}.kubeconfig").unlink(missing_ok=True)
    return took


def rehearse_once(env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, sum of the commands' own seconds) of one rehearsal."""
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "stagecast",
            "rehearse",
            "--keep-cluster",
            "--json",
            "--profile",
            str(PROFILE),
            str(DEMO),
        ],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    wall = time.monotonic() - started
    report = json.loads(done.stdout)
    if not report["passed"]:
        raise SystemExit(f"demo 1.1 did not pass: {done.stderr[-500:]}")
    (scenario,) = report["scenarios"]
    return wall, sum(step["command_time"] for step in scenario["steps"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    reason = skip_reason()
    if reason:
        print(f"kind_demo: cannot measure: {reason}", file=sys.stderr)
        return 1
    env = kind_env()
    with session_lock() as holder:
        if holder is not None:
            print(f"kind_demo: the registry-free kind is in use ({holder})", file=sys.stderr)
            return 1
        subprocess.run(["docker", "version"], env=env, capture_output=True, check=True)
        bring_up = warm_bring_up(env)
        runs = [rehearse_once(env) for _ in range(args.runs)]
    wall = statistics.median(w for w, _ in runs)
    own = statistics.median(c for _, c in runs)
    ours, speaker = durations(CAST), durations(SPEAKER) or {"duration_s": 493.0}
    result = {
        "warm_bring_up_s": round(bring_up, 1),
        "rehearse_wall_s": round(wall, 1),
        "commands_own_s": round(own, 1),
        "rehearse_ratio": round(wall / own, 2) if own else None,
        "cast": ours,
        "speaker_cast": speaker,
        "cast_ratio": round(ours["duration_s"] / speaker["duration_s"], 2) if ours else None,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print("| measure | value |\n| --- | --- |")
    print(f"| warm bring-up (kind create, 2 nodes) | {result['warm_bring_up_s']} s |")
    print(f"| demo 1.1 rehearse wall (median of {args.runs}) | {result['rehearse_wall_s']} s |")
    print(f"| its commands' own time | {result['commands_own_s']} s |")
    print(f"| ratio wall / own | {result['rehearse_ratio']} |")
    if ours:
        print(f"| verified cast (played) | {ours['duration_s']} s ({ours['played_s']} s) |")
    print(f"| speaker's recording | {speaker['duration_s']} s |")
    print(f"| ratio cast / speaker | {result['cast_ratio']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
