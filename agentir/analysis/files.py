"""The files a session changed: one entry per path, as a responder reads it (relative to the
session's cwd when inside it), with every operation, tool and step that touched it."""

from __future__ import annotations

from dataclasses import dataclass

from agentir.analysis.paths import display
from agentir.model import FileChange, FileOp, FileTouch

MAX_FILES = 10_000


@dataclass
class _Entry:
    path: str
    ops: list[FileOp]
    via: list[str]
    first_seq: int
    seqs: list[int]
    done: bool
    inside: bool


class FileLedger:
    """Files touched so far, capped at `limit` paths (the rest are counted, not kept)."""

    def __init__(self, limit: int = MAX_FILES) -> None:
        self.entries: dict[str, _Entry] = {}
        self.limit = limit
        self.omitted = 0

    def __len__(self) -> int:
        return len(self.entries)

    def touch(self, change: FileChange, via: str, seq: int, done: bool, cwd: str | None) -> None:
        """Record a change (a failed one only as an attempt); renames touch both paths."""
        paths = [(change.path, change.op)]
        if change.op is FileOp.COPY and change.dest:
            paths = [(change.dest, FileOp.COPY)]
        elif change.op is FileOp.RENAME and change.dest:
            paths.append((change.dest, FileOp.RENAME))
        for raw, op in paths:
            shown, inside = display(raw, cwd)
            entry = self.entries.get(shown)
            if entry is None:
                if len(self.entries) >= self.limit:
                    self.omitted += 1
                    continue
                entry = _Entry(shown, [], [], seq, [], done, inside)
                self.entries[shown] = entry
            if done and not entry.done:
                entry.done = True
            if (done or not entry.ops) and op not in entry.ops:
                entry.ops.append(op)
            if via and via not in entry.via and len(entry.via) < 8:
                entry.via.append(via)
            if len(entry.seqs) < 50:
                entry.seqs.append(seq)

    def touches(self) -> tuple[FileTouch, ...]:
        """Every file, in the order the session first touched it."""
        return tuple(
            FileTouch(
                e.path, tuple(e.ops), tuple(e.via), e.first_seq, tuple(e.seqs), e.done, e.inside
            )
            for e in sorted(self.entries.values(), key=lambda e: (e.first_seq, e.path))
        )
