"""Import round trip: each of the speaker's recordings imported as a draft scenario, and the
draft checked against the same recording; the draft next to the scenario written by hand.

    .venv/bin/python benchmarks/import_roundtrip.py [--json] [--recordings DIR]

For demo11.cast, demo12.cast and demo2.cast (the speaker's hand-made recordings, read in
place from ../shared/seed/meetup-recordings, never copied): `stagecast import` (timed, wall
time, in-process), the draft loaded as `stagecast lint` loads it, then `stagecast check
DRAFT --against THE_SAME_RECORDING`: how many of the draft's visible steps are found and
pass, and how many differ (unexplained). Then the hand-written scenarios/demo-*.yaml next to
the draft: how many of its visible steps the importer drafted (the same command, or the one
its `differs:` explains), and for each other step why not.

Goals (the import issue): on every recording, ≥ 95% of the draft's visible steps found,
≥ 90% passed, none unexplained. Exit status: 0 when every goal is met, 1 when one is not,
2 when the recordings are not there. The import time is measured, never a goal (a 2-core
machine shared with whatever else runs).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from recorder.importer.compare import compare  # noqa: E402
from recorder.importer.draft import import_cast  # noqa: E402
from recorder.recording_check.check import check  # noqa: E402
from recorder.scenario.loader import load_scenario  # noqa: E402

RECORDINGS = ROOT.parent / "shared" / "seed" / "meetup-recordings"
PAIRS = [("demo11.cast", "demo-1.1"), ("demo12.cast", "demo-1.2"), ("demo2.cast", "demo-2")]
FOUND, PASSED = 0.95, 0.90


def measure(cast: Path, hand: Path, folder: Path) -> dict[str, object]:
    started = time.perf_counter()
    result = import_cast(cast)
    seconds = time.perf_counter() - started
    draft = folder / f"{cast.stem}.yaml"
    draft.write_text(result.text)
    loaded = load_scenario(draft)  # what `stagecast lint` does
    counts = check(loaded, cast).counts()
    compared = compare(loaded, load_scenario(hand), cast)
    visible = counts["visible"] or 1
    row: dict[str, object] = {
        "recording": cast.name,
        "import_seconds": round(seconds, 2),
        "commands": result.commands,
        "steps": counts["visible"],
        "found": counts["found"],
        "passed": counts["passed"],
        "unexplained": counts["differs"],
        "found_percent": round(100 * counts["found"] / visible, 1),
        "passed_percent": round(100 * counts["passed"] / visible, 1),
        "hand_written": hand.name,
        "hand_steps": len(compared),
        "hand_drafted": sum(c.status != "not drafted" for c in compared),
        "hand_missing": [
            {"step": c.label, "status": c.status, "why": c.reason}
            for c in compared
            if c.status != "drafted"
        ],
    }
    row["goal_met"] = (
        counts["found"] >= FOUND * visible
        and counts["passed"] >= PASSED * visible
        and counts["differs"] == 0
    )
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--recordings", type=Path, default=RECORDINGS)
    args = parser.parse_args()
    if not all((args.recordings / cast).is_file() for cast, _ in PAIRS):
        print(f"the speaker's recordings are not in {args.recordings}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="stagecast-import-") as tmp:
        rows = [
            measure(args.recordings / cast, ROOT / "scenarios" / f"{name}.yaml", Path(tmp))
            for cast, name in PAIRS
        ]
    met = all(row["goal_met"] for row in rows)
    if args.json:
        print(json.dumps({"rows": rows, "goal_met": met}, indent=2, ensure_ascii=False))
        return 0 if met else 1
    print("| recording | import | commands | draft steps | found | passed | unexplained |"
          " hand-written steps drafted |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| {r['recording']} | {r['import_seconds']:.1f} s | {r['commands']} | {r['steps']} "
            f"| {r['found']} ({r['found_percent']}%) | {r['passed']} ({r['passed_percent']}%) "
            f"| {r['unexplained']} | {r['hand_drafted']}/{r['hand_steps']} ({r['hand_written']}) |"
        )
    print()
    for r in rows:
        for item in r["hand_missing"]:  # type: ignore[attr-defined]
            print(f"- {r['hand_written']}: {item['step']!r}: {item['status']}: {item['why']}")
    print()
    print(
        f"Goal {'MET' if met else 'NOT MET'}: on every recording, >= {FOUND:.0%} of the draft's "
        f"visible steps found, >= {PASSED:.0%} passed, none unexplained"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
