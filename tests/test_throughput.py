"""A step that prints a lot: its checks still hold on a 50 MB output (the last line, a line
in the middle), a check that would need more than the streamed window fails saying so, and a
secret cut across the reads of a big output is still redacted. No timing is asserted here:
benchmarks/throughput.py measures speed and memory."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli, scenario_text
from recorder.cast.reader import load_cast
from recorder.run.step_output import KEEP, OVERLAP, StepOutput
from recorder.scenario.model import Expect

FIFTY_MB = "seq 1 6000000 | sed 's/$/ xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx/'"


def _rehearse(tmp_path: Path, body: str, *args: str) -> dict:
    scenario = tmp_path / "big.yaml"
    scenario.write_text(scenario_text(body))
    done = run_cli("rehearse", str(scenario), "--json", *args, timeout=600)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)["scenarios"][0]


def test_a_50mb_step_passes_checks_on_its_last_line_and_a_middle_one(tmp_path: Path) -> None:
    body = (
        f"steps:\n  - run: {json.dumps(FIFTY_MB)}\n"
        "    timeout: 600\n"  # a loaded CI machine: the command itself may take a while
        "    expect:\n"
        "      contains: ['6000000 xxxx']\n"  # the last line
        "      regex: ['^3000000 x+$']\n"  # a line in the middle
        "      not_contains: ['6000001']\n"
        "      lines: ['^1 x', '^2999999 x', '^6000000 x']\n"
        "    capture: {middle: '^(4500000) x'}\n"
        "  - run: echo captured ${middle}\n"
        "    expect: {contains: captured 4500000}\n"
    )
    result = _rehearse(tmp_path, body)
    assert result["passed"], result["steps"][0]["failures"]
    tail = result["steps"][0]["output_tail"]
    assert tail.rstrip().endswith("6000000 " + "x" * 44)


def test_a_check_missing_in_a_streamed_output_says_it_was_streamed(tmp_path: Path) -> None:
    body = (
        f"steps:\n  - run: {json.dumps(FIFTY_MB)}\n"
        "    timeout: 600\n"
        "    expect: {regex: ['(?s)^1 x.*^6000000 x']}\n"  # spans the whole output
    )
    result = _rehearse(tmp_path, body)
    (failure,) = result["steps"][0]["failures"]
    assert "expected output to match" in failure
    assert "checked as a stream" in failure and "MB" in failure


def test_a_secret_across_the_reads_of_a_big_output_is_redacted(tmp_path: Path) -> None:
    secret = "s3cr3t-straddling-value-0123456789"
    # The secret lands at many offsets within the big output's reads, and at its very end.
    body = (
        "env: {TOKEN: {from_env: BIG_TOKEN, secret: true}}\n"
        "steps:\n"
        '  - run: for i in $(seq 1 300000); do printf \'%s %s\\n\' "$i" "$TOKEN"; done\n'
    )
    scenario = tmp_path / "s.yaml"
    scenario.write_text(scenario_text(body))
    cast = tmp_path / "s.cast"
    done = run_cli(
        "record",
        str(scenario),
        "-o",
        str(cast),
        "--cps",
        "1000",
        env={"BIG_TOKEN": secret},
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    data = cast.read_text()
    assert secret not in data and secret[:20] not in data
    assert data.count("[REDACTED]") == 300000
    assert load_cast(cast).verified


def test_step_output_streams_past_keep_and_keeps_a_tail() -> None:
    expect = Expect(contains=["needle"], not_contains=["absent"])
    out = StepOutput([expect])
    block = "y" * 1023 + "\n"
    while out.size <= KEEP:
        out.feed(block)
    out.feed("x" * (OVERLAP // 2) + "nee")
    out.feed("dle\n")  # straddles two feeds
    assert out.streamed and len(out.text) <= 1 << 20
    assert out.evaluate(0, None, expect) == []
