"""`stagecast import`: a hand-made recording becomes a draft scenario.

Recordings made here: one by `stagecast record` (markers, narration), one by asciinema 2.4's
own `asciinema rec` driven through a pty like a person at a keyboard (typos, arrow keys,
history, a nested shell, a pager, continuation lines, an empty Enter, Ctrl-C at the prompt),
and small synthetic ones for what neither makes (an exit code in the prompt, an unusual
prompt, tmux, a full-screen program alone, bad input). The speaker's own recordings (read in
place, never copied) prove the round trip: the draft checked against the recording it came
from, and compared with the scenarios written by hand.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import RECORDINGS, ROOT, run_cli, scenario_text
from recorder.errors import CommandError
from recorder.importer.compare import compare
from recorder.importer.draft import import_cast
from recorder.importer.expectations import draft
from recorder.importer.programs import classify
from recorder.importer.prompts import exit_code, families, family_regex
from recorder.importer.yaml_writer import write
from recorder.recording_check.check import check
from recorder.scenario.loader import load_scenario

ASCIINEMA = Path(sys.executable).parent / "asciinema"


class Cast:
    """An asciicast v2 file written event by event, at a human pace."""

    def __init__(self, cols: int = 80, rows: int = 24) -> None:
        self.cols, self.rows, self.t = cols, rows, 0.0
        self.events: list[list[Any]] = []

    def out(self, data: str, dt: float = 0.05, kind: str = "o") -> Cast:
        self.t += dt
        self.events.append([round(self.t, 3), kind, data])
        return self

    def run(self, command: str, output: str, prompt: str = "demo$ ") -> Cast:
        for char in command:
            self.out(char, 0.1)
        self.out("\r\n", 0.3)
        if output:
            self.out(output.replace("\n", "\r\n") + "\r\n")
        return self.out(prompt)

    def write(self, path: Path, version: int = 2) -> Path:
        if version == 1:
            times = [e[0] - p[0] for p, e in zip([[0.0]] + self.events, self.events, strict=False)]
            stdout = [[round(d, 6), e[2]] for d, e in zip(times, self.events, strict=True)]
            doc = {"version": 1, "width": self.cols, "height": self.rows, "stdout": stdout}
            path.write_text(json.dumps(doc))
            return path
        if version == 3:
            header = {"version": 3, "term": {"cols": self.cols, "rows": self.rows}}
            lines, last = [json.dumps(header)], 0.0
            for t, kind, data in self.events:
                lines.append(json.dumps([round(t - last, 6), kind, data]))
                last = t
        else:
            header = {"version": 2, "width": self.cols, "height": self.rows}
            lines = [json.dumps(header)] + [json.dumps(e) for e in self.events]
        path.write_text("\n".join(lines) + "\n")
        return path


def _steps(text: str) -> list[dict[str, Any]]:
    return yaml.safe_load(text)["steps"]


def _runs(text: str, hidden: bool = False) -> list[str]:
    return [s["run"] for s in _steps(text) if "run" in s and s.get("hidden", False) == hidden]


def _lint(tmp_path: Path, text: str, name: str = "draft.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    load_scenario(path)  # what `stagecast lint` does: raises on any error
    return path


def _round_trip(path: Path, cast: Path) -> dict[str, int]:
    counts = check(load_scenario(path), cast).counts()
    assert counts["found"] == counts["visible"], counts
    assert counts["passed"] == counts["visible"], counts
    return counts


# -- a recording made with asciinema rec, typed through a pty -------------------------------


def _type(child: Any, text: str, delay: float = 0.03) -> None:
    for char in text:
        child.send(char)
        time.sleep(delay)


@pytest.fixture(scope="module")
def asciinema_cast(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`asciinema rec --stdin -c bash` in a pty, typed at like a person would."""
    if not ASCIINEMA.exists():
        pytest.skip(f"asciinema is not installed in this venv ({ASCIINEMA})")
    import pexpect

    folder = tmp_path_factory.mktemp("asciinema")
    cast = folder / "typed.cast"
    env = dict(os.environ, PS1="demo$ ", TERM="xterm-256color")
    env["ASCIINEMA_CONFIG_HOME"] = str(folder / "config")
    argv = ["rec", "--stdin", "-q", "--overwrite", "-c", "bash --norc --noprofile", str(cast)]
    child = pexpect.spawn(
        str(ASCIINEMA), argv, env=env, dimensions=(24, 80), encoding="utf-8", timeout=20
    )

    def prompt(text: str = "demo$ ") -> None:
        child.expect_exact(text)

    prompt()
    _type(child, "echp")
    child.send("\x7f")  # a typo fixed with backspace
    _type(child, "o hello\r")
    prompt()
    _type(child, "echo wrld")
    child.send("\x1b[D\x1b[D\x1b[D")  # back three characters with the arrow key
    time.sleep(0.1)
    _type(child, "o\r")
    prompt()
    child.send("\x1b[A")  # history: the last command again
    time.sleep(0.2)
    child.send("\r")
    prompt()
    _type(child, "\r")  # an empty Enter
    prompt()
    _type(child, "echo never")
    child.send("\x03")  # Ctrl-C at the prompt: the line is dropped
    prompt()
    _type(child, "# now a nested shell\r")
    prompt()
    _type(child, "env PS1='inner$ ' bash --norc --noprofile\r")
    prompt("inner$ ")
    _type(child, "echo inside\r")
    prompt("inner$ ")
    _type(child, "exit\r")
    prompt()
    _type(child, "seq 100 | less\r")
    time.sleep(0.5)
    _type(child, "q")
    prompt()
    _type(child, "echo one \\\r")
    child.expect_exact("> ")
    _type(child, "two\r")
    prompt()
    _type(child, "exit\r")
    child.expect(pexpect.EOF)
    child.close()
    return cast


def test_typed_at_a_keyboard_the_draft_holds_what_was_run(
    asciinema_cast: Path, tmp_path: Path
) -> None:
    result = import_cast(asciinema_cast)
    assert _runs(result.text) == [
        "echo hello",  # typed `echp`, backspace, `o hello`
        "echo world",  # typed `echo wrld`, three times Left, `o`
        "echo world",  # recalled with Up
        "env PS1='inner$ ' bash --norc --noprofile",
        "echo inside",
        "exit",
        "seq 100 | less",
        "echo one \\\ntwo",
    ]  # no empty step for the empty Enter, no `echo never` (Ctrl-C), no `exit` of the main shell
    steps = _steps(result.text)
    nested = next(s for s in steps if s.get("run", "").startswith("env PS1"))
    assert nested["enters"] == {"prompt": "inner$ "}
    assert nested["say"] == "now a nested shell"
    assert next(s for s in steps if s.get("run") == "exit")["leaves"] is True
    pager = next(s for s in steps if s.get("run") == "seq 100 | less")
    assert pager["keys"][-1] == "q"
    assert steps[0]["expect"] == {"contains": ["hello"]}
    assert "`echo never^C`" in result.text  # said, in the header, to be left out
    assert result.main == "demo$" and result.nested == ["inner$ "]
    _round_trip(_lint(tmp_path, result.text), asciinema_cast)


@pytest.mark.parametrize("version", [1, 3])
def test_the_same_recording_as_asciicast_v1_and_v3(
    asciinema_cast: Path, tmp_path: Path, version: int
) -> None:
    events = [json.loads(line) for line in asciinema_cast.read_text().splitlines()[1:]]
    cast = Cast()
    for t, kind, data in events:
        if kind == "o":
            cast.events.append([t, kind, data])
    path = cast.write(tmp_path / f"v{version}.cast", version)
    assert _runs(import_cast(path).text) == _runs(import_cast(asciinema_cast).text)


# -- a recording made with stagecast itself --------------------------------------------------


def test_a_stagecast_cast_keeps_its_markers_and_narration(tmp_path: Path) -> None:
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(
        scenario_text(
            """
            steps:
              - say: First we look around
                marker: Look around
                run: echo hello world
                expect: {contains: hello world}
              - marker: Addresses
                run: printf 'addr 10.1.2.3 up 5m\\nmac 0a:58:0a:f4:02:01\\n'
              - run: ls /
            """
        )
    )
    cast = tmp_path / "tiny.cast"
    done = run_cli("record", str(scenario), "-o", str(cast))
    assert done.returncode == 0, done.stderr
    result = import_cast(cast, title="Tiny again")
    data = yaml.safe_load(result.text)
    assert data["title"] == "Tiny again"
    first, second, third = data["steps"]
    assert (first["say"], first["marker"], first["run"]) == (
        "First we look around",
        "Look around",
        "echo hello world",
    )
    assert second["marker"] == "Addresses" and "marker" not in third  # `ls /` is its default
    # volatile values: regexes with the values left open, and the masks that name them
    assert second["expect"]["regex"] == [
        r"^addr\s+(?:\d{1,3}\.){3}\d{1,3}\s+up\s+\w+$",
        r"^mac\s+(?:[0-9a-f]{2}:){5}[0-9a-f]{2}$",
    ]
    assert data["masks"] == ["mac", "ip", "age"]
    assert data["prompt"] == "test$ "
    _round_trip(_lint(tmp_path, result.text), cast)


# -- what neither makes: synthetic casts ------------------------------------------------------


def test_an_exit_code_the_prompt_shows_becomes_the_steps_exit(tmp_path: Path) -> None:
    cast = Cast().out("[0] demo$ ")
    cast.run("true", "", "[0] demo$ ").run("false", "", "[1] demo$ ")
    cast.run("grep x /nothing", "grep: /nothing: No such file or directory", "[2] demo$ ")
    cast.run("echo ok", "ok", "[0] demo$ ")
    steps = _steps(import_cast(cast.write(tmp_path / "rec.cast")).text)
    assert [s["expect"]["exit"] for s in steps] == [0, 1, 2, 0]


def test_private_sequences_pyte_does_not_know_are_ignored(tmp_path: Path) -> None:
    # `CSI ? 5 n` (DECDSR), `CSI ? 4 m` (xterm's key modifier query): once a crash in pyte
    cast = Cast().out("\x1b[?5n\x1b[?4mdemo$ ").run("echo hi", "hi")
    path = cast.write(tmp_path / "rec.cast")
    assert _runs(import_cast(path).text) == ["echo hi"]


def test_a_prompt_written_with_the_first_key_is_found(tmp_path: Path) -> None:
    cast = Cast()
    for word in ("one", "two"):
        cast.out(f"\x1b[1;32m$\x1b[0m {word[0]}")  # a script typing: prompt and key at once
        cast.run(f"{word[1:]} x", "", "")
    assert _runs(import_cast(cast.write(tmp_path / "rec.cast")).text) == ["one x", "two x"]


def test_an_unknown_prompt_is_found_where_typing_starts(tmp_path: Path) -> None:
    cast = Cast().out("$ ")
    for n in range(3):
        cast.run(f"echo {n}", str(n), "$ ")
    path = cast.write(tmp_path / "rec.cast")
    result = import_cast(path)
    assert _runs(result.text) == ["echo 0", "echo 1", "echo 2"]
    assert "detected where typing starts" in result.line
    _round_trip(_lint(tmp_path, result.text), path)  # check reads the draft's own prompt
    given = import_cast(path, prompt=r"\$ ")
    assert _runs(given.text) == _runs(result.text) and "given by --prompt" in given.line


def test_shell_variables_stay_the_shells(tmp_path: Path) -> None:
    cast = Cast().out("demo$ ").run("for x in 1 2; do echo ${x}; done", "1\n2")
    path = _lint(tmp_path, import_cast(cast.write(tmp_path / "rec.cast")).text)
    assert _runs(path.read_text()) == ["for x in 1 2; do echo $${x}; done"]
    _round_trip(path, tmp_path / "rec.cast")


def test_the_speakers_session_and_tmux_stay_out(tmp_path: Path) -> None:
    status = '\x1b7\x1b[24;1H[0] 0:bash*  "host" 12:0{} 01-Jan-25\x1b8'
    cast = Cast().out("laptop$ ").run("ssh host", "Welcome", "me@host:~$ ")
    cast.run("tmux a -d", "", "\x1b[1;23r\x1b[H\x1b[2J" + status.format(0) + "[me@box ~]$ ")
    cast.run("echo one", "one", "[me@box ~]$ ").out(status.format(1))
    cast.run("# a comment", "", "[me@box ~]$ ").run("echo two", "two", "[me@box ~]$ ")
    text = import_cast(cast.write(tmp_path / "rec.cast")).text
    assert _runs(text) == ["echo one", "echo two"]
    assert _steps(text)[1]["say"] == "a comment"
    assert "12:0" not in text.split("steps:")[1]
    assert "`ssh host`, `tmux a -d`" in text


def test_a_shell_in_another_pane_is_entered_and_left_out_of_sight(tmp_path: Path) -> None:
    cast = Cast().out("[me@box ~]$ ").run("docker exec -it node bash", "", "root@node:/# ")
    cast.run("cd /etc", "", "root@node:/etc# ").run("ls", "hosts", "root@node:/etc# ")
    cast.out("\x1b[H\x1b[2J[me@box ~]$ ").run("echo back", "back", "[me@box ~]$ ")
    cast.out("\x1b[H\x1b[2Jroot@node:/etc# ").run("cat hosts", "127.0.0.1 localhost")
    steps = _steps(import_cast(cast.write(tmp_path / "rec.cast")).text)
    shown = [
        (s.get("run"), s.get("hidden", False), s.get("enters"), s.get("leaves")) for s in steps
    ]
    node = {"prompt": "root@node:[^#\\s]*# ", "regex": True}
    assert shown == [
        ("docker exec -it node bash", False, node, None),
        ("cd /etc", False, None, None),
        ("ls", False, None, None),
        ("exit", True, None, True),
        ("echo back", False, None, None),
        ("docker exec -it node bash", True, node, None),
        ("cd /etc", True, None, None),  # back where its prompt showed
        ("cat hosts", False, None, None),
        ("exit", True, None, True),
    ]


def test_programs_and_the_keys_that_leave_them() -> None:
    assert classify("k9s").keys == [{"key": "ctrl-c"}]
    assert classify("kubectl get pods | less").keys == ["q"]
    assert classify("tail -F /var/log/x").kind == "follow"
    assert classify("kubectl apply -f x.yaml").kind == "command"
    assert classify("docker exec -it kind-worker crictl ps").kind == "command"
    assert classify("kubectl run -i --tty --rm a --image=alpine -- sh").kind == "shell"
    assert classify("watch -d -n 1 ls").inner == "ls"
    assert classify("kubectl get pods -w").inner == "kubectl get pods"
    assert classify("echo never^C").kind == "cancelled"


def test_prompt_families_and_exit_codes() -> None:
    assert family_regex("root@kind-worker:/etc/cni# ") == r"root@kind-worker:[^#\s]*# "
    assert family_regex("[vagrant@fedora ~]$ ") == r"\[vagrant@fedora [^\]\n]*\]\$ "
    known = families(["✘ 1 demo$ ", "demo$ "])
    (family,) = [f for f in known.values() if "✘ 1 demo$ " in f.prompts] or [None]
    assert family is None or exit_code("✘ 1 demo$ ", family) == 1


def test_drafted_checks_keep_stable_lines_and_open_volatile_values() -> None:
    out = "NAME   STATUS   AGE\nkube-proxy-2598l   Running   2m15s\npod/x created"
    drafted = draft(out)
    assert drafted.expect == {
        "contains": ["NAME   STATUS   AGE", "pod/x created"],
        "regex": [r"^kube-proxy-\w{5}\s+Running\s+\w+$"],
    }
    assert set(drafted.masks) == {"pod-suffix", "age"}


@pytest.mark.parametrize(
    "value",
    ["yes", "1.5", "a: b", "#x", " lead", "tab\there", "\x1b[0m", "é", "[x]", "it's", "x\n y",
     "line\n\n  indented\nend", "${x}", "-", "~", "null", "'quoted'", '"dq"', "\\", "🙂"],
)  # fmt: skip
def test_the_yaml_reads_back_as_written(value: str) -> None:
    data = {"run": value, "expect": {"contains": [value]}, "keys": [value, {"text": value}]}
    text = write(["a comment"], {"title": value}, {}, {"steps": [(data, ["why"])]})
    assert text.startswith("# a comment") and "# why" in text  # not the comment-free fallback
    assert yaml.safe_load(text) == {"title": value, "steps": [data]}


# -- refusals: one line, exit 2 ---------------------------------------------------------------


def test_a_recording_of_a_full_screen_program_alone_is_refused(tmp_path: Path) -> None:
    cast = Cast().out("\x1b[?1049h\x1b[H\x1b[2J")
    for n in range(20):
        cast.out(f"\x1b[H frame {n} \x1b[7m TOP \x1b[0m", 0.2)
    path = cast.write(tmp_path / "tui.cast")
    with pytest.raises(CommandError) as caught:
        import_cast(path)
    assert caught.value.exit_code == 2
    assert "no shell prompt found (it looks like a recording of a full-screen program" in str(
        caught.value
    )
    done = run_cli("import", str(path))
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1, done.stderr


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("title: x\nsteps: []\n", "YAML"),
        ("", "empty"),
        ('{"version": 2, "width": 80, "height": 24}\n', "no output events"),
        ('{"version": 2}\n[0.1, "o", "x"]\n', "no terminal size"),
    ],
)
def test_bad_input_is_one_line_naming_the_file(tmp_path: Path, content: str, says: str) -> None:
    path = tmp_path / "bad.cast"
    path.write_text(content)
    done = run_cli("import", str(path))
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert str(path) in line and says.lower() in line.lower() and "Traceback" not in line


def test_the_cli_writes_a_draft_that_lints(asciinema_cast: Path, tmp_path: Path) -> None:
    out = tmp_path / "draft.yaml"
    done = run_cli("import", str(asciinema_cast), "-o", str(out))
    assert done.returncode == 0, done.stderr
    (line,) = done.stderr.splitlines()
    assert "prompt 'demo$' (detected; nested shells: 'inner$')" in line
    assert "commands found, 8 steps drafted" in line
    lint = run_cli("lint", str(out))
    assert lint.returncode == 0, lint.stderr
    again = run_cli("import", str(asciinema_cast), "-o", str(out))  # an earlier draft: replaced
    assert again.returncode == 0
    mine = tmp_path / "mine.yaml"
    mine.write_text("title: mine\nsteps: [{run: 'true'}]\n")
    refused = run_cli("import", str(asciinema_cast), "-o", str(mine))
    assert refused.returncode == 2 and "is not a draft" in refused.stderr
    assert mine.read_text().startswith("title: mine")
    bad = run_cli("import", str(asciinema_cast), "--prompt", "(")
    assert bad.returncode == 2 and "not a regular expression" in bad.stderr


# -- the speaker's recordings: the round trip -------------------------------------------------

PAIRS = [("demo11.cast", "demo-1.1"), ("demo12.cast", "demo-1.2"), ("demo2.cast", "demo-2")]


@pytest.mark.parametrize(("cast", "name"), PAIRS)
def test_round_trip_on_the_speakers_recordings(cast: str, name: str, tmp_path: Path) -> None:
    if not (RECORDINGS / cast).is_file():
        pytest.skip(f"the speaker's recordings are not here ({RECORDINGS})")
    path = _lint(tmp_path, import_cast(RECORDINGS / cast).text)
    counts = check(load_scenario(path), RECORDINGS / cast).counts()
    assert counts["found"] >= 0.95 * counts["visible"], counts
    assert counts["passed"] >= 0.90 * counts["visible"], counts
    assert counts["differs"] == 0, counts
    # next to the scenario written by hand: every step it has that the speaker typed
    compared = compare(load_scenario(path), load_scenario(ROOT / "scenarios" / f"{name}.yaml"),
                       RECORDINGS / cast)  # fmt: skip
    missing = [c for c in compared if c.status == "not drafted"]
    assert all(c.reason.startswith("not typed in the recording") for c in missing), missing
    assert all("the scenario says why" in c.reason for c in compared if "differently" in c.status)


def test_demo11_from_the_command_line(tmp_path: Path) -> None:
    if not (RECORDINGS / "demo11.cast").is_file():
        pytest.skip(f"the speaker's recordings are not here ({RECORDINGS})")
    out = tmp_path / "d11.yaml"
    done = run_cli("import", str(RECORDINGS / "demo11.cast"), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert run_cli("lint", str(out)).returncode == 0
    checked = run_cli("check", str(out), "--against", str(RECORDINGS / "demo11.cast"))
    assert checked.returncode == 0, checked.stdout


def test_waits_become_a_wait_for_or_a_hidden_retry(tmp_path: Path) -> None:
    cast = Cast().out("demo$ ").run("# see ${HOME}", "")
    watch = "NAME   READY   STATUS\nweb    0/1     Pending\nweb    1/1     Running\n^C"
    cast.run("kubectl get pod web -w", watch)
    cast.run("until test -e /tmp/x; do sleep 1; done", "")
    steps = _steps(_lint(tmp_path, import_cast(cast.write(tmp_path / "rec.cast")).text).read_text())
    wait, watched, loop = steps
    assert wait == {
        "wait_for": {"kind": "Pod", "name": "web", "condition": "Ready", "timeout": 300}
    }
    assert watched["say"] == "see $${HOME}" and watched["run"] == "kubectl get pod web -w"
    assert watched["keys"][-1] == {"key": "ctrl-c"} and watched["expect"]["exit"] == "any"
    assert loop["run"].startswith("until")
