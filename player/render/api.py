"""Render a cast, or one chapter of it, to a file: the functions `stagecast render` and the
gallery's thumbnails call.

    render_still(cast, chapter=None, at=None, theme=None, out=Path("x.png"))
    render_gif(cast, out=Path("x.gif"), chapter=None)
    render_file(cast, out, chapter=..., at=..., settings=RenderSettings(...))

`cast` is a `recorder.cast.model.Cast` or a path to one, read as a stream
(`player.streamed.StreamedCast`: frames are taken at the fps as the events are read, so
memory does not grow with what the cast printed). The output's extension picks the
format (see FORMATS). Every file is written to a temporary name beside it and renamed into
place, so a failed render leaves no half-written picture.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from player.streamed import AnyCast, StreamedCast
from recorder.cast.model import Cast
from recorder.errors import PrerequisiteError

from .frames import Frame, View, frames, screen_at
from .themes import choose_theme
from .timeline import Clip, RenderError, clip_of

if TYPE_CHECKING:
    from .raster import Rasterizer
    from .screen import Snapshot

FORMATS = ("gif", "png", "svg", "mp4", "webm")
DEFAULT_FPS = 15.0
MAX_FPS = 50.0  # a GIF's delays are in 1/100 s, and browsers slow down anything under 2
DEFAULT_FONT_SIZE = 14


@dataclass(frozen=True)
class RenderSettings:
    theme: str | None = None  # None: the cast's own theme when it has one, else asciinema
    font_size: int = DEFAULT_FONT_SIZE
    fps: float = DEFAULT_FPS
    speed: float = 1.0
    idle_limit: float | None = None  # None: the cast's idle_time_limit, else none
    cols: int | None = None
    rows: int | None = None

    def check(self) -> RenderSettings:
        if not (math.isfinite(self.fps) and 1 <= self.fps <= MAX_FPS):
            raise RenderError(f"--fps {self.fps:g}: give a number from 1 to {MAX_FPS:g}")
        if not 6 <= self.font_size <= 96:
            raise RenderError(f"--font-size {self.font_size}: give a size from 6 to 96 pixels")
        for flag, value in (("--cols", self.cols), ("--rows", self.rows)):
            if value is not None and value < 1:
                raise RenderError(f"{flag} {value}: give a number of cells, 1 or more")
        return self


@dataclass(frozen=True)
class Rendered:
    path: Path
    kind: str
    frames: int
    duration: float  # seconds the animation lasts (0 for a still)
    seconds: float  # wall time the render took
    size: int  # bytes written

    def summary(self) -> str:
        what = "still" if self.kind == "png" else f"{self.frames} frames, {self.duration:.1f} s"
        return f"{self.path}: {what}, {_kb(self.size)} in {self.seconds:.1f} s"


def _kb(size: int) -> str:
    return f"{size / 1024:.0f} KB" if size < 10 * 1024 * 1024 else f"{size / 2**20:.1f} MB"


def format_of(out: Path) -> str:
    kind = out.suffix.lower().lstrip(".")
    if kind not in FORMATS:
        raise RenderError(
            f"{out}: the extension picks the format: .{', .'.join(FORMATS)}"
            + (f" (not .{kind})" if kind else "")
        )
    return kind


def as_cast(cast: AnyCast | str | Path) -> AnyCast:
    """A cast as given, or the file at a path read as a stream (its markers read, its events
    read again whenever played)."""
    if isinstance(cast, Cast | StreamedCast):
        return cast
    return StreamedCast.open(cast)


@contextmanager
def atomic(out: Path) -> Iterator[Path]:
    """A temporary path beside `out`, renamed to it when the block succeeds."""
    if out.is_dir():
        raise RenderError(f"{out}: is a directory")
    if not out.parent.is_dir():
        raise RenderError(f"{out.parent}: no such directory")
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=out.suffix, dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def _frames(
    clip: Clip, settings: RenderSettings, progress: Callable[[float], None] | None
) -> Iterator[Frame]:
    view = View(settings.cols, settings.rows)
    return frames(clip, settings.fps, view, progress=progress)


def render_clip(
    cast: AnyCast,
    clip: Clip,
    out: Path,
    settings: RenderSettings,
    *,
    at: float | None = None,
    progress: Callable[[float], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> Rendered:
    """Render `clip` (of `cast`) to `out`, in the format its extension names."""
    kind = format_of(out)
    if at is not None and kind != "png":
        raise RenderError("--at picks a still: it goes with a .png output")
    if at is not None and not 0 <= at <= clip.duration:
        raise RenderError(
            f"--at {at:g}: the {'chapter' if clip.index else 'cast'} lasts {clip.duration:.1f} s "
            "(idle-capped, at this speed)"
        )
    theme = choose_theme(settings.theme, cast.theme, cast.path)
    cols, rows = View(settings.cols, settings.rows).size(clip.cols, clip.rows)
    started = time.monotonic()
    count, duration = 1, 0.0
    with atomic(out) as tmp:
        if kind == "svg":
            from .svg import render_svg

            text, count = render_svg(
                _frames(clip, settings, progress), theme, cols, rows, settings.font_size
            )
            tmp.write_text(text, encoding="utf-8")
            duration = _length(clip)
        else:
            need_pillow()
            from .raster import rasterizer

            raster = rasterizer(theme, cols, rows, settings.font_size, warn)
            if kind == "png":
                save_png(raster, screen_at(clip, at, View(settings.cols, settings.rows)), tmp)
            else:
                pairs = ((f.snap, f.duration) for f in _frames(clip, settings, progress))
                duration = _length(clip)
                if kind == "gif":
                    from .gif import write_gif

                    with open(tmp, "wb") as f:
                        count = write_gif(raster, pairs, f)
                else:
                    from .video import write_video

                    count = write_video(raster, pairs, tmp, settings.fps, f".{kind}")
        size = tmp.stat().st_size
    return Rendered(out, kind, count, duration, time.monotonic() - started, size)


def save_png(raster: Rasterizer, snap: Snapshot, path: Path) -> None:
    """The snapshot as a PNG: palette colours, no metadata (no time, no text chunks), so the
    same screen is the same bytes."""
    raster.paint(snap)
    raster.image().save(path, format="PNG", optimize=True)


def need_pillow() -> None:
    try:
        import PIL  # noqa: F401
    except ImportError as exc:
        raise PrerequisiteError(
            "GIF, PNG, MP4 and WebM need the Python package Pillow (pip install pillow)"
        ) from exc


def _length(clip: Clip) -> float:
    from .frames import END_HOLD

    return clip.duration + END_HOLD


def render_file(
    cast: AnyCast | str | Path,
    out: Path,
    *,
    chapter: str | None = None,
    at: float | None = None,
    settings: RenderSettings | None = None,
    progress: Callable[[float], None] | None = None,
    warn: Callable[[str], None] | None = None,
) -> Rendered:
    """The whole cast or one chapter (exact label, else part of one, else 1-based number)."""
    settings = (settings or RenderSettings()).check()
    cast = as_cast(cast)
    clip = clip_of(cast, chapter, speed=settings.speed, idle_limit=settings.idle_limit)
    return render_clip(cast, clip, Path(out), settings, at=at, progress=progress, warn=warn)


def render_still(
    cast: AnyCast | str | Path,
    chapter: str | None = None,
    at: float | None = None,
    theme: str | None = None,
    out: Path = Path("still.png"),
    **settings: object,
) -> Rendered:
    """A PNG: the chapter's last frame, or the screen at `at` seconds (from the chapter's
    start; idle-capped), or the cast's last frame."""
    chosen = replace(RenderSettings(), theme=theme, **settings)  # type: ignore[arg-type]
    return render_file(cast, Path(out).with_suffix(".png"), chapter=chapter, at=at, settings=chosen)


def render_gif(
    cast: AnyCast | str | Path,
    out: Path,
    chapter: str | None = None,
    theme: str | None = None,
    **settings: object,
) -> Rendered:
    """An animated GIF of the cast or of one chapter."""
    chosen = replace(RenderSettings(), theme=theme, **settings)  # type: ignore[arg-type]
    return render_file(cast, Path(out).with_suffix(".gif"), chapter=chapter, settings=chosen)
