"""The driver on real bash: timeouts, nested shells, interactive keys, a dying shell."""

from __future__ import annotations

import time

from conftest import step
from recorder.shell.session import ShellSession


def test_timeout_interrupts_and_fails_with_output_tail(run_rehearse, tmp_path) -> None:
    marker = tmp_path / "teardown-ran"
    started = time.monotonic()
    result = run_rehearse(
        f"""
        steps:
          - run: echo started; sleep 60
            timeout: 1
          - run: echo never
        teardown:
          - run: touch {marker}
        """
    )
    elapsed = time.monotonic() - started
    hung = step(result, 0)
    assert hung.status == "failed"
    assert hung.failures == ["timed out after 1s; sent Ctrl-C"]
    assert "started" in hung.output
    assert step(result, 1).status == "skipped"
    assert marker.exists(), "teardown must run after a timeout"
    assert elapsed < 30


def test_nested_shell_with_inherited_prompt_reports_exit_codes(run_rehearse) -> None:
    result = run_rehearse(
        """
        steps:
          - run: bash --norc --noprofile
            enters: {prompt: 'test$ '}
          - run: echo "depth $SHLVL"; (exit 7)
            expect: {exit: 7, regex: ['depth \\d']}
          - run: exit 4
            leaves: true
            expect: {exit: 4}
          - run: echo back outside
            expect: {contains: back outside}
        """
    )
    assert result.passed, [(s.label, s.failures) for s in result.steps]
    assert step(result, 1).rc == 7


def test_nested_shell_with_foreign_prompt_has_unknown_exit_code(run_rehearse) -> None:
    result = run_rehearse(
        """
        steps:
          - run: env PS1='root@kind-worker:/# ' bash --norc --noprofile
            enters: {prompt: 'root@kind-worker:/# '}
          - run: hostname >/dev/null; echo inside
            expect: {contains: inside}
          - run: exit
            leaves: true
          - run: "true"
        """
    )
    assert result.passed, [(s.label, s.failures) for s in result.steps]
    assert step(result, 1).rc is None

    strict = run_rehearse(
        """
        steps:
          - run: env PS1='inner# ' bash --norc --noprofile
            enters: {prompt: 'inner# '}
          - run: echo hi
            expect: {exit: 0}
        """
    )
    assert not strict.passed
    assert "exit code is unknown" in step(strict, 1).failures[0]


def test_teardown_leaves_nested_shells_first(run_rehearse, tmp_path) -> None:
    probe, outer = tmp_path / "shlvl", tmp_path / "outer"
    result = run_rehearse(
        f"""
        steps:
          - run: echo $SHLVL > {outer}
          - run: env PS1='inner# ' bash --norc --noprofile
            enters: {{prompt: 'inner# '}}
          - run: echo inside
            expect: {{contains: nowhere}}
        teardown:
          - run: echo $SHLVL > {probe}
        """
    )
    assert not result.passed
    assert step(result, 0, "teardown").passed
    assert probe.read_text() == outer.read_text(), "teardown must run in the outer shell"


def test_keys_drive_an_interactive_program(run_rehearse) -> None:
    result = run_rehearse(
        r"""
        steps:
          - run: sort
            keys: ["pear\r", {text: "apple\r"}, {key: ctrl-d}]
            expect: {lines: ['^apple$', '^pear$']}
          - run: read -r -p 'Continue? ' answer; echo "answer=$answer"
            keys: [{wait: 'Continue\? '}, {text: 'yes'}, {key: backspace, times: 2}, {text: "o"},
                   {key: enter}]
            expect: {contains: answer=yo}
        """
    )
    assert result.passed, [(s.label, s.failures) for s in result.steps]


def test_key_wait_that_never_matches_times_out(run_rehearse) -> None:
    result = run_rehearse(
        """
        steps:
          - run: cat
            timeout: 1
            keys: [{wait: 'never printed'}]
        """
    )
    assert not result.passed
    assert "timed out" in step(result, 0).failures[0]


def test_shell_that_dies_gives_a_clear_message(run_rehearse, tmp_path) -> None:
    marker = tmp_path / "teardown-ran"
    result = run_rehearse(
        f"""
        steps:
          - run: exit 3
          - run: echo never
        teardown:
          - run: touch {marker}
        """
    )
    assert not result.passed
    assert "the shell exited (status 3) during this step" in step(result, 0).failures[0]
    assert result.error and "the shell exited" in result.error
    assert marker.exists(), "teardown runs in a fresh shell when the first one died"


def test_hidden_setup_failure_stops_before_steps(run_rehearse) -> None:
    result = run_rehearse(
        """
        setup:
          - run: 'false'
        steps:
          - run: echo never
        """
    )
    assert not result.passed
    assert step(result, 0, "setup").status == "failed"
    assert step(result, 0).status == "skipped"


def test_terminal_size_term_and_no_bracketed_paste(run_rehearse) -> None:
    result = run_rehearse(
        """
        steps:
          - run: echo "$TERM $(tput cols)x$(tput lines) rc=${HOME:+set}"; bind -v | grep bracketed
            expect: {contains: ['xterm-256color 80x24', 'enable-bracketed-paste off']}
        """
    )
    # ${HOME:+set} is not a stagecast variable reference (it is not a plain name)
    assert result.passed, step(result, 0).failures


def test_rehearse_never_waits_for_the_typing_model(run_rehearse, monkeypatch) -> None:
    from recorder.shell import typing_model

    def boom(self, text):  # pragma: no cover - must not be called
        raise AssertionError("rehearse must type with no delay")

    monkeypatch.setattr(typing_model.TypingModel, "delays", boom)
    result = run_rehearse("steps:\n  - say: hello\n    run: echo hi\n")
    assert result.passed


def test_tabs_in_heredocs_are_typed_literally(run_rehearse, run_record, tmp_path) -> None:
    body = "steps:\n  - run: |\n      cat <<-EOF | od -c | head -1\n      \ta\tb\n      \tEOF\n"
    body += "    expect: {regex: ['a +\\\\t +b']}\n"
    assert run_rehearse(body).passed
    assert run_record(body, cast=tmp_path / "tabs.cast").passed


def test_ctrl_c_works_even_when_stagecast_starts_with_sigint_ignored(write_scenario) -> None:
    """nohup, `cmd &` from a script, some CI runners: SIGINT arrives ignored."""
    import signal
    import subprocess
    import sys

    from conftest import ROOT

    path = write_scenario(
        "steps:\n  - run: sleep 30\n    timeout: 20\n"
        "    keys: [{sleep: 0.3}, {key: ctrl-c}]\n    expect: {exit: 130}\n"
    )

    def ignore_sigint() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGQUIT, signal.SIG_IGN)

    done = subprocess.run(
        [sys.executable, "-m", "stagecast", "rehearse", "-q", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        preexec_fn=ignore_sigint,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_nested_prompt_redrawn_on_resize_does_not_end_the_next_command() -> None:
    """`docker exec -it` resizes as it attaches, and the nested bash redraws its prompt
    ("\\r\\e[K\\r" and the prompt again): the next command must still run to its own prompt."""
    session = ShellSession(cols=80, rows=24, prompt="t$ ", env={}, cwd="/tmp")
    session.start()
    try:
        mark = session.offset
        session.send("PS1='in''ner# ' bash --norc --noprofile -i\r")
        session.push_prompt("inner# ")
        session.wait_prompt(mark, 10)
        since = session.offset
        session.child.setwinsize(30, 100)  # the inner bash redraws its prompt after `since`
        session.pump(0.5)
        assert "\x1b[K\rinner# " in session.text(since)
        session.send("echo hello\r")
        hit = session.wait_prompt(since, 10)
        assert "hello\r\n" in session.text(since, hit.start)
    finally:
        session.close()


def test_output_already_waiting_is_taken_as_one_chunk() -> None:
    """What a fast writer left waiting in the pty (many 4 KB reads' worth) is one chunk, so
    one cast event and one search, as a bigger read would give; the text is all there."""
    session = ShellSession(cols=80, rows=24, prompt="t$ ", env={}, cwd="/tmp")
    session.start()
    try:
        session.send("printf 'x%.0s' $(seq 30000); echo; echo done\r")
        time.sleep(1)  # the pty fills (about 30 KB, in 4 KB pieces) while nobody reads
        before = len(session.chunks)
        assert session.poll(5)
        taken = session.chunks[before:]
        assert len(taken) == 1
        assert session.text(taken[0].start, taken[0].end).count("x") > 16384
        hit = session.wait_prompt(taken[0].start, 10)
        assert session.text(taken[0].start, hit.start).count("x") >= 30000
    finally:
        session.close()
