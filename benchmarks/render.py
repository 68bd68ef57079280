"""Rendering casts to pictures: stagecast render next to svg-term-cli and termtosvg.

    .venv/bin/python benchmarks/render.py [--json] [--runs 3] [--cast PATH ...]
        [--skip-peers]

For each cast (default: the four published demos), the wall time, output size and frame
count of:
- SVG: `stagecast render CAST -o X.svg` (defaults: 15 fps, the cast's idle_time_limit),
  `svg-term --in CAST --out X.svg` (svg-term-cli 2.1.1 from npm, its defaults, svgo included),
  and `termtosvg render CAST X.svg -M LIMIT` (termtosvg 1.1.0 from PyPI; -M caps each frame
  at the cast's idle_time_limit, as stagecast does);
- GIF: `stagecast render CAST -o X.gif`, against the time the cast plays, idle-capped.

Each tool runs as a user runs it: a fresh process, timed around subprocess.run. The peers
are installed on first use into a cache (`$XDG_CACHE_HOME/stagecast/bench/`, else
~/.cache): svg-term-cli with npm (`npm install --prefix`, as the site installs
asciinema-player), termtosvg with pip into a venv of its own. Frames are counted in each
SVG's animation: stagecast's and svg-term's `@keyframes` steps, termtosvg's `roll` steps; a
GIF's frames with Pillow.

Goals: stagecast's SVG no slower and no larger than the better peer on each cast (the best
peer time and the smallest peer size); a GIF renders faster than the cast plays. A
measurement, not a test: the exit status is 0 unless a tool could not be run at all.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CASTS = [
    ROOT / "casts" / f"{name}.cast"
    for name in ("lab-cni-from-zero", "lab-flannel-vxlan", "lab-ovn-from-zero", "tour")
]
SVG_TERM = ("svg-term-cli", "2.1.1")
TERMTOSVG = ("termtosvg", "1.1.0")
TIMEOUT = 1800


@dataclass
class Run:
    cast: str
    tool: str
    kind: str  # svg or gif
    seconds: float  # median wall time
    size: int
    frames: int
    runs: int
    note: str = ""


def cache_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "stagecast" / "bench"


def ensure_svg_term() -> Path:
    name, version = SVG_TERM
    prefix = cache_dir() / f"{name}-{version}"
    binary = prefix / "node_modules" / ".bin" / "svg-term"
    if binary.exists():
        return binary
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm not found (apt-get install npm)")
    prefix.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [npm, "install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error"]
        + ["--prefix", str(prefix), f"{name}@{version}"],
        check=True,
        cwd=prefix,
        capture_output=True,
        timeout=600,
    )
    return binary


def ensure_termtosvg() -> Path:
    name, version = TERMTOSVG
    venv = cache_dir() / f"{name}-{version}"
    binary = venv / "bin" / "termtosvg"
    if binary.exists():
        return binary
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", f"{name}=={version}"],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return binary


def timed(command: list[str], out: Path) -> float:
    out.unlink(missing_ok=True)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)
    seconds = time.perf_counter() - start
    if done.returncode != 0 or not out.exists():
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise RuntimeError(f"{command[0]}: exit {done.returncode}: {lines[-1] if lines else ''}")
    return seconds


def svg_frames(path: Path) -> int:
    """Steps of the SVG's frame animation."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if "stagecast" in path.name:
        # One group per frame that drew something, plus frames that only moved the cursor
        # or scrolled: count the distinct keyframe times.
        times = set(re.findall(r"([\d.]+)%\{(?:opacity|transform)", text))
        return len(times | {"0"})
    blocks = re.findall(r"@keyframes\s+\w+\s*\{(.*?)\}\s*\}", text, re.S)
    block = max(blocks, key=len) if blocks else ""
    return len(re.findall(r"[\d.]+%\s*\{", block))


def gif_frames(path: Path) -> int:
    from PIL import Image

    with Image.open(path) as image:
        return int(getattr(image, "n_frames", 1))


def median_time(command: list[str], out: Path, runs: int) -> float:
    return statistics.median(timed(command, out) for _ in range(runs))


def played_seconds(cast: Path) -> float:
    from player.play import timed_events
    from recorder.cast.reader import load_cast

    events = timed_events(load_cast(cast))
    return events[-1][0] if events else 0.0


def idle_limit(cast: Path) -> float | None:
    from recorder.cast.reader import load_cast

    return load_cast(cast).idle_time_limit


def measure(casts: list[Path], runs: int, peers: bool) -> tuple[list[Run], list[str]]:
    results: list[Run] = []
    problems: list[str] = []
    stagecast = [sys.executable, "-m", "stagecast", "render"]
    svg_term = termtosvg = None
    if peers:
        try:
            svg_term = ensure_svg_term()
        except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
            problems.append(f"svg-term-cli: {exc}")
        try:
            termtosvg = ensure_termtosvg()
        except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
            problems.append(f"termtosvg: {exc}")
    with tempfile.TemporaryDirectory(prefix="stagecast-render-bench-") as tmp:
        work = Path(tmp)
        for cast in casts:
            name = cast.stem
            out = work / f"{name}.stagecast.svg"
            seconds = median_time([*stagecast, str(cast), "-o", str(out)], out, runs)
            results.append(
                Run(name, "stagecast", "svg", seconds, out.stat().st_size, svg_frames(out), runs)
            )
            out = work / f"{name}.stagecast.gif"
            seconds = median_time([*stagecast, str(cast), "-o", str(out)], out, runs)
            results.append(
                Run(name, "stagecast", "gif", seconds, out.stat().st_size, gif_frames(out), runs)
            )
            if svg_term is not None:
                out = work / f"{name}.svg-term.svg"
                try:
                    seconds = timed([str(svg_term), "--in", str(cast), "--out", str(out)], out)
                    size = out.stat().st_size
                    results.append(
                        Run(name, "svg-term-cli", "svg", seconds, size, svg_frames(out), 1)
                    )
                except (RuntimeError, subprocess.SubprocessError) as exc:
                    problems.append(f"svg-term-cli on {name}: {exc}")
            if termtosvg is not None:
                out = work / f"{name}.termtosvg.svg"
                command = [str(termtosvg), "render", str(cast), str(out)]
                limit = idle_limit(cast)
                if limit:
                    command += ["-M", str(round(limit * 1000))]
                try:
                    seconds = timed(command, out)
                    size = out.stat().st_size
                    results.append(Run(name, "termtosvg", "svg", seconds, size, svg_frames(out), 1))
                except (RuntimeError, subprocess.SubprocessError) as exc:
                    problems.append(f"termtosvg on {name}: {exc}")
    return results, problems


def verdicts(results: list[Run], casts: list[Path]) -> list[dict[str, object]]:
    out = []
    for cast in casts:
        name = cast.stem
        mine = next(
            r for r in results if r.cast == name and r.tool == "stagecast" and r.kind == "svg"
        )
        gif = next(
            r for r in results if r.cast == name and r.tool == "stagecast" and r.kind == "gif"
        )
        peers = [r for r in results if r.cast == name and r.tool != "stagecast"]
        played = played_seconds(cast)
        row: dict[str, object] = {
            "cast": name,
            "played_s": round(played, 1),
            "gif_s": round(gif.seconds, 2),
            "gif_faster_than_playback": gif.seconds < played,
        }
        if peers:
            best_time = min(p.seconds for p in peers)
            best_size = min(p.size for p in peers)
            row.update(
                time_ratio=round(mine.seconds / best_time, 4),
                size_ratio=round(mine.size / best_size, 4),
                svg_goal=mine.seconds <= best_time and mine.size <= best_size,
            )
        out.append(row)
    return out


def markdown(results: list[Run], goals: list[dict[str, object]], problems: list[str]) -> str:
    lines = [
        "| cast | tool | output | wall s | size KB | frames |",
        "|---|---|---|---:|---:|---:|",
    ]
    for r in results:
        size = f"{r.size / 1024:.0f}"
        lines.append(f"| {r.cast} | {r.tool} | {r.kind} | {r.seconds:.2f} | {size} | {r.frames} |")
    lines += [
        "",
        "| cast | SVG time / best peer | SVG size / smallest peer | GIF wall s | cast plays s "
        "(idle-capped) | GIF goal | SVG goal |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for g in goals:
        time_ratio = f"{g['time_ratio']:.3f}×" if "time_ratio" in g else "n/a"
        size_ratio = f"{g['size_ratio']:.3f}×" if "size_ratio" in g else "n/a"
        svg = ("met" if g["svg_goal"] else "NOT met") if "svg_goal" in g else "unknown"
        gif = "met" if g["gif_faster_than_playback"] else "NOT met"
        lines.append(
            f"| {g['cast']} | {time_ratio} | {size_ratio} | {g['gif_s']} | {g['played_s']} | "
            f"{gif} | {svg} |"
        )
    if all(g.get("svg_goal") and g["gif_faster_than_playback"] for g in goals):
        lines.append("\nGoal MET on every cast.")
    elif any("svg_goal" not in g for g in goals):
        lines.append("\nGoal UNKNOWN: a peer could not be measured.")
    else:
        lines.append("\nGoal NOT MET on at least one cast.")
    lines += [f"- {p}" for p in problems]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--runs", type=int, default=3, help="stagecast runs per output (median)")
    parser.add_argument("--cast", type=Path, action="append", help="casts (default: the four)")
    parser.add_argument("--skip-peers", action="store_true", help="stagecast only")
    args = parser.parse_args()
    casts = args.cast or CASTS
    results, problems = measure(casts, max(1, args.runs), not args.skip_peers)
    goals = verdicts(results, casts)
    machine = {"cores": os.cpu_count(), "python": sys.version.split()[0]}
    if args.json:
        print(
            json.dumps(
                {
                    "machine": machine,
                    "results": [asdict(r) for r in results],
                    "goal": goals,
                    "problems": problems,
                },
                indent=2,
            )
        )
    else:
        print(f"Machine: {machine['cores']} cores, Python {machine['python']}")
        print(markdown(results, goals, problems))
    return 1 if not results else 0


if __name__ == "__main__":
    sys.exit(main())
