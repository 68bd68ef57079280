"""`stagecast render CAST -o OUT` and `stagecast render CAST --chapters DIR`: the CLI glue.

One line per file written on stdout; bad input is one line and exit 2 (RenderError,
FontMissing, a cast that cannot be read, an unknown chapter), reported by stagecast's main.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from player.streamed import AnyCast
from recorder.cast.model import Marker

from .api import Rendered, RenderSettings, as_cast, render_clip
from .chapters import DEFAULT_FORMATS, chapter_files, parse_formats
from .progress import RenderProgress
from .timeline import Clip, RenderError, clip_of, parse_time


def _warn(line: str) -> None:
    print(f"stagecast: {line}", file=sys.stderr, flush=True)


def settings_of(args: argparse.Namespace) -> RenderSettings:
    return RenderSettings(
        theme=args.theme,
        font_size=args.font_size,
        fps=args.fps,
        speed=args.speed,
        idle_limit=args.idle_limit,
        cols=args.cols,
        rows=args.rows,
    ).check()


def cmd_render(args: argparse.Namespace) -> int:
    if (args.output is None) == (args.chapters is None):
        raise RenderError("say where: -o OUT (one file) or --chapters DIR (one file per chapter)")
    if args.formats is not None and args.chapters is None:
        raise RenderError("--formats goes with --chapters DIR (with -o, the extension decides)")
    at = parse_time(args.at) if args.at is not None else None
    if at is not None and args.chapters is not None:
        raise RenderError("--at picks one still: it goes with -o OUT.png")
    settings = settings_of(args)
    cast = as_cast(args.cast)
    if args.chapters is not None:
        return _chapters(cast, args, settings)
    clip = clip_of(cast, args.chapter, speed=settings.speed, idle_limit=settings.idle_limit)
    _report(_one(cast, clip, args.output, settings, at))
    return 0


def _one(
    cast: AnyCast, clip: Clip, out: Path, settings: RenderSettings, at: float | None
) -> Rendered:
    progress = RenderProgress(out.name, clip.duration)
    try:
        return render_clip(cast, clip, out, settings, at=at, progress=progress, warn=_warn)
    finally:
        progress.stop()


def _chapters(cast: AnyCast, args: argparse.Namespace, settings: RenderSettings) -> int:
    formats = parse_formats(args.formats) if args.formats else DEFAULT_FORMATS
    if args.chapter is not None:
        raise RenderError("--chapter renders one chapter with -o; --chapters DIR renders them all")
    out_dir: Path = args.chapters
    if out_dir.exists() and not out_dir.is_dir():
        raise RenderError(f"--chapters {out_dir}: not a directory")
    if not cast.markers:
        _warn(f"{cast.path}: no markers: only the whole cast is rendered")
    out_dir.mkdir(parents=True, exist_ok=True)
    clips: dict[Marker | None, Clip] = {}
    for marker, path in chapter_files(cast, out_dir, formats):
        if marker not in clips:
            clips[marker] = clip_of(
                cast, marker, speed=settings.speed, idle_limit=settings.idle_limit
            )
        _report(_one(cast, clips[marker], path, settings, None))
    return 0


def _report(done: Rendered) -> None:
    print(done.summary(), flush=True)
