"""Animated GIF, written frame by frame.

Each frame after the first is only the rectangle that changed, and inside it every pixel
that did not change is the transparent index (disposal "leave in place"): long runs of one
index, which LZW packs well. Pillow encodes each rectangle (`GifImagePlugin.getdata`); the
file around them (header, one global palette, the loop extension, each frame's delay in
hundredths of a second, rounded so that the delays add up to the frames' times) is written
here. Frames are kept encoded in memory until the palette is complete, then written at once.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import IO

from .raster import TRANSPARENT, Rasterizer
from .screen import Snapshot

MIN_DELAY_CS = 2  # browsers show shorter GIF delays as 1/10 s


def _centis(seconds: float) -> int:
    return round(seconds * 100)


class GifWriter:
    def __init__(self, raster: Rasterizer) -> None:
        from PIL import Image

        self.raster = raster
        self.chunks: list[bytes] = []
        self.frames = 0
        self._previous = Image.new("L", raster.canvas.size, raster.bg)
        self._pending: list[object] | None = None  # [encoded, transparent, start_cs, end_cs]
        self._clock = 0.0

    def add(self, snap: Snapshot, duration: float) -> None:
        """One frame, shown for `duration` seconds."""
        from PIL import GifImagePlugin, Image, ImageChops

        raster = self.raster
        raster.paint(snap)
        canvas = raster.canvas
        start_cs, end_cs = _centis(self._clock), _centis(self._clock + duration)
        self._clock += duration
        first = self.frames == 0
        box = (
            (0, 0, *canvas.size)
            if first
            else ImageChops.difference(canvas, self._previous).getbbox()
        )
        if box is None:  # nothing changed: the frame before is shown longer
            if self._pending is not None:
                self._pending[3] = end_cs
            return
        part = canvas.crop(box)
        if not first:
            changed = ImageChops.difference(part, self._previous.crop(box)).point(_CHANGED)
            sparse = Image.new("L", part.size, TRANSPARENT)
            sparse.paste(part, (0, 0), changed)
            self._previous.paste(part, box[:2])
            part = sparse
        else:
            self._previous.paste(part, box[:2])
        indexed = Image.frombytes("P", part.size, part.tobytes())
        encoded = b"".join(GifImagePlugin.getdata(indexed, box[:2]))  # descriptor + LZW data
        self._flush()
        self._pending = [encoded, not first, start_cs, end_cs]
        self.frames += 1

    def _flush(self) -> None:
        if self._pending is None:
            return
        encoded, transparent, start_cs, end_cs = self._pending
        assert isinstance(encoded, bytes) and isinstance(start_cs, int) and isinstance(end_cs, int)
        delay = max(MIN_DELAY_CS, end_cs - start_cs)
        packed = (1 << 2) | (1 if transparent else 0)  # disposal 1: leave in place
        control = b"!\xf9\x04" + struct.pack("<BHB", packed, delay, TRANSPARENT) + b"\x00"
        self.chunks.append(control + encoded)
        self._pending = None

    def write(self, out: IO[bytes]) -> None:
        self._flush()
        width, height = self.raster.canvas.size
        palette = bytes(self.raster.palette.flat())
        out.write(b"GIF89a" + struct.pack("<HHBBB", width, height, 0xF7, 0, 0))
        out.write(palette)
        out.write(b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00")  # loop for ever
        for chunk in self.chunks:
            out.write(chunk)
        out.write(b";")


_CHANGED = [0] + [255] * 255


def write_gif(raster: Rasterizer, frames: Iterable[tuple[Snapshot, float]], out: IO[bytes]) -> int:
    """Frames (snapshot, seconds shown) to `out`; returns the number of GIF frames."""
    writer = GifWriter(raster)
    for snap, duration in frames:
        writer.add(snap, duration)
    writer.write(out)
    return writer.frames
