"""`stagecast site`: the HTML on its own, the npm install, and the pages in headless Chromium."""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import stat
import struct
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from chromium_cdp import Chromium, find_chromium, png_colours
from conftest import ROOT
from player.publish import site
from player.publish.site import (
    PLAYER_FILES,
    PLAYER_INTEGRITY,
    PLAYER_VERSION,
    SiteError,
    build_site,
    cmd_site,
    ensure_player,
    player_options,
    player_times,
    read_cast_page,
    render_index,
    render_page,
    script_json,
)
from stagecast.cli import main

TOUR = ROOT / "casts" / "tour.cast"
HOSTILE = '</script><img src=x onerror="window.__pwned=1"><!--<script>'


def write_cast(
    path: Path,
    *,
    title: str | None = "Demo",
    labels: tuple[str, ...] = ("One", "Two"),
    verified: bool | None = True,
    idle_time_limit: float | None = None,
) -> Path:
    header: dict[str, object] = {"version": 2, "width": 40, "height": 6}
    if title is not None:
        header["title"] = title
    if idle_time_limit is not None:
        header["idle_time_limit"] = idle_time_limit
    if verified is not None:
        header["stagecast"] = {"verified": verified, "scenario_sha256": "0" * 64, "steps": []}
    events: list[list[object]] = []
    for n, label in enumerate(labels):
        t = 1.0 + 4 * n
        events += [[t, "m", label], [t + 0.5, "o", f"$ echo step {n}\r\nstep {n}\r\n$ "]]
    events.append([1.0 + 4 * len(labels), "o", "\r\n"])
    path.write_text("\n".join(json.dumps(x) for x in [header, *events]) + "\n", encoding="utf-8")
    return path


def write_events(path: Path, events: list[list[object]], **header: object) -> Path:
    """An asciicast v2 file with these events, exactly."""
    head = {"version": 2, "width": 40, "height": 6, **header}
    path.write_text("\n".join(json.dumps(x) for x in [head, *events]) + "\n", encoding="utf-8")
    return path


def write_v1(path: Path, frames: list[list[object]], title: str = "Legacy") -> Path:
    """An asciicast v1 file on one line, as asciinema 1.x saved them."""
    duration = sum(float(delay) for delay, _ in frames)  # type: ignore[arg-type]
    cast = {"version": 1, "width": 40, "height": 6, "duration": duration, "title": title}
    path.write_text(json.dumps({**cast, "stdout": frames}), encoding="utf-8")
    return path


def npt_ms(poster: str) -> float:
    """A poster's time in ms, computed as asciinema-player's parseNpt does (in doubles)."""
    parts = [float(x) for x in poster.removeprefix("npt:").split(":")][::-1]
    seconds = parts[0]
    for i, n in enumerate(parts[1:], 1):
        seconds += n * 60**i
    return seconds * 1000


def player_ms(times: list[float], limit: float | None) -> list[float]:
    """Event times in ms, as asciinema-player's timeLimiter computes them (in doubles)."""
    out, previous, shift = [], 0.0, 0.0
    cap = math.inf if limit is None else limit * 1000
    for t in times:
        ms = t * 1000
        if ms - previous - cap > 0:
            shift += ms - previous - cap
        previous = ms
        out.append(ms - shift)
    return out


def markers_of(cast: Path) -> list[tuple[float, str]]:
    lines = cast.read_text(encoding="utf-8").splitlines()[1:]
    events = [json.loads(line) for line in lines if line.strip()]
    return [(e[0], e[2]) for e in events if e[1] == "m"]


@pytest.fixture
def fake_player(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in player package, so the HTML tests need neither npm nor the network."""
    package = tmp_path / "fake-player"
    for name in PLAYER_FILES:
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(f"/* {name} */\n")
    monkeypatch.setattr(site, "ensure_player", lambda prefix=None: package)
    return package


# --- HTML, without a browser -----------------------------------------------------------


def test_script_json_cannot_end_the_script_element() -> None:
    value = "</script><!--<script>&\u2028"
    encoded = script_json(value)
    assert "<" not in encoded and ">" not in encoded and "&" not in encoded
    assert "\u2028" not in encoded  # a line separator ends a JS string in old engines
    assert json.loads(encoded) == value


def test_hostile_title_and_labels_are_escaped(tmp_path: Path) -> None:
    cast = write_cast(tmp_path / "evil.cast", title=HOSTILE, labels=(HOSTILE, "a & b"))
    page = render_page(read_cast_page(cast, "evil.html"))
    assert "<img" not in page
    assert page.count("<script") == 2 and page.count("</script>") == 2
    assert page.count("&lt;/script&gt;&lt;img src=x onerror=&quot;") == 3  # <title>, h1, label
    assert '<span class="label">a &amp; b</span>' in page
    embedded = re.search(r"^const cast = (.*);$", page, re.M)
    assert embedded is not None
    assert json.loads(embedded.group(1)) == cast.read_text(encoding="utf-8")


def test_hostile_title_in_the_index_is_escaped(tmp_path: Path) -> None:
    cast = write_cast(tmp_path / "evil.cast", title=HOSTILE)
    index = render_index([read_cast_page(cast, "a b&c.html")])
    assert "<img" not in index and "<script" not in index
    assert '<a href="a%20b%26c.html">&lt;/script&gt;&lt;img' in index


def test_chapters_and_times_follow_the_players_idle_limit(tmp_path: Path) -> None:
    cast = write_cast(tmp_path / "demo.cast", labels=("One", "Two", "Three"), idle_time_limit=1)
    page = read_cast_page(cast, "demo.html")
    # Each 3.5 s gap before a marker (and before the end) is cut to the 1 s limit.
    assert [c.time for c in page.chapters] == [1.0, 2.5, 4.0]
    assert [(c.index, c.label) for c in page.chapters] == [(0, "One"), (1, "Two"), (2, "Three")]
    assert [c.end for c in page.chapters] == [1.5, 3.0, 5.5]
    assert page.duration == 5.5
    assert page.idle_time_limit == 1
    assert player_times([0.5, 10.0], 2.0) == [0.5, 2.5]
    html = render_page(page)
    assert html.count("<li><button") == 3
    # The poster: just after chapter One's last event (1.5 s), before Two's marker.
    assert '"idleTimeLimit": 1.0' in html and '"poster": "npt:0:01.500001"' in html
    assert '"fit": "width"' in html


def test_defaults_without_title_markers_or_idle_limit(tmp_path: Path) -> None:
    cast = write_cast(tmp_path / "bare.cast", title=None, labels=(), verified=None)
    page = read_cast_page(cast, "bare.html")
    assert (page.title, page.chapters, page.verified, page.idle_time_limit) == (
        "bare",
        [],
        False,
        None,
    )
    html = render_page(page)
    assert 'id="chapters"' not in html and "This cast has no chapters." in html
    assert "unverified" in html
    assert '"idleTimeLimit": null' in html  # the page makes it Infinity: no gap is cut


def test_index_lists_every_cast(tmp_path: Path, fake_player: Path) -> None:
    casts = tmp_path / "casts"
    casts.mkdir()
    write_cast(casts / "b-demo.cast", title="Second", labels=("x",))
    write_cast(casts / "a-demo.cast", title="First", labels=("x", "y", "z"), verified=False)
    write_cast(casts / "index.cast", title="Named index")
    write_cast(casts / "b-demo.failed.cast", title="A failed attempt")
    write_cast(casts / ".b-demo.cast.tmp.cast", title="A temp file")
    result = build_site(casts, tmp_path / "out")
    out = tmp_path / "out"
    assert result.player_version == PLAYER_VERSION
    assert result.pages == [out / n for n in ("index.html", "a-demo.html", "b-demo.html")] + [
        out / "index-cast.html"
    ]
    index = (out / "index.html").read_text()
    rows = re.findall(r"<tr><td><a href=\"([^\"]+)\">(?:<img [^>]*>)?([^<]+)</a>.*?</tr>", index)
    assert rows == [
        ("a-demo.html", "First"),
        ("b-demo.html", "Second"),
        ("index-cast.html", "Named index"),
    ]
    assert "failed attempt" not in index and "temp file" not in index
    first = re.search(r"<tr><td><a href=\"a-demo.html\".*?</tr>", index)
    assert first is not None
    # No idle limit anywhere: the gaps stay, 13 s as recorded.
    assert '<td class="num">0:13</td><td class="num">3</td>' in first.group(0)
    assert "unverified" in first.group(0)
    assert index.count('class="badge verified"') == 2
    for name in PLAYER_FILES.values():
        assert (out / "vendor" / name).read_text() == (fake_player / _source(name)).read_text()
    assert (out / "site.css").is_file()


def _source(vendor_name: str) -> str:
    return next(k for k, v in PLAYER_FILES.items() if v == vendor_name)


def test_same_input_same_bytes(tmp_path: Path, fake_player: Path) -> None:
    casts = tmp_path / "casts"
    casts.mkdir()
    write_cast(casts / "one.cast", title=HOSTILE, labels=("é ✓ \u2028", HOSTILE))
    write_cast(casts / "two.cast")
    build_site(casts, tmp_path / "a")
    os.utime(casts / "one.cast", (1, 1))  # mtimes, order of creation: nothing shows
    build_site(casts, tmp_path / "b")
    build_site(casts, tmp_path / "b")  # rebuilding over an existing site
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*"))
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*"))
    assert files_a == files_b
    for rel in files_a:
        if (tmp_path / "a" / rel).is_file():
            assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()


def test_bad_input_is_one_line(tmp_path: Path, fake_player: Path) -> None:
    with pytest.raises(SiteError, match="not a directory"):
        build_site(tmp_path / "missing", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "package.json").write_text('{"name": "not a cast"}\n')
    with pytest.raises(SiteError, match=r"no casts \(\*\.cast, or asciicast v1 \*\.json\)"):
        build_site(tmp_path / "empty", tmp_path / "out")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "junk.cast").write_text("not a cast\n")
    with pytest.raises(SiteError, match="junk.cast: not an asciicast") as caught:
        build_site(tmp_path / "bad", tmp_path / "out", strict=True)
    assert caught.value.exit_code == 2 and "\n" not in str(caught.value)
    reported: list[str] = []
    with pytest.raises(SiteError, match="not one of its casts can be read") as caught:
        build_site(tmp_path / "bad", tmp_path / "out", report=reported.append)
    assert caught.value.exit_code == 1
    (line,) = reported
    assert line.startswith(f"{tmp_path / 'bad' / 'junk.cast'}: not an asciicast")
    for bad in (0, -1, math.nan, math.inf):
        with pytest.raises(SiteError, match="--idle-limit .*: give a number of seconds above 0"):
            build_site(tmp_path / "bad", tmp_path / "out", idle_limit=bad)
    assert not (tmp_path / "out").exists()


def test_cmd_site_prints_the_index(tmp_path: Path, fake_player: Path, capsys) -> None:
    casts = tmp_path / "casts"
    casts.mkdir()
    write_cast(casts / "demo.cast")
    args = argparse.Namespace(
        casts_dir=casts,
        output=tmp_path / "out",
        idle_limit=None,
        strict=False,
        pictures=False,
        gif_max=None,
    )
    assert cmd_site(args) == 0
    out = capsys.readouterr().out
    assert out == f"{tmp_path / 'out' / 'index.html'}: 1 cast (asciinema-player {PLAYER_VERSION})\n"


# Times whose poster an npt with 3 decimals got wrong, or only just right: rounded down
# (1.2344, 7.0004999), landing exactly on the event (5.5, 3.0: the player draws the events
# strictly before the poster), a float sum (0.1 + 0.2), past a minute, past an hour.
AWKWARD_TIMES = [1.23456, 2.9999, 1.2344, 5.5, 3.0, 7.0004999, 0.1 + 0.2, 59.9999, 3599.9999996]


@pytest.mark.parametrize("limit", [None, 0.7])
@pytest.mark.parametrize("last", AWKWARD_TIMES)
def test_the_poster_shows_the_casts_last_event(tmp_path: Path, last: float, limit) -> None:
    events: list[list[object]] = [[0.2, "o", "$ "], [last, "o", "the end"]]
    cast = write_events(tmp_path / "c.cast", events, idle_time_limit=limit)
    poster = player_options(read_cast_page(cast, "c.html"))["poster"]
    last_ms = player_ms([0.2, last], limit)[-1]
    assert npt_ms(poster) > last_ms  # drawn: strictly before the poster
    assert npt_ms(poster) - last_ms < 0.002  # and not 2 µs later


@pytest.mark.parametrize("limit", [None, 0.7])
@pytest.mark.parametrize("end", AWKWARD_TIMES)
def test_the_poster_shows_the_first_chapters_end_only(tmp_path: Path, end: float, limit) -> None:
    """Chapter One's last output is at the same time as marker Two (as a recording writes
    them); chapter Two's first output comes 0.25 s later."""
    events: list[list[object]] = [
        [0.1, "m", "One"],
        [end, "o", "one done"],
        [end, "m", "Two"],
        [end + 0.25, "o", "two"],
    ]
    cast = write_events(tmp_path / "c.cast", events, idle_time_limit=limit)
    page = read_cast_page(cast, "c.html")
    assert page.chapters[0].end == page.chapters[1].time
    poster = npt_ms(player_options(page)["poster"])
    times = player_ms([float(e[0]) for e in events], limit)  # type: ignore[arg-type]
    assert times[1] < poster < times[3]


def test_idle_limit_comes_from_the_flag_then_the_cast_else_none(tmp_path: Path) -> None:
    capped = write_cast(tmp_path / "capped.cast", labels=("One", "Two"), idle_time_limit=1)
    assert read_cast_page(capped, "p.html").duration == 4.0  # 1.0, 1.5, |2.5, 3.0, |4.0
    flagged = read_cast_page(capped, "p.html", idle_limit=0.5)  # the flag wins
    assert (flagged.idle_time_limit, flagged.duration) == (0.5, 2.5)
    assert [c.time for c in flagged.chapters] == [0.5, 1.5]
    assert '"idleTimeLimit": 0.5' in render_page(flagged)
    # idle_time_limit 0 is not a limit stagecast accepts: no limit, not "cut every gap".
    zero = write_cast(tmp_path / "zero.cast", labels=("One", "Two"), idle_time_limit=0)
    page = read_cast_page(zero, "p.html")
    assert (page.idle_time_limit, page.duration) == (None, 9.0)
    assert '"idleTimeLimit": null' in render_page(page)
    assert read_cast_page(zero, "p.html", idle_limit=2).duration == 6.0


def test_json_files_are_casts_only_when_they_read_as_v1_casts(
    tmp_path: Path, fake_player: Path
) -> None:
    casts = tmp_path / "casts"
    casts.mkdir()
    write_cast(casts / "demo.cast", title="Demo (v2)")
    write_v1(casts / "demo.json", [[0.5, "$ "], [1.0, "v1\r\n"]], title="Demo (v1)")
    pretty = {"version": 1, "width": 40, "height": 6, "stdout": [[0.25, "hi"]]}
    (casts / "pretty.json").write_text(json.dumps(pretty, indent=2))
    (casts / "package.json").write_text('{"name": "site", "version": "1.0.0"}\n')
    (casts / "broken-v1.json").write_text('{"version": 1, "stdout": [["x"]]}')
    write_cast(casts / "v2-named.json")  # a v2 cast named .json: not a v1 cast, left out
    write_v1(casts / ".hidden.json", [[0.5, "x"]])
    reported: list[str] = []
    result = build_site(casts, tmp_path / "out", report=reported.append, pictures=False)
    names = [p.name for p in result.pages]
    assert names == ["index.html", "demo.html", "demo-json.html", "pretty.html"]
    assert reported == [] and result.unreadable == []
    v1_page = (tmp_path / "out" / "demo-json.html").read_text()
    assert "const data = true ? JSON.parse(cast) : cast;" in v1_page
    assert "const data = false ?" in (tmp_path / "out" / "demo.html").read_text()
    assert read_cast_page(casts / "demo.json", "x.html").duration == 1.5


def test_unreadable_casts_are_left_out_one_line_each(
    tmp_path: Path, fake_player: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    casts = tmp_path / "casts"
    casts.mkdir()
    write_cast(casts / "a-good.cast", title="Good")
    (casts / "b-junk.cast").write_text("not a cast\n")
    write_events(casts / "c-empty.cast", [])
    (casts / "d-bad-line.cast").write_text('{"version": 2, "width": 4, "height": 2}\n[1, "o"]\n')
    (casts / "e-binary.cast").write_bytes(b"\xff\xfe\x00junk")
    write_v1(casts / "f-legacy.json", [[0.5, "$ "]])
    out = tmp_path / "out"
    assert main(["site", str(casts), "-o", str(out), "--no-pictures"]) == 1
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    bad = ["b-junk.cast", "c-empty.cast", "d-bad-line.cast", "e-binary.cast"]
    assert [line.split(": ")[1] for line in lines] == [str(casts / name) for name in bad]
    assert all(line.startswith("stagecast: ") and len(line.split(": ")) >= 3 for line in lines)
    assert "the cast has no events" in lines[1]
    assert captured.out == (
        f"{out / 'index.html'}: 2 casts (asciinema-player {PLAYER_VERSION}); "
        "4 files left out (unreadable)\n"
    )
    assert sorted(p.name for p in out.glob("*.html")) == [
        "a-good.html",
        "f-legacy.html",
        "index.html",
    ]
    index = (out / "index.html").read_text()
    assert re.findall(r'<a href="([^"]+)"', index) == ["a-good.html", "f-legacy.html"]

    # --strict: the first one stops the build, one line, exit 2, nothing written.
    strict_out = tmp_path / "strict"
    assert main(["site", str(casts), "-o", str(strict_out), "--strict"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"stagecast: {casts / 'b-junk.cast'}: not an asciicast")
    assert captured.err.count("\n") == 1 and not strict_out.exists()


def test_idle_limit_flag_on_the_command_line(
    tmp_path: Path, fake_player: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    casts = tmp_path / "casts"
    casts.mkdir()
    write_cast(casts / "demo.cast")
    assert main(["site", str(casts), "-o", str(tmp_path / "out"), "--idle-limit", "0.25"]) == 0
    assert '"idleTimeLimit": 0.25' in (tmp_path / "out" / "demo.html").read_text()
    assert main(["site", str(casts), "-o", str(tmp_path / "out"), "--idle-limit", "0"]) == 2
    err = capsys.readouterr().err
    assert err == "stagecast: --idle-limit 0.0: give a number of seconds above 0\n"


# --- pictures: stills and GIFs --------------------------------------------------------


@pytest.fixture
def pictures_ready() -> None:
    """Pillow and DejaVu Sans Mono, or the test skips, naming what to install."""
    pytest.importorskip("PIL", reason="Pillow is not installed (pip install pillow)")
    from player.render import fonts

    for relative, package in (fonts.MONO, fonts.MONO_BOLD):
        if fonts.find_font(relative) is None:
            pytest.skip(f"{Path(relative).name} is not installed (apt-get install {package})")


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """A PNG's chunks (type, body), in order; it must be a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunks.append((data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return chunks


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG that is whole: IHDR first, IEND last, nothing else than
    pixels and their palette (no time, text or other metadata: same screen, same bytes)."""
    chunks = png_chunks(path.read_bytes())
    kinds = [kind for kind, _ in chunks]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND", kinds
    assert set(kinds) <= {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}, kinds
    width, height = struct.unpack(">II", chunks[0][1][:8])
    return width, height


def picture_tags(html_text: str, css: str) -> list[dict[str, str]]:
    """The attributes of every <img class=CSS>."""
    tags = re.findall(rf'<img class="{css}" ([^>]*)>', html_text)
    return [dict(re.findall(r'(\w+)="([^"]*)"', tag)) for tag in tags]


def gif_links(html_text: str) -> list[str]:
    return re.findall(r'<a class="gif" href="([^"]+)"', html_text)


def test_each_chapter_has_its_still_and_gif(
    tmp_path: Path, fake_player: Path, pictures_ready: None
) -> None:
    from player.render import render_gif, render_still
    from player.render.chapters import chapter_files
    from player.render.metrics import geometry
    from recorder.cast.reader import load_cast

    casts = tmp_path / "casts"
    casts.mkdir()
    labels = ("Start here", "Ünïcode & <tags>", "Last")
    demo = write_cast(casts / "demo.cast", labels=labels)
    write_cast(casts / "plain.cast", labels=())  # no markers: the whole cast only
    out = tmp_path / "out"
    result = build_site(casts, out)
    assert result.without_pictures == 0
    size = geometry(14, 40, 6).size  # the casts' 40x6 cells at the default 14 px

    page = (out / "demo.html").read_text()
    stills = picture_tags(page, "still")
    # Named as `stagecast render --chapters` names them, under pictures/PAGE/.
    plan = chapter_files(load_cast(demo), out / "pictures" / "demo", ("png", "gif"))
    named = {
        kind: [p for m, p in plan if m is not None and p.suffix == kind]
        for kind in (".png", ".gif")
    }
    assert [s["src"] for s in stills] == [f"pictures/demo/{p.name}" for p in named[".png"]]
    assert [p.name for p in named[".png"]] == [
        "01-start-here.png",
        "02-unicode-tags.png",
        "03-last.png",
    ]
    for tag in stills:
        assert (tag["alt"], tag["loading"]) == ("", "lazy")
        assert (int(tag["width"]), int(tag["height"])) == size
        assert png_size(out / tag["src"]) == size
    # A GIF per chapter, linked beside it, and one of the whole cast in the page's header.
    whole = "pictures/demo/demo.gif"
    assert gif_links(page) == [whole] + [f"pictures/demo/{p.name}" for p in named[".gif"]]
    for href in gif_links(page):
        assert (out / href).read_bytes()[:6] == b"GIF89a"
    # What `stagecast render --chapter LABEL` writes, byte for byte.
    alone = render_still(demo, chapter=labels[1], out=tmp_path / "alone.png")
    assert alone.path.read_bytes() == (out / stills[1]["src"]).read_bytes()
    alone = render_gif(demo, tmp_path / "alone.gif", chapter=labels[2])
    assert alone.path.read_bytes() == (out / gif_links(page)[3]).read_bytes()

    # The index: each cast's last frame, inside its link.
    index = (out / "index.html").read_text()
    thumbs = [t["src"] for t in picture_tags(index, "thumb")]
    assert thumbs == ["pictures/demo/demo.png", "pictures/plain/plain.png"]
    assert png_size(out / thumbs[1]) == size
    last = render_still(demo, out=tmp_path / "last.png")
    assert last.path.read_bytes() == (out / thumbs[0]).read_bytes()
    # A cast without markers: no chapter list, its whole GIF all the same.
    plain = (out / "plain.html").read_text()
    assert picture_tags(plain, "still") == [] and gif_links(plain) == ["pictures/plain/plain.gif"]


def test_gif_max_and_no_pictures(
    tmp_path: Path, fake_player: Path, pictures_ready: None, capsys: pytest.CaptureFixture[str]
) -> None:
    casts = tmp_path / "casts"
    casts.mkdir()
    # Chapter One lasts 4 s, Two 0.5 s, the whole cast 5.5 s.
    events: list[list[object]] = [
        [1.0, "m", "One"],
        [1.5, "o", "$ echo one\r\none\r\n$ "],
        [5.0, "m", "Two"],
        [5.5, "o", "echo two\r\ntwo\r\n$ "],
    ]
    write_events(casts / "demo.cast", events)
    out = tmp_path / "out"
    assert main(["site", str(casts), "-o", str(out), "--gif-max", "4"]) == 0
    assert gif_links((out / "demo.html").read_text()) == [
        "pictures/demo/01-one.gif",
        "pictures/demo/02-two.gif",
    ]
    assert sorted(p.name for p in (out / "pictures" / "demo").iterdir()) == [
        "01-one.gif", "01-one.png", "02-two.gif", "02-two.png", "demo.png",
    ]  # fmt: skip
    # A rebuild replaces the page's pictures: nothing stale is left.
    assert main(["site", str(casts), "-o", str(out), "--gif-max", "1"]) == 0
    assert gif_links((out / "demo.html").read_text()) == ["pictures/demo/02-two.gif"]
    assert main(["site", str(casts), "-o", str(out), "--gif-max", "0"]) == 0
    page = (out / "demo.html").read_text()
    assert gif_links(page) == [] and len(picture_tags(page, "still")) == 2
    assert sorted(p.suffix for p in (out / "pictures" / "demo").iterdir()) == [".png"] * 3
    capsys.readouterr()

    bare = tmp_path / "bare"
    assert main(["site", str(casts), "-o", str(bare), "--no-pictures"]) == 0
    assert not (bare / "pictures").exists()
    page = (bare / "demo.html").read_text()
    assert "<img" not in page and 'class="gif"' not in page
    assert '<li><button type="button" data-marker="0"><span class="time">' in page
    assert "<img" not in (bare / "index.html").read_text()

    assert main(["site", str(casts), "-o", str(tmp_path / "x"), "--gif-max", "-1"]) == 2
    assert capsys.readouterr().err == (
        "stagecast: --gif-max -1.0: give a number of seconds, 0 or more (0: no GIFs)\n"
    )


def test_without_a_font_the_site_has_no_pictures_and_says_so_once(
    tmp_path: Path,
    fake_player: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("PIL", reason="Pillow is not installed (pip install pillow)")
    from player.render import fonts

    monkeypatch.setattr(fonts, "FONT_DIRS", (str(tmp_path / "no-fonts"),))
    monkeypatch.delenv(fonts.FONT_DIRS_ENV, raising=False)
    casts = tmp_path / "casts"
    casts.mkdir()
    write_cast(casts / "a.cast")
    write_cast(casts / "b.cast")
    out = tmp_path / "out"
    assert main(["site", str(casts), "-o", str(out)]) == 0  # the site is what it was
    captured = capsys.readouterr()
    (line,) = captured.err.splitlines()
    assert line.startswith("stagecast: no pictures: ") and "fonts-dejavu-core" in line, line
    assert captured.out == (
        f"{out / 'index.html'}: 2 casts (asciinema-player {PLAYER_VERSION}); "
        "2 pages without pictures\n"
    )
    assert "<img" not in (out / "a.html").read_text() and not (out / "pictures").exists()

    # --strict: one line, exit 2, nothing written.
    strict = tmp_path / "strict"
    assert main(["site", str(casts), "-o", str(strict), "--strict"]) == 2
    captured = capsys.readouterr()
    (line,) = captured.err.splitlines()
    assert "fonts-dejavu-core" in line and line.endswith("--no-pictures)")
    assert captured.out == "" and not strict.exists()
    assert main(["site", str(casts), "-o", str(strict), "--strict", "--no-pictures"]) == 0


def test_a_cast_that_cannot_be_rendered_is_one_line(
    tmp_path: Path,
    fake_player: Path,
    pictures_ready: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from player.render import gallery
    from player.render.timeline import RenderError

    real = gallery.render_pictures

    def failing(cast, out_dir, **kwargs):
        if Path(cast.path).name == "b.cast":
            raise RenderError("cannot draw this one")
        return real(cast, out_dir, **kwargs)

    monkeypatch.setattr(gallery, "render_pictures", failing)
    casts = tmp_path / "casts"
    casts.mkdir()
    write_cast(casts / "a.cast")
    write_cast(casts / "b.cast")
    out = tmp_path / "out"
    assert main(["site", str(casts), "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.err == f"stagecast: {casts / 'b.cast'}: no pictures: cannot draw this one\n"
    assert captured.out.endswith("; 1 page without pictures\n")
    assert "<img" not in (out / "b.html").read_text()
    assert len(picture_tags((out / "a.html").read_text(), "still")) == 2
    assert sorted(p.name for p in (out / "pictures").iterdir()) == ["a"]

    strict = tmp_path / "strict"
    assert main(["site", str(casts), "-o", str(strict), "--strict"]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"stagecast: {casts / 'b.cast'}: no pictures: cannot draw this one\n"
    assert not strict.exists()


def _cached_player(cache: Path) -> None:
    """A stand-in for the pinned player where ensure_player looks (XDG_CACHE_HOME), so a
    `stagecast site` in another process needs neither npm nor the network."""
    prefix = cache / "stagecast" / "npm" / f"asciinema-player-{PLAYER_VERSION}" / "node_modules"
    package = prefix / "asciinema-player"
    for name in PLAYER_FILES:
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(f"/* {name} */\n")
    (package / "package.json").write_text(json.dumps({"version": PLAYER_VERSION}))
    lock = {"packages": {"node_modules/asciinema-player": {"integrity": PLAYER_INTEGRITY}}}
    (prefix / ".package-lock.json").write_text(json.dumps(lock))


def test_two_builds_give_the_same_pictures_byte_for_byte(
    tmp_path: Path, pictures_ready: None
) -> None:
    casts = tmp_path / "casts"
    casts.mkdir()
    colours = "\x1b[1;31mred\x1b[0m \x1b[38;5;208m256\x1b[0m \x1b[38;2;10;200;90mtrue\x1b[0m 漢字"
    events: list[list[object]] = [
        [0.5, "m", "Colours"],
        [0.6, "o", f"$ printf colours\r\n{colours}\r\n$ "],
        [1.5, "m", "Reverse"],
        [1.7, "o", "\x1b[7mreversed\x1b[0m\r\n$ "],
        [3.0, "o", "\r\n"],
    ]
    write_events(casts / "look.cast", events, title="Look")
    write_cast(casts / "demo.cast")
    cache = tmp_path / "xdg"
    _cached_player(cache)
    built = []
    for seed, name in (("1", "a"), ("2", "b"), ("3", "b")):  # b: rebuilt over itself
        env = {**os.environ, "XDG_CACHE_HOME": str(cache), "PYTHONHASHSEED": seed}
        out = tmp_path / name
        done = subprocess.run(
            [sys.executable, "-m", "stagecast", "site", str(casts), "-o", str(out)],
            capture_output=True, text=True, env=env, cwd=ROOT,
        )  # fmt: skip
        assert done.returncode == 0 and "no pictures" not in done.stderr, done.stderr
        built.append(out)
    a, b = built[0], built[1]
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    pictures = [f for f in files if f.parts[0] == "pictures"]
    assert len(pictures) == 2 * 2 + 2 + 2 * 2 + 2  # a still and a GIF per chapter and cast
    for rel in files:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def test_site_assets_are_packaged() -> None:
    """`pip install .` (not editable) ships only what package-data names."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"].get("package-data", {}).get("player.publish", [])
    folder = ROOT / "player" / "publish"
    assets = [p.name for p in folder.iterdir() if p.suffix in (".html", ".css")]
    assert assets
    for name in assets:
        assert any(Path(name).match(pattern) for pattern in patterns), name


# --- npm -------------------------------------------------------------------------------


def test_missing_npm_names_the_debian_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    with pytest.raises(SiteError) as caught:
        ensure_player(tmp_path / "cache")
    assert str(caught.value) == "npm not found: install it (Debian/Ubuntu: apt-get install npm)"
    assert caught.value.exit_code == 2


def _fake_npm(bin_dir: Path, version: str = PLAYER_VERSION) -> Path:
    """An `npm` that logs its arguments and installs a player the way npm lays it out."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    npm = bin_dir / "npm"
    lock = {"packages": {"node_modules/asciinema-player": {"integrity": PLAYER_INTEGRITY}}}
    files = " ".join(f'"$pkg/{name}"' for name in PLAYER_FILES)
    npm.write_text(
        "#!/bin/sh\n"
        "PATH=/usr/bin:/bin:$PATH\n"
        f'echo "$*" >> "{bin_dir}/calls"\n'
        'while [ "$1" != "--prefix" ]; do shift; done; prefix="$2"\n'
        'pkg="$prefix/node_modules/asciinema-player"\n'
        'mkdir -p "$pkg/dist/bundle"\n'
        f'for f in {files}; do echo content > "$f"; done\n'
        f"echo '{json.dumps({'version': version})}' > \"$pkg/package.json\"\n"
        f"echo '{json.dumps(lock)}' > \"$prefix/node_modules/.package-lock.json\"\n"
    )
    npm.chmod(npm.stat().st_mode | stat.S_IEXEC)
    return bin_dir / "calls"


def test_npm_installs_once_at_the_pinned_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _fake_npm(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    prefix = tmp_path / "xdg" / "stagecast" / "npm" / f"asciinema-player-{PLAYER_VERSION}"
    assert site.npm_prefix() == prefix
    package = ensure_player()
    assert package == prefix / "node_modules" / "asciinema-player"
    assert ensure_player() == package  # reused: npm ran once
    (line,) = calls.read_text().splitlines()
    assert line.startswith("install --no-save --ignore-scripts")
    assert line.endswith(f"--prefix {prefix} asciinema-player@{PLAYER_VERSION}")


def test_a_cache_at_another_version_is_reinstalled_and_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _fake_npm(tmp_path / "bin", version="3.0.0")  # npm "installs" the wrong version
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    with pytest.raises(SiteError, match=f"does not hold version {PLAYER_VERSION}") as caught:
        ensure_player(tmp_path / "cache")
    assert caught.value.exit_code == 1
    assert len(calls.read_text().splitlines()) == 1


def test_npm_failure_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "npm").write_text("#!/bin/sh\necho 'npm error code E404' >&2\nexit 1\n")
    (bin_dir / "npm").chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    with pytest.raises(SiteError) as caught:
        ensure_player(tmp_path / "cache")
    assert str(caught.value) == (
        f"npm install asciinema-player@{PLAYER_VERSION} failed: npm error code E404"
    )


# --- the real player, in a real browser ------------------------------------------------


@pytest.fixture(scope="module")
def real_player(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The pinned asciinema-player from npm, in a throwaway cache."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed (apt-get install npm)")
    cache = tmp_path_factory.mktemp("xdg-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(cache))
        yield ensure_player()


@pytest.fixture(scope="module")
def built_site(real_player: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site of the repository's own casts, read in place."""
    if not TOUR.exists():
        pytest.skip("casts/tour.cast is not recorded yet (stagecast record scenarios/tour.yaml)")
    out = tmp_path_factory.mktemp("site")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(site, "ensure_player", lambda prefix=None: real_player)
        build_site(TOUR.parent, out)
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    executable = find_chromium()
    if executable is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    chromium = Chromium(executable, tmp_path_factory.mktemp("chromium"))
    try:
        yield chromium
    finally:
        chromium.close()


def test_the_pinned_player_is_what_npm_installed(real_player: Path, built_site: Path) -> None:
    installed = json.loads((real_player / "package.json").read_text())
    assert installed["name"] == "asciinema-player" and installed["version"] == PLAYER_VERSION
    for source, target in PLAYER_FILES.items():
        assert (built_site / "vendor" / target).read_bytes() == (real_player / source).read_bytes()


def _assert_offline_and_quiet(browser: Chromium) -> None:
    assert browser.errors() == []
    urls = browser.requested_urls()
    assert urls and all(u.startswith(("file://", "data:")) for u in urls), urls


TERMINAL_TEXT = "(document.querySelector('.ap-term-text') || {}).textContent || ''"
PLAYER_RECT = """(() => {
  const r = document.querySelector('#player').getBoundingClientRect();
  return {x: r.x, y: r.y, width: r.width, height: r.height};
})()"""


def test_tour_page_plays_in_chromium(browser: Chromium, built_site: Path) -> None:
    markers = markers_of(TOUR)
    assert markers, "casts/tour.cast has markers"
    browser.navigate((built_site / "tour.html").as_uri())

    # The poster: the end of the first chapter, rendered by the player's terminal.
    poster = browser.wait_for(f"({TERMINAL_TEXT}).trim()", timeout=20)
    assert "tour$" in poster
    assert (
        browser.evaluate("document.title") == json.loads(TOUR.read_text().split("\n")[0])["title"]
    )
    rect = browser.evaluate(PLAYER_RECT)
    assert rect["width"] > 300 and rect["height"] > 100
    assert png_colours(browser.screenshot(rect)) > 2  # text on a background, not a blank box

    # One chapter entry per "m" event, in order; the player found the same markers itself.
    labels = browser.evaluate(
        "Array.from(document.querySelectorAll('#chapters li .label'), e => e.textContent)"
    )
    assert labels == [label for _, label in markers]
    assert browser.evaluate("document.querySelectorAll('.ap-marker-container').length") == len(
        markers
    )

    # A chapter click seeks the player to that marker (times as the player counts them).
    limit = json.loads(TOUR.read_text().split("\n")[0]).get("idle_time_limit", 2)
    events = [json.loads(x) for x in TOUR.read_text().splitlines()[1:] if x.strip()]
    times = player_times([e[0] for e in events], limit)
    marker_times = [t for t, e in zip(times, events, strict=True) if e[1] == "m"]
    target = len(markers) // 2
    browser.evaluate(f"document.querySelectorAll('#chapters button')[{target}].click()")
    browser.wait_for(f"Math.abs(player.getCurrentTime() - {marker_times[target]}) < 0.05")
    browser.wait_for(f"({TERMINAL_TEXT}).trim() !== {json.dumps(poster)}")
    _assert_offline_and_quiet(browser)


def test_index_page_links_every_cast(browser: Chromium, built_site: Path) -> None:
    expected = sorted(p.stem + ".html" for p in TOUR.parent.glob("*.cast") if _published(p))
    browser.navigate((built_site / "index.html").as_uri())
    hrefs = browser.evaluate(
        "Array.from(document.querySelectorAll('#casts a'), a => a.getAttribute('href'))"
    )
    assert hrefs == expected
    assert all((built_site / href).is_file() for href in hrefs)
    _assert_offline_and_quiet(browser)

    browser.events.clear()
    browser.evaluate("document.querySelector('#casts a[href=\"tour.html\"]').click()")
    browser.wait_event("Page.loadEventFired")
    assert browser.evaluate("location.href") == (built_site / "tour.html").as_uri()
    browser.wait_for(f"({TERMINAL_TEXT}).trim()", timeout=20)


def _published(cast: Path) -> bool:
    return not cast.name.startswith(".") and not cast.name.endswith(".failed.cast")


def test_hostile_cast_cannot_script_the_page(
    browser: Chromium, real_player: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    casts = tmp_path / "casts"
    casts.mkdir()
    write_cast(casts / "evil.cast", title=HOSTILE, labels=(HOSTILE, "fine"))
    monkeypatch.setattr(site, "ensure_player", lambda prefix=None: real_player)
    build_site(casts, tmp_path / "out")
    browser.navigate((tmp_path / "out" / "evil.html").as_uri())
    browser.wait_for(f"({TERMINAL_TEXT}).includes('step 0')", timeout=20)
    assert browser.evaluate("typeof window.__pwned") == "undefined"
    # No <img> of the cast's making: the only pictures are stagecast's stills.
    srcs = browser.evaluate("Array.from(document.images, i => i.getAttribute('src'))")
    assert all(src.startswith("pictures/evil/") and src.endswith(".png") for src in srcs), srcs
    assert browser.evaluate("document.getElementById('title').textContent") == HOSTILE
    assert browser.evaluate("document.querySelector('#chapters .label').textContent") == HOSTILE
    _assert_offline_and_quiet(browser)


def _casts_with_one_bad_file(casts: Path) -> dict[str, tuple[float, str, list[str]]]:
    """Casts whose poster and end an npt with 3 decimals got wrong, a bad file and a JSON file
    that is not a cast. For each page: its duration on the player's timeline, the text the
    poster shows, and every line of the last frame."""
    casts.mkdir()
    # No markers and no idle limit: the 4 s gap stays; the last event lands between ms.
    plain = [[0.5, "o", "$ echo hi\r\n"], [4.5, "o", "hi\r\n"], [6.2344, "o", "plain: the end"]]
    write_events(casts / "plain.cast", plain, title="Plain")
    chapters = [
        [1.0, "m", "One"],
        [1.5, "o", "$ one\r\n"],
        [2.9999, "o", "one done\r\n"],  # at the same time as marker Two
        [2.9999, "m", "Two"],
        [6.0, "o", "two done\r\n"],
        [9.5, "o", "chapters: the end"],
    ]
    write_events(casts / "chapters.cast", chapters, title="Chapters", idle_time_limit=1)
    write_v1(casts / "legacy.json", [[0.5, "$ cat old\r\n"], [1.23456, "old\r\n"], [1e-4, "v1!"]])
    # idle_time_limit 0: stagecast takes no limit, and so must the player (not "cut every gap").
    zero = [[1.0, "o", "$ sleep 3\r\n"], [4.0, "o", "zero: the end"]]
    write_events(casts / "zero-limit.cast", zero, title="Zero", idle_time_limit=0)
    # asciicast v3 (asciinema 3.x): intervals, a comment, the exit event.
    (casts / "modern.cast").write_text(
        '{"version": 3, "term": {"cols": 40, "rows": 6, "type": "xterm-256color"}}\n'
        "# asciinema 3.x\n"
        '[0.5, "o", "$ echo v3\\r\\n"]\n[1.25, "o", "v3\\r\\n"]\n'
        '[1.0, "o", "modern: the end"]\n[0.5, "x", "0"]\n'
    )
    (casts / "broken.cast").write_text('{"version": 2, "width": 40, "height": 6}\n[1.0, "o"\n')
    (casts / "package.json").write_text('{"name": "not-a-cast"}\n')
    return {
        "chapters.html": (4.5, "one done", ["$ one", "one done", "two done", "chapters: the end"]),
        "legacy.html": (1.73466, "v1!", ["$ cat old", "old", "v1!"]),
        "modern.html": (3.25, "modern: the end", ["$ echo v3", "v3", "modern: the end"]),
        "plain.html": (6.2344, "plain: the end", ["$ echo hi", "hi", "plain: the end"]),
        "zero-limit.html": (4.0, "zero: the end", ["$ sleep 3", "zero: the end"]),
    }


def test_a_site_with_one_bad_file_shows_every_other_cast_whole(
    browser: Chromium, real_player: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _casts_with_one_bad_file(tmp_path / "casts")
    monkeypatch.setattr(site, "ensure_player", lambda prefix=None: real_player)
    reported: list[str] = []
    out = tmp_path / "out"
    result = build_site(tmp_path / "casts", out, report=reported.append, pictures=False)
    assert len(reported) == 1 and reported[0].startswith(f"{tmp_path / 'casts' / 'broken.cast'}:")
    assert [p.name for p in result.pages] == ["index.html", *sorted(expected)]

    browser.navigate((out / "index.html").as_uri())
    hrefs = browser.evaluate(
        "Array.from(document.querySelectorAll('#casts a'), a => a.getAttribute('href'))"
    )
    assert hrefs == sorted(expected)
    for page, (duration, poster_text, last_frame) in expected.items():
        browser.navigate((out / page).as_uri())
        # The poster: the true end of the first chapter, or of the cast.
        poster = browser.wait_for(
            f"({TERMINAL_TEXT}).includes({json.dumps(poster_text)}) && {TERMINAL_TEXT}", timeout=20
        )
        assert page != "chapters.html" or "two done" not in poster
        # The whole duration, as the page and the player both count it.
        assert browser.evaluate("player.getDuration()") == pytest.approx(duration, abs=1e-9)
        assert read_cast_page(tmp_path / "casts" / _source_name(page), page).duration == (
            pytest.approx(duration, abs=1e-9)
        )
        rect = browser.evaluate(PLAYER_RECT)
        assert png_colours(browser.screenshot(rect)) > 2
        # The last frame, with every line: the ones the poster drew as well.
        browser.evaluate("player.seek(player.getDuration())", await_promise=True)
        screen = browser.wait_for(
            f"({TERMINAL_TEXT}).includes({json.dumps(last_frame[-1])}) && {TERMINAL_TEXT}"
        )
        lines = [line.strip() for line in screen.split("  ") if line.strip()]
        assert lines == last_frame, page
        _assert_offline_and_quiet(browser)


def _source_name(page: str) -> str:
    return page.replace(".html", ".json" if page == "legacy.html" else ".cast")


def test_idle_limit_flag_is_the_players_too(
    browser: Chromium, real_player: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _casts_with_one_bad_file(tmp_path / "casts")
    monkeypatch.setattr(site, "ensure_player", lambda prefix=None: real_player)
    build_site(
        tmp_path / "casts",
        tmp_path / "out",
        idle_limit=0.5,
        report=lambda line: None,
        pictures=False,
    )
    for page in expected:
        ours = read_cast_page(tmp_path / "casts" / _source_name(page), page, idle_limit=0.5)
        browser.navigate((tmp_path / "out" / page).as_uri())
        browser.wait_for(f"({TERMINAL_TEXT}).trim()", timeout=20)
        assert browser.evaluate("player.getDuration()") == pytest.approx(ours.duration, abs=1e-9)
        _assert_offline_and_quiet(browser)


# --- pictures in the browser -----------------------------------------------------------

IMAGES = "Array.from(document.querySelectorAll({selector}))"
LOADED = "(i => i.complete && i.naturalWidth > 0)(document.querySelectorAll({selector})[{n}])"
RECT_IN_PAGE = """(e => {{
  const r = e.getBoundingClientRect();
  return {{x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height}};
}})(document.querySelectorAll({selector})[{n}])"""


def _wait_for_images(browser: Chromium, selector: str) -> list[list[int]]:
    """Scroll to each image (they load lazily) until it is drawn; their natural sizes."""
    css = json.dumps(selector)
    count = browser.evaluate(f"{IMAGES.format(selector=css)}.length")
    for n in range(count):
        browser.evaluate(f"document.querySelectorAll({css})[{n}].scrollIntoView()")
        browser.wait_for(LOADED.format(selector=css, n=n), timeout=10)
    sizes: list[list[int]] = browser.evaluate(
        f"{IMAGES.format(selector=css)}.map(i => [i.naturalWidth, i.naturalHeight])"
    )
    return sizes


def test_the_chapter_list_shows_each_chapters_still_in_chromium(
    pictures_ready: None, browser: Chromium, built_site: Path, tmp_path: Path
) -> None:
    from PIL import Image

    from player.render.themes import THEMES

    markers = markers_of(TOUR)
    browser.navigate((built_site / "tour.html").as_uri())
    browser.wait_for(f"({TERMINAL_TEXT}).trim()", timeout=20)
    srcs = browser.evaluate(
        "Array.from(document.querySelectorAll('#chapters img.still'), i => i.getAttribute('src'))"
    )
    assert len(srcs) == len(markers)
    sizes = _wait_for_images(browser, "#chapters img.still")
    assert sizes == [list(png_size(built_site / src)) for src in srcs]
    # Each chapter links its GIF (every chapter of the tour is under the limit), the page
    # the whole cast's; they are files in the site.
    hrefs = browser.evaluate(
        "Array.from(document.querySelectorAll('a.gif'), a => a.getAttribute('href'))"
    )
    assert hrefs == ["pictures/tour/tour.gif"] + [s.replace(".png", ".gif") for s in srcs]
    assert all((built_site / href).read_bytes()[:6] == b"GIF89a" for href in hrefs)

    # What Chromium drew for the first chapter: its terminal, dark, with light text on it.
    first = json.dumps("#chapters li")
    browser.evaluate(f"document.querySelectorAll({first})[0].scrollIntoView()")
    rect = browser.evaluate(RECT_IN_PAGE.format(selector=first, n=0))
    assert rect["width"] > 150 and rect["height"] > 100
    shot = tmp_path / "first-chapter.png"
    shot.write_bytes(browser.screenshot(rect))
    card = Image.open(shot).convert("RGB")
    still = json.dumps("#chapters img.still")
    box = browser.evaluate(RECT_IN_PAGE.format(selector=still, n=0))
    inner = card.crop(
        (
            round(box["x"] - rect["x"]) + 2,
            round(box["y"] - rect["y"]) + 2,
            round(box["x"] - rect["x"] + box["width"]) - 2,
            round(box["y"] - rect["y"] + box["height"]) - 2,
        )
    )
    colours = inner.getcolors(maxcolors=1 << 16)
    assert colours is not None and len(colours) > 8  # text, anti-aliased, on a background
    count, commonest = max(colours)
    assert count > inner.width * inner.height * 0.6
    assert _near(commonest, THEMES["asciinema"].bg)
    assert any(min(c) > 150 for _, c in colours)  # the text: light grey on the dark
    _assert_offline_and_quiet(browser)


def _near(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def test_the_index_shows_each_casts_last_frame_in_chromium(
    pictures_ready: None, browser: Chromium, built_site: Path
) -> None:
    browser.navigate((built_site / "index.html").as_uri())
    rows = browser.evaluate("document.querySelectorAll('#casts tbody tr').length")
    srcs = browser.evaluate(
        "Array.from(document.querySelectorAll('#casts a img.thumb'), i => i.getAttribute('src'))"
    )
    assert len(srcs) == rows and rows >= 1
    assert _wait_for_images(browser, "#casts img.thumb") == [
        list(png_size(built_site / src)) for src in srcs
    ]
    assert all(re.fullmatch(r"pictures/([^/]+)/\1\.png", src) for src in srcs), srcs
    _assert_offline_and_quiet(browser)
