"""Unified diffs (`git show`, `git diff`, `diff -u`) as per-file hunks with new-side line numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_DIFF_GIT = re.compile(r'^diff --git "?a/(.+?)"? "?b/(.+?)"?$')
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$")


@dataclass
class Hunk:
    """One hunk: its new-side lines (context and added) with their line numbers."""

    new_start: int
    header: str  # the function context git prints after the second @@ (may be empty)
    lines: list[tuple[int, str, str]] = field(default_factory=list)  # (new line, tag, text)
    removed_at: list[int] = field(default_factory=list)  # new-side line where a removal sat

    @property
    def added(self) -> list[int]:
        """New-side numbers of the added lines."""
        return [n for n, tag, _ in self.lines if tag == "+"]


@dataclass
class FileDiff:
    """The changes to one file (its new path; None when the file was deleted)."""

    path: str | None
    old_path: str | None
    hunks: list[Hunk] = field(default_factory=list)
    new_file: bool = False
    binary: bool = False

    @property
    def added(self) -> set[int]:
        """Every added line number (new side)."""
        return {n for h in self.hunks for n in h.added}

    @property
    def known(self) -> dict[int, str]:
        """New-side text of every line the diff shows (context and added)."""
        return {n: text for h in self.hunks for n, tag, text in h.lines}

    @property
    def complete(self) -> bool:
        """True when the diff shows the whole new file (a new file in one hunk)."""
        return self.new_file and len(self.hunks) == 1 and self.hunks[0].new_start <= 1


def _path(raw: str) -> str | None:
    raw = raw.strip().split("\t", 1)[0].strip('"')
    if raw == "/dev/null":
        return None
    for prefix in ("a/", "b/"):
        if raw.startswith(prefix):
            return raw[len(prefix) :]
    return raw


def parse_diff(text: str) -> list[FileDiff]:
    """Every file diff in `text`, in order; commit headers and unknown lines are ignored."""
    files: list[FileDiff] = []
    current: FileDiff | None = None
    hunk: Hunk | None = None
    old_left = new_left = 0
    new_no = 0
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if hunk is not None and (old_left > 0 or new_left > 0):
            tag = line[:1]
            if tag == "\\":  # "\ No newline at end of file"
                continue
            if tag in (" ", "") and new_left > 0 and old_left > 0:
                hunk.lines.append((new_no, " ", line[1:]))
                new_no += 1
                new_left -= 1
                old_left -= 1
                continue
            if tag == "+" and new_left > 0:
                hunk.lines.append((new_no, "+", line[1:]))
                new_no += 1
                new_left -= 1
                continue
            if tag == "-" and old_left > 0:
                hunk.removed_at.append(new_no)
                old_left -= 1
                continue
            hunk = None  # the counts were wrong: fall through and read the line as a header
        git = _DIFF_GIT.match(line)
        if git:
            current = FileDiff(path=git.group(2), old_path=git.group(1))
            files.append(current)
            hunk = None
            continue
        if line.startswith("--- ") and i < len(lines) and lines[i].startswith("+++ "):
            old = _path(line[4:])
            new = _path(lines[i][4:])
            i += 1
            if current is None or current.hunks:
                current = FileDiff(path=new, old_path=old)
                files.append(current)
            else:
                current.path, current.old_path = new, old
            current.new_file = current.new_file or old is None
            hunk = None
            continue
        if current is None:
            continue
        if line.startswith("new file mode"):
            current.new_file = True
        elif line.startswith("deleted file mode"):
            current.path = None
        elif line.startswith("rename to "):
            current.path = line[len("rename to ") :].strip()
        elif line.startswith("Binary files ") or line.startswith("GIT binary patch"):
            current.binary = True
        else:
            m = _HUNK.match(line)
            if m:
                old_left = int(m.group(2)) if m.group(2) is not None else 1
                new_left = int(m.group(4)) if m.group(4) is not None else 1
                new_no = int(m.group(3)) if new_left else int(m.group(3)) + 1
                hunk = Hunk(new_start=max(new_no, 1), header=m.group(5).strip())
                current.hunks.append(hunk)
    return [f for f in files if f.path is not None and not f.binary]
