"""Throughput: a step that prints 1, 10 and 100 MB, through stagecast and asciinema rec.

    .venv/bin/python benchmarks/throughput.py [--sizes 1,10,100] [--runs N] [--json]

The command is `head -c N /dev/zero | tr '\\0' x | fold -w 200` (N bytes in 200-character
lines), run in the same session by:
- `stagecast rehearse` of a one-step scenario;
- `stagecast record --cps 60` of the same scenario (a verified cast written, leak-scanned);
- `stagecast live --auto` of it in a pty, the cast `record` wrote as its safety net (pexpect
  reads the pty, the audience's terminal, as a terminal would);
- `asciinema rec -c COMMAND` in a pty (read the same way).
Then `stagecast scan` and `stagecast diff X X` of the biggest cast `record` wrote.

Each run's wall time and peak RSS (the process's own, from wait4, plus the peaks of the
Python processes it starts: stagecast's spill process, asciinema's writer) are reported, with MB/s
and the ratio to asciinema rec's throughput at the same size. Goals (the issue's): at
100 MB, stagecast's throughput at least asciinema rec's (ratio >= 1.0); the 100 MB run
within 12x the 10 MB run; peak RSS under 150 MB at every size; scan and diff of the 100 MB
cast each under 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pexpect

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
MB = 1_000_000


@dataclass
class Run:
    tool: str
    size_mb: int
    seconds: float
    peak_rss_mb: float
    exit: int

    @property
    def mb_per_s(self) -> float:
        return self.size_mb / self.seconds if self.seconds else 0.0


def command(size_mb: int) -> str:
    return f"head -c {size_mb * MB} /dev/zero | tr '\\0' x | fold -w 200"


class HelperPeaks(threading.Thread):
    """The peak RSS of a process's Python helpers: the processes under it that run this
    interpreter (stagecast's spill process, asciinema's writer process), sampled every
    50 ms, so that the figure is the tool's whole footprint, not its main process alone
    (wait4 gives the largest of a process and its children, not their sum)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peaks: dict[int, float] = {}
        self.done = threading.Event()
        self.start()

    def run(self) -> None:
        python = os.path.realpath(PYTHON)
        while not self.done.wait(0.05):
            for pid in _descendants(self.pid):
                try:
                    if os.path.realpath(f"/proc/{pid}/exe") != python:
                        continue
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                for row in status.splitlines():
                    if row.startswith("VmHWM:"):
                        peak = int(row.split()[1]) / 1024
                        self.peaks[pid] = max(self.peaks.get(pid, 0.0), peak)

    def total(self) -> float:
        self.done.set()
        self.join()
        return sum(self.peaks.values())


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        try:
            children = Path(f"/proc/{todo.pop()}/task/").glob("*/children")
            pids = [int(c) for path in children for c in path.read_text().split()]
        except OSError:
            continue
        found += pids
        todo += pids
    return found


def timed(args: list[str], cwd: Path) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, exit code) of one process: its own from wait4, plus its
    Python helpers' (see HelperPeaks)."""
    start = time.monotonic()
    proc = subprocess.Popen(
        args, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    helpers = HelperPeaks(proc.pid)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - start
    return seconds, usage.ru_maxrss / 1024 + helpers.total(), os.waitstatus_to_exitcode(status)


def stagecast(tool: str, size_mb: int, work: Path) -> Run:
    scenario = work / f"big{size_mb}.yaml"
    scenario.write_text(f"title: big\nsteps:\n  - run: {json.dumps(command(size_mb))}\n")
    args = [PYTHON, "-m", "stagecast", tool, str(scenario), "-q"]
    if tool == "record":
        args += ["--cps", "60", "-o", str(work / f"big{size_mb}.cast")]
    seconds, rss, code = timed(args, ROOT)
    return Run(f"stagecast {tool}", size_mb, seconds, rss, code)


def in_pty(tool: str, size_mb: int, binary: str, args: list[str]) -> Run:
    """In a pty, as a person would run it; the pty is read (drained) as a terminal would."""
    start = time.monotonic()
    child = pexpect.spawn(binary, args, cwd=ROOT, dimensions=(30, 200), timeout=None)
    helpers = HelperPeaks(child.pid)
    while True:
        try:
            child.read_nonblocking(1 << 20, timeout=None)
        except pexpect.EOF:
            break
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.monotonic() - start
    child.closed = True
    rss = usage.ru_maxrss / 1024 + helpers.total()
    return Run(tool, size_mb, seconds, rss, os.waitstatus_to_exitcode(status))


def asciinema_rec(size_mb: int, work: Path) -> Run:
    binary = shutil.which("asciinema") or str(Path(PYTHON).parent / "asciinema")
    out = work / f"asciinema{size_mb}.cast"
    args = ["rec", "-q", "--overwrite", "-c", command(size_mb), str(out)]
    return in_pty("asciinema rec", size_mb, binary, args)


def stagecast_live(size_mb: int, work: Path) -> Run:
    """The show, unattended, with the cast `record` wrote as its safety net (loaded, unused)."""
    args = ["-m", "stagecast", "live", "--auto", "--cps", "100"]
    args += ["--cast", str(work / f"big{size_mb}.cast")]
    args += [
        "--socket",
        str(work / f"live{size_mb}" / "live.sock"),
        str(work / f"big{size_mb}.yaml"),
    ]
    return in_pty("stagecast live --auto", size_mb, PYTHON, args)


def one_run(sizes: list[int], quiet: bool) -> list[Run]:
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="stagecast-throughput-") as raw:
        work = Path(raw)
        for size in sizes:
            for run in (
                asciinema_rec(size, work),
                stagecast("rehearse", size, work),
                stagecast("record", size, work),
                stagecast_live(size, work),
            ):
                runs.append(run)
                if not quiet:
                    print(line(run, runs), flush=True)
        biggest = work / f"big{max(sizes)}.cast"
        for tool, extra in (("scan", []), ("diff", [str(biggest)])):
            seconds, rss, code = timed(
                [PYTHON, "-m", "stagecast", tool, str(biggest), *extra], ROOT
            )
            runs.append(
                Run(f"stagecast {tool} (cast of {max(sizes)} MB)", max(sizes), seconds, rss, code)
            )
            if not quiet:
                print(line(runs[-1], runs), flush=True)
    return runs


def goals(runs: list[Run]) -> list[tuple[str, bool]]:
    """The issue's goals, each with whether this run met it (sizes 10 and 100 needed for
    the ratio and the linearity ones)."""

    def at(tool: str, size: int) -> Run | None:
        return next((r for r in runs if r.tool == tool and r.size_mb == size), None)

    found: list[tuple[str, bool]] = []
    peer = at("asciinema rec", 100)
    for tool in ("stagecast rehearse", "stagecast record"):
        run = at(tool, 100)
        if peer and run:
            ratio = run.mb_per_s / peer.mb_per_s
            found.append((f"{tool} at 100 MB >= asciinema rec ({ratio:.2f}x)", ratio >= 1.0))
    for tool in ("stagecast rehearse", "stagecast record", "stagecast live --auto"):
        small, big = at(tool, 10), at(tool, 100)
        if small and big:
            times = big.seconds / small.seconds
            found.append((f"{tool}: 100 MB within 12x of 10 MB ({times:.1f}x)", times <= 12))
    ours = [r for r in runs if r.tool.startswith("stagecast")]
    worst = max(ours, key=lambda r: r.peak_rss_mb)
    found.append(
        (
            f"peak RSS under 150 MB everywhere (highest {worst.peak_rss_mb:.0f} MB, "
            f"{worst.tool} {worst.size_mb} MB)",
            worst.peak_rss_mb < 150,
        )
    )
    for r in runs:
        if r.tool.startswith(("stagecast scan", "stagecast diff")):
            found.append((f"{r.tool} under 30 s ({r.seconds:.1f} s)", r.seconds < 30))
    found.append(("every command exited 0", all(r.exit == 0 for r in runs)))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,10,100")
    parser.add_argument("--runs", type=int, default=1, help="repeat the whole set N times")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    everything: list[list[Run]] = []
    met = 0
    for n in range(1, args.runs + 1):
        if not args.json and args.runs > 1:
            print(f"-- run {n} of {args.runs}", flush=True)
        runs = one_run(sizes, args.json)
        everything.append(runs)
        verdicts = goals(runs)
        met += all(ok for _, ok in verdicts)
        if not args.json:
            for text, ok in verdicts:
                print(f"  {'met   ' if ok else 'MISSED'} {text}", flush=True)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "runs": [{**asdict(r), "mb_per_s": round(r.mb_per_s, 2)} for r in runs],
                        "goals": [{"goal": text, "met": ok} for text, ok in goals(runs)],
                    }
                    for runs in everything
                ],
                indent=2,
            )
        )
    else:
        print(f"goals met in {met} of {args.runs} run(s)")
    return 0


def line(run: Run, runs: list[Run]) -> str:
    peer = next((r for r in runs if r.tool == "asciinema rec" and r.size_mb == run.size_mb), None)
    ratio = f"{run.mb_per_s / peer.mb_per_s:5.2f}x asciinema" if peer and peer.seconds else ""
    return (
        f"{run.tool:<34} {run.size_mb:>4} MB  {run.seconds:7.2f} s  {run.mb_per_s:7.1f} MB/s  "
        f"peak {run.peak_rss_mb:6.0f} MB  exit {run.exit}  {ratio}"
    )


if __name__ == "__main__":
    sys.exit(main())
