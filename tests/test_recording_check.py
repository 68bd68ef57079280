"""`stagecast check`: a scenario compared with a hand-made asciinema recording.

Synthetic casts (written here, in tmp_path) prove each status and each rendering case; the
speaker's own recordings (read in place, never copied) prove it on the real thing.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

from conftest import RECORDINGS, run_cli, scenario_text
from recorder.recording_check.check import check
from recorder.recording_check.commands import recorded_commands
from recorder.recording_check.recording import CastError, read_cast
from recorder.scenario.loader import load_scenario

STATUS = '[0] 0:bash*  "host" 12:0{} 01-Jan-25'


class Cast:
    """Builds an asciicast v2 file event by event, at a human pace."""

    def __init__(self, cols: int = 80, rows: int = 24) -> None:
        self.cols, self.rows = cols, rows
        self.t = 0.0
        self.events: list[tuple[float, str]] = []

    def out(self, data: str, dt: float = 0.05) -> Cast:
        self.t += dt
        self.events.append((round(self.t, 3), data))
        return self

    def type(self, text: str) -> Cast:
        for char in text:
            self.out(char, 0.12)
        return self

    def run(self, command: str, output: str, prompt: str = "demo$ ") -> Cast:
        """Type a command, press Enter, print its output and the next prompt."""
        self.type(command).out("\r\n", 0.3)
        if output:
            self.out(output.replace("\n", "\r\n") + "\r\n")
        return self.out(prompt)

    def write(self, path: Path) -> Path:
        header = {"version": 2, "width": self.cols, "height": self.rows}
        lines = [json.dumps(header)] + [json.dumps([t, "o", d]) for t, d in self.events]
        path.write_text("\n".join(lines) + "\n")
        return path


def _scenario(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "scn.yaml"
    path.write_text(scenario_text(body))
    return path


def _check(tmp_path: Path, body: str, cast: Cast):
    return check(load_scenario(_scenario(tmp_path, body)), cast.write(tmp_path / "rec.cast"))


def _statuses(result) -> list[tuple[str, str]]:
    return [(s.status, s.reason) for s in result.steps]


# -- rendering: what the audience saw -----------------------------------------------------


def test_a_typo_fixed_with_backspace_is_read_as_corrected(tmp_path: Path) -> None:
    cast = Cast().out("demo$ ").type("echp").out("\b\x1b[K").run("o hello", "hello")
    (command,) = recorded_commands(cast.write(tmp_path / "rec.cast"))
    assert (command.command, command.output, command.prompt) == ("echo hello", "hello", "demo$ ")
    assert command.time == pytest.approx(cast.events[-3][0], abs=0.5)


def test_a_tmux_status_line_and_a_scroll_region_stay_out_of_outputs(tmp_path: Path) -> None:
    # tmux keeps its status line on the last row and scrolls only the rows above it
    cast = Cast(cols=40, rows=8).out("\x1b[1;7r\x1b[8;1H" + STATUS.format(0) + "\x1b[1;1H")
    cast.out("demo$ ").type("seq ")
    cast.out("\x1b7\x1b[8;1H" + STATUS.format(1) + "\x1b8")  # a clock tick mid-typing
    cast.type("20").out("\r\n", 0.3)
    for n in range(1, 21):
        cast.out(f"{n}\r\n", 0.01)
        if n == 10:
            cast.out("\x1b7\x1b[8;1H" + STATUS.format(2) + "\x1b8")
    cast.out("demo$ ").run("echo done", "done")
    first, second = recorded_commands(cast.write(tmp_path / "rec.cast"))
    assert first.command == "seq 20"
    assert first.output == "\n".join(str(n) for n in range(1, 21))  # scrolled-out rows kept
    assert (second.command, second.output) == ("echo done", "done")


def test_heredocs_and_continuation_lines_typed_at_the_ps2_prompt(tmp_path: Path) -> None:
    cast = Cast().out("demo$ ").type("cat <<EOF").out("\r\n> ", 0.3)
    cast.type("line one").out("\r\n> ", 0.3).type("EOF").out("\r\n", 0.3)
    cast.out("line one\r\ndemo$ ")
    cast.type("echo one \\").out("\r\n> ", 0.3).run("two", "one two")
    heredoc, continued = recorded_commands(cast.write(tmp_path / "rec.cast"))
    assert (heredoc.command, heredoc.output) == ("cat <<EOF\nline one\nEOF", "line one")
    assert (continued.command, continued.output) == ("echo one \\\ntwo", "one two")
    result = _check(
        tmp_path,
        """
        steps:
          - run: |
              cat <<EOF
              line one
              EOF
            expect: {contains: line one}
          - run: echo one two
            expect: {contains: one two}
        """,
        cast,
    )
    assert _statuses(result) == [("passed", ""), ("passed", "")]


def test_side_by_side_tmux_panes_scrolled_with_left_right_margins(tmp_path: Path) -> None:
    """tmux draws a right-hand pane with cursor moves, scrolls it with DECSLRM, and shows an
    Enter there only as a move to the next row (while another pane keeps redrawing)."""
    cast = Cast(cols=60, rows=12).out("\x1b[?69h")
    cast.out("".join(f"\x1b[{r};30H│" for r in range(1, 12)) + "\x1b[12;1H" + STATUS.format(0))
    cast.out("\x1b[1;1HNAME         STATUS\x1b[2;1Hkind-worker  NotReady")
    cast.out("\x1b[1;31Hroot# ").type("ls")
    cast.out("\x1b[2;31H\x1b[?2004l", 0.3)  # Enter: tmux only moves the cursor
    cast.out("\x1b[2;31Hfile1\x1b[3;31Hfile2\x1b[4;31Hroot# \x1b[?2004h")
    cast.out("\x1b[2;1Hkind-worker  Ready   \x1b[4;37H")  # the left pane redraws
    cast.type("seq 12").out("\x1b[5;31H\x1b[?2004l", 0.3)
    row = 5
    for n in range(1, 13):
        if row > 11:  # scroll the right pane only: rows 1-11, columns 31-60
            cast.out("\x1b[1;11r\x1b[31;60s\x1b[11;60H\n\x1b[s\x1b[1;12r", 0.01)
            row = 11
        cast.out(f"\x1b[{row};31H{n}", 0.01)
        row += 1
    cast.out("\x1b[1;11r\x1b[31;60s\x1b[11;60H\n\x1b[s\x1b[1;12r\x1b[11;31Hroot# ")
    cast.out("\x1b[2;1Hkind-worker  NotReady\x1b[11;37H")
    listing, counting = recorded_commands(cast.write(tmp_path / "rec.cast"))
    assert (listing.command, listing.output, listing.prompt) == ("ls", "file1\nfile2", "root# ")
    assert counting.command == "seq 12"
    assert counting.output == "\n".join(str(n) for n in range(1, 13))


def test_asciicast_v1_is_read_too(tmp_path: Path) -> None:
    path = tmp_path / "v1.cast"
    stdout = [[0.1, "demo$ "]] + [[0.1, c] for c in "echo v1"] + [[0.2, "\r\nv1\r\ndemo$ "]]
    path.write_text(json.dumps({"version": 1, "width": 80, "height": 24, "stdout": stdout}))
    (command,) = recorded_commands(path)
    assert (command.command, command.output) == ("echo v1", "v1")


@pytest.mark.parametrize(
    "content", ["", "not json\n", '{"version": 3}\n', '{"version": 2}\n[1, "o"\n', "\x00\x01"]
)
def test_anything_else_is_not_an_asciicast(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.cast"
    path.write_text(content)
    with pytest.raises(CastError, match=r"bad\.cast: not an asciicast v1, v2 or v3 file: "):
        read_cast(path)


# -- statuses ------------------------------------------------------------------------------


def _demo_cast() -> Cast:
    cast = Cast().out("demo$ ")
    cast.type("echp").out("\b\x1b[K").run("o hello", "hello")
    cast.run("ls /etc", "hosts")
    cast.run("cat notes.txt.bak", "draft")
    return cast


STATUS_SCENARIO = """
steps:
  - say: A typo, fixed live
    run: echo hello
    expect: {contains: hello}
  - run: ls /etc
    expect: {contains: passwd}
  - run: uname -a
  - run: cat notes.txt
    differs: the speaker showed the backup copy
"""


def test_each_status(tmp_path: Path) -> None:
    result = _check(tmp_path, STATUS_SCENARIO, _demo_cast())
    assert _statuses(result) == [
        ("passed", ""),
        ("differs", "expected output to contain 'passwd', it does not"),
        ("not found", ""),
        ("explained", "the speaker showed the backup copy"),
    ]
    assert [s.found for s in result.steps] == [True, True, False, True]
    assert result.steps[3].recorded == "cat notes.txt.bak"  # nearly equal
    assert result.summary() == (
        "4 visible steps: 3 found (75%), 1 passed, 1 differ, 1 explained, 1 not found"
    )
    assert not result.ok


@pytest.mark.parametrize(
    ("command", "found", "recorded"), [("ls /etc", True, "ls /etc"), ("uname -a", False, None)]
)
def test_an_explained_step_is_explained_found_or_not(
    tmp_path: Path, command: str, found: bool, recorded: str | None
) -> None:
    body = f"steps:\n  - run: {command}\n    differs: pinned elsewhere\n"
    (step,) = _check(tmp_path, body, _demo_cast()).steps
    assert (step.status, step.reason) == ("explained", "pinned elsewhere")
    assert (step.found, step.recorded) == (found, recorded)


def test_a_nearly_equal_command_differs_and_says_how_it_was_typed(tmp_path: Path) -> None:
    cast = Cast().out("demo$ ").run("ls -la /etc", "hosts")
    (step,) = _check(tmp_path, "steps:\n  - run: ls -l /etc\n", cast).steps
    assert step.status == "differs"
    assert step.reason == "typed differently in the recording: 'ls -la /etc'"


def test_volatile_tokens_aliases_and_captured_values_still_match(tmp_path: Path) -> None:
    cast = Cast().out("demo$ ")
    cast.run("k get pod -o name", "pod/web-7d9f8c6b5-q2w3e")
    cast.run("kubectl logs web-7d9f8c6b5-q2w3e", "listening on 10.244.1.7:8080")
    cast.run("kubectl logs web-7d9f8c6b5-q2w3e --tail=1", "ready")
    result = _check(
        tmp_path,
        r"""
        masks: [ip]
        steps:
          - run: kubectl get pod -o name
            capture: {pod: 'pod/(\S+)'}
          - run: kubectl logs web-7d9f8c6b5-abcde
            expect: {regex: 'listening on \d+\.\d+\.\d+\.\d+:8080'}
          - run: kubectl logs ${pod} --tail=1
            expect: {contains: ready}
        """,
        cast,
    )
    assert _statuses(result) == [("passed", "")] * 3


def test_a_command_repeated_until_it_passes_uses_the_passing_run(tmp_path: Path) -> None:
    cast = Cast().out("demo$ ")
    for phase in ("Pending", "Pending", "Running"):
        cast.run("kubectl get pod web", f"web   0/1   {phase}")
    cast.run("kubectl get svc", "web   ClusterIP")
    body = """
    steps:
      - run: kubectl get pod web
        retry: {until: {contains: Running}}
      - run: kubectl get svc
    """
    first, second = _check(tmp_path, body, cast).steps
    assert (first.status, second.status) == ("passed", "passed")
    assert first.time == [c.time for c in recorded_commands(tmp_path / "rec.cast")][2]


def test_a_step_typed_much_later_does_not_swallow_the_steps_between(tmp_path: Path) -> None:
    cast = Cast().out("demo$ ").run("echo a", "a").run("echo b", "b").run("exit", "")
    body = "steps:\n  - run: echo a\n  - run: exit\n  - run: echo b\n"
    result = _check(tmp_path, body, cast)
    assert [s.status for s in result.steps] == ["passed", "not found", "passed"]


def test_only_visible_commands_count(tmp_path: Path) -> None:
    body = """
    setup: [{run: echo setup}]
    steps:
      - say: Narration only
      - run: echo hidden
        hidden: true
      - wait_for: {kind: Node, name: kind-worker, condition: Ready}
      - run: echo hello
    teardown: [{run: echo bye}]
    """
    result = _check(tmp_path, body, _demo_cast())
    assert [(s.index, s.status) for s in result.steps] == [(3, "passed")]
    assert result.ok


# -- the command line ----------------------------------------------------------------------


def test_cli_exit_codes_and_json(tmp_path: Path) -> None:
    cast = _demo_cast().write(tmp_path / "rec.cast")
    good = tmp_path / "good.yaml"
    good.write_text(scenario_text("steps:\n  - run: echo hello\n  - run: ls /etc\n"))
    done = run_cli("check", str(good), "--against", str(cast))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 visible steps: 2 found (100%), 2 passed, 0 differ, 0 explained" in done.stdout

    bad = _scenario(tmp_path, STATUS_SCENARIO)
    done = run_cli("check", str(bad), "--against", str(cast), "--json")
    assert done.returncode == 1
    data = json.loads(done.stdout)
    assert data["ok"] is False
    assert data["summary"]["found_percent"] == 75
    assert [s["status"] for s in data["steps"]] == ["passed", "differs", "not found", "explained"]
    assert data["steps"][1]["time"] > data["steps"][0]["time"]


def test_cli_fails_when_too_few_steps_are_found(tmp_path: Path) -> None:
    cast = _demo_cast().write(tmp_path / "rec.cast")
    body = "steps:\n  - run: echo hello\n  - run: uname -a\n"
    done = run_cli("check", str(_scenario(tmp_path, body)), "--against", str(cast))
    assert done.returncode == 1  # every found step passed, but 50% < 80% found
    assert "1 found (50%)" in done.stdout


def test_cli_bad_recording_is_one_line_and_exit_2(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, "steps:\n  - run: echo hello\n")
    bogus = tmp_path / "bogus.cast"
    bogus.write_text("hello\n")
    done = run_cli("check", str(scenario), "--against", str(bogus))
    assert done.returncode == 2
    assert done.stderr == (
        f"{bogus}: not an asciicast v1, v2 or v3 file: it looks like plain text, starting 'hello'\n"
    )
    assert done.stdout == ""
    missing = run_cli("check", str(scenario), "--against", str(tmp_path / "none.cast"))
    assert missing.returncode == 2
    assert missing.stderr.startswith(
        f"{tmp_path / 'none.cast'}: not an asciicast v1, v2 or v3 file"
    )


# -- the speaker's recordings, read in place ------------------------------------------------


def _recording(name: str) -> Path:
    if not RECORDINGS.is_dir():
        pytest.skip(f"{RECORDINGS} is absent: no speaker recordings to check against")
    return RECORDINGS / name


@functools.cache
def _commands(path: Path) -> list:
    return recorded_commands(path)


DEMO11 = r"""
title: Demo 1.1 as the speaker typed it
prompt: "[vagrant@fedora ~]$ "
masks: [age, pod-suffix, container-id]
setup:
  - run: kind create cluster --config kind-config.yaml
steps:
  - say: The cluster's nodes are docker containers
    run: docker ps --format="{{.Names}}" --no-trunc
    expect: {contains: [kind-worker, kind-control-plane]}
  - run: kubectl get nodes
    expect:
      lines: ['^NAME\s+STATUS', '^kind-control-plane\s+NotReady', '^kind-worker\s+NotReady']
  - run: docker exec -it kind-worker crictl ps
    expect: {contains: kube-proxy}
  - run: kubectl get pod -A -owide | grep kind-worker
    expect: {regex: 'kube-proxy-\w{5}\s+1/1\s+Running'}
  - run: docker exec -it kind-worker bash
    enters: {prompt: "root@kind-worker:/# "}
  - run: |
      cat >/opt/cni/bin/dummy <<'EOF'
      #!/bin/bash
      echo '{"cniVersion": "0.3.1"}'
      EOF
  - run: chmod +x /opt/cni/bin/dummy
  - run: mv -v {/tmp,/etc/cni/net.d}/99-dummy.conf
    expect: {regex: "(copied|renamed) '/tmp/99-dummy.conf'"}
  - wait_for: {kind: Node, name: kind-worker, condition: Ready}
  - run: kubectl run alpine-sleeper --image=alpine --restart=Never -- sleep infinity
    expect: {contains: pod/alpine-sleeper created}
  - run: tail -F /tmp/cni-inspect.log
    expect:
      lines:
        - '^-------------- CNI call for ADD on [0-9a-f]{64}$'
        - '^CNI_COMMAND: ADD$'
        - '^CNI_IFNAME: eth0$'
        - '^CNI_ARGS: .*K8S_POD_NAME=alpine-sleeper'
  - run: kubectl run -i --tty --rm alpine --image=alpine --restart=Never -- sh
    keys: [{wait: '/ # '}, "ip a\n", "exit\n"]
    expect: {contains: 'inet 127.0.0.1/8', not_contains: eth0}
  - run: kubectl delete pod alpine-sleeper --force --grace-period=0
    expect: {contains: force deleted}
"""


def test_demo11_commands_as_the_audience_saw_them() -> None:
    commands = _commands(_recording("demo11.cast"))
    typed = [c.command for c in commands]
    assert typed[0] == "ssh bino"  # typed `ssh binp`, fixed with a backspace
    nodes = commands[typed.index("kubectl get nodes")]
    assert nodes.output.splitlines()[1:] == [
        "kind-control-plane   NotReady   control-plane   80s   v1.31.0",
        "kind-worker          NotReady   <none>          69s   v1.31.0",
    ]
    assert nodes.time == pytest.approx(72.8, abs=0.1)
    assert 'docker ps --format="{{.Names}}" --no-trunc' in typed
    # the pasted heredocs run at one Enter are split into their commands
    assert {"chmod +x /opt/cni/bin/dummy", "mv -v {/tmp,/etc/cni/net.d}/99-dummy.conf"} <= set(
        typed
    )
    # k9s redrawing its pane never leaks into a command's output
    assert not any("Context: kind-kind" in c.output for c in commands)


def test_demo11_scenario_is_found_and_passes(tmp_path: Path) -> None:
    cast = _recording("demo11.cast")
    path = tmp_path / "demo-1.1.yaml"
    path.write_text(DEMO11)
    result = check(load_scenario(path), cast)
    assert [(s.index, s.status, s.reason) for s in result.steps if s.status != "passed"] == []
    assert result.summary() == (
        "12 visible steps: 12 found (100%), 12 passed, 0 differ, 0 explained, 0 not found"
    )
    times = [s.time for s in result.steps]
    assert times == sorted(times)
    # the first `kubectl run alpine-sleeper` was typed inside the node by mistake and failed:
    # the passing repeat outside is the one checked
    sleeper = next(s for s in result.steps if "alpine-sleeper --image" in s.command)
    assert sleeper.time == pytest.approx(331.6, abs=0.1)
    done = run_cli("check", str(path), "--against", str(cast))
    assert done.returncode == 0, done.stdout + done.stderr


def test_demo2_side_by_side_panes() -> None:
    commands = _commands(_recording("demo2.cast"))
    by_command = {c.command: c for c in commands}
    routers = by_command["ovn-nbctl lr-list"]  # typed in the right-hand pane
    assert routers.prompt == "[root@kind-control-plane ~]# "
    assert "(GR_kind-worker)" in routers.output
    assert "│" not in routers.output and "Context:" not in routers.output
    flows = by_command["ovs-ofctl --names dump-flows br-int | cut -d',' -f3-"]
    assert len(flows.output.splitlines()) > 1000  # far more than the pane: scrolled out, kept
    expose = next(c for c in commands if c.command.startswith("kubectl expose"))
    assert expose.command.endswith("--selector=app=samplegroup;")
    assert expose.output == "service/samplepods exposed"
