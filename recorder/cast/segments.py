"""A cast as the audience saw it, step by step: the segments between its markers
(`Cast.segments`), each played through pyte (`recorder.cast.seen`), for drift diffs and
rehearsal baselines: what each step left on screen, and what it showed and took away.

Any `recorder.cast.model.Cast` will do: one read from a file (`load_cast`) or the one a run
is recording (`CastRecording.to_cast`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .model import Cast
from .seen import watch

START = "(start)"  # the label of whatever a cast prints before its first marker
DEFAULT_WIDTH = 80


# Between what a step showed and took away and what it left on screen, in a step's text.
GONE = "── shown, then cleared or redrawn ──"
LEFT = "── on screen at the end ──"


@dataclass
class RenderedSegment:
    index: int  # 1-based marker number; 0 for the output before the first marker
    label: str
    final: str  # the screen at the end: lines rstripped, trailing blank lines dropped
    duration: float
    transient: list[str] = field(default_factory=list)  # shown, then cleared or redrawn

    @property
    def text(self) -> str:
        """Everything the step showed: the final screen, after what went by when anything did."""
        return self.view(lambda line: line)

    def view(self, clean: Callable[[str], str], *, once: bool = False) -> str:
        """`text` with `clean` applied to each part; `once`: a transient line that comes back
        (a redraw of the same thing, once masked) is kept the first time only."""
        final = clean(self.final)
        if not self.transient:
            return final
        gone = [clean(line) for line in self.transient]
        if once:
            gone = list(dict.fromkeys(gone))
        return "\n".join([GONE, *gone, LEFT, final])


def render(data: str, cols: int) -> str:
    """The text `data` leaves on a fresh screen `cols` wide that is tall enough never to scroll
    (what is left at the end, not what went by: see `seen.watch`)."""
    return watch([(0.0, "o", data)], cols).final


def segments(cast: Cast) -> list[RenderedSegment]:
    """The cast's segments rendered at its width; `(start)` only when something was printed
    before the first marker."""
    cols = cast.width or DEFAULT_WIDTH
    out: list[RenderedSegment] = []
    for seg in cast.segments:
        if seg.marker is None and not seg.output:
            continue
        seen = watch(seg.events, cols, cast.height)
        label = seg.label if seg.marker else START
        out.append(RenderedSegment(seg.index, label, seen.final, seg.duration, seen.transient))
    return out
