"""Every cast a user has: asciicast v1 (compact or pretty), v2 and v3 (from the published
spec, https://docs.asciinema.org/manual/asciicast/v3/) go through the one reader, and play,
play --list, check, diff, scan, site, upload, rehearse --baseline and the live safety net
take each of them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_play import _cli
from test_upload import asciinema_home, fake_server  # noqa: F401 (pytest fixtures)

from conftest import run_cli, scenario_text
from recorder.cast.reader import CastReadError, load_cast
from recorder.cast.sniff import looks_like
from recorder.cast.writer import CastRecording, publish_atomically

PROMPT = "demo$ "
STEPS = [("echo hello", "hello"), ("echo world", "world")]
FORMATS = ["v1-compact", "v1-pretty", "v2", "v3"]


def session() -> list[tuple[float, str, str]]:
    """A prompt, then each step typed at a human pace, its output and the next prompt, as
    absolute (time, code, data) events; markers name the steps."""
    events: list[tuple[float, str, str]] = [(0.1, "o", PROMPT)]
    t = 0.5
    for command, output in STEPS:
        events.append((t, "m", command))
        for char in command:
            t += 0.12
            events.append((round(t, 3), "o", char))
        events.append((round(t + 0.3, 3), "o", f"\r\n{output}\r\n"))
        events.append((round(t + 0.4, 3), "o", PROMPT))
        t += 1.0
    return events


def write(path: Path, fmt: str, events: list[tuple[float, str, str]] | None = None) -> Path:
    events = session() if events is None else events
    if fmt.startswith("v1"):
        frames, previous = [], 0.0
        for t, code, data in events:
            if code == "o":
                frames.append([round(t - previous, 6), data])
                previous = t
        doc = {"version": 1, "width": 80, "height": 24, "duration": previous, "stdout": frames}
        path.write_text(json.dumps(doc, indent=2 if fmt == "v1-pretty" else None))
    elif fmt == "v2":
        header = {"version": 2, "width": 80, "height": 24, "idle_time_limit": 1.5}
        path.write_text("\n".join(json.dumps(x) for x in [header, *map(list, events)]) + "\n")
    else:
        header = {"version": 3, "term": {"cols": 80, "rows": 24, "type": "xterm-256color"}}
        header["idle_time_limit"] = 1.5
        lines, previous = [json.dumps(header), "# the event stream follows the header"], 0.0
        for t, code, data in events:
            lines.append(json.dumps([round(t - previous, 6), code, data]))
            previous = t
        path.write_text("\n".join(lines) + "\n")
    return path


# -- the reader ----------------------------------------------------------------------------

SPEC_V3 = "\n".join(
    [
        '{"version": 3, "term": {"cols": 80, "rows": 24, "type": "xterm-256color", '
        '"version": "VTE(7802)", "theme": {"fg": "#d0d0d0", "bg": "#212121", "palette": '
        '"#151515:#ac4142:#7e8e50:#e5b567:#6c99bb:#9f4e85:#7dd6cf:#d0d0d0:#505050:#ac4142:'
        '#7e8e50:#e5b567:#6c99bb:#9f4e85:#7dd6cf:#f5f5f5"}}, "timestamp": 1504467315, '
        '"idle_time_limit": 2.5, "command": "/bin/bash", "title": "Demo", '
        '"env": {"SHELL": "/bin/zsh"}, "tags": ["demo"]}',
        "# event stream follows the header",
        '[0.248, "o", "\\u001b[1;31mHello \\u001b[32mWorld!\\u001b[0m\\n"]',
        '[1.001, "o", "That was ok\\rThis is better."]',
        '[0.5, "i", "ls\\r"]',
        '[3.500, "m", "chapter two"]',
        '[0.143, "o", "Now... "]',
        "# terminal window resized to 90 cols and 30 rows",
        '[2.050, "r", "90x30"]',
        '[1.541, "o", "Bye!"]',
        '[0.887, "x", "0"]',
        "",
    ]
)


def test_v3_from_the_spec_every_event_type(tmp_path: Path) -> None:
    path = tmp_path / "spec.cast"
    path.write_text(SPEC_V3)
    cast = load_cast(path)
    assert cast.version == 3 and (cast.width, cast.height) == (80, 24)
    assert cast.term_type == "xterm-256color" and cast.title == "Demo"
    assert cast.idle_time_limit == 2.5 and cast.timestamp == 1504467315
    assert cast.theme is not None and cast.theme["bg"] == "#212121"
    assert [code for _, code, _ in cast.events] == ["o", "o", "i", "m", "o", "r", "o", "x"]
    times = [t for t, _, _ in cast.events]
    expected = [0.248, 1.249, 1.749, 5.249, 5.392, 7.442, 8.983, 9.87]
    assert times == pytest.approx(expected, abs=1e-9)
    assert [(m.label, round(m.time, 3)) for m in cast.markers] == [("chapter two", 5.249)]
    assert cast.exit_status == "0"


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_reads_to_the_same_output(tmp_path: Path, fmt: str) -> None:
    cast = load_cast(write(tmp_path / f"s.{fmt}.cast", fmt))
    expected = [(t, d) for t, c, d in session() if c == "o"]
    assert [(t, d) for t, c, d in cast.events if c == "o"] == [
        (pytest.approx(t, abs=1e-6), d) for t, d in expected
    ]
    assert (cast.width, cast.height) == (80, 24)
    assert len(cast.markers) == (0 if fmt.startswith("v1") else 2)


@pytest.mark.parametrize("fmt", ["v2", "v3"])
def test_written_casts_read_back_exactly(tmp_path: Path, fmt: str) -> None:
    recording = CastRecording(80, 24, {"title": "t", "env": {"TERM": "xterm"}}, version=int(fmt[1]))
    t = 0.0
    for n in range(5000):  # long enough for v3's intervals to drift if they were summed badly
        t += 0.0137 * (n % 7 + 1)
        recording.output(t, f"line {n}\r\n")
        if n % 1000 == 0:
            recording.marker(t + 0.001, f"chapter {n}")
    path = tmp_path / "w.cast"
    publish_atomically(recording, path)
    cast = load_cast(path)
    assert cast.version == int(fmt[1]) and cast.term_type == "xterm" and cast.title == "t"
    written = recording.to_cast().events
    assert [(c, d) for _, c, d in cast.events] == [(c, d) for _, c, d in written]
    assert max(abs(a[0] - b[0]) for a, b in zip(cast.events, written, strict=True)) < 1e-6


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"", "it is empty"),
        (b"\x1f\x8b\x08\x00", "gzip-compressed data"),
        (b"\x89PNG\r\n", "a PNG image"),
        (b"<!DOCTYPE html>\n<html>", "an HTML page"),
        (b"# comment\nname: demo\nsteps: []\n", "YAML (a scenario?"),
        (b"Script started on 2025-01-01\n", "script(1) typescript"),
        (b'{"version": 4, "term": {}}\n', "asciicast version 4"),
        (b'{"width": 80, "height": 24}\n', 'asciicast header without a "version"'),
        (b'{"name": "x"}', 'JSON object with no "version" key'),
        (b"[1, 2, 3]", "JSON, but a list"),
        (b"\xff\xfe\x00\x01", "binary data"),
        (b"hello there\n", "plain text, starting 'hello there'"),
    ],
)
def test_what_a_non_cast_looks_like(tmp_path: Path, raw: bytes, says: str) -> None:
    path = tmp_path / "x.cast"
    path.write_bytes(raw)
    with pytest.raises(CastReadError) as caught:
        load_cast(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: not an asciicast v1, v2 or v3 file: ")
    assert says in message and "\n" not in message
    assert says in looks_like(raw, json.loads(raw) if raw.startswith((b"{", b"[")) else None)


# -- every command -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_play_and_list(tmp_path: Path, fmt: str) -> None:
    path = write(tmp_path / "s.cast", fmt)
    listed = _cli("--list", path)
    assert listed.returncode == 0, listed.stderr
    assert (
        ("no markers" in listed.stdout) if fmt.startswith("v1") else ("echo world" in listed.stdout)
    )
    played = _cli("--speed", "50", path)
    assert played.returncode == 0 and "hello" in played.stdout and "world" in played.stdout


@pytest.mark.parametrize("fmt", FORMATS)
def test_check_against_each_format(tmp_path: Path, fmt: str) -> None:
    path = write(tmp_path / "s.cast", fmt)
    scenario = tmp_path / "s.yaml"
    body = "".join(f"  - run: {command}\n" for command, _ in STEPS)
    scenario.write_text(scenario_text(f"steps:\n{body}"))
    done = run_cli("check", str(scenario), "--against", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 found (100%)" in done.stdout


@pytest.mark.parametrize("fmt", FORMATS)
def test_diff_and_scan_each_format(tmp_path: Path, fmt: str) -> None:
    path = write(tmp_path / "s.cast", fmt)
    same = run_cli("diff", str(path), str(path))
    assert same.returncode == 0 and "EQUIVALENT" in same.stdout
    other = write(
        tmp_path / "o.cast", "v2", [(t, c, d.replace("world", "earth")) for t, c, d in session()]
    )
    changed = run_cli("diff", str(path), str(other))
    assert changed.returncode == 1 and "earth" in changed.stdout
    scanned = run_cli("scan", str(path))
    assert scanned.returncode == 0, scanned.stdout + scanned.stderr


def test_diff_v1_pretty_against_v3_of_the_same_show(tmp_path: Path) -> None:
    old, new = write(tmp_path / "a.json", "v1-pretty"), write(tmp_path / "b.cast", "v3")
    done = run_cli("diff", str(old), str(new))
    # v1 has no markers: the whole show is one step, as the audience saw it on both
    assert done.returncode == 1 and "added" in done.stdout  # v3's markers split it into steps
    flat = write(tmp_path / "c.cast", "v3", [e for e in session() if e[1] != "m"])
    assert run_cli("diff", str(old), str(flat)).returncode == 0


@pytest.mark.parametrize("fmt", FORMATS)
def test_upload_each_format(tmp_path: Path, fmt: str, fake_server) -> None:  # noqa: F811
    path = write(tmp_path / "s.cast", fmt)
    done = run_cli("upload", str(path), "--force", "--server", fake_server.url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert fake_server.received[-1].data == path.read_bytes()


def test_site_takes_every_format(tmp_path: Path) -> None:
    casts = tmp_path / "casts"
    casts.mkdir()
    for fmt in FORMATS:
        write(casts / (f"{fmt}.json" if fmt.startswith("v1") else f"{fmt}.cast"), fmt)
    done = run_cli("site", str(casts), "-o", str(tmp_path / "site"), timeout=600)
    if done.returncode != 0 and "npm" in done.stderr:
        pytest.skip(f"the site needs asciinema-player from npm: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    pages = sorted(p.name for p in (tmp_path / "site").glob("*.html"))
    assert pages == ["index.html", "v1-compact.html", "v1-pretty.html", "v2.html", "v3.html"]


def test_record_v3_then_rehearse_against_it_and_save_a_v3_rehearsal(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    body = "".join(f"  - run: {command}\n" for command, _ in STEPS)
    scenario.write_text(scenario_text(f"steps:\n{body}"))
    casts = tmp_path / "casts"
    done = run_cli(
        "record", str(scenario), "-o", str(casts / "s.cast"), "--cast-format", "v3", "--cps", "300"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    recorded = load_cast(casts / "s.cast")
    assert recorded.version == 3 and recorded.verified
    assert json.loads((casts / "s.cast").read_text().split("\n")[0])["term"]["cols"] == 80
    assert [m.label for m in recorded.markers] == [command for command, _ in STEPS]
    out = tmp_path / "rehearsals"
    done = run_cli(
        "rehearse",
        str(scenario),
        "--baseline",
        str(casts),
        "--cast-dir",
        str(out),
        "--cast-format",
        "v3",
    )
    assert done.returncode == 0 and "matches baseline" in done.stdout, done.stdout + done.stderr
    assert "rehearsal cast (not verified)" in done.stdout
    rehearsal = load_cast(out / "s.cast")
    assert rehearsal.version == 3 and not rehearsal.verified
    assert run_cli("rehearse", str(scenario), "--cast-format", "v4").returncode == 2


def test_a_v3_verified_cast_is_the_live_safety_net(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    body = "".join(f"  - run: {command}\n" for command, _ in STEPS)
    scenario.write_text(scenario_text(f"steps:\n{body}"))
    cast = tmp_path / "s.cast"
    done = run_cli("record", str(scenario), "-o", str(cast), "--cast-format", "v3", "--cps", "300")
    assert done.returncode == 0, done.stdout + done.stderr
    done = run_cli("live", str(scenario), "--auto", "--cps", "300", "--cast", str(cast))
    assert done.returncode == 0, done.stdout + done.stderr
