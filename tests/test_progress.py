"""Progress output: a live step list on a terminal, plain lines in logs, NO_COLOR honoured."""

from __future__ import annotations

import io

from rich.console import Console

from recorder.run.progress import RichReporter, make_console
from recorder.run.rehearse import rehearse
from recorder.scenario.loader import load_scenario

BODY = "steps:\n  - run: echo one\n    marker: First\n  - run: 'false'\n    marker: Second\n"


def test_live_view_on_a_terminal_lists_every_step(write_scenario) -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    result = rehearse(load_scenario(write_scenario(BODY)), RichReporter(console))
    assert not result.passed
    text = out.getvalue()
    assert "✓" in text and "First" in text
    assert "✗" in text and "Second" in text
    assert "expected exit code 0, got 1" in text
    assert "\x1b[" in text  # colours on a terminal


def test_plain_lines_without_a_terminal(write_scenario) -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=100)
    rehearse(load_scenario(write_scenario(BODY)), RichReporter(console))
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("▶ ")
    assert lines[1].startswith("  ✓ First")
    assert lines[2].startswith("  ✗ Second")
    assert "\x1b[" not in out.getvalue()


def test_no_color_is_honoured(monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert make_console().no_color is True
    monkeypatch.delenv("NO_COLOR")
    assert make_console().no_color is False
