"""MP4 (H.264) and WebM (VP9) through ffmpeg, the binary the `imageio-ffmpeg` wheel bundles.

Video is constant frame rate: each frame's RGB pixels are written to ffmpeg's stdin as raw
video once per tick it is shown (a held frame costs the encoder next to nothing). The
picture is padded to even sides for yuv420p, which every player decodes.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from pathlib import Path

from recorder.errors import PrerequisiteError

from .raster import Rasterizer
from .screen import Snapshot
from .themes import rgb_hex
from .timeline import RenderError

CODECS = {
    ".mp4": [
        "-c:v", "libx264", "-preset", "veryfast", "-tune", "animation", "-crf", "20",
        "-pix_fmt", "yuv420p", "-movflags", "+faststart",
    ],
    ".webm": [
        "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-row-mt", "1",
        "-crf", "32", "-b:v", "0", "-pix_fmt", "yuv420p",
    ],
}  # fmt: skip


def ffmpeg() -> str:
    """The bundled ffmpeg, or a one-line error naming the package."""
    try:
        import imageio_ffmpeg
    except ImportError as exc:
        raise PrerequisiteError(
            "MP4/WebM need the Python package imageio-ffmpeg (pip install imageio-ffmpeg)"
        ) from exc
    try:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError as exc:
        raise PrerequisiteError(f"imageio-ffmpeg has no ffmpeg binary here: {exc}") from exc


def write_video(
    raster: Rasterizer, frames: Iterable[tuple[Snapshot, float]], out: Path, fps: float, kind: str
) -> int:
    """Encode frames (snapshot, seconds shown) to `out`; returns the number of distinct frames."""
    width, height = raster.canvas.size
    pad = f"pad=ceil(iw/2)*2:ceil(ih/2)*2:0:0:{rgb_hex(raster.theme.bg)}"
    command = [
        ffmpeg(), "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", f"{fps:g}",
        "-i", "-", "-an", "-vf", pad, *CODECS[kind], "-f", kind.lstrip("."),
        str(out),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert process.stdin is not None
    count, clock, shown = 0, 0.0, 0
    try:
        for snap, duration in frames:
            raster.paint(snap)
            pixels = raster.image().convert("RGB").tobytes()
            clock += duration
            ticks = max(1, round(clock * fps) - shown)
            for _ in range(ticks):
                process.stdin.write(pixels)
            shown += ticks
            count += 1
        process.stdin.close()
    except BrokenPipeError:
        pass  # ffmpeg stopped reading: its own error is reported below
    except BaseException:
        process.kill()
        process.wait()
        raise
    error = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if process.wait() != 0:
        lines = [line for line in error.splitlines() if line.strip()]
        raise RenderError(f"ffmpeg failed: {lines[-1] if lines else process.returncode}", 1)
    return count
