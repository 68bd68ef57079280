"""Every expectation kind, passing and failing, against real bash output."""

from __future__ import annotations

import pytest

from conftest import step

CASES = [
    # (expect, command, passes)
    ("{exit: 0}", "true", True),
    ("{exit: 0}", "false", False),
    ("{exit: [1, 2]}", "ls /nonexistent-dir", True),
    ("{exit: any}", "false", True),
    ("{contains: [alpha, beta]}", "echo alpha beta", True),
    ("{contains: gamma}", "echo alpha beta", False),
    ("{not_contains: error}", "echo all good", True),
    ("{not_contains: error}", "echo an error happened", False),
    ("{regex: ['^v\\d+\\.\\d+$']}", "echo v1.31", True),
    ("{regex: ['^v\\d+\\.\\d+$']}", "echo version-one", False),
    ("{not_regex: ['Err\\w+']}", "echo fine", True),
    ("{not_regex: ['Err\\w+']}", "echo ErrImagePull", False),
    ("{lines: [first, third]}", "printf 'first\\nsecond\\nthird\\n'", True),
    ("{lines: [third, first]}", "printf 'first\\nsecond\\nthird\\n'", False),
    ("{screen: ['ready: 3 pods']}", "printf '\\033[32mready\\033[0m: 3 pods\\n'", True),
    ("{screen: ['gone from screen']}", "echo 'gone from screen'; clear", False),
    ("{contains: Running}", "printf '\\033[1;32mRunning\\033[0m\\n'", True),
]


@pytest.mark.parametrize(
    ("expect", "command", "passes"),
    CASES,
    ids=[f"{e}-{'pass' if p else 'fail'}-{i}" for i, (e, _, p) in enumerate(CASES)],
)
def test_expectation(run_rehearse, expect: str, command: str, passes: bool) -> None:
    result = run_rehearse(f"steps:\n  - run: |-\n      {command}\n    expect: {expect}\n")
    assert step(result, 0).passed is passes, step(result, 0).failures
    assert result.passed is passes
    if not passes:
        assert step(result, 0).failures[0].startswith("expected")


@pytest.mark.parametrize("code", [0, 1, 2, 42, 130])
def test_exit_codes_are_exact(run_rehearse, code: int) -> None:
    result = run_rehearse(f"steps:\n  - run: (exit {code})\n    expect: {{exit: {code}}}\n")
    assert step(result, 0).rc == code
    assert result.passed
    wrong = run_rehearse(f"steps:\n  - run: (exit {code})\n    expect: {{exit: {code + 1}}}\n")
    assert not wrong.passed
    assert f"got {code}" in step(wrong, 0).failures[0]


def test_ctrl_c_gives_130(run_rehearse) -> None:
    result = run_rehearse(
        """
        steps:
          - run: sleep 30
            keys: [{sleep: 0.2}, {key: ctrl-c}]
            expect: {exit: 130}
        """
    )
    assert result.passed, result.steps
    assert step(result, 0).duration < 20


def test_default_expectation_is_exit_zero(run_rehearse) -> None:
    result = run_rehearse("steps:\n  - run: 'false'\n  - run: echo never\n")
    assert not result.passed
    assert "expected exit code 0, got 1" in step(result, 0).failures[0]
    assert step(result, 1).status == "skipped"


def test_capture_feeds_later_steps(run_rehearse) -> None:
    result = run_rehearse(
        r"""
        steps:
          - run: echo "pod ip 10.244.1.7/24"
            capture: {pod_ip: 'ip (\S+)/', whole: '\d+/\d+'}
          - run: echo "ping ${pod_ip} (${whole})"
            expect: {contains: "ping 10.244.1.7 (7/24)"}
        """
    )
    assert result.passed, [s.failures for s in result.steps]


def test_capture_without_match_fails(run_rehearse) -> None:
    result = run_rehearse("steps:\n  - run: echo nothing\n    capture: {ip: 'inet (\\S+)'}\n")
    assert not result.passed
    assert "capture ip: no match" in step(result, 0).failures[0]


def test_retry_until_passes(run_rehearse, tmp_path) -> None:
    counter = tmp_path / "n"
    result = run_rehearse(
        f"""
        steps:
          - run: echo x >> {counter}; wc -l < {counter}
            retry: {{until: {{regex: ['^3$']}}, timeout: 20, interval: 0.05}}
        """
    )
    assert result.passed, step(result, 0).failures
    assert step(result, 0).attempts == 3
    assert counter.read_text().count("x") == 3


def test_retry_gives_up_after_timeout(run_rehearse) -> None:
    result = run_rehearse(
        """
        steps:
          - run: echo NotReady
            retry: {until: {contains: Ready, not_contains: NotReady}, timeout: 0.5, interval: 0.1}
        """
    )
    assert not result.passed
    failure = step(result, 0).failures[0]
    assert failure.startswith("retry: still failing after")
    assert step(result, 0).attempts >= 2


def test_multiline_commands_report_all_output_and_last_exit(run_rehearse) -> None:
    result = run_rehearse(
        """
        steps:
          - run: |
              echo one
              echo two
              (exit 3)
            expect: {exit: 3, lines: [one, two]}
        """
    )
    assert result.passed, step(result, 0).failures


def test_incomplete_command_fails_clearly(run_rehearse) -> None:
    result = run_rehearse("steps:\n  - run: echo 'unclosed\n")
    assert not result.passed
    assert "incomplete" in step(result, 0).failures[0]
