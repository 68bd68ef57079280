"""Pictures of casts: `stagecast render CAST -o OUT.gif|.svg|.png|.mp4|.webm`.

One module, one job:
- `timeline`: the events a render plays (the whole cast, or a chapter and its prelude),
  idle-capped and sped up as `stagecast play` does;
- `screen`: pyte, plus the alternate screen, the theme's 256-colour 0-15, and scroll counting;
- `frames`: the clip cut into frames (ticks of 1/fps, identical frames merged), and crops;
- `themes`: asciinema-player's palettes and the cast's own `theme` header;
- `metrics`: where every cell goes, the same in every format;
- `fonts`, `raster`: the fonts by path and frames drawn with Pillow;
- `gif`, `svg`, `video`: the writers; `api`: render_still, render_gif, render_file;
- `gallery`: render_pictures, every chapter's still and GIF in one pass (`stagecast site`);
- `chapters`, `progress`, `cli`: `--chapters DIR`, the progress line, the command's glue.

Choices:
- **Terminal emulator: pyte**, which the project already reads casts with
  (recorder/shell/screen.py, recorder/cast/seen.py), so a render shows what `check`, `diff`
  and the safety net saw.
- **Pillow** draws raster frames onto an 8-bit palette canvas: a GIF's 256 colours without
  quantizing, glyph and row images cached. The GIF is written here from Pillow's LZW frames
  (only the changed rectangle, unchanged pixels transparent), not with gifski: the frames are
  already exact in 256 colours, so a quantizing encoder has nothing to improve.
- **imageio-ffmpeg** (PyPI) brings its own ffmpeg binary for MP4 (H.264) and WebM (VP9), so
  nothing outside the registries is needed.
- **Fonts from Debian, by path:** DejaVu Sans Mono regular and bold (`fonts-dejavu-core`;
  oblique for italics from `fonts-dejavu-extra`, when installed);
  for what it lacks, Droid Sans Fallback (`fonts-droid-fallback`, CJK, 1.8 MB; Noto CJK is
  hundreds of MB, WenQuanYi Zen Hei 7.5 MB) and Symbola (`fonts-symbola`, emoji, 1.3 MB).
  A missing one is a one-line error naming its package.
- **15 fps by default:** stagecast types at 10-20 characters a second (the published casts'
  median keystroke gaps are 48-107 ms), so a 67 ms frame shows every keystroke or two; more
  frames would only add size where output scrolls faster than anyone reads. At most 50
  (a GIF's delays are hundredths of a second, and browsers slow down delays under 2).
- **The SVG** animates with CSS keyframes: the view scrolls down a tall document and each
  frame is a group drawing only the cells that changed (see `svg`).
- **Progress** on stderr only when it is a terminal and the render has taken 2 s, as
  `stagecast record`'s live view is only for a terminal.
"""

from __future__ import annotations

from .api import RenderSettings, render_file, render_gif, render_still
from .gallery import Pictures, render_pictures

__all__ = [
    "Pictures",
    "RenderSettings",
    "render_file",
    "render_gif",
    "render_pictures",
    "render_still",
]
