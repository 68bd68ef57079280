"""`stagecast site CASTS_DIR -o OUT_DIR`: a static site of casts that opens from file://.

One page per cast (the player, the cast inline, a chapter list that seeks to each marker)
and an index page. The casts are every `*.cast` in CASTS_DIR and every `*.json` that reads as
an asciicast v1 cast (asciinema 1.x saved those; other JSON files are not casts and are left
out). A cast that cannot be read is reported on one line and the others are still published
(exit 1), unless `strict`. asciinema-player comes from npm at a pinned version and integrity,
installed once into a cache dir; its bundle and stylesheet are copied into OUT/vendor/.
No page loads anything from the network. Same input, same bytes.

Pictures (player.render.gallery): each chapter's still, the last frame of the chapter, is its
thumbnail in the chapter list, with a link to the chapter's GIF; the page links the whole
cast's GIF; the index shows the cast's last frame. They are rendered into a temporary dir and
moved to OUT/pictures/PAGE/ (PAGE: the page's name without .html) with the pages, named as
`stagecast render --chapters` names them. A GIF longer than `gif_max` seconds is not made.
A cast whose pictures cannot be rendered is one line, and its page is built without them
(under `strict`, the build stops: exit 2, nothing written); a missing font or Pillow is one
line for the whole site.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from recorder.errors import CommandError, StagecastError, printable

if TYPE_CHECKING:
    from player.render.gallery import Pictures
    from recorder.cast.model import Cast

PLAYER_PACKAGE = "asciinema-player"
PLAYER_VERSION = "3.18.0"  # the latest 3.x on npm when pinned
# npm's dist.integrity for that version: a changed tarball is refused, not published.
PLAYER_INTEGRITY = (
    "sha512-5gpt2ipFcy4NKmgkv+c/QXnJ9zMicxqWROCOuJqgwwtiYKM8Qe9hn"
    "DOvfqke5bW6M2DW/seO3uQYkQ0xeUUVtw=="
)
# package file -> OUT/vendor/ name; the licence travels with the code it covers.
PLAYER_FILES = {
    "dist/bundle/asciinema-player.min.js": "asciinema-player.min.js",
    "dist/bundle/asciinema-player.css": "asciinema-player.css",
    "LICENSE": "asciinema-player.LICENSE",
}
NPM_TIMEOUT = 300
INDEX_TITLE = "stagecast demos"
ASSETS = Path(__file__).resolve().parent
PICTURES_DIR = "pictures"
# A GIF (a chapter's or the whole cast's) longer than this is not made; see README.
DEFAULT_GIF_MAX = 600.0


class SiteError(CommandError):
    """One line; exit 2 for bad input or a missing prerequisite, 1 when a build step failed."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message, exit_code)


class UnreadableCast(SiteError):
    """One cast that cannot be published: `path: reason`. Exit 2 under --strict; otherwise
    it is reported and the others are built."""


@dataclass(frozen=True)
class SiteResult:
    pages: list[Path]  # the index first, then one page per cast
    player_version: str
    unreadable: list[str] = field(default_factory=list)  # one line per cast left out
    without_pictures: int = 0  # pages built without pictures that were asked for

    @property
    def index(self) -> Path:
        return self.pages[0]


@dataclass(frozen=True)
class Chapter:
    index: int  # 0-based, as player.seek({marker: i}) counts
    time: float  # on the player's timeline (idle gaps capped)
    label: str
    end: float  # its last event (before the next marker, else the cast's last), same timeline


@dataclass(frozen=True)
class PagePictures:
    """A page's pictures, as URLs relative to OUT (quoted)."""

    size: tuple[int, int]  # every still's, in pixels
    stills: list[str]  # one per chapter
    gifs: list[str | None]  # one per chapter; None: longer than the GIF limit
    thumbnail: str  # the index's: the cast's last frame (a demo's end shows most of it)
    gif: str | None  # the whole cast's


@dataclass(frozen=True)
class CastPage:
    source: Path
    page: str  # file name of its page in OUT
    text: str  # the cast file, embedded as is
    version: int  # asciicast version: the player reads v1 only as an object
    title: str
    duration: float  # on the player's timeline
    chapters: list[Chapter]
    verified: bool
    idle_time_limit: float | None  # None: no gap is cut
    cast: Cast | None = field(default=None, repr=False, compare=False)  # as read
    pictures: PagePictures | None = None


# --- reading casts ---------------------------------------------------------------------


def find_casts(casts_dir: Path) -> list[Path]:
    """Every *.cast in the dir, and every *.json that reads as an asciicast v1 cast, by name;
    failed attempts and temp files are not demos."""
    if not casts_dir.is_dir():
        raise SiteError(f"{casts_dir}: not a directory")
    candidates = [p for p in casts_dir.iterdir() if p.is_file() and not p.name.startswith(".")]
    casts = sorted(p for p in candidates if _is_cast(p))
    if not casts:
        raise SiteError(f"{casts_dir}: no casts (*.cast, or asciicast v1 *.json) to publish")
    return casts


def _is_cast(path: Path) -> bool:
    if path.suffix == ".cast":
        return not path.name.endswith(".failed.cast")
    return path.suffix == ".json" and _reads_as_v1_cast(path)


def _reads_as_v1_cast(path: Path) -> bool:
    """A .json is a cast only when it reads as one: package.json and friends are not."""
    from recorder.cast.reader import CastReadError, load_cast

    try:
        return load_cast(path).version == 1
    except CastReadError:
        return False


def check_idle_limit(seconds: float | None) -> float | None:
    """--idle-limit: a number of seconds above 0, or None (the cast's own, if any)."""
    if seconds is not None and not (math.isfinite(seconds) and seconds > 0):
        raise SiteError(f"--idle-limit {seconds}: give a number of seconds above 0")
    return seconds


def read_cast_page(path: Path, page: str, idle_limit: float | None = None) -> CastPage:
    """One cast's page; `idle_limit` overrides the cast's idle_time_limit. Without either,
    no idle gap is cut, as asciinema-player does. UnreadableCast: `path: reason`."""
    from recorder.cast.reader import CastReadError, load_cast

    try:
        cast = load_cast(path)
        text = path.read_text(encoding="utf-8")  # embedded as is, byte for byte
    except CastReadError as exc:
        raise UnreadableCast(printable(str(exc))) from exc
    except (OSError, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise UnreadableCast(printable(f"{path}: cannot read it: {reason}")) from exc
    if not cast.events:
        raise UnreadableCast(printable(f"{path}: the cast has no events"))
    limit = idle_limit or cast.idle_time_limit
    times = player_times([t for t, _, _ in cast.events], limit)
    title = cast.title
    return CastPage(
        source=path,
        page=page,
        text=text,
        version=cast.version,
        title=title if title and title.strip() else path.stem,
        duration=times[-1],
        chapters=chapters_of(cast, times),
        verified=cast.verified,
        idle_time_limit=limit,
        cast=cast,
    )


def chapters_of(cast: Cast, times: list[float]) -> list[Chapter]:
    """One chapter per marker, ending at the last event before the next marker, or at the
    cast's last event; `times` are the cast's events on the player's timeline."""
    markers = cast.markers
    ends = [times[m.event - 1] for m in markers[1:]] + [times[-1]]
    return [Chapter(n, times[m.event], m.label, ends[n]) for n, m in enumerate(markers)]


def player_times(times: list[float], idle_time_limit: float | None) -> list[float]:
    """Event times as asciinema-player shows them: every gap (the first one too) longer than
    the idle limit is cut to it, as its timeLimiter does, so chapter times match the bar.
    No limit: the times as recorded."""
    if idle_time_limit is None:
        return list(times)
    shifted, previous, shift = [], 0.0, 0.0
    for t in times:
        shift += max(0.0, t - previous - idle_time_limit)
        previous = t
        shifted.append(t - shift)
    return shifted


def page_names(casts: list[Path]) -> list[str]:
    """NAME.cast -> NAME.html. A name already taken (index.html, NAME.cast next to NAME.json)
    gets the file's extension, then a number: NAME-json.html, index-cast.html, NAME-cast-2.html."""
    taken, names = {"index.html"}, []
    for path in casts:
        name, kind, n = f"{path.stem}.html", path.suffix.lstrip("."), 2
        if name in taken:
            name = f"{path.stem}-{kind}.html"
        while name in taken:
            name, n = f"{path.stem}-{kind}-{n}.html", n + 1
        taken.add(name)
        names.append(name)
    return names


# --- rendering -------------------------------------------------------------------------


def script_json(value: Any) -> str:
    """JSON that is safe inside <script>: `<`, `>` and `&` only occur in strings, where
    \\u escapes mean the same, so no `</script>` or `<!--` can end or bend the element."""
    text = json.dumps(value, ensure_ascii=True, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def fmt_time(seconds: float) -> str:
    total = int(seconds + 0.5)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def poster_time(cast: CastPage) -> float:
    """The last event the poster must show: the end of the first chapter (its command and
    output are on screen), or the end of the cast when it has fewer than two markers."""
    return cast.chapters[0].end if cast.chapters else cast.duration


def poster_micros(last_event: float) -> int:
    """The poster's time in whole microseconds, at least half of one after `last_event`:
    the player draws a poster from the events strictly before its time, and its own sums
    (in ms, doubles) may differ from ours in the last bits."""
    return max(round(last_event * 1_000_000), 0) + 1


def _npt(micros: int) -> str:
    """npt:M:SS.ffffff, exact: whole numbers, no float rounding to move it back."""
    minutes, rest = divmod(micros, 60_000_000)
    secs, frac = divmod(rest, 1_000_000)
    return f"npt:{minutes}:{secs:02d}.{frac:06d}"


def player_options(cast: CastPage) -> dict[str, Any]:
    return {
        "fit": "width",
        "idleTimeLimit": cast.idle_time_limit,  # null: the page makes it Infinity (no cap)
        "poster": _npt(poster_micros(poster_time(cast))),
        "preload": True,
    }


def _template(name: str) -> Template:
    return Template((ASSETS / name).read_text(encoding="utf-8"))


def _badge(verified: bool) -> str:
    if verified:
        return '<span class="badge verified" title="every check passed">verified</span>'
    return '<span class="badge unverified" title="not a verified recording">unverified</span>'


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _img(src: str, size: tuple[int, int], css: str) -> str:
    """A picture beside its own text (a label, a title): alt="" so it is not read twice;
    its size given, so the page does not jump as it loads."""
    width, height = size
    return (
        f'<img class="{css}" src="{html.escape(src)}" alt="" width="{width}" '
        f'height="{height}" loading="lazy" decoding="async">'
    )


def _gif_link(url: str, what: str) -> str:
    return (
        f'<a class="gif" href="{html.escape(url)}" type="image/gif" '
        f'aria-label="{html.escape(what)} as an animated GIF">GIF</a>'
    )


def render_chapters(chapters: list[Chapter], pictures: PagePictures | None = None) -> str:
    if not chapters:
        return '<p class="no-chapters">This cast has no chapters.</p>'
    if pictures is None:
        items = [
            f'<li><button type="button" data-marker="{c.index}">'
            f'<span class="time">{fmt_time(c.time)}</span> '
            f'<span class="label">{html.escape(c.label)}</span></button></li>'
            for c in chapters
        ]
        return '<ol id="chapters">\n' + "\n".join(items) + "\n</ol>"
    items = []
    for c, still, gif in zip(chapters, pictures.stills, pictures.gifs, strict=True):
        link = f" {_gif_link(gif, f'chapter {c.index + 1}, {c.label},')}" if gif else ""
        items.append(
            f'<li><button type="button" data-marker="{c.index}">'
            f"{_img(still, pictures.size, 'still')}"
            f'<span class="caption"><span class="time">{fmt_time(c.time)}</span> '
            f'<span class="label">{html.escape(c.label)}</span></span></button>{link}</li>'
        )
    return '<ol id="chapters" class="pictures">\n' + "\n".join(items) + "\n</ol>"


def render_page(cast: CastPage) -> str:
    whole_gif = cast.pictures.gif if cast.pictures else None
    return _template("page_template.html").substitute(
        title=html.escape(cast.title),
        badge=_badge(cast.verified),
        duration=fmt_time(cast.duration),
        chapter_count=_plural(len(cast.chapters), "chapter"),
        file=html.escape(cast.source.name),
        gif=f" {_gif_link(whole_gif, 'the whole cast')}" if whole_gif else "",
        chapters=render_chapters(cast.chapters, cast.pictures),
        cast_json=script_json(cast.text),
        cast_is_v1="true" if cast.version == 1 else "false",
        options_json=script_json(player_options(cast)),
    )


def render_index(casts: list[CastPage], player_version: str = PLAYER_VERSION) -> str:
    rows = [
        f'<tr><td><a href="{html.escape(quote(c.page))}">{_thumbnail(c)}{html.escape(c.title)}</a>'
        f"<br><code>{html.escape(c.source.name)}</code></td>"
        f'<td class="num">{fmt_time(c.duration)}</td>'
        f'<td class="num">{len(c.chapters)}</td>'
        f"<td>{_badge(c.verified)}</td></tr>"
        for c in casts
    ]
    return _template("index_template.html").substitute(
        title=html.escape(INDEX_TITLE),
        player_version=html.escape(player_version),
        rows="\n".join(rows),
    )


def _thumbnail(cast: CastPage) -> str:
    pictures = cast.pictures
    return _img(pictures.thumbnail, pictures.size, "thumb") if pictures else ""


# --- pictures --------------------------------------------------------------------------


def pictures_dir(page: str) -> str:
    """OUT/pictures/PAGE/ holds a page's pictures (NAME.html -> pictures/NAME/)."""
    return f"{PICTURES_DIR}/{Path(page).stem}"


def check_gif_max(seconds: float | None) -> float | None:
    """--gif-max: seconds, 0 or more (0: no GIF); None: the default."""
    if seconds is None:
        return DEFAULT_GIF_MAX
    if not (math.isfinite(seconds) and seconds >= 0):
        raise SiteError(f"--gif-max {seconds}: give a number of seconds, 0 or more (0: no GIFs)")
    return seconds


def page_pictures(cast: CastPage, pictures: Pictures) -> PagePictures:
    """Where the page finds the pictures render_pictures wrote."""
    folder = pictures_dir(cast.page)

    def url(path: Path | None) -> str | None:
        return quote(f"{folder}/{path.name}") if path is not None else None

    return PagePictures(
        size=pictures.size,
        stills=[quote(f"{folder}/{p.still.name}") for p in pictures.chapters],
        gifs=[url(p.gif) for p in pictures.chapters],
        thumbnail=quote(f"{folder}/{pictures.whole.still.name}"),
        gif=url(pictures.whole.gif),
    )


def render_all_pictures(
    casts: list[CastPage],
    staging: Path,
    *,
    gif_max: float | None,
    strict: bool,
    report: Callable[[str], None],
) -> list[CastPage]:
    """Each cast's pictures in staging/PAGE/; the pages that have them. A cast that cannot be
    rendered is one line (`PATH: no pictures: REASON`) and its page has none; under
    `strict`, it stops the build (exit 2). A missing prerequisite is said once, for all."""
    from player.render import RenderSettings
    from player.render.gallery import check_pictures, render_pictures

    try:
        check_pictures()
    except StagecastError as exc:
        if strict:
            raise SiteError(
                f"no pictures: {exc} (or build the site without them: --no-pictures)"
            ) from exc
        report(f"no pictures: {exc}")
        return casts
    out = []
    for cast in casts:
        folder = staging / Path(cast.page).stem
        settings = RenderSettings(idle_limit=cast.idle_time_limit)  # the page's timeline
        try:
            folder.mkdir()
            pictures = render_pictures(
                cast.cast or cast.source,
                folder,
                gif_max=gif_max,
                settings=settings,
                warn=_about(cast.source, report),
            )
        except StagecastError as exc:
            line = printable(f"{cast.source}: no pictures: {exc}")
            if strict:
                raise SiteError(line) from exc
            report(line)
            out.append(cast)
            continue
        except OSError as exc:
            raise SiteError(f"{folder}: cannot write the pictures: {exc}", 1) from exc
        out.append(replace(cast, pictures=page_pictures(cast, pictures)))
    return out


def _about(source: Path, report: Callable[[str], None]) -> Callable[[str], None]:
    """A render's warning (a character no installed font draws), naming its cast."""
    return lambda line: report(printable(f"{source}: {line}"))


def _move_pictures(staging: Path, out: Path, casts: list[CastPage]) -> None:
    """staging/PAGE/ -> OUT/pictures/PAGE/, replacing what an earlier build left there."""
    for cast in casts:
        if cast.pictures is None:
            continue
        target = out / pictures_dir(cast.page)
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(staging / target.name, target)


# --- the player from npm ---------------------------------------------------------------


def npm_prefix() -> Path:
    """$XDG_CACHE_HOME/stagecast/npm/asciinema-player-VERSION (else ~/.cache/...)."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "stagecast" / "npm" / f"{PLAYER_PACKAGE}-{PLAYER_VERSION}"


def installed_player(prefix: Path) -> Path | None:
    """The package dir if the pinned version (and tarball) is installed there, complete."""
    package = prefix / "node_modules" / PLAYER_PACKAGE
    try:
        version = json.loads((package / "package.json").read_text(encoding="utf-8"))["version"]
        lock = json.loads((prefix / "node_modules" / ".package-lock.json").read_text("utf-8"))
        integrity = lock["packages"][f"node_modules/{PLAYER_PACKAGE}"]["integrity"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    complete = all((package / name).is_file() for name in PLAYER_FILES)
    ok = version == PLAYER_VERSION and integrity == PLAYER_INTEGRITY and complete
    return package if ok else None


def ensure_player(prefix: Path | None = None) -> Path:
    """The pinned asciinema-player package, installed with npm on first use."""
    prefix = prefix or npm_prefix()
    found = installed_player(prefix)
    if found:
        return found
    npm = shutil.which("npm")
    if npm is None:
        raise SiteError("npm not found: install it (Debian/Ubuntu: apt-get install npm)")
    spec = f"{PLAYER_PACKAGE}@{PLAYER_VERSION}"
    prefix.mkdir(parents=True, exist_ok=True)
    command = [npm, "install", "--no-save", "--ignore-scripts", "--no-audit", "--no-fund"]
    command += ["--loglevel=error", "--prefix", str(prefix), spec]
    env = {**os.environ, "npm_config_update_notifier": "false"}
    try:
        done = subprocess.run(
            command, cwd=prefix, env=env, capture_output=True, text=True, timeout=NPM_TIMEOUT
        )
    except subprocess.TimeoutExpired as exc:
        raise SiteError(f"npm install {spec}: no result after {NPM_TIMEOUT}s", 1) from exc
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        why = lines[-1].strip() if lines else f"exit {done.returncode}"
        raise SiteError(f"npm install {spec} failed: {why}", 1)
    found = installed_player(prefix)
    if found is None:
        raise SiteError(
            f"npm install {spec}: {prefix} does not hold version {PLAYER_VERSION} "
            "with the pinned integrity",
            1,
        )
    return found


# --- the site --------------------------------------------------------------------------


def build_site(
    casts_dir: Path,
    out: Path,
    *,
    idle_limit: float | None = None,
    strict: bool = False,
    report: Callable[[str], None] | None = None,
    pictures: bool = True,
    gif_max: float | None = None,
) -> SiteResult:
    """Write OUT/index.html, OUT/NAME.html per cast, OUT/site.css, OUT/vendor/ and (unless
    not `pictures`) OUT/pictures/NAME/.

    A cast that cannot be read is passed to `report` (one line) and left out, unless
    `strict`: then the first one stops the build (UnreadableCast, exit 2), nothing written.
    So are a cast's pictures that cannot be rendered, but its page is built without them.
    `gif_max`: no GIF for a chapter (or a whole cast) longer than that; None: the default,
    0: no GIFs."""
    idle_limit = check_idle_limit(idle_limit)
    gif_max = check_gif_max(gif_max)
    report = report or _to_stderr
    sources = find_casts(casts_dir)
    casts, unreadable = [], []
    for path, name in zip(sources, page_names(sources), strict=True):
        try:
            casts.append(read_cast_page(path, name, idle_limit))
        except UnreadableCast as exc:
            if strict:
                raise
            unreadable.append(str(exc))
            report(str(exc))
    if not casts:
        raise SiteError(f"{casts_dir}: not one of its casts can be read", 1)
    package = ensure_player()
    with tempfile.TemporaryDirectory(prefix="stagecast-pictures-") as staging:
        if pictures:
            casts = render_all_pictures(
                casts, Path(staging), gif_max=gif_max, strict=strict, report=report
            )
        try:
            vendor = out / "vendor"
            vendor.mkdir(parents=True, exist_ok=True)
            for name, target in PLAYER_FILES.items():
                shutil.copyfile(package / name, vendor / target)
            shutil.copyfile(ASSETS / "site.css", out / "site.css")
            _move_pictures(Path(staging), out, casts)
            pages = [out / c.page for c in casts]
            for cast, page in zip(casts, pages, strict=True):
                _write(page, render_page(cast))
            index = out / "index.html"
            _write(index, render_index(casts))
        except OSError as exc:
            raise SiteError(f"{out}: cannot write the site: {exc}", 1) from exc
    without = sum(c.pictures is None for c in casts) if pictures else 0
    return SiteResult(
        pages=[index, *pages],
        player_version=PLAYER_VERSION,
        unreadable=unreadable,
        without_pictures=without,
    )


def _to_stderr(line: str) -> None:
    print(f"stagecast: {line}", file=sys.stderr, flush=True)


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def cmd_site(args: argparse.Namespace) -> int:
    """CLI glue: a line per unreadable cast (stderr), one naming the index; exit 1 when a cast
    was left out. Other errors reach main() as SiteError."""
    result = build_site(
        args.casts_dir,
        args.output,
        idle_limit=args.idle_limit,
        strict=args.strict,
        pictures=args.pictures,
        gif_max=args.gif_max,
    )
    casts = len(result.pages) - 1
    summary = f"{result.index}: {_plural(casts, 'cast')} (asciinema-player {result.player_version})"
    if result.unreadable:
        summary += f"; {_plural(len(result.unreadable), 'file')} left out (unreadable)"
    if result.without_pictures:
        summary += f"; {_plural(result.without_pictures, 'page')} without pictures"
    print(summary)
    return 1 if result.unreadable else 0
