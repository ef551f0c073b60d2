"""Follow a growing file line by line, as `tail -F` does: rotation, truncation, absence.

`LineFollower.poll()` returns the complete lines written since the previous poll (a line
still being written is kept until its newline arrives). It keeps the file open, so when the
file is rotated (renamed away and a new one created at the path: another inode) it first
reads what was appended to the old file, then opens the new one from its start; when the
file is truncated (shorter than what was read) it starts again from the start; when the file
does not exist (yet, or between a rotation and the new file) it waits. Each of these is
reported once in `Batch.reset` / `Batch.note`, so the reader of the lines can reset its parser.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from agentir.traces.base import MAX_LINE_BYTES

CHUNK = 1 << 20


@dataclass
class Batch:
    """What one poll found: lines (1-based number, bytes without the newline) and events."""

    lines: list[tuple[int, bytes]] = field(default_factory=list)
    reset: str | None = None  # rotated / truncated: the lines start a new file
    note: str | None = None  # waiting for the file, and the like (for progress output)
    oversized: int = 0  # lines longer than MAX_LINE_BYTES, skipped


class LineFollower:
    """New complete lines of a file across rotation and truncation (see the module doc)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fh: BinaryIO | None = None
        self.ident: tuple[int, int] | None = None
        self.offset = 0  # bytes consumed (complete lines) in the open file
        self.line = 0
        self.partial = b""
        self.skipping = False  # inside an oversized line
        self.waiting = False

    def close(self) -> None:
        """Release the open file."""
        if self.fh is not None:
            self.fh.close()
            self.fh = None

    def poll(self) -> Batch:
        """The complete lines written since the last poll."""
        batch = Batch()
        if self.fh is not None:
            self._truncation(batch)
            self._drain(batch)
            if self._replaced():
                self.close()
                batch.reset = batch.reset or "rotated"
                self.ident, self.offset, self.line, self.partial = None, 0, 0, b""
        if self.fh is None and not self._open(batch):
            return batch
        self._drain(batch)
        return batch

    def _open(self, batch: Batch) -> bool:
        try:
            fh = self.path.open("rb")
        except FileNotFoundError:
            if not self.waiting:
                batch.note = f"waiting for {self.path} to appear"
            self.waiting = True
            return False
        except OSError as exc:
            batch.note = f"cannot open {self.path}: {exc.strerror or exc}"
            return False
        st = os.fstat(fh.fileno())
        if self.ident is not None and (st.st_ino, st.st_dev) != self.ident:
            batch.reset = batch.reset or "rotated"
            self.offset, self.line, self.partial = 0, 0, b""
        if self.waiting:
            batch.note = f"{self.path} appeared"
        self.fh, self.ident, self.waiting = fh, (st.st_ino, st.st_dev), False
        fh.seek(self.offset + len(self.partial))
        return True

    def _replaced(self) -> bool:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return True  # renamed away: the next file will appear at the path
        except OSError:
            return False
        return (st.st_ino, st.st_dev) != self.ident

    def _truncation(self, batch: Batch) -> None:
        assert self.fh is not None
        size = os.fstat(self.fh.fileno()).st_size
        if size < self.offset + len(self.partial):
            batch.reset = "truncated"
            self.offset, self.line, self.partial, self.skipping = 0, 0, b"", False
            self.fh.seek(0)

    def _drain(self, batch: Batch) -> None:
        assert self.fh is not None
        while True:
            chunk = self.fh.read(CHUNK)
            if not chunk:
                return
            data = self.partial + chunk
            start = 0
            while True:
                end = data.find(b"\n", start)
                if end < 0:
                    break
                raw = data[start:end]
                self.offset += end + 1 - start
                self.line += 1
                if self.skipping:
                    self.skipping = False  # the end of an oversized line
                elif raw.strip():
                    batch.lines.append((self.line, raw))
                start = end + 1
            self.partial = data[start:]
            if len(self.partial) > MAX_LINE_BYTES:
                # too long to ever judge: count it, keep reading past it without holding it
                batch.oversized += 0 if self.skipping else 1
                self.offset += len(self.partial)
                self.partial, self.skipping = b"", True
