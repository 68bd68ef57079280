"""`stagecast render`: pixels checked against glyphs rasterised here with Pillow and the same
font, the GIF's frames and timing, the SVG and the video's first and last frames in headless
Chromium, chapters, crops, themes, and bad input as one line."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chromium_cdp import Chromium, find_chromium
from player.render import fonts
from player.render.api import RenderSettings, render_file, render_gif, render_still
from player.render.chapters import slugify
from player.render.themes import THEMES, hex_rgb
from stagecast.cli import main

PIL = pytest.importorskip("PIL", reason="Pillow is not installed (pip install pillow)")
from PIL import Image, ImageDraw, ImageFont  # noqa: E402

ASCIINEMA = THEMES["asciinema"]
SIZE = 20  # px: big glyphs, so a wrong one is far off


def _font_or_skip(spec: tuple[str, str]) -> Path:
    path = fonts.find_font(spec[0])
    if path is None:
        pytest.skip(f"{Path(spec[0]).name} is not installed (apt-get install {spec[1]})")
    return path


@pytest.fixture(scope="module")
def mono() -> Path:
    return _font_or_skip(fonts.MONO)


@pytest.fixture(scope="module")
def mono_bold() -> Path:
    return _font_or_skip(fonts.MONO_BOLD)


@pytest.fixture(scope="module")
def cjk() -> Path:
    return _font_or_skip(fonts.FALLBACKS[0])


def write_cast(path: Path, events: list[list[Any]], **header: Any) -> Path:
    head = {"version": 2, "width": 20, "height": 6, **header}
    path.write_text("\n".join(json.dumps(x) for x in [head, *events]) + "\n", encoding="utf-8")
    return path


# Row 0: R (red on green); row 1: B bold, N normal; row 2: a wide character; row 3: colours
# from the 256-colour palette (0-15 are the theme's, 208 is xterm's orange) and truecolor.
KNOWN = [
    [0.0, "m", "Colours"],
    [0.1, "o", "\x1b[31;42mR\x1b[0m\r\n\x1b[1mB\x1b[0m N\r\n"],
    [0.5, "o", "你x\r\n"],
    [1.0, "m", "Palette"],
    [1.2, "o", "\x1b[38;5;1mP\x1b[38;5;208mO\x1b[38;2;250;100;10mT\x1b[0m\r\n"],
    [2.0, "o", "done$ "],
]


@pytest.fixture
def known(tmp_path: Path) -> Path:
    return write_cast(tmp_path / "known.cast", KNOWN, idle_time_limit=1.0)


class Cells:
    """A rendered picture, read cell by cell, with the geometry the renderer used."""

    def __init__(self, png: Path, size: int = SIZE, cols: int = 20, rows: int = 6) -> None:
        from player.render.metrics import geometry

        self.image = Image.open(png).convert("RGB")
        self.geo = geometry(size, cols, rows)
        assert self.image.size == self.geo.size

    def cell(self, x: int, y: int, width: int = 1) -> Image.Image:
        return self.image.crop(self.geo.cell_box(x, y, width))

    def inked(self, bg: tuple[int, int, int], tolerance: int = 40) -> set[tuple[int, int]]:
        """The cells holding anything but the background."""
        out = set()
        for y in range(self.geo.rows):
            for x in range(self.geo.cols):
                if _ink(self.cell(x, y), bg, tolerance):
                    out.add((x, y))
        return out


def pixels(image: Image.Image) -> list[Any]:
    """Every pixel, row by row: RGB tuples, or ints for a one-band image."""
    data = image.tobytes()
    bands = len(image.getbands())
    if bands == 1:
        return list(data)
    return [tuple(data[i : i + bands]) for i in range(0, len(data), bands)]


def _ink(cell: Image.Image, bg: tuple[int, int, int], tolerance: int) -> int:
    return sum(
        1 for p in pixels(cell) if max(abs(a - b) for a, b in zip(p, bg, strict=True)) > tolerance
    )


def expected_cell(
    font_path: Path, char: str, fg: Any, bg: Any, geo: Any, width: int = 1, centre: bool = False
) -> tuple[Image.Image, Image.Image]:
    """The glyph as this test draws it: Pillow, the same font and size, on the baseline."""
    font = ImageFont.truetype(str(font_path), SIZE)
    mask = Image.new("L", (geo.cell_w * width, geo.cell_h), 0)
    x = (mask.width - font.getlength(char)) / 2 if centre else 0
    ImageDraw.Draw(mask).text((x, geo.baseline), char, fill=255, font=font, anchor="ls")
    cell = Image.composite(Image.new("RGB", mask.size, fg), Image.new("RGB", mask.size, bg), mask)
    return cell, mask


def mismatch(actual: Image.Image, expected: Image.Image, mask: Image.Image) -> float:
    """Mean absolute difference per channel, over the pixels the glyph covers at all."""
    total = n = 0
    for a, e, m in zip(pixels(actual), pixels(expected), pixels(mask), strict=True):
        if m:
            total += sum(abs(x - y) for x, y in zip(a, e, strict=True))
            n += 3
    assert n, "the glyph covers no pixel"
    return total / n


# --- pixels --------------------------------------------------------------------------------


def test_a_cells_colours_and_glyph_are_as_drawn(known: Path, tmp_path: Path, mono: Path) -> None:
    out = render_still(known, out=tmp_path / "k.png", font_size=SIZE).path
    cells = Cells(out)
    red, green = ASCIINEMA.palette[1], ASCIINEMA.palette[2]
    cell = cells.cell(0, 0)
    expected, mask = expected_cell(mono, "R", red, green, cells.geo)
    # Background where the glyph has no ink, foreground where it is solid.
    for actual, m in zip(pixels(cell), pixels(mask), strict=True):
        if m == 0:
            assert actual == green
        elif m == 255:
            assert actual == red
    assert mismatch(cell, expected, mask) < 12  # the edges: 8 shades per colour pair
    wrong, _ = expected_cell(mono, "P", red, green, cells.geo)
    assert mismatch(cell, wrong, mask) > 2 * mismatch(cell, expected, mask)


def test_bold_is_the_bold_face(known: Path, tmp_path: Path, mono: Path, mono_bold: Path) -> None:
    cells = Cells(render_still(known, out=tmp_path / "k.png", font_size=SIZE).path)
    fg, bg = ASCIINEMA.fg, ASCIINEMA.bg
    bold_cell = cells.cell(0, 1)
    as_bold, bold_mask = expected_cell(mono_bold, "B", fg, bg, cells.geo)
    as_regular, regular_mask = expected_cell(mono, "B", fg, bg, cells.geo)
    assert mismatch(bold_cell, as_bold, bold_mask) < 12
    assert mismatch(bold_cell, as_regular, bold_mask) > mismatch(bold_cell, as_bold, bold_mask)
    normal = cells.cell(2, 1)  # N, not bold
    as_n, n_mask = expected_cell(mono, "N", fg, bg, cells.geo)
    assert mismatch(normal, as_n, n_mask) < 12
    assert mismatch(bold_cell, as_regular, regular_mask) > mismatch(bold_cell, as_bold, bold_mask)


def test_a_wide_character_takes_two_cells(
    known: Path, tmp_path: Path, mono: Path, cjk: Path
) -> None:
    cells = Cells(render_still(known, out=tmp_path / "k.png", font_size=SIZE).path)
    fg, bg = ASCIINEMA.fg, ASCIINEMA.bg
    wide = cells.cell(0, 2, width=2)
    expected, mask = expected_cell(cjk, "你", fg, bg, cells.geo, width=2, centre=True)
    assert mismatch(wide, expected, mask) < 12
    assert _ink(cells.cell(0, 2), bg, 40) and _ink(cells.cell(1, 2), bg, 40)  # both halves
    x_cell, x_mask = expected_cell(mono, "x", fg, bg, cells.geo)
    assert mismatch(cells.cell(2, 2), x_cell, x_mask) < 12  # the next character, in column 2


def test_256_colour_and_truecolor(known: Path, tmp_path: Path, mono: Path) -> None:
    cells = Cells(render_still(known, out=tmp_path / "k.png", font_size=SIZE).path)
    colours = [set(pixels(cells.cell(x, 3))) for x in range(3)]
    assert ASCIINEMA.palette[1] in colours[0]  # 38;5;1 is the theme's red, not xterm's
    assert (0xCD, 0, 0) not in colours[0]
    assert (0xFF, 0x87, 0x00) in colours[1]  # 38;5;208
    assert (250, 100, 10) in colours[2]  # 38;2;250;100;10


def test_the_last_frame_shows_the_last_text_and_the_cursor(
    known: Path, tmp_path: Path, mono: Path
) -> None:
    cells = Cells(render_still(known, out=tmp_path / "k.png", font_size=SIZE).path)
    fg, bg = ASCIINEMA.fg, ASCIINEMA.bg
    for x, char in enumerate("done$"):
        expected, mask = expected_cell(mono, char, fg, bg, cells.geo)
        assert mismatch(cells.cell(x, 4), expected, mask) < 12, char
    cursor = cells.cell(6, 4)  # after "done$ ": a block in the foreground colour
    assert set(pixels(cursor)) == {fg}
    assert set(pixels(cells.cell(7, 4))) == {bg}


def test_themes_light_and_the_casts_own(tmp_path: Path, mono: Path) -> None:
    own = {"fg": "#101010", "bg": "#fafafa", "palette": ":".join(["#123456"] * 8)}
    cast = write_cast(tmp_path / "t.cast", [[0.1, "o", "\x1b[31mx\x1b[0m"]], theme=own)
    default = Cells(render_still(cast, out=tmp_path / "a.png", font_size=SIZE).path)
    assert default.image.getpixel((0, 0)) == hex_rgb("#fafafa")  # the cast's theme
    assert (0x12, 0x34, 0x56) in set(pixels(default.cell(0, 0)))
    light = Cells(
        render_still(cast, theme="solarized-light", out=tmp_path / "b.png", font_size=SIZE).path
    )
    assert light.image.getpixel((0, 0)) == THEMES["solarized-light"].bg
    dark = Cells(render_still(cast, theme="asciinema", out=tmp_path / "c.png", font_size=SIZE).path)
    assert dark.image.getpixel((0, 0)) == ASCIINEMA.bg


def test_cols_and_rows_crop_and_follow_the_cursor(tmp_path: Path, mono: Path) -> None:
    lines = "".join(f"line{n}\r\n" for n in range(5)) + "end"
    cast = write_cast(tmp_path / "c.cast", [[0.1, "o", lines]], height=10)
    out = render_still(cast, out=tmp_path / "c.png", font_size=SIZE, cols=4, rows=3).path
    cells = Cells(out, cols=4, rows=3)
    fg, bg = ASCIINEMA.fg, ASCIINEMA.bg
    # The window follows the cursor: rows "line3", "line4", "end", cut to four columns.
    for y, text in enumerate(("line", "line", "end")):
        for x, char in enumerate(text):
            expected, mask = expected_cell(mono, char, fg, bg, cells.geo)
            assert mismatch(cells.cell(x, y), expected, mask) < 12, (y, char)


# --- animations ----------------------------------------------------------------------------


def gif_frames(path: Path) -> list[tuple[Image.Image, int]]:
    out = []
    with Image.open(path) as image:
        for n in range(image.n_frames):
            image.seek(n)
            out.append((image.convert("RGB"), int(image.info["duration"])))
    return out


def test_gif_frames_timing_and_last_frame(known: Path, tmp_path: Path, mono: Path) -> None:
    done = render_gif(known, tmp_path / "k.gif", font_size=SIZE)
    frames = gif_frames(done.path)
    assert len(frames) == done.frames
    # idle_time_limit 1.0 caps nothing here: the last event at 2.0 s, then a 2 s hold.
    assert sum(ms for _, ms in frames) == pytest.approx(4000, abs=20)
    still = render_still(known, out=tmp_path / "k.png", font_size=SIZE).path
    assert pixels(frames[-1][0]) == pixels(Image.open(still).convert("RGB"))
    assert pixels(frames[0][0]) != pixels(frames[-1][0])


def test_identical_frames_are_merged(tmp_path: Path, mono: Path) -> None:
    # "a" written again and again over itself: one picture, however many events.
    events = [[0.1, "o", "a"]] + [[0.2 + n * 0.1, "o", "\ba"] for n in range(20)]
    cast = write_cast(tmp_path / "same.cast", events)
    done = render_gif(cast, tmp_path / "same.gif", font_size=SIZE)
    frames = gif_frames(done.path)
    assert done.frames == len(frames) == 2  # the empty screen, then "a"
    assert sum(ms for _, ms in frames) == pytest.approx((2.1 + 2.0) * 1000, abs=20)


def test_idle_limit_and_speed(tmp_path: Path, mono: Path) -> None:
    cast = write_cast(tmp_path / "idle.cast", [[0.5, "o", "a"], [10.5, "o", "b"]])
    hold = 2000

    def length(**settings: Any) -> int:
        done = render_gif(cast, tmp_path / "i.gif", font_size=SIZE, **settings)
        return sum(ms for _, ms in gif_frames(done.path)) - hold

    assert length() == pytest.approx(10500, abs=20)  # no header limit: as recorded
    assert length(idle_limit=1.0) == pytest.approx(1500, abs=20)
    assert length(idle_limit=1.0, speed=2.0) == pytest.approx(750, abs=20)


def test_a_chapter_starts_from_the_screen_as_it_stood(
    known: Path, tmp_path: Path, mono: Path
) -> None:
    first_end = render_still(known, "Colours", out=tmp_path / "c1.png", font_size=SIZE).path
    chapter = render_gif(known, tmp_path / "c2.gif", chapter="palette", font_size=SIZE)
    frames = gif_frames(chapter.path)
    assert pixels(frames[0][0]) == pixels(Image.open(first_end).convert("RGB"))
    # By number too, and --at from the chapter's start.
    at_start = render_still(known, "2", at=0.0, out=tmp_path / "a.png", font_size=SIZE).path
    assert pixels(Image.open(at_start).convert("RGB")) == pixels(
        Image.open(first_end).convert("RGB")
    )


def test_svg_draws_every_frame_once_and_is_text(known: Path, tmp_path: Path) -> None:
    done = render_file(known, tmp_path / "k.svg", settings=RenderSettings(font_size=SIZE))
    text = done.path.read_text()
    assert text.startswith("<svg") and "done$" in text and "你" in text
    assert done.frames >= 4 and "@keyframes" in text


# --- in a browser --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    executable = find_chromium()
    if executable is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="stagecast-render-chromium-") as work:
        chromium = Chromium(executable, Path(work))
        try:
            yield chromium
        finally:
            chromium.close()


SEEK = """(() => {
  const all = document.getAnimations();
  all.forEach(a => { a.pause(); a.currentTime = %f; });
  return all.length;
})()"""


def screenshot_of(
    browser: Chromium, url: str, size: tuple[int, int], at_ms: float | None, out: Path
) -> Path:
    browser.navigate(url)
    if at_ms is not None:
        browser.evaluate(SEEK % at_ms)
        browser.evaluate(
            "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))",
            await_promise=True,
        )
    png = browser.screenshot({"x": 0, "y": 0, "width": size[0], "height": size[1]})
    out.write_bytes(png)
    assert browser.errors() == []
    return out


def test_svg_in_chromium_shows_what_the_png_shows(
    known: Path, tmp_path: Path, browser: Chromium, mono: Path
) -> None:
    svg = render_file(known, tmp_path / "k.svg", settings=RenderSettings(font_size=SIZE)).path
    bg = ASCIINEMA.bg
    for at in (0.7, None):  # mid-cast (after "你x"), and the end
        png = render_still(known, at=at, out=tmp_path / "s.png", font_size=SIZE).path
        cells = Cells(png)
        shot = screenshot_of(
            browser,
            svg.as_uri(),
            cells.image.size,
            (at if at is not None else 3.9) * 1000,
            tmp_path / "shot.png",
        )
        seen = Cells.__new__(Cells)
        seen.image, seen.geo = Image.open(shot).convert("RGB"), cells.geo
        assert seen.inked(bg) == cells.inked(bg), at
        if at is None:
            assert seen.image.getpixel(cells.geo.cell_box(0, 0)[:2]) == ASCIINEMA.palette[2]
            left, top, right, bottom = cells.geo.cell_box(6, 4)
            assert seen.image.getpixel(((left + right) // 2, (top + bottom) // 2)) == ASCIINEMA.fg


def _ffmpeg_or_skip() -> str:
    try:
        import imageio_ffmpeg
    except ImportError:
        pytest.skip("imageio-ffmpeg is not installed (pip install imageio-ffmpeg)")
    return str(imageio_ffmpeg.get_ffmpeg_exe())


def _close(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 24) -> bool:
    return max(abs(x - y) for x, y in zip(a, b, strict=False)) <= tolerance


@pytest.mark.parametrize("kind", ["mp4", "webm"])
def test_video_first_and_last_frames(
    known: Path, tmp_path: Path, browser: Chromium, mono: Path, kind: str
) -> None:
    ffmpeg = _ffmpeg_or_skip()
    video = render_file(known, tmp_path / f"k.{kind}", settings=RenderSettings(font_size=SIZE)).path
    first, last = tmp_path / "first.png", tmp_path / "last.png"
    subprocess.run(
        [ffmpeg, "-loglevel", "error", "-y", "-i", str(video), "-frames:v", "1", str(first)],
        check=True,
    )
    subprocess.run(
        [
            ffmpeg,
            "-loglevel",
            "error",
            "-y",
            "-sseof",
            "-0.5",
            "-i",
            str(video),
            "-update",
            "1",
            str(last),
        ],
        check=True,
    )
    end = Cells(render_still(known, out=tmp_path / "end.png", font_size=SIZE).path)
    start = Cells(render_still(known, at=0.0, out=tmp_path / "start.png", font_size=SIZE).path)
    bg = ASCIINEMA.bg
    assert start.inked(bg) == {(0, 0)}  # an empty screen and the cursor
    for poster, expected in ((first, start.inked(bg)), (last, end.inked(bg))):
        html = tmp_path / "poster.html"
        html.write_text(
            f'<body style="margin:0;background:#fff"><img src="{poster.name}"></body>',
            encoding="utf-8",
        )
        shot = screenshot_of(browser, html.as_uri(), end.image.size, None, tmp_path / "p.png")
        seen = Cells.__new__(Cells)
        seen.image, seen.geo = Image.open(shot).convert("RGB"), end.geo
        assert _close(seen.image.getpixel((2, 2)), bg)  # the picture, not the page
        assert seen.inked(bg, tolerance=60) == expected, poster.name
    red_on_green = Image.open(last).convert("RGB").getpixel(end.geo.cell_box(0, 0)[:2])
    assert _close(red_on_green, ASCIINEMA.palette[2], 40)


# --- the command ---------------------------------------------------------------------------


def test_chapters_dir_names_each_file_after_its_chapter(
    known: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], mono: Path
) -> None:
    out = tmp_path / "chapters"
    assert main(["render", str(known), "--chapters", str(out), "--font-size", "10"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        f"{stem}.{kind}"
        for stem in ("known", "01-colours", "02-palette")
        for kind in ("gif", "png", "svg")
    )
    assert len(capsys.readouterr().out.splitlines()) == 9
    only = tmp_path / "only"
    assert main(["render", str(known), "--chapters", str(only), "--formats", "png"]) == 0
    assert sorted(p.name for p in only.iterdir()) == [
        "01-colours.png",
        "02-palette.png",
        "known.png",
    ]


def test_slugs() -> None:
    assert slugify("Ping across the router") == "ping-across-the-router"
    assert slugify('echo "sum of 1..10 = $(( $(seq -s + 1 10) ))"') == "echo-sum-of-1-10-seq-s-1-10"
    assert slugify("Café — déjà vu") == "cafe-deja-vu"
    assert slugify("你好") == "chapter"
    assert len(slugify("word " * 40)) <= 60


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["-o", "x.jpg"], "the extension picks the format"),
        (["-o", "x.png", "--chapter", "nope"], "no marker 'nope'"),
        (["-o", "x.png", "--at", "99"], "--at 99: the cast lasts"),
        (["-o", "x.gif", "--at", "1"], "--at picks a still"),
        (["-o", "x.png", "--at", "soon"], "--at soon: give a time"),
        (["-o", "x.png", "--theme", "nope"], "--theme nope: unknown"),
        (["-o", "x.png", "--theme", "cast"], "the cast has no readable theme"),
        (["-o", "x.gif", "--fps", "500"], "--fps 500"),
        (["-o", "x.gif", "--speed", "0"], "--speed 0"),
        ([], "say where"),
        (["-o", "x.gif", "--formats", "png"], "--formats goes with --chapters"),
        (["--chapters", "d", "--formats", "bmp"], "--formats bmp"),
        (["-o", "no/such/dir/x.png"], "no such directory"),
    ],
)
def test_render_bad_input_is_one_line_exit_2(
    known: Path, tmp_path: Path, argv: list[str], says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "stagecast", "render", str(known), *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and says in lines[0] and lines[0].startswith("stagecast: "), lines


def test_render_an_unreadable_cast_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.cast"
    bad.write_text("hello\n")
    assert main(["render", str(bad), "-o", str(tmp_path / "x.gif")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "not an asciicast" in err[0]


def test_render_without_its_font_names_the_debian_package(
    known: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fonts, "FONT_DIRS", (str(tmp_path / "no-fonts"),))
    monkeypatch.delenv(fonts.FONT_DIRS_ENV, raising=False)
    assert main(["render", str(known), "-o", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "fonts-dejavu-core" in err[0], err
    assert not list(tmp_path.glob("*.png")) and not list(tmp_path.glob(".x.png*"))
    # The SVG needs no font file.
    assert main(["render", str(known), "-o", str(tmp_path / "x.svg")]) == 0


def test_render_is_quiet_on_stderr_when_it_is_not_a_terminal(
    known: Path, tmp_path: Path, mono: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "stagecast", "render", str(known), "-o", "k.gif"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("k.gif: ") and "frames" in done.stdout


def test_the_progress_line_waits_for_a_long_render(monkeypatch: pytest.MonkeyPatch) -> None:
    from player.render import progress

    line = progress.RenderProgress("x.gif", 100.0, enabled=True)
    line(10.0)
    assert line.live is None  # under LONG_RENDER seconds: nothing shown
    monkeypatch.setattr(progress, "LONG_RENDER", 0.0)
    line(50.0)
    assert line.live is not None and "50%" in str(line._line())
    line.stop()
    assert progress.RenderProgress("x", 1.0, enabled=False).enabled is False


def test_the_alternate_screen_comes_and_goes(tmp_path: Path, mono: Path) -> None:
    # A full-screen program draws on its own screen; the shell's is back when it leaves.
    events = [
        [0.1, "o", "$ top\r\n"],
        [0.5, "o", "\x1b[?1049h\x1b[H\x1b[2JTOP SCREEN"],
        [1.0, "o", "\x1b[?1049l$ "],
    ]
    cast = write_cast(tmp_path / "alt.cast", events)
    inside = render_still(cast, at=0.7, out=tmp_path / "in.png", font_size=SIZE).path
    after = render_still(cast, out=tmp_path / "after.png", font_size=SIZE).path
    before = render_still(cast, at=0.2, out=tmp_path / "before.png", font_size=SIZE).path
    bg = ASCIINEMA.bg
    assert Cells(inside).inked(bg) == {(x, 0) for x in range(11) if x != 3}  # "TOP SCREEN" + cursor
    assert Cells(after).inked(bg) == Cells(before).inked(bg) | {(2, 1)}  # "$ top", "$ "


def test_svg_is_well_formed_whatever_the_cast_printed(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    text = 'a\u0301 <b>&amp; "q" \x1b[31m\u2028\ufffe x\x7f e\u0301\u0301\r\n'
    cast = write_cast(tmp_path / "odd.cast", [[0.1, "o", text]])
    done = render_file(cast, tmp_path / "odd.svg")
    root = ET.fromstring(done.path.read_bytes())
    texts = "".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "<b>&amp;" in texts and '"q"' in texts


def test_render_without_pillow_names_the_package(
    known: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "PIL", None)  # import PIL now fails
    assert main(["render", str(known), "-o", str(tmp_path / "x.gif")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "pip install pillow" in err[0], err


def test_another_decoder_sees_the_same_gif(known: Path, tmp_path: Path, mono: Path) -> None:
    """ffmpeg's GIF decoder (transparency, disposal) agrees with Pillow's, frame by frame."""
    ffmpeg = _ffmpeg_or_skip()
    done = render_gif(known, tmp_path / "k.gif", font_size=SIZE)
    ours = gif_frames(done.path)
    subprocess.run(
        [ffmpeg, "-loglevel", "error", "-i", str(done.path), "-fps_mode", "passthrough",
         str(tmp_path / "f%03d.png")],
        check=True,
    )  # fmt: skip
    theirs = sorted(tmp_path.glob("f*.png"))
    assert len(theirs) == len(ours)
    for (frame, _), path in zip(ours, theirs, strict=True):
        assert pixels(frame) == pixels(Image.open(path).convert("RGB")), path.name


def test_italics_are_the_oblique_face(tmp_path: Path, mono: Path) -> None:
    oblique = _font_or_skip(fonts.MONO_ITALIC)
    cast = write_cast(tmp_path / "i.cast", [[0.1, "o", "\x1b[3mf\x1b[0m f"]])
    cells = Cells(render_still(cast, out=tmp_path / "i.png", font_size=SIZE).path)
    fg, bg = ASCIINEMA.fg, ASCIINEMA.bg
    slanted, mask = expected_cell(oblique, "f", fg, bg, cells.geo)
    upright, upright_mask = expected_cell(mono, "f", fg, bg, cells.geo)
    assert mismatch(cells.cell(0, 0), slanted, mask) < 12
    assert mismatch(cells.cell(0, 0), upright, mask) > mismatch(cells.cell(0, 0), slanted, mask)
    assert mismatch(cells.cell(2, 0), upright, upright_mask) < 12  # the plain one
