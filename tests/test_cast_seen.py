"""Drift on everything the audience saw: a trailing `clear`, a line redrawn in place (a
progress bar), and full-screen programs on the alternate screen (less, top, watch), recorded
for real in a pty, then compared with `recorder.cast.diff`."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pexpect
import pytest

from conftest import RECORDINGS, run_cli, scenario_text
from recorder.cast.diff import diff_casts
from recorder.cast.model import Cast
from recorder.cast.reader import load_cast
from recorder.cast.seen import watch
from recorder.cast.segments import GONE, LEFT, segments

COLS, ROWS = 80, 24


def capture(command: str, keys: list[tuple[float, str]] | None = None) -> Cast:
    """`command` run by bash in a real pty (80x24, xterm-256color), its output as a cast of
    one step; `keys` are (seconds after the start, text) typed into it."""
    env = {**os.environ, "TERM": "xterm-256color", "LESS": "", "LC_ALL": "C.UTF-8"}
    child = pexpect.spawn(
        "bash", ["-c", command], dimensions=(ROWS, COLS), env=env, encoding="utf-8"
    )
    start = time.monotonic()
    events: list[tuple[float, str, str]] = [(0.0, "m", "step")]
    pending = list(keys or [])
    while True:
        try:
            data = child.read_nonblocking(65536, timeout=0.05)
            events.append((time.monotonic() - start, "o", data))
        except pexpect.TIMEOUT:
            if pending and time.monotonic() - start > pending[0][0]:
                child.send(pending.pop(0)[1])
            if time.monotonic() - start > 30:
                child.terminate(force=True)
                raise AssertionError(f"{command!r} did not end within 30 s") from None
        except pexpect.EOF:
            break
    return Cast(command, 2, {"version": 2, "width": COLS, "height": ROWS}, events)


def needs(*programs: str) -> None:
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (Debian: less, procps, ncurses-bin)")


def status(old: Cast, new: Cast) -> str:
    (step,) = [s for s in diff_casts(old, new).steps if s.label == "step"]
    return step.status


# -- recorded for real ---------------------------------------------------------------------


def test_a_trailing_clear_no_longer_hides_what_was_printed() -> None:
    needs("clear")
    hello = capture("echo hello; sleep 0.2; clear")
    world = capture("echo world; sleep 0.2; clear")
    assert segments(hello)[-1].final == segments(world)[-1].final  # the last screens agree
    assert status(hello, world) == "changed"
    assert "hello" in segments(hello)[-1].transient


def test_less_on_the_alternate_screen_is_compared_by_what_it_showed(tmp_path: Path) -> None:
    needs("less")
    for name in "ab":
        (tmp_path / f"{name}.txt").write_text("".join(f"line {name} {n}\n" for n in range(40)))
    a = capture(f"less {tmp_path / 'a.txt'}", [(0.5, "q")])
    again = capture(f"less {tmp_path / 'a.txt'}", [(0.8, "q")])
    b = capture(f"less {tmp_path / 'b.txt'}", [(0.5, "q")])
    assert "line a 0" not in segments(a)[-1].final  # less left the alternate screen
    assert "line a 0" in segments(a)[-1].transient
    assert status(a, b) == "changed"
    assert status(a, again) in ("same", "cosmetic")


def test_top_frames_are_seen_and_a_cast_is_the_same_as_itself() -> None:
    needs("top")
    top = capture("top -b -n 1 >/dev/null; top -n 2 -d 0.3")
    seen = segments(top)[-1]
    assert "PID" in seen.final  # top redraws in place: its first frame's rows went by
    assert seen.transient, "the first frame went by"
    assert status(top, top) == "same"


def test_watch_frames_differ_when_the_watched_output_differs() -> None:
    needs("watch")
    one = capture(
        "watch -n 0.2 -g 'cat /tmp/stagecast-watch-test 2>/dev/null' & "
        "sleep 0.6; echo 1 > /tmp/stagecast-watch-test; wait"
    )
    two = capture(
        "watch -n 0.2 -g 'cat /tmp/stagecast-watch-test 2>/dev/null' & "
        "sleep 0.6; echo 2 > /tmp/stagecast-watch-test; wait"
    )
    Path("/tmp/stagecast-watch-test").unlink(missing_ok=True)
    assert status(one, two) == "changed"


def test_a_progress_bar_redrawn_on_one_line() -> None:
    script = 'for s in "step 1/3" "{mid} 2/3" "done     "; do printf "\\r%s" "$s"; sleep 0.1; done'
    ok = capture(script.format(mid="step"))
    bad = capture(script.format(mid="FAIL"))
    assert status(ok, ok) == "same"
    assert status(ok, bad) == "changed"
    assert "FAIL 2/3" in segments(bad)[-1].transient


# -- exact screens ---------------------------------------------------------------------------


def test_plain_output_has_no_transient_part() -> None:
    seen = watch([(0.0, "o", "$ ls\r\n"), (0.5, "o", "a  b\r\n$ ")], 40)
    assert seen.transient == [] and seen.final == "$ ls\na  b\n$"


def test_typing_and_backspacing_take_nothing_away() -> None:
    keys = [(0.1 * n, "o", ch) for n, ch in enumerate("echo hx")]
    keys += [(1.0, "o", "\b \b"), (1.2, "o", "i"), (1.4, "o", "\r\n")]
    seen = watch(keys, 40)
    assert seen.transient == ["echo hx"]  # the typo was on screen, then replaced
    assert seen.final == "echo hi"


def test_a_flicker_shorter_than_a_frame_is_not_seen() -> None:
    seen = watch([(0.0, "o", "\rstep 1"), (0.001, "o", "\rstep 2"), (1.0, "o", "\rdone  ")], 40)
    assert seen.transient == ["step 2"]


def test_a_wrapped_line_cleared_away_is_kept_whole() -> None:
    uuid = "3f2b6c1e-9a4d-4e8b-8f00-1234567890ab"
    seen = watch([(0.0, "o", "id: " + uuid + "\r\n"), (1.0, "o", "\x1b[H\x1b[2J$ ")], 20)
    assert seen.transient == ["id: " + uuid]


def test_the_view_masks_and_shows_each_redrawn_line_once() -> None:
    tui = [
        (0.1, "o", "\x1b[?1049h"),
        (0.1, "o", "at 10:00:01\r\nok"),
        (1.0, "o", "\x1b[Hat 10:00:02"),
        (2.0, "o", "\x1b[?1049l$ "),
    ]
    cast = Cast("x", 2, {"width": 40, "height": 5}, [(0.0, "m", "s"), *tui])
    (seg,) = [s for s in segments(cast) if s.label == "s"]
    assert seg.transient == ["at 10:00:01", "ok", "at 10:00:02", "ok"]
    clock = re.compile(r"\d\d:\d\d:\d\d")
    masked = seg.view(lambda text: clock.sub("T", text), once=True)
    assert masked == "\n".join([GONE, "at T", "ok", LEFT, "$"])


def test_what_scrolled_off_is_kept_and_a_clear_gives_it_up_whole() -> None:
    """The screen is the cast's height: rows scroll off its top, and are still the step's text
    (and, cleared, what went by: a line wrapped over three rows, whole)."""
    printed = "".join(f"line {n}\r\n" for n in range(10)) + "a" * 25 + "\r\n"
    assert watch([(0.0, "o", printed)], 10, 3).final.split("\n") == [
        *[f"line {n}" for n in range(10)],
        "a" * 25,
    ]
    seen = watch([(0.0, "o", printed), (1.0, "o", "\x1b[H\x1b[2J$ ")], 10, 3)
    assert seen.transient == [*[f"line {n}" for n in range(10)], "a" * 25]
    assert seen.final == "$"


def test_a_line_redrawn_as_it_scrolls_off_is_seen_when_it_stood_long_enough() -> None:
    scrolls = "\r100%\r\n" + "x\r\n" * 5  # the redrawn row scrolls off in the same event
    seen = watch([(0.0, "o", "50%"), (1.0, "o", scrolls)], 10, 3)
    assert seen.transient == ["50%"] and seen.final == "100%\nx\nx\nx\nx\nx"
    assert watch([(0.0, "o", "50%"), (0.01, "o", scrolls)], 10, 3).transient == []
    cut = watch([(0.0, "o", "abcdef"), (1.0, "o", "\x1b[3D\x1b[K\r\n" + "x\r\n" * 5)], 10, 3)
    assert cut.transient == ["abcdef"] and cut.final.startswith("abc\nx")


def test_the_cursor_moves_on_the_screen_the_audience_saw() -> None:
    """Home is the top of the screen as it stands, not the step's first line (a screen tall
    enough never to scroll put it there)."""
    seen = watch([(0.0, "o", "one\r\ntwo\r\nthree\r\nfour\r\n"), (1.0, "o", "\x1b[HX")], 10, 3)
    assert seen.final == "one\ntwo\nXhree\nfour"
    assert seen.transient == ["three"]


def test_a_step_of_megabytes_of_lines_is_played_in_bounded_memory() -> None:
    """What scrolled off is held as text, the screen's rows only as pyte's cells: a screen tall
    enough never to scroll held a Char per cell (525 MB here, 780 MB for 4 MB of lines)."""
    import tracemalloc

    from recorder.cast.seen import EMULATE_UP_TO

    lines = [f"{n:08d} " + "x" * 191 for n in range(15_000)]  # 200 columns each
    events = [
        (n / 1000, "o", "".join(f"{line}\r\n" for line in lines[n : n + 20]))
        for n in range(0, len(lines), 20)
    ]
    printed = sum(len(data) for _, _, data in events)
    assert 2 << 20 < printed < EMULATE_UP_TO  # played on the screen, not read as plain text
    tracemalloc.start()
    try:
        seen = watch(events, 200, 50)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seen.transient == [] and seen.final.split("\n") == lines
    assert peak < 8 * printed, f"{peak / 2**20:.1f} MB for {printed / 2**20:.1f} MB printed"


def test_every_committed_cast_is_the_same_as_itself() -> None:
    casts = sorted(Path(__file__).resolve().parent.parent.glob("casts/*.cast"))
    assert casts
    for path in casts:
        done = run_cli("diff", str(path), str(path))
        assert done.returncode == 0 and "0 changed" in done.stdout, (path, done.stdout[-400:])


def test_the_speakers_recordings_are_the_same_as_themselves() -> None:
    if not RECORDINGS.is_dir():
        pytest.skip("../shared/seed/meetup-recordings is absent: no speaker recordings to compare")
    for path in sorted(RECORDINGS.glob("*.cast")):
        cast = load_cast(path, errors="replace")
        assert not diff_casts(cast, cast).semantic, path


PRIVATE_CSI = "hi\x1b[?4m there\x1b[?996n\x1b[?1;2r\x1b[?5A!\r\n"


def test_private_csi_sequences_pyte_does_not_know_are_ignored(tmp_path: Path) -> None:
    """Seen in public casts (ESC[?4m, ESC[?996n): pyte 0.8.2 raised TypeError on them."""
    from recorder.shell.screen import AudienceScreen

    assert watch([(0.0, "o", PRIVATE_CSI)], 40).final == "hi there!"
    audience = AudienceScreen(40, 5)
    audience.feed(PRIVATE_CSI)
    assert audience.text().splitlines()[0] == "hi there!"
    cast = tmp_path / "p.cast"
    cast.write_text(
        '{"version": 2, "width": 40, "height": 5}\n' + json.dumps([0.1, "o", PRIVATE_CSI]) + "\n"
    )
    done = run_cli("diff", str(cast), str(cast))
    assert done.returncode == 0 and "Traceback" not in done.stderr
    scenario = tmp_path / "s.yaml"
    scenario.write_text(scenario_text("steps:\n  - run: echo hi\n"))
    done = run_cli("check", str(scenario), "--against", str(cast))
    assert done.returncode in (0, 1) and "internal error" not in done.stderr, done.stderr
