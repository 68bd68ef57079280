"""Every chapter's still and GIF, and the whole cast's: the pictures of `stagecast site`.

    render_pictures(cast, out_dir, gif_max=600.0, settings=RenderSettings(...))

Files are named as `stagecast render --chapters` names them (`chapters.file_stems`):
`NN-label.png` and `NN-label.gif` per chapter, `NAME.png` and `NAME.gif` for the whole cast,
and hold what `render --chapter LABEL -o NN-label.png|gif` would write, byte for byte.

Each picture is rendered once, and the cast is played at most twice, whatever its number
of chapters: one terminal plays the chapters one after the other (each starts from the screen
the ones before it left, where `render --chapter` replays them all first), each chapter's
GIF made as it plays and its still from its last frame; then the whole cast's GIF, whose
frames fall on its own ticks. The whole cast's still is its last frame, taken from either.

A GIF is made only for a clip (a chapter, or the whole cast) that lasts at most `gif_max`
seconds, idle-capped: a GIF cannot be paused or sought, so a longer one is the wrong way to
watch it (the page's player is there) and costs megabytes (the published casts' GIFs take
1-11 KB a second). Its still is made all the same.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from player.streamed import AnyCast
from recorder.cast.model import Marker

from .api import RenderSettings, as_cast, atomic, need_pillow, save_png
from .chapters import file_stems
from .frames import Terminal, View, frames, new_player, screen_at
from .metrics import geometry
from .screen import Snapshot
from .themes import Theme, choose_theme
from .timeline import Clip, chapter_clips, clip_of

if TYPE_CHECKING:
    from .raster import Rasterizer

DEFAULT_GIF_MAX = 600.0  # seconds: ten minutes


@dataclass(frozen=True)
class Picture:
    marker: Marker | None  # None: the whole cast
    still: Path  # its last frame, a PNG
    gif: Path | None  # None: longer than gif_max
    duration: float  # seconds it plays, idle-capped (without the GIF's hold at the end)


@dataclass(frozen=True)
class Pictures:
    size: tuple[int, int]  # every picture's, in pixels
    whole: Picture
    chapters: list[Picture]  # one per marker, in order


def check_pictures(font_size: int = RenderSettings.font_size) -> None:
    """Pillow and the fonts a raster picture needs: PrerequisiteError (FontMissing), one
    line naming what to install, before any cast is played."""
    need_pillow()
    from .fonts import FontSet

    FontSet.load(font_size)


def wants_gif(duration: float, gif_max: float | None) -> bool:
    """None: every clip gets a GIF; 0: none does."""
    return gif_max is None or (gif_max > 0 and duration <= gif_max)


def render_pictures(
    cast: AnyCast | str | Path,
    out_dir: Path,
    *,
    gif_max: float | None = DEFAULT_GIF_MAX,
    settings: RenderSettings | None = None,
    warn: Callable[[str], None] | None = None,
) -> Pictures:
    """Write the cast's pictures into `out_dir` (which must exist)."""
    settings = (settings or RenderSettings()).check()
    if gif_max is not None and not (math.isfinite(gif_max) and gif_max >= 0):
        raise ValueError(f"gif_max {gif_max}: a number of seconds, 0 or more")
    cast = as_cast(cast)
    need_pillow()
    theme = choose_theme(settings.theme, cast.theme, cast.path)
    whole_clip = clip_of(cast, None, speed=settings.speed, idle_limit=settings.idle_limit)
    cols, rows = View(settings.cols, settings.rows).size(whole_clip.cols, whole_clip.rows)
    draw = _Drawing(theme, cols, rows, settings, warn)
    whole_stem, stems = file_stems(cast)

    head, clips = chapter_clips(cast, speed=settings.speed, idle_limit=settings.idle_limit)
    terminal = new_player(whole_clip.cols, whole_clip.rows)
    for _, code, data in head:
        terminal[1](code, data)
    chapters: list[Picture] = []
    last: Snapshot | None = None
    for marker, clip, stem in zip(cast.markers, clips, stems, strict=True):
        gif = out_dir / f"{stem}.gif" if wants_gif(clip.duration, gif_max) else None
        last = draw.clip(clip, gif, terminal)
        still = out_dir / f"{stem}.png"
        draw.still(last, still)
        chapters.append(Picture(marker, still, gif, clip.duration))

    gif = out_dir / f"{whole_stem}.gif" if wants_gif(whole_clip.duration, gif_max) else None
    if gif is not None:
        last = draw.clip(whole_clip, gif, None)
    elif last is None:  # no chapters: the whole cast is played for its last frame
        last = draw.clip(whole_clip, None, None)
    still = out_dir / f"{whole_stem}.png"
    draw.still(last, still)
    whole = Picture(None, still, gif, whole_clip.duration)
    return Pictures(geometry(settings.font_size, cols, rows).size, whole, chapters)


class _Drawing:
    """One cast's look; a new rasterizer per file, so each file's palette is its own (as a
    separate `stagecast render` would make it)."""

    def __init__(
        self,
        theme: Theme,
        cols: int,
        rows: int,
        settings: RenderSettings,
        warn: Callable[[str], None] | None,
    ) -> None:
        self.theme, self.cols, self.rows, self.settings = theme, cols, rows, settings
        self.warn = _once(warn)

    def _raster(self) -> Rasterizer:
        from .raster import rasterizer

        return rasterizer(self.theme, self.cols, self.rows, self.settings.font_size, self.warn)

    def _view(self) -> View:
        return View(self.settings.cols, self.settings.rows)

    def clip(self, clip: Clip, gif: Path | None, terminal: Terminal | None) -> Snapshot:
        """Play the clip (on `terminal`, else on its own), writing its GIF when asked;
        returns its last frame."""
        if gif is None:
            return screen_at(clip, None, self._view(), terminal)
        from .gif import GifWriter

        writer = GifWriter(self._raster())
        last = None
        for frame in frames(clip, self.settings.fps, self._view(), terminal=terminal):
            writer.add(frame.snap, frame.duration)
            last = frame.snap
        assert last is not None  # frames() always yields the last frame
        with atomic(gif) as tmp, open(tmp, "wb") as f:
            writer.write(f)
        return last

    def still(self, snap: Snapshot, out: Path) -> None:
        with atomic(out) as tmp:
            save_png(self._raster(), snap, tmp)


def _once(warn: Callable[[str], None] | None) -> Callable[[str], None] | None:
    """Each warning once, though every file's fonts would say it again."""
    if warn is None:
        return None
    said: set[str] = set()

    def once(line: str) -> None:
        if line not in said:
            said.add(line)
            warn(line)

    return once
