"""`stagecast site`: the HTML on its own, the npm install, and the pages in headless Chromium."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import stat
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
    player_times,
    read_cast_page,
    render_index,
    render_page,
    script_json,
)

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
    assert page.duration == 5.5
    assert page.idle_time_limit == 1
    assert player_times([0.5, 10.0], 2.0) == [0.5, 2.5]
    html = render_page(page)
    assert html.count("<li><button") == 3
    assert '"idleTimeLimit": 1.0' in html and '"poster": "npt:0:02.500"' in html
    assert '"fit": "width"' in html


def test_defaults_without_title_markers_or_idle_limit(tmp_path: Path) -> None:
    cast = write_cast(tmp_path / "bare.cast", title=None, labels=(), verified=None)
    page = read_cast_page(cast, "bare.html")
    assert (page.title, page.chapters, page.verified, page.idle_time_limit) == (
        "bare",
        [],
        False,
        2.0,
    )
    html = render_page(page)
    assert 'id="chapters"' not in html and "This cast has no chapters." in html
    assert "unverified" in html


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
    rows = re.findall(r"<tr><td><a href=\"([^\"]+)\">([^<]+)</a>.*?</tr>", index)
    assert rows == [
        ("a-demo.html", "First"),
        ("b-demo.html", "Second"),
        ("index-cast.html", "Named index"),
    ]
    assert "failed attempt" not in index and "temp file" not in index
    first = re.search(r"<tr><td><a href=\"a-demo.html\".*?</tr>", index)
    assert first is not None
    assert '<td class="num">0:09</td><td class="num">3</td>' in first.group(0)
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
    with pytest.raises(SiteError, match=r"no casts \(\*\.cast\)"):
        build_site(tmp_path / "empty", tmp_path / "out")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "junk.cast").write_text("not a cast\n")
    with pytest.raises(SiteError, match="junk.cast: not an asciicast v1/v2 file") as caught:
        build_site(tmp_path / "bad", tmp_path / "out")
    assert caught.value.exit_code == 2 and not (tmp_path / "out").exists()


def test_cmd_site_prints_the_index(tmp_path: Path, fake_player: Path, capsys) -> None:
    casts = tmp_path / "casts"
    casts.mkdir()
    write_cast(casts / "demo.cast")
    args = argparse.Namespace(casts_dir=casts, output=tmp_path / "out")
    assert cmd_site(args) == 0
    out = capsys.readouterr().out
    assert out == f"{tmp_path / 'out' / 'index.html'}: 1 cast (asciinema-player {PLAYER_VERSION})\n"


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
    assert browser.evaluate("document.querySelectorAll('img').length") == 0
    assert browser.evaluate("document.getElementById('title').textContent") == HOSTILE
    assert browser.evaluate("document.querySelector('#chapters .label').textContent") == HOSTILE
    _assert_offline_and_quiet(browser)
