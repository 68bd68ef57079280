"""Finding the commands typed in a recording, with their output, as the audience saw them.

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
- **Big outputs.** The cast is read as a stream, and a burst of output is fed to the emulator
  in pieces of BURST_MAX characters. Past MOVE_AT rows, the rows that scrolled out of a
  command's pane (no redraw reaches them) leave its transcript for its output text
  (`output.OutputText`), which goes to a temporary file past KEEP characters, and the pane is
  followed by its top rows as they leave: memory stays bounded however much a command
  printed. (A row is then taken for a prompt by the prompts seen so far, not by those seen
  later; a command whose row is exactly full keeps its whole transcript, as its next row
  may still join it.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from recorder.cast.model import Event

from .bash_syntax import split_commands, unfinished
from .output import OutputText, SpilledText
from .recording import read_cast
from .terminal import RecordingScreen, RecordingStream, Rect

# A prompt: up to two words, then one more, then `$ `, `# `, `% `... (`/ # ` too, not `# `)
PROMPT = re.compile(r"(?P<prompt>(?:[^\s$#]+ ){0,2}?[^\s$#%❯»]+ ?[$#%❯»] )(?P<cmd>.*)")
DCS = re.compile(r"\x1b[P^_][^\x1b]*\x1b\\")  # device control strings: tmux's sync marks
BORDER = set("─━═┬┴┼├┤╋┳┻")
VBORDER = "│┃║"
STATUS = re.compile(r"\[\S.*\b\d{1,2}:\d{2}\b")  # tmux: `[0] 0:bash*   "host" 12:00 01-Jan-25`
BURST_MAX = 1 << 20  # characters of one burst fed to the emulator at once
MOVE_AT = 4096  # scrolled-out rows of an output kept in its transcript (see Big outputs)


@dataclass
class RecordedCommand:
    """One command typed in the recording, as the audience saw it."""

    command: str  # prompt stripped; continuation lines joined with "\n"
    output: str = ""  # the rendered rows it printed, plain text (its tail: see `whole`)
    time: float = 0.0  # seconds from the start of the recording, when Enter was pressed
    prompt: str = ""
    pane: Rect | None = None  # the tmux pane it was typed in, as it was then
    done: float | None = None  # when its shell's prompt came back, if it was seen
    after: str = ""  # the prompt that came back after it (an exit code shows there), if seen
    # an output past KEEP characters: the whole of it, in a file; `output` is its last TAIL
    whole: SpilledText | None = field(default=None, repr=False, compare=False)

    def output_blocks(self) -> Iterator[str]:
        """The whole output, in blocks (one string when it was small)."""
        if self.whole is None:
            yield self.output
        else:
            yield from self.whole.blocks()


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
    done: float | None = None  # when a prompt row first showed below it
    after: str = ""  # the prompt that ended its output
    out: OutputText | None = None  # a long output: the rows moved out of `rows` so far


def prompt_pattern(extra: str | None = None) -> re.Pattern[str]:
    """The prompt pattern: PROMPT, or a given regex for an unusual prompt (`$ `, `λ `, `>>> `)
    tried first, then PROMPT for the shells nested in it."""
    if not extra:
        return PROMPT
    default = PROMPT.pattern.removeprefix("(?P<prompt>").split(")(?P<cmd>")[0]
    return re.compile(f"(?P<prompt>(?P<given>{extra})|{default})(?P<cmd>.*)")


def _given(match: re.Match[str]) -> bool:
    return "given" in match.re.groupindex and match["given"] is not None


class CommandExtractor:
    def __init__(self, cols: int, rows: int, prompt: re.Pattern[str] = PROMPT) -> None:
        self.pattern = prompt
        self.commands: list[RecordedCommand] = []
        self.open: list[_Open] = []
        self.prompts: set[str] = set()
        self.screen = RecordingScreen(cols, rows, self)
        self.stream = RecordingStream(self.screen)
        self.now = 0.0
        self.event_row = 0  # where the cursor was when the current event began
        self.linefeeds = 0  # 1 once the current event held an Enter
        self.repaint = False
        self.accepting = False  # the current event turns bracketed paste off
        self.drawn: set[int] = set()  # rows the current event wrote on

    def feed(self, events: Iterable[Event]) -> list[RecordedCommand]:
        carry = ""
        for t, kind, data, more in _bursts(events):
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
            if more:  # the burst goes on: one event still
                self.accepting = self.accepting or "\x1b[?2004l" in data
            else:
                self.now, self.event_row, self.linefeeds = t, self.screen.cursor.y, 0
                self.drawn = set()
                # tmux repaints (pane switch, layout, attach) start by hiding the cursor: they
                # hold no Enter, and may paint over outputs: keep those of finished commands.
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
        # the nearest borders left and right of x, among the row's `│`s (most rows have none)
        marks = [col for col, char in screen.buffer[y].items() if char.data in VBORDER]
        start = min(x, screen.columns - 1)
        left = max((c + 1 for c in marks if c < x and self._vborder(y, c)), default=0)
        right = min(
            (c - 1 for c in marks if start < c < screen.columns and self._vborder(y, c)),
            default=screen.columns - 1,
        )
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
        match = self.pattern.match(text + " ")
        if match is None or (match["prompt"].startswith(">") and not _given(match)):
            return None  # PS2's `> `, unless the prompt given is one
        return match

    # following panes
    def _sync(self, item: _Open) -> None:
        """The pane's rows as shown now replace the transcript's window (redraws in place)."""
        rows = self._rows(item.pane)
        item.rows[item.offset :] = rows
        if item.done is None and self.prompts:
            first = max(item.end + 1 - item.offset, 0)
            if any(self._is_prompt(row) for row in rows[first:]):
                item.done = self.now

    def scrolled(self, region: Rect, count: int) -> None:
        """The screen is about to scroll `region` up by `count` rows: the panes it overlaps
        lose their top rows (tmux clears a pane by scrolling all but its top row away)."""
        top, bottom, left, right = region
        for item in self.open:
            p_top, p_bottom, p_left, p_right = item.pane
            if p_top < top and self.screen.deleting:
                continue  # lines deleted below the pane's top: redrawn in place
            if left <= p_left and p_right <= right and top <= p_bottom and p_top <= bottom:
                count_here = min(count, p_bottom - p_top + 1)
                if item.out is None:
                    self._sync(item)
                else:  # a long output: the rows leaving now, the rest when the event ends
                    self._sync_leaving(item, count_here)
                item.offset += count_here
                item.rows += [""] * count_here
                if item.offset - item.end > MOVE_AT:
                    self._move_out(item)

    def _sync_leaving(self, item: _Open, count: int) -> None:
        """`_sync` for the pane's top `count` rows only, about to scroll out of it."""
        top, _, left, right = item.pane
        rows = [self.screen.row_text(y, left, right) for y in range(top, top + count)]
        item.rows[item.offset : item.offset + count] = rows
        if item.done is None and self.prompts:
            first = max(item.end + 1 - item.offset, 0)
            if any(self._is_prompt(row) for row in rows[first:]):
                item.done = self.now

    def _move_out(self, item: _Open) -> None:
        """A long output's rows that scrolled out of its pane (final: no redraw reaches
        them) leave the transcript for its output text, unless a row could still join the
        command (its row is full, or it is unfinished)."""
        if item.wraps or unfinished(item.text):
            return
        if item.out is None:
            item.out = self._output_text(item)
        self._read_output(item, item.rows[item.end + 1 : item.offset])
        del item.rows[item.end + 1 : item.offset]
        item.offset = item.end + 1

    def _output_text(self, item: _Open) -> OutputText:
        """An empty output text for the command, its text final."""
        width = item.pane[3] - item.pane[2] + 1
        # the last of several pasted commands is redrawn by readline as the first line
        several = len(split_commands(item.text)) > 1
        return OutputText(width, item.text.split("\n")[-1] if several else None)

    def _read_output(self, item: _Open, rows: list[str]) -> None:
        """Rows of the transcript after the command, on to its output, up to a prompt."""
        out = item.out
        assert out is not None
        for row in rows:
            prompt = self._is_prompt(row)
            out.saw_prompt = out.saw_prompt or prompt
            if out.ended:
                continue
            if prompt and not out.wrapped:
                shown = self._prompt(row)
                out.ended, out.after = True, shown["prompt"] if shown else ""
                continue
            out.add(row)

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
            if self._inside(item, y, x) and not item.accepted and unfinished(item.text):
                # Enter on a `> ` line, or after a multi-line paste or history entry
                self._sync(item)
                at = item.offset + y - item.pane[0]
                if at > item.end:
                    self._reread(item, at)
                    # bash 5.1+ turns bracketed paste off after every line it reads, a
                    # continuation line too: only a finished command is accepted
                    item.time = self.now
                    item.accepted = self.accepting and not unfinished(item.text)
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
                    item.after = match["prompt"]
                    self._finish(item)
            elif self._finished(item):
                self._finish(item)
        command = text[len(match["prompt"]) :].strip()
        if command:
            rows = self._rows(pane)
            wraps = len(rows[y - top]) >= right - left + 1
            item = _Open(command, match["prompt"], self.now, pane, rows, 0, y - top, wraps)
            item.head, item.head_end = command, y - top
            item.accepted = self.accepting and not unfinished(command)
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
        moved = item.out is not None and item.out.saw_prompt
        return moved or any(self._is_prompt(row) for row in item.rows[item.end + 1 :])

    def _is_prompt(self, text: str) -> bool:
        return any(text.startswith(p.rstrip()) for p in self.prompts)

    def _finish(self, item: _Open) -> None:
        self.open.remove(item)
        # rows right after the command that continue it: a multi-line paste echoed with `> `
        while item.end + 1 < len(item.rows):
            row = item.rows[item.end + 1]
            if not (item.wraps or (unfinished(item.text) and self._prompt(row) is None)):
                break
            self._add_row(item, item.end + 1)
        if item.out is None:
            item.out = self._output_text(item)
        self._read_output(item, item.rows[item.end + 1 :])
        item.after = item.after or item.out.after
        output, whole = item.out.close()
        for command in split_commands(item.text):
            self.commands.append(
                RecordedCommand(
                    command,
                    output,
                    round(item.time, 3),
                    item.prompt,
                    item.pane,
                    None if item.done is None else round(item.done, 3),
                    item.after,
                    whole,
                )
            )


def _bursts(events: Iterable[Event]) -> Iterator[tuple[float, str, str, bool]]:
    """Output events merged when they arrive within 3 ms: one write split in chunks. A burst
    longer than BURST_MAX characters comes in pieces of about that much, each but the first
    flagged `more` (it goes on the piece before), so no burst is ever one huge string."""
    burst: tuple[float, str] | None = None  # the time and kind of the burst being read
    parts: list[str] = []
    size = 0
    more = False
    last = -1.0
    for t, kind, data in events:
        if kind not in ("o", "r"):
            continue
        if burst is not None and kind == "o" == burst[1] and t - last <= 0.003:
            if size >= BURST_MAX:
                yield burst[0], "o", "".join(parts), more
                parts, size, more = [], 0, True
            parts.append(data)
            size += len(data)
        else:
            if burst is not None:
                yield burst[0], burst[1], "".join(parts), more
            burst, parts, size, more = (t, kind), [data], len(data), False
        last = t
    if burst is not None:
        yield burst[0], burst[1], "".join(parts), more


def program_output(commands: list[RecordedCommand], at: int) -> str:
    """What the interactive program started by the command at `at` showed: its output, and
    the commands typed at a prompt of its own (a nested shell's) with theirs, until the
    command's own prompt came back."""
    return "".join(program_output_blocks(commands, at))


def program_output_blocks(commands: list[RecordedCommand], at: int) -> Iterator[str]:
    """`program_output` in blocks: a big output is read back from its file as it goes."""

    def parts() -> Iterator[Iterable[str]]:
        own = commands[at]
        if own.output:
            yield own.output_blocks()
        for later in commands[at + 1 :]:
            if later.prompt == own.prompt:
                break
            yield [later.prompt + later.command]
            if later.output:
                yield later.output_blocks()

    for n, part in enumerate(parts()):
        if n:
            yield "\n"
        yield from part


def recorded_commands(path: str | Path, prompt: str | None = None) -> list[RecordedCommand]:
    """Every command typed in a recording, with its output and time; `prompt`, a regex for
    an unusual prompt (see `prompt_pattern`)."""
    cols, rows, events = read_cast(path)
    return CommandExtractor(cols, rows, prompt_pattern(prompt)).feed(events)
