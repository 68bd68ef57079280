"""`stagecast check`: does a scenario still tell the story of the speaker's own recording?

The speaker's hand-made casts hold what the audience saw, not what was sent: typos fixed with
backspace, history recalls, tmux panes and status lines, k9s redraws. So the cast is *rendered*
through a terminal emulator (pyte, taught tmux's scroll regions, `CSI S`/`CSI T` and DECSLRM
left/right margins) event by event, never read as a byte stream. Output events written within
3 ms of each other count as one event (one write, split in chunks).

- **Panes.** A tmux pane is the rectangle around the cursor between pane borders (`│` columns,
  `─` rows), without tmux's status line. Each text read below is cropped to the pane.
- **Enter.** The cursor leaves a row downwards (a line feed, or for a pane that does not start
  at column 0 tmux's lazy move to the next row's start, with bash turning bracketed paste
  off), in an event that wrote on no other rows than that command line (its echo, the line
  redrawn by a history search), that is no repaint (tmux repaints start by hiding the
  cursor), and not because a full row wraps. The row, joined with the rows above it that
  it wraps or continues (`\\`), must start with a prompt: up to three words ending in `$ `,
  `# `, `% ` (`bash-3.2$ `, `[vagrant@fedora ~]$ `, `root@kind-worker:/# `, `/ # `); the
  prompt is stripped and the rest is the command as the audience saw it, typos corrected.
- **Multi-line commands.** While a command is unfinished (open heredoc or quote, trailing
  `\\`, `|`, `&&`), an Enter below it adds every row down to there (`> ` lines, a pasted or
  recalled multi-line buffer); a buffer of several commands run at one Enter is split into
  its commands, which share the output.
- **Output.** From its Enter, each command keeps a transcript of its pane: rows are synced as
  shown, and kept when they scroll out. The output is the rows after the command, up to the
  next row that starts with a prompt seen before, each as last shown (full rows joined with
  the next, as the line was before wrapping). So k9s redrawing another pane, tmux's clock, or
  a corrected typo never leak into an output. A screen clear, an alternate screen, or a tmux
  repaint after the command finished ends it.

Steps are then aligned with the commands (see `check`), and their output expectations
evaluated on the recorded output with `recorder.run.expectations.evaluate` (no exit code, no
screen, no kube check: a recording has none of those).
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyte
from pyte.screens import Margins

from recorder.errors import StagecastError
from recorder.run.expectations import capture, evaluate
from recorder.scenario.loader import LoadedScenario
from recorder.scenario.masks import BUILTIN_MASKS, apply_masks, compile_masks
from recorder.scenario.model import Expect, Step

FOUND_THRESHOLD = 0.8
FUZZY_RATIO = 0.85
EXACT, NEAR = 100, 90  # alignment weights: as many steps as possible, exactly if possible
EXPLAINED = 50  # ... and those with `differs:` only where they cost no other step
ALIASES = {"k": "kubectl", "kubecolor": "kubectl"}  # the speaker's shell aliases
ALIAS = re.compile(r"(^|[|;&(]\s*)(k|kubecolor)(?=\s|$)")
# In a command line `ovn-sbctl` or `-owide` must not read as a pod name's random suffix: mask
# one only after a ReplicaSet hash, or with a digit in it (kube-proxy-2598l, coredns-...-srqrz)
COMMAND_MASKS = {
    "pod-suffix": r"(?<=[a-z0-9]-)(?:[a-f0-9]{8,10}-[a-z0-9]{5}|(?=[a-z]*\d)[a-z0-9]{5})\b"
}
KINDS = {
    **dict.fromkeys(("po", "pods"), "pod"),
    **dict.fromkeys(("no", "nodes"), "node"),
    **dict.fromkeys(("service", "services"), "svc"),
    **dict.fromkeys(("endpoint", "endpoints"), "ep"),
    **dict.fromkeys(("deployment", "deployments"), "deploy"),
    **dict.fromkeys(("daemonset", "daemonsets"), "ds"),
    **dict.fromkeys(("namespace", "namespaces"), "ns"),
}
KUBE_KIND = re.compile(r"(\bkubectl\s+(?:get|describe|delete|edit)\s+)([a-z]+)\b")

# A prompt: up to two words, then one more, then `$ `, `# `, `% `... (`/ # ` too, not `# `)
PROMPT = re.compile(r"(?P<prompt>(?:[^\s$#]+ ){0,2}?[^\s$#%❯»]+ ?[$#%❯»] )(?P<cmd>.*)")
DCS = re.compile(r"\x1b[P^_][^\x1b]*\x1b\\")  # device control strings: tmux's sync marks
BORDER = set("─━═┬┴┼├┤╋┳┻")
VBORDER = "│┃║"
STATUS = re.compile(r"\[\S.*\b\d{1,2}:\d{2}\b")  # tmux: `[0] 0:bash*   "host" 12:00 01-Jan-25`
HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")
VAR_REF = re.compile(r"\$(\$?)\{([^}]*)\}")
ANY = "\x00"  # stands for a value the check cannot know (an uncaptured ${name})


class CastError(StagecastError):
    exit_code = 2


@dataclass
class RecordedCommand:
    """One command typed in the recording, as the audience saw it."""

    command: str  # prompt stripped; continuation lines joined with "\n"
    output: str = ""  # the rendered rows it printed, plain text
    time: float = 0.0  # seconds from the start of the recording, when Enter was pressed
    prompt: str = ""


# -- reading a cast --------------------------------------------------------------------------


def read_cast(path: str | Path) -> tuple[int, int, list[tuple[float, str, str]]]:
    """(cols, rows, [(time, kind, data)]) of an asciicast v1 or v2 file; CastError if not."""
    path = Path(path)
    bad = f"{path}: not an asciicast v1/v2 file"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise CastError(f"{bad} (cannot read it: {exc.strerror or exc})") from None
    try:
        lines = text.splitlines()
        header = json.loads(lines[0]) if lines else None
        if isinstance(header, dict) and header.get("version") == 2:
            events = []
            for line in lines[1:]:
                if not line.strip():
                    continue
                t, kind, data = json.loads(line)
                events.append((float(t), str(kind), str(data)))
            return int(header["width"]), int(header["height"]), events
        whole = json.loads(text)
        if isinstance(whole, dict) and whole.get("version") == 1:
            events, now = [], 0.0
            for delay, data in whole["stdout"]:
                now += float(delay)
                events.append((now, "o", str(data)))
            return int(whole["width"]), int(whole["height"]), events
    except (ValueError, TypeError, KeyError, IndexError):
        pass
    raise CastError(bad)


# -- the emulator ----------------------------------------------------------------------------

Rect = tuple[int, int, int, int]  # top, bottom, left, right (inclusive)


class _Screen(pyte.Screen):
    """A pyte screen that also scrolls rectangles (tmux's DECSLRM left/right margins, `CSI S`,
    `CSI T`) and reports scrolls, line feeds and clears to the extractor before they happen."""

    def __init__(self, cols: int, rows: int, extractor: _Extractor) -> None:
        self.extractor = extractor
        self.lr: tuple[int, int] | None = None  # left/right margins
        self.lrmm = False  # DECLRMM (mode 69): `CSI l;r s` sets left/right margins
        self.saved: tuple[Any, ...] | None = None  # the main screen, on the alternate one
        self.deleting = False  # scrolling because of `CSI M` (delete lines)
        self.ready = False
        super().__init__(cols, rows)
        self.ready = True

    def row_text(self, y: int, left: int = 0, right: int | None = None) -> str:
        line = self.buffer.get(y)
        if not line:
            return ""
        end = self.columns - 1 if right is None else right
        cells = [" "] * (end - left + 1)
        for x, char in line.items():
            if left <= x <= end:
                cells[x - left] = char.data
        return "".join(cells).rstrip()

    def _region(self) -> Rect:
        top, bottom = self.margins or Margins(0, self.lines - 1)
        left, right = self.lr or (0, self.columns - 1)
        return top, bottom, left, right

    # scrolling
    def _scroll(self, count: int, up: bool = True) -> None:
        """Scroll the region's rectangle by `count` rows, as a terminal with margins does."""
        top, bottom, left, right = self._region()
        if up:
            self.extractor.scrolled((top, bottom, left, right), count)
        self.dirty.update(range(top, bottom + 1))
        rows = list(range(top, bottom + 1))
        moves = rows if up else rows[::-1]
        for y in moves:
            source = y + count if up else y - count
            dst = self.buffer[y]
            if top <= source <= bottom:
                src = self.buffer[source]
                for x in range(left, right + 1):
                    if x in src:
                        dst[x] = src[x]
                    else:
                        dst.pop(x, None)
            else:
                for x in range(left, right + 1):
                    dst.pop(x, None)

    def index(self) -> None:
        top, bottom, left, right = self._region()
        if self.cursor.y == bottom and left <= self.cursor.x <= right:
            self._scroll(1)
        elif self.cursor.y != bottom:
            self.cursor_down()

    def reverse_index(self) -> None:
        top, _, left, right = self._region()
        if self.cursor.y == top and left <= self.cursor.x <= right:
            self._scroll(1, up=False)
        elif self.cursor.y != top:
            self.cursor_up()

    def scroll_up(self, count: int | None = None, *args: Any, **kwargs: Any) -> None:
        self._scroll(max(count or 1, 1))

    def scroll_down(self, count: int | None = None, *args: Any, **kwargs: Any) -> None:
        if not args:  # CSI T with several parameters is mouse tracking, not a scroll
            self._scroll(max(count or 1, 1), up=False)

    def insert_lines(self, count: int | None = None) -> None:
        top, bottom, _, _ = self._region()
        if top <= self.cursor.y <= bottom:
            saved, self.margins = self.margins, Margins(self.cursor.y, bottom)
            self._scroll(max(count or 1, 1), up=False)
            self.margins = saved
            self.carriage_return()

    def delete_lines(self, count: int | None = None) -> None:
        top, bottom, _, _ = self._region()
        if top <= self.cursor.y <= bottom:
            saved, self.margins = self.margins, Margins(self.cursor.y, bottom)
            self.deleting = True
            self._scroll(max(count or 1, 1))
            self.margins, self.deleting = saved, False
            self.carriage_return()

    def linefeed(self) -> None:
        self.extractor.linefeed()
        super().linefeed()

    def draw(self, data: str) -> None:
        self.extractor.drawn.add(self.cursor.y)
        super().draw(data)

    def cursor_position(self, line: int | None = None, column: int | None = None) -> None:
        if self.ready:
            self.extractor.moving((line or 1) - 1, (column or 1) - 1)
        super().cursor_position(line, column)

    def carriage_return(self) -> None:
        left = self.lr[0] if self.lr and self.cursor.x >= self.lr[0] else 0
        self.cursor.x = left

    def set_lr_margins(self, *params: int, **kwargs: Any) -> None:
        if not self.lrmm:
            self.save_cursor()  # plain `CSI s`: save the cursor (SCOSC)
            return
        left = (params[0] if params and params[0] else 1) - 1
        right = (params[1] if len(params) > 1 and params[1] else self.columns) - 1
        full = left <= 0 and right >= self.columns - 1
        self.lr = None if full or right <= left else (left, min(right, self.columns - 1))
        self.cursor_position()

    # clears and modes
    def reset(self) -> None:
        if self.ready:
            self.extractor.cleared()
        self.lr = None
        super().reset()

    def erase_in_display(self, how: int = 0, *args: Any, **kwargs: Any) -> None:
        if how in (2, 3):
            self.extractor.cleared()
        super().erase_in_display(how, *args, **kwargs)

    def set_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private"):
            self.lrmm = self.lrmm or 69 in modes
            if any(m in (47, 1047, 1049) for m in modes) and self.saved is None:
                self.extractor.cleared()
                lines = {y: dict(line) for y, line in self.buffer.items()}
                self.saved = (lines, self.cursor.x, self.cursor.y)
                self.buffer.clear()
        super().set_mode(*modes, **kwargs)

    def reset_mode(self, *modes: int, **kwargs: Any) -> None:
        if kwargs.get("private"):
            if 69 in modes:
                self.lrmm, self.lr = False, None
            if any(m in (47, 1047, 1049) for m in modes) and self.saved is not None:
                self.extractor.cleared()
                lines, x, y = self.saved
                self.saved = None
                self.buffer.clear()
                for row, chars in lines.items():
                    self.buffer[row].update(chars)
                self.cursor.x, self.cursor.y = x, y
        super().reset_mode(*modes, **kwargs)


class _Stream(pyte.Stream):
    csi = {**pyte.Stream.csi, "S": "scroll_up", "T": "scroll_down", "s": "set_lr_margins"}


@dataclass
class _Open:
    """A command whose output is still being collected: a transcript of its pane, kept by
    following the pane as it scrolls."""

    text: str  # the command line(s) typed after the prompt
    prompt: str
    time: float
    pane: Rect
    rows: list[str]  # the pane's rows since the command's first one, scrolled-out ones kept
    offset: int  # index in `rows` of the pane's top row now
    end: int  # index in `rows` of the command's last row: its output starts after it
    wraps: bool = False  # its last row is full: the next row continues it
    head: str = ""  # the line(s) typed at the prompt, before any continuation
    head_end: int = 0
    accepted: bool = False  # bash took the line (turned bracketed paste off): no more input


class _Extractor:
    def __init__(self, cols: int, rows: int) -> None:
        self.commands: list[RecordedCommand] = []
        self.open: list[_Open] = []
        self.prompts: set[str] = set()
        self.screen = _Screen(cols, rows, self)
        self.stream = _Stream(self.screen)
        self.now = 0.0
        self.event_row = 0  # where the cursor was when the current event began
        self.linefeeds = 0  # 1 once the current event held an Enter
        self.repaint = False
        self.accepting = False  # the current event turns bracketed paste off
        self.drawn: set[int] = set()  # rows the current event wrote on

    def feed(self, events: list[tuple[float, str, str]]) -> list[RecordedCommand]:
        carry = ""
        for t, kind, data in _bursts(events):
            if kind == "r":
                size = re.fullmatch(r"(\d+)x(\d+)", data.strip())
                if size:
                    self.cleared()
                    self.screen.resize(int(size[2]), int(size[1]))
                continue
            data = DCS.sub("", carry + data)
            carry = ""
            start = data.rfind("\x1bP")
            if start != -1 and len(data) - start < 256:
                data, carry = data[:start], data[start:]  # a DCS split across events
            self.now, self.event_row, self.linefeeds = t, self.screen.cursor.y, 0
            self.drawn = set()
            # tmux repaints (pane switch, layout, attach) start by hiding the cursor: they
            # hold no Enter, and may paint over outputs: keep those of finished commands now.
            self.repaint = data.startswith("\x1b[?25l")
            self.accepting = "\x1b[?2004l" in data
            if self.repaint:
                for item in list(self.open):
                    if self._finished(item):
                        self._finish(item)
            self.screen.dirty.clear()
            self.stream.feed(data)
            for item in self.open:
                if any(item.pane[0] <= y <= item.pane[1] for y in self.screen.dirty):
                    self._sync(item)
        self.cleared()
        self.commands.sort(key=lambda c: c.time)
        return self.commands

    # geometry
    def _pane(self, y: int, x: int) -> Rect:
        """The tmux pane holding (y, x): inside pane borders, without the status line."""
        screen = self.screen
        left = x
        while left > 0 and not self._vborder(y, left - 1):
            left -= 1
        right = min(x, screen.columns - 1)
        while right < screen.columns - 1 and not self._vborder(y, right + 1):
            right += 1
        last = screen.lines - 1
        if last > y and STATUS.match(screen.row_text(last)):
            last -= 1
        top = y
        while top > 0 and not self._hborder(top - 1, left, right):
            top -= 1
        bottom = y
        while bottom < last and not self._hborder(bottom + 1, left, right):
            bottom += 1
        return top, bottom, left, right

    def _vborder(self, y: int, x: int) -> bool:
        """A tmux vertical border: `│` here and on a row next to it."""
        buffer = self.screen.buffer
        if buffer[y][x].data not in VBORDER:
            return False
        return any(
            0 <= r < self.screen.lines and buffer[r][x].data in VBORDER + "┬┴┼"
            for r in (y - 1, y + 1)
        )

    def _hborder(self, y: int, left: int, right: int) -> bool:
        line = self.screen.buffer.get(y)
        if not line or left not in line or line[left].data not in BORDER:
            return False
        text = self.screen.row_text(y, left, right).strip()
        return len(text) >= min(10, right - left) and set(text) <= BORDER

    def _rows(self, pane: Rect) -> list[str]:
        top, bottom, left, right = pane
        return [self.screen.row_text(y, left, right) for y in range(top, bottom + 1)]

    def _prompt(self, text: str) -> re.Match[str] | None:
        match = PROMPT.match(text + " ")
        return None if match is None or match["prompt"].startswith(">") else match

    # following panes
    def _sync(self, item: _Open) -> None:
        """The pane's rows as shown now replace the transcript's window (redraws in place)."""
        rows = self._rows(item.pane)
        item.rows[item.offset :] = rows

    def scrolled(self, region: Rect, count: int) -> None:
        """The screen is about to scroll `region` up by `count` rows: the panes it overlaps
        lose their top rows (tmux clears a pane by scrolling all but its top row away)."""
        top, bottom, left, right = region
        for item in self.open:
            p_top, p_bottom, p_left, p_right = item.pane
            if p_top < top and self.screen.deleting:
                continue  # lines deleted below the pane's top: redrawn in place
            if left <= p_left and p_right <= right and top <= p_bottom and p_top <= bottom:
                self._sync(item)
                count_here = min(count, p_bottom - p_top + 1)
                item.offset += count_here
                item.rows += [""] * count_here

    def cleared(self) -> None:
        """The screen is about to be cleared or swapped: outputs end here."""
        for item in list(self.open):
            self._sync(item)
            self._finish(item)

    # commands
    def _typing(self, y: int, pane: Rect) -> bool:
        """Could the cursor leaving row y be Enter? Not at a full row (a wrap), and only when
        this event wrote on no other rows than the command line's (its echo, a redrawn
        command line)."""
        top, _, left, right = pane
        width = right - left + 1
        if len(self.screen.row_text(y, left, right)) >= width:
            return False
        line = {y}
        while min(line) > top and len(self.screen.row_text(min(line) - 1, left, right)) >= width:
            line.add(min(line) - 1)
        return y == self.event_row or self.drawn <= line

    def linefeed(self) -> None:
        """Called by the screen before each line feed: is it an Enter at a prompt? One per
        event at most, never in a repaint, never at a full row (a long line wrapping)."""
        if self.linefeeds or self.repaint:
            return
        screen = self.screen
        y, x = screen.cursor.y, min(screen.cursor.x, screen.columns - 1)
        if any(r > y for r in self.drawn):
            return
        pane = self._pane(y, x)
        top, bottom, left, right = pane
        if not self._typing(y, pane):
            return
        if y == bottom and y < screen.lines - 1 and self._hborder(y + 1, left, right):
            if screen._region()[1] != y:
                return  # tmux moving onto a pane border to repaint it, not an Enter
        if self._enter(y, x):
            self.linefeeds = 1

    def moving(self, line: int, column: int) -> None:
        """Called by the screen before each cursor move. tmux moves the cursor lazily: Enter
        in a pane that does not start at column 0 shows as a move to the next row's start,
        with bash turning bracketed paste off (it accepted the line) in the same event."""
        screen = self.screen
        y, x = screen.cursor.y, min(screen.cursor.x, screen.columns - 1)
        if line != y + 1 or column == 0 or self.linefeeds or not self.accepting:
            return
        if self.repaint or any(r > y for r in self.drawn):
            return
        pane = self._pane(y, x)
        top, bottom, left, right = pane
        if column == left and y < bottom and self._typing(y, pane) and self._enter(y, x):
            self.linefeeds = 1

    def _enter(self, y: int, x: int) -> bool:
        """Enter may have been pressed with the cursor at (y, x): was it, at a command?"""
        screen = self.screen
        pane = self._pane(y, x)
        top, bottom, left, right = pane
        for item in self.open:
            if self._inside(item, y, x) and not item.accepted and _unfinished(item.text):
                # Enter on a `> ` line, or after a multi-line paste or history entry
                self._sync(item)
                at = item.offset + y - item.pane[0]
                if at > item.end:
                    self._reread(item, at)
                    item.time, item.accepted = self.now, self.accepting
                    if item.end == at:
                        return True
                    break  # a prompt row after the command: a new command line, maybe
        width = right - left + 1
        first = y
        while self._prompt(screen.row_text(first, left, right)) is None:
            above = screen.row_text(first - 1, left, right) if first > top else ""
            if len(above) < width and not above.endswith("\\"):
                return False  # not a prompt line (input to a program), nor a wrapped one
            first -= 1
        rows = [screen.row_text(r, left, right) for r in range(first, y + 1)]
        text = rows[0]
        for previous, row in zip(rows, rows[1:], strict=False):
            text += row if len(previous) >= width else "\n" + row.removeprefix("> ")
        match = self._prompt(rows[0])
        assert match is not None
        self.prompts.add(match["prompt"])
        for item in list(self.open):
            self._sync(item)
            if self._inside(item, y, x):
                at = item.offset + first - item.pane[0]
                if at == item.head_end - (y - first) and item.pane == pane:
                    self.open.remove(item)  # this line again: the first Enter was a preview
                elif at > item.end:
                    del item.rows[at:]  # the output ends at this prompt
                    self._finish(item)
            elif self._finished(item):
                self._finish(item)
        command = text[len(match["prompt"]) :].strip()
        if command:
            rows = self._rows(pane)
            wraps = len(rows[y - top]) >= right - left + 1
            item = _Open(command, match["prompt"], self.now, pane, rows, 0, y - top, wraps)
            item.head, item.head_end = command, y - top
            item.accepted = self.accepting
            self.open.append(item)
        return True

    @staticmethod
    def _inside(item: _Open, y: int, x: int) -> bool:
        top, bottom, left, right = item.pane
        return top <= y <= bottom and left <= x <= right

    def _reread(self, item: _Open, at: int) -> None:
        """An unfinished command got Enter at transcript row `at`: every row from its prompt
        down to there is the command (a paste, a history entry, `> ` lines), up to a prompt."""
        item.text, item.end = item.head, item.head_end
        item.wraps = len(item.rows[item.end]) >= item.pane[3] - item.pane[2] + 1
        for index in range(item.head_end + 1, at + 1):
            row = item.rows[index]
            if not item.wraps and self._prompt(row) is not None:
                break
            self._add_row(item, index)

    def _add_row(self, item: _Open, index: int) -> None:
        row = item.rows[index]
        if item.wraps:
            item.text += row
        else:
            item.text += "\n" + (row[2:] if row.startswith("> ") else row.removeprefix(">"))
        item.wraps = len(row) >= item.pane[3] - item.pane[2] + 1
        item.end = index

    def _finished(self, item: _Open) -> bool:
        self._sync(item)
        return any(self._is_prompt(row) for row in item.rows[item.end + 1 :])

    def _is_prompt(self, text: str) -> bool:
        return any(text.startswith(p.rstrip()) for p in self.prompts)

    def _finish(self, item: _Open) -> None:
        self.open.remove(item)
        # rows right after the command that continue it: a multi-line paste echoed with `> `
        while item.end + 1 < len(item.rows):
            row = item.rows[item.end + 1]
            if not (item.wraps or (_unfinished(item.text) and self._prompt(row) is None)):
                break
            self._add_row(item, item.end + 1)
        width = item.pane[3] - item.pane[2] + 1
        output: list[str] = []
        wrapped = False
        for row in item.rows[item.end + 1 :]:
            if self._is_prompt(row) and not wrapped:
                break
            if wrapped:
                output[-1] += row
            else:
                output.append(row)
            wrapped = len(row) >= width
        while output and not output[-1].strip():
            output.pop()
        commands = _split_commands(item.text)
        if len(commands) > 1 and output and output[0] == item.text.split("\n")[-1]:
            output.pop(0)  # the last of several pasted commands, redrawn by readline
        for command in commands:
            self.commands.append(
                RecordedCommand(command, "\n".join(output), round(item.time, 3), item.prompt)
            )


def _bursts(events: list[tuple[float, str, str]]) -> list[tuple[float, str, str]]:
    """Output events merged when they arrive within 3 ms: one write split in chunks."""
    merged: list[tuple[float, str, str]] = []
    last = -1.0
    for t, kind, data in events:
        if kind not in ("o", "r"):
            continue
        if merged and kind == "o" == merged[-1][1] and t - last <= 0.003:
            merged[-1] = (merged[-1][0], "o", merged[-1][2] + data)
        else:
            merged.append((t, kind, data))
        last = t
    return merged


def _unfinished(command: str) -> bool:
    """True when bash would ask for more lines (PS2) after this command text."""
    code: list[str] = []
    pending: list[str] = []  # heredoc delimiters still open
    for line in command.split("\n"):
        if pending:
            if line.strip() == pending[0]:
                pending.pop(0)
            continue
        code.append(line)
        pending += [m[2] for m in HEREDOC.finditer(line)]
    if pending:
        return True
    if code[-1].rstrip().endswith(("\\", "|", "&&", "||")):
        return True
    return _open_quote("\n".join(code))


def _open_quote(text: str) -> bool:
    """True when a quote is left open (comments and escapes understood, as bash does)."""
    quote = ""
    i, word_start = 0, True
    while i < len(text):
        char = text[i]
        if quote == "'":
            quote = "" if char == "'" else quote
        elif char == "\\":
            i += 1
        elif quote == '"':
            quote = "" if char == '"' else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and word_start:
            end = text.find("\n", i)
            i = len(text) if end == -1 else end
            continue
        word_start = char in " \t\n;|&("
        i += 1
    return bool(quote)


def _split_commands(text: str) -> list[str]:
    """A buffer of several commands (a multi-line paste) as one entry per command."""
    out: list[str] = []
    current: list[str] = []
    for line in text.split("\n"):
        if not current and not line.strip():
            continue
        current.append(line)
        if not _unfinished("\n".join(current)):
            out.append("\n".join(current))
            current = []
    if current:
        out.append("\n".join(current))
    return out


def recorded_commands(path: str | Path) -> list[RecordedCommand]:
    """Every command typed in a recording, with its output and time."""
    cols, rows, events = read_cast(path)
    return _Extractor(cols, rows).feed(events)


# -- matching steps --------------------------------------------------------------------------


@dataclass
class StepCheck:
    index: int
    label: str
    command: str
    status: str = "not found"  # passed, differs, explained, not found
    reason: str = ""
    found: bool = False
    time: float | None = None
    recorded: str | None = None  # the command as typed in the recording, when found

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CheckResult:
    scenario: str
    recording: str
    steps: list[StepCheck] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        by = [s.status for s in self.steps]
        return {
            "visible": len(self.steps),
            "found": sum(s.found for s in self.steps),
            "passed": by.count("passed"),
            "differs": by.count("differs"),
            "explained": by.count("explained"),
            "not_found": by.count("not found"),
        }

    @property
    def ok(self) -> bool:
        c = self.counts()
        enough = c["found"] >= FOUND_THRESHOLD * c["visible"]
        return c["visible"] > 0 and c["differs"] == 0 and enough

    def summary(self) -> str:
        c = self.counts()
        percent = round(100 * c["found"] / c["visible"]) if c["visible"] else 0
        return (
            f"{c['visible']} visible steps: {c['found']} found ({percent}%), "
            f"{c['passed']} passed, {c['differs']} differ, {c['explained']} explained, "
            f"{c['not_found']} not found"
        )

    def to_dict(self) -> dict[str, Any]:
        c = self.counts()
        c["found_percent"] = round(100 * c["found"] / c["visible"]) if c["visible"] else 0
        return {
            "scenario": self.scenario,
            "recording": self.recording,
            "ok": self.ok,
            "summary": c,
            "line": self.summary(),
            "steps": [s.to_dict() for s in self.steps],
        }


class _Matcher:
    def __init__(self, loaded: LoadedScenario) -> None:
        scenario = loaded.scenario
        # masks for command lines: the scenario's own regexes, and the built-ins that name
        # volatile values a command can hold (ages, times and counters are output-only)
        custom = [m for m in scenario.masks if not isinstance(m, str)]
        self.masks = compile_masks(custom) + [
            (name, re.compile(COMMAND_MASKS.get(name, BUILTIN_MASKS[name])))
            for name in ("pod-suffix", "container-id", "uuid", "ip", "mac")
        ]
        self.values = {name: str(value) for name, value in scenario.vars.items()}
        self.env = set(scenario.env)

    def substitute(self, text: str, unknown: str = ANY) -> str:
        def replace(match: re.Match[str]) -> str:
            escaped, name = match.group(1), match.group(2)
            if escaped or name in self.env:
                return "${" + name + "}"
            return self.values.get(name, unknown)

        return VAR_REF.sub(replace, text)

    def head(self, command: str) -> str:
        """The first logical line (continuations joined), normalised and masked."""
        joined = command.strip().replace("\\\n", "")  # bash drops backslash-newline
        lines = [self._line(line) for line in joined.split("\n")]
        return next((line for line in lines if line), "")

    def _line(self, line: str) -> str:
        bare = re.sub(r"(^|\s)#\s.*$", "", line)
        line = bare if bare.strip() else line
        line = " ".join(line.split()).rstrip(";").rstrip()
        line = ALIAS.sub(lambda m: m[1] + ALIASES[m[2]], line)
        line = re.sub(r"\$\{([A-Za-z_]\w*)\}(?!\w)", r"$\1", line)  # ${DP} is $DP
        if "kubectl" in line:  # spellings kubectl takes as the same
            line = re.sub(r"(?<=\s)(?:-o|--output)(?:\s+|=)(?=\w)", "-o", line)
            line = KUBE_KIND.sub(lambda m: m[1] + KINDS.get(m[2], m[2]), line)
        return apply_masks(line, self.masks)

    def score(self, wanted: str, got: str) -> int:
        """EXACT when equal once normalised, NEAR when nearly, else 0."""
        if not wanted or not got:
            return 0
        if ANY not in wanted:
            if wanted == got:
                return EXACT
        else:
            pattern = r"\S+".join(re.escape(part) for part in wanted.split(ANY))
            if re.fullmatch(pattern, got):
                return EXACT
        ours, theirs = wanted.replace(ANY, "").split(), got.split()
        if ours[:1] != theirs[:1] or len(ours) < 2 or len(theirs) < 2:
            return 0
        if set(ours) <= set(theirs) or set(theirs) <= set(ours):
            return NEAR  # the same command with an option more or less
        ratio = difflib.SequenceMatcher(None, " ".join(ours), got).ratio()
        return NEAR if ratio >= FUZZY_RATIO else 0


def _align(scores: list[list[int]]) -> list[int | None]:
    """For each step, the recorded command it matches, keeping the order of both and
    matching as many steps as possible (exactly if possible); among equal choices, commands
    are used in order: a step typed only much later is left unmatched."""
    n = len(scores)
    m = len(scores[0]) if scores else 0
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            take = scores[i][j] + best[i + 1][j + 1] if scores[i][j] else 0
            best[i][j] = max(take, best[i + 1][j], best[i][j + 1])
    pairs: list[int | None] = [None] * n
    i = j = 0
    while i < n and j < m:
        if scores[i][j] and best[i][j] == scores[i][j] + best[i + 1][j + 1]:
            pairs[i] = j
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1  # this step cannot be matched here without losing a later one
        else:
            j += 1
    return pairs


def _output_expect(step: Step, matcher: _Matcher) -> Expect | None:
    """The step's text expectations (and retry `until`), without exit, screen and kube."""
    parts = [e for e in (step.expect, step.retry.until if step.retry else None) if e]
    if not parts:
        return None
    fields: dict[str, list[str]] = {}
    for name in ("contains", "not_contains", "regex", "not_regex", "lines"):
        fields[name] = [matcher.substitute(v, "") for e in parts for v in getattr(e, name)]
    return Expect(exit="any", **fields)  # type: ignore[arg-type]


def _step_output(commands: list[RecordedCommand], at: int, step: Step) -> str:
    """The recorded output of the command at `at`; for a step with `keys`, everything the
    interactive program showed, nested prompts included, until its own prompt came back."""
    output = commands[at].output
    if not step.keys:
        return output
    parts = [output] if output else []
    for later in commands[at + 1 :]:
        if later.prompt == commands[at].prompt:
            break
        parts.append(later.prompt + later.command)
        if later.output:
            parts.append(later.output)
    return "\n".join(parts)


def check(loaded: LoadedScenario, cast: str | Path) -> CheckResult:
    """Find each visible step of the scenario in the recording and check its output.

    A step's command matches a recorded one when both are equal once normalised: line
    continuations joined, whitespace collapsed, a trailing `# comment` and `;` dropped, `k`
    and `kubecolor` read as `kubectl` (and `-o wide` as `-owide`, `pods` as `pod`...),
    `${X}` as `$X`, and the volatile values a command can hold masked on both sides: the
    scenario's own regex masks and the built-in pod-suffix, container-id, uuid, ip and mac.
    A multi-line step (a heredoc) is matched on its first line. `${var}` is the scenario's
    value, or any word for a value captured at run time. A command that is nearly equal (the
    same program, an option more or less, or 85% similar) matches too, and the step is
    reported as `differs`, with how it was typed.

    Steps and commands are aligned in order, matching as many steps as possible, exactly if
    possible: a step typed in the recording long after (or never) cannot swallow the steps
    around it, and a step with `differs:` is placed only where it costs no other step its
    match. When the speaker typed the matched command again before the next step (waiting for
    a pod, or after a failed try), the first of those repeats whose output passes is used.
    Captures are taken from the recorded outputs, for the expectations of later steps.
    """
    commands = recorded_commands(cast)
    matcher = _Matcher(loaded)
    result = CheckResult(str(loaded.path), str(cast))
    visible = [
        (i, s) for i, s in enumerate(loaded.scenario.steps) if s.run is not None and not s.hidden
    ]
    heads = [matcher.head(c.command) for c in commands]
    wanted = [matcher.head(matcher.substitute(s.run or "")) for _, s in visible]
    scores = [[matcher.score(w, h) for h in heads] for w in wanted]
    # a step that differs on purpose is placed only where it costs no other step its match
    weights = [
        [score // EXPLAINED if step.differs else score for score in row]
        for row, (_, step) in zip(scores, visible, strict=True)
    ]
    pairs = _align(weights)
    for n, (index, step) in enumerate(visible):
        item = StepCheck(index, step.label(), step.run or "")
        result.steps.append(item)
        at = pairs[n]
        if at is not None:
            following = next((p for p in pairs[n + 1 :] if p is not None), len(commands))
            repeats = [i for i in range(at, following) if scores[n][i] == scores[n][at]]
            at, failures = _first_passing(repeats, commands, step, matcher)
            recorded = commands[at]
            item.found, item.time, item.recorded = True, recorded.time, recorded.command
            if step.capture:
                values, _ = capture(step.capture, _step_output(commands, at, step))
                matcher.values.update(values)
            if scores[n][at] != EXACT:
                failures.insert(0, f"typed differently in the recording: {_short(recorded)!r}")
            item.status = "differs" if failures else "passed"
            item.reason = "; ".join(failures)
        if step.differs:
            item.status, item.reason = "explained", step.differs
    return result


def _first_passing(
    repeats: list[int], commands: list[RecordedCommand], step: Step, matcher: _Matcher
) -> tuple[int, list[str]]:
    """The first repeat whose output passes the step's expectations, else the first one."""
    expect = _output_expect(step, matcher)
    if expect is None:
        return repeats[0], []
    first: list[str] | None = None
    for i in repeats:
        failures = evaluate(expect, None, _step_output(commands, i, step), None)
        if not failures:
            return i, []
        first = failures if first is None else first
    return repeats[0], list(first or [])


def _short(recorded: RecordedCommand) -> str:
    line = recorded.command.split("\n")[0]
    return line if len(line) <= 70 else line[:67] + "..."


# -- reports ---------------------------------------------------------------------------------


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}:{rest:02d}"


STYLES = {"passed": "green", "differs": "red", "explained": "yellow", "not found": "red"}


def print_report(result: CheckResult, console: Any) -> None:
    from rich.table import Table

    table = Table(title=f"{result.scenario} against {result.recording}", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("step", overflow="fold")
    table.add_column("status")
    table.add_column("at", justify="right")
    table.add_column("reason", overflow="fold")
    for item in result.steps:
        status = item.status + (" (found)" if item.status == "explained" and item.found else "")
        table.add_row(
            str(item.index),
            item.label,
            f"[{STYLES[item.status]}]{status}[/]",
            _clock(item.time),
            item.reason,
        )
    console.print(table)
    console.print(result.summary(), style="green" if result.ok else "red", soft_wrap=True)


def result_json(result: CheckResult) -> str:
    return json.dumps(result.to_dict(), indent=2, ensure_ascii=False)
