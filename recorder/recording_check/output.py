"""A recorded command's output, built from its transcript's rows one at a time, so that a
command that printed 100 MB is never held whole.

The rows after a command are read as the extractor always read them: a row that starts
with a prompt (and does not continue a full row) ends the output, a full row is continued
by the next one (a long line, wrapped), trailing blank lines are dropped, and the first
line is dropped when it is the last of several pasted commands redrawn by readline. Up to
KEEP characters (`recorder.run.step_output`'s, as the runner keeps a step's output) the
text is kept whole; beyond that it goes to a temporary file, and the checks read it back
as a stream (`blocks`), as the runner checks a big step's output.
"""

from __future__ import annotations

import tempfile
from collections import deque
from collections.abc import Iterator
from typing import TextIO

from recorder.run.step_output import KEEP, TAIL

BLOCK = 1 << 20  # characters read back at a time
RUN = 1 << 16  # characters of rows joined into one string as they come (few small objects)


class SpilledText:
    """Text too big to hold: in a temporary file (gone with this object), read back in
    blocks; `tail` is its last TAIL characters."""

    def __init__(self) -> None:
        # surrogatepass: a cast's JSON may hold a lone surrogate (`\\udc80`), kept as is
        self._file: TextIO = tempfile.TemporaryFile(
            "w+", encoding="utf-8", errors="surrogatepass", newline=""
        )
        self._recent: deque[str] = deque()  # the last parts written, about TAIL characters
        self._recent_size = 0
        self.size = 0

    def write(self, text: str) -> None:
        self._file.write(text)
        self.size += len(text)
        self._recent.append(text)
        self._recent_size += len(text)
        while self._recent_size - len(self._recent[0]) >= TAIL:
            self._recent_size -= len(self._recent.popleft())

    @property
    def tail(self) -> str:
        return "".join(self._recent)[-TAIL:]

    def blocks(self) -> Iterator[str]:
        """The whole text, BLOCK characters at a time (one reader at a time)."""
        self._file.flush()
        self._file.seek(0)
        while block := self._file.read(BLOCK):
            yield block
        self._file.seek(0, 2)  # back to the end, should more be written


class OutputText:
    """The rows after a command, read into its output text (see the module's docstring).

    `add` takes the rows that are output; the caller stops at the row that ends it (a
    prompt, unless `wrapped`: the row before was full, so this one continues it). `close`
    returns the text, or (past KEEP characters) its last TAIL characters and the whole of it
    spilled to a file."""

    def __init__(self, width: int, redrawn: str | None = None) -> None:
        self.width = width
        self.wrapped = False  # the last row was full: the next one continues its line
        self.ended = False  # a prompt row ended the output: later rows are not part of it
        self.after = ""  # the prompt that ended it
        self.saw_prompt = False  # a row read (or passed over) started with a prompt
        self._redrawn = redrawn  # a first line to drop when it is exactly this
        self._first: list[str] | None = None  # the first line while it may be dropped
        self._lines = 0  # lines written
        self._blank = 0  # blank lines read since, written only if a line follows them
        self._parts: list[str] = []  # the text so far, in strings of about RUN characters
        self._run: list[str] = []  # the rows since, joined once they make RUN characters
        self._run_size = 0
        self._size = 0
        self._spill: SpilledText | None = None

    def add(self, row: str) -> None:
        if self.wrapped:  # the line goes on
            if self._first is not None:
                self._first.append(row)
                if sum(map(len, self._first)) > len(self._redrawn or ""):
                    self._keep_first()  # too long to be the redrawn command line
            else:
                self._write(row)
        elif self._redrawn is not None and not (self._lines or self._blank or self._first):
            # the first line: held until it is known whether it is the one to drop
            if row.strip():
                self._first = [row]
            else:  # a blank first line is dropped, as any other, when nothing follows it
                self._blank += self._redrawn != ""
                self._redrawn = None
        elif not row.strip():
            self._first_done()
            self._blank += 1
        else:
            self._first_done()
            self._write("\n" * (self._blank + (self._lines > 0)) + row)
            self._lines += self._blank + 1
            self._blank = 0
        self.wrapped = len(row) >= self.width

    def _first_done(self) -> None:
        """The held first line is complete: dropped when it is the redrawn command line."""
        if self._first is None:
            return
        if "".join(self._first) == self._redrawn:
            self._first, self._redrawn = None, None
        else:
            self._keep_first()

    def _keep_first(self) -> None:
        assert self._first is not None
        first, self._first, self._redrawn = self._first, None, None
        self._write("".join(first))
        self._lines = 1

    def _write(self, text: str) -> None:
        self._run.append(text)
        self._run_size += len(text)
        self._size += len(text)
        if self._run_size >= RUN:
            self._flush()

    def _flush(self) -> None:
        """The rows gathered so far, joined, on to the text (or its file, past KEEP)."""
        if self._run:
            run = "".join(self._run)
            self._run, self._run_size = [], 0
            if self._spill is not None:
                self._spill.write(run)
            else:
                self._parts.append(run)
        if self._spill is None and self._size > KEEP:
            self._spill = SpilledText()
            for part in self._parts:
                self._spill.write(part)
            self._parts = []

    def close(self) -> tuple[str, SpilledText | None]:
        """The output text, or its tail and the whole of it when it was spilled."""
        self._first_done()
        self._flush()
        if self._spill is not None:
            return self._spill.tail, self._spill
        return "".join(self._parts), None
