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

# 1,000,000 lines of 52-53 bytes: 52 MB.
FIFTY_MB = "seq 1 1000000 | sed 's/$/ xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx/'"


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
        "      contains: ['1000000 xxxx']\n"  # the last line
        "      regex: ['^500000 x+$']\n"  # a line in the middle
        "      not_contains: ['1000001']\n"
        "      lines: ['^1 x', '^499999 x', '^1000000 x']\n"
        "    capture: {middle: '^(750000) x'}\n"
        "  - run: echo captured ${middle}\n"
        "    expect: {contains: captured 750000}\n"
    )
    result = _rehearse(tmp_path, body)
    assert result["passed"], result["steps"][0]["failures"]
    tail = result["steps"][0]["output_tail"]
    assert tail.rstrip().endswith("1000000 " + "x" * 44)


def test_a_check_missing_in_a_streamed_output_says_it_was_streamed(tmp_path: Path) -> None:
    body = (
        f"steps:\n  - run: {json.dumps(FIFTY_MB)}\n"
        "    timeout: 600\n"
        "    expect: {regex: ['(?s)^1 x.*^1000000 x']}\n"  # spans the whole output
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


def _streamed(lines: list[str], expect: Expect, piece: int = 100_003) -> list[str]:
    """`expect`'s failures on `lines` fed as a big output, cut at arbitrary offsets."""
    out = StepOutput([expect])
    text = "".join(line + "\n" for line in lines)
    for at in range(0, len(text), piece):
        out.feed(text[at : at + piece])
    assert out.streamed
    return out.evaluate(0, None, expect)


def test_streamed_anchors_mean_what_they_mean_in_the_whole_output() -> None:
    """A window of a streamed output starts mid-output (and its carry mid-line): `\\A`,
    `\\Z`, `^` and a lookbehind must not match there as if it were the start."""
    lines = [f"{n} line-of-text-{'x' * 40}" for n in range(1, 300_001)]  # 17 MB
    right = [r"\A1 line", r"^300000 line.*x\n\Z", "^150000 "]
    assert _streamed(lines, Expect(regex=right)) == []
    # None matches the whole output; each would match where a window starts (or ends) if
    # that were taken for the output's start (or end), or its carry's cut for a line start.
    wrong = [
        r"\A2\d* line",
        r"^0 line",
        r"^00 line",
        r"(?<![0-9])0 line",
        r"^(?!300000)\d+ line-of-text-x+\n\Z",
    ]
    failures = _streamed(lines, Expect(regex=wrong))
    assert len(failures) == len(wrong)
    assert all("checked as a stream" in failure for failure in failures)
    # not_regex: the real start and end are seen, a false start is not.
    assert _streamed(lines, Expect(not_regex=[r"\A2\d* line", r"^0 line"])) == []
    assert len(_streamed(lines, Expect(not_regex=[r"\A1 line", r"x\n\Z"]))) == 2
    # A whole-output match is never seen in windows: it fails, saying why.
    (whole,) = _streamed(lines, Expect(regex=[r"(?s)\A1 line.*300000 line"]))
    assert "checked as a stream" in whole


def test_a_big_v3_cast_is_published_whole_and_rehearsals_diff_against_it(tmp_path: Path) -> None:
    """A 6 MB step recorded as v3 (its lines spill to disk as intervals, and are published by
    copying them after the header): every line and no encoded secret is in the cast, and a
    rehearsal compared with it as a baseline (both read as streams) matches; a baseline with
    a line changed in the middle does not."""
    import base64

    secret = "s3cr3t-encoded-value-0123456789"
    encoded = base64.b64encode(secret.encode()).decode()
    body = (
        "env: {TOKEN: {from_env: BIG_TOKEN, secret: true}}\n"
        "steps:\n"
        "  - run: seq 1 500000 | sed 's/$/ xxxx/'; printf '%s' \"$TOKEN\" | base64\n"
        "    timeout: 600\n"
        "    expect: {contains: ['500000 xxxx']}\n"
    )
    scenario = tmp_path / "big.yaml"
    scenario.write_text(scenario_text(body))
    casts = tmp_path / "casts"
    cast = casts / "big.cast"
    env = {"BIG_TOKEN": secret}
    record = ["record", str(scenario), "-o", str(cast), "--cps", "1000", "--cast-format", "v3"]
    done = run_cli(*record, env=env, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    read = load_cast(cast)
    assert read.version == 3 and read.verified
    output = "".join(data for _, code, data in read.events if code == "o")
    assert "\n1 xxxx\r\n" in output and "\n250000 xxxx\r\n" in output
    assert "\n500000 xxxx\r\n" in output and encoded[2:-2] not in output
    times = [t for t, _, _ in read.events]
    assert times == sorted(times)

    rehearse = ["rehearse", str(scenario), "--baseline", str(casts), "--json"]
    same = run_cli(*rehearse, env=env, timeout=600)
    assert same.returncode == 0, same.stdout + same.stderr
    assert json.loads(same.stdout)["scenarios"][0]["baseline"]["status"] == "equivalent"

    lines = cast.read_text().splitlines(keepends=True)
    middle = next(n for n, line in enumerate(lines) if "250000 xxxx" in line)
    lines[middle] = lines[middle].replace("250000 xxxx", "250000 yyyy")
    cast.write_text("".join(lines))
    drift = run_cli(*rehearse, env=env, timeout=600)
    assert drift.returncode == 1, drift.stdout + drift.stderr
    baseline = json.loads(drift.stdout)["scenarios"][0]["baseline"]
    assert baseline["status"] == "differs"
