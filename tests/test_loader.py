"""Loading: includes, variables and escapes, defaults, and where errors point."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import scenario_text, step
from recorder.errors import ScenarioError
from recorder.run.rehearse import rehearse
from recorder.scenario.loader import load_scenario


def test_includes_splice_steps_in_order_and_change_the_hash(tmp_path: Path) -> None:
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "more.yaml").write_text(
        "- run: echo from-include\n- include: deeper.yaml\n"
    )
    (tmp_path / "parts" / "deeper.yaml").write_text("steps:\n  - run: echo from-deeper\n")
    main = tmp_path / "main.yaml"
    main.write_text(
        scenario_text(
            "steps:\n  - run: echo first\n  - include: parts/more.yaml\n  - run: echo last\n"
        )
    )
    loaded = load_scenario(main)
    runs = [s.run for s in loaded.scenario.steps]
    assert runs == ["echo first", "echo from-include", "echo from-deeper", "echo last"]
    assert loaded.where(("steps", 3)).endswith("main.yaml:8:5")
    assert loaded.where(("steps", 2)).endswith("deeper.yaml:2:5")
    result = rehearse(loaded)
    assert result.passed
    before = loaded.sha256
    (tmp_path / "parts" / "deeper.yaml").write_text("steps:\n  - run: echo changed\n")
    assert load_scenario(main).sha256 != before


def test_error_inside_an_included_file_names_that_file(tmp_path: Path) -> None:
    (tmp_path / "part.yaml").write_text("- run: echo ok\n- run: echo bad\n  expct: {}\n")
    main = tmp_path / "main.yaml"
    main.write_text(scenario_text("steps:\n  - include: part.yaml\n"))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(main)
    assert caught.value.file.endswith("part.yaml")
    assert (caught.value.line, caught.value.col) == (3, 3)
    assert "did you mean 'expect'" in caught.value.message


def test_variables_escapes_and_env(run_rehearse, monkeypatch) -> None:
    result = run_rehearse(
        """
        vars: {name: world, n: 3}
        env: {GREETING: hello}
        steps:
          - run: echo "${GREETING} ${name} x${n} $${HOME:+home-is-set}"
            expect: {contains: "hello world x3 home-is-set"}
          - run: X=shell-var; echo "$${X}"
            expect: {contains: shell-var}
        """
    )
    assert result.passed, [s.failures for s in result.steps]


def test_step_labels_default_sensibly(tmp_path: Path) -> None:
    path = tmp_path / "l.yaml"
    path.write_text(
        scenario_text(
            "steps:\n"
            "  - run: echo one\n"
            "  - say: '# narrate this'\n    run: echo two\n"
            "  - marker: Named\n    run: echo three\n"
            f"  - run: echo {'x' * 80}\n"
            "  - pause: true\n"
        )
    )
    labels = [s.label() for s in load_scenario(path).scenario.steps]
    assert labels[:3] == ["echo one", "narrate this", "Named"]
    assert len(labels[3]) == 60 and labels[3].endswith("...")
    assert labels[4] == "pause"


def test_say_is_typed_as_a_comment_and_pause_is_a_noop_when_recording(run_rehearse) -> None:
    result = run_rehearse(
        """
        steps:
          - say: this is narration
          - pause: "wait for applause"
          - run: echo after
        """
    )
    assert result.passed
    assert step(result, 2).output.strip() == "after"


def test_support_folder_changes_the_hash(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(scenario_text("steps:\n  - run: demo/plugin\n"))
    bare = load_scenario(path).sha256
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "plugin").write_text("#!/bin/sh\necho v1\n")
    first = load_scenario(path).sha256
    (tmp_path / "demo" / "plugin").write_text("#!/bin/sh\necho v2\n")
    second = load_scenario(path).sha256
    assert len({bare, first, second}) == 3


def test_the_text_check_rule_names_every_text_field_of_expect() -> None:
    """`rules.TEXT_CHECKS` is what substitution and the `${var}` check walk: a new text check
    in the model must be added there too, or its variables would go unchecked."""
    from recorder.scenario.model import Expect
    from recorder.scenario.rules import OUTPUT_CHECKS, TEXT_CHECKS

    assert set(TEXT_CHECKS) == set(Expect.model_fields) - {"exit", "kube"}
    assert set(OUTPUT_CHECKS) == set(TEXT_CHECKS) - {"screen"}


def test_variable_rules_agree_on_references_escapes_and_braces() -> None:
    from recorder.scenario.rules import narration_lines, references, unbraced
    from recorder.scenario.variables import substitute

    text = "echo ${a} $${b} ${c:-x} $HOME ${_d1}"
    assert list(references(text)) == ["a", "_d1"]
    assert substitute(text, {"a": "1", "b": "2", "_d1": "3"}) == "echo 1 ${b} ${c:-x} $HOME 3"
    assert unbraced("ip link show ${DP} ${DP}x") == "ip link show $DP ${DP}x"
    assert narration_lines("  one\n# two\n\n") == ["# one", "# two"]
