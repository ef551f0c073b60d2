"""The code a change touched, as `agentir similar` compares it: files, functions, line ranges.

A `CodeProfile` is built from a unified diff (a commit's patch) or from what a trace says a
session changed. Line ranges are kept for both sides of each hunk: a look-alike commit made
before the incident saw the file as the incident's old side, a later one as its new side, and
lines drift a little in between (hence a small slack when comparing).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from agentir.analysis.similar_changes import bare
from agentir.analysis.testgen import changed_functions, is_test_file, language_of

HUNK_SLACK = 3
_DIFF_GIT = re.compile(r'^diff --git "?a/(.+?)"? "?b/(.+?)"?$')
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
# Names too common to say two changes touch the same code when the files differ.
GENERIC_NAMES = frozenset(
    {
        "main", "__init__", "__call__", "__repr__", "__str__", "__eq__", "run", "setup",
        "teardown", "init", "get", "set", "update", "handle", "handler", "test", "index",
        "render", "constructor", "new", "default", "call", "execute", "apply", "process",
        "<module>", "tostring", "to_dict", "from_dict", "parse", "load", "save", "start", "stop",
    }
)  # fmt: skip


@dataclass
class CodeProfile:
    """What a change touched: files, functions (file -> names), and hunk line ranges."""

    files: set[str] = field(default_factory=set)
    functions: dict[str, set[str]] = field(default_factory=dict)
    ranges: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    def add_function(self, path: str, name: str) -> None:
        """Record a changed function of a file."""
        self.functions.setdefault(path, set()).add(name)

    def merge(self, other: CodeProfile) -> None:
        """Add another profile's files, functions and ranges."""
        self.files |= other.files
        for path, names in other.functions.items():
            self.functions.setdefault(path, set()).update(names)
        for path, spans in other.ranges.items():
            self.ranges.setdefault(path, []).extend(spans)

    def names(self) -> set[str]:
        """Every function's bare name."""
        return {bare(n) for names in self.functions.values() for n in names}

    @property
    def empty(self) -> bool:
        """Nothing known about the change."""
        return not self.files and not self.functions


def diff_profile(diff: str) -> CodeProfile:
    """Files, changed functions and hunk ranges of a unified diff (test files left out of the
    functions: a test named like the code it tests is not the same code)."""
    profile = CodeProfile()
    current: str | None = None
    for line in diff.splitlines():
        git = _DIFF_GIT.match(line)
        if git:
            current = git.group(2)
            profile.files.add(current)
            continue
        if line.startswith("+++ ") and current is None:
            path = line[4:].strip().removeprefix("b/")
            if path != "/dev/null":
                current = path
                profile.files.add(path)
            continue
        m = _HUNK.match(line)
        if m and current is not None:
            old_start, old_len = int(m.group(1)), int(m.group(2) or 1)
            new_start, new_len = int(m.group(3)), int(m.group(4) or 1)
            spans = profile.ranges.setdefault(current, [])
            spans.append((old_start, old_start + max(old_len, 1) - 1))
            spans.append((new_start, new_start + max(new_len, 1) - 1))
    for fn in changed_functions(diff):
        profile.add_function(fn.file, fn.name)
    _header_functions(diff, profile)
    return profile


def _header_functions(diff: str, profile: CodeProfile) -> None:
    """Functions named by hunk headers of removal-only hunks (changed_functions sees additions
    only; a deleted guard is a change to its function too)."""
    from agentir.analysis.testgen_text import find_function

    current: str | None = None
    pending: tuple[str, str] | None = None  # (file, header) of the hunk being read
    added = False

    def flush() -> None:
        if pending is not None and not added:
            file, header = pending
            lang = language_of(file)
            name = find_function({}, 0, lang, header) if lang and header else None
            if name and not is_test_file(file):
                profile.add_function(file, name)

    for line in diff.splitlines():
        git = _DIFF_GIT.match(line)
        if git:
            flush()
            current, pending = git.group(2), None
            continue
        if line.startswith("@@") and current is not None:
            flush()
            header = line.split("@@", 2)[-1].strip() if line.count("@@") >= 2 else ""
            pending, added = (current, header), False
            continue
        if line.startswith("+") and not line.startswith("+++"):
            added = True
    flush()


def overlapping(a: Iterable[tuple[int, int]], b: Iterable[tuple[int, int]]) -> bool:
    """Whether any range of `a` meets one of `b` (within HUNK_SLACK lines)."""
    b_list = list(b)
    return any(s1 - HUNK_SLACK <= e2 and s2 - HUNK_SLACK <= e1 for s1, e1 in a for s2, e2 in b_list)


@dataclass(frozen=True)
class CodeOverlap:
    """What two changes share: same functions in the same file, same function names in other
    files, files whose hunks overlap, and files in common."""

    same_functions: tuple[tuple[str, str], ...] = ()  # (file, name)
    same_names: tuple[tuple[str, str, str], ...] = ()  # (their file, name, our file)
    hunks: tuple[str, ...] = ()
    files: tuple[str, ...] = ()


def compare(ours: CodeProfile, theirs: CodeProfile) -> CodeOverlap:
    """What `theirs` shares with `ours`."""
    same: list[tuple[str, str]] = []
    for path, names in theirs.functions.items():
        mine = {bare(n): n for n in ours.functions.get(path, ())}
        same += [(path, n) for n in sorted(names) if bare(n) in mine]
    taken = {bare(n) for _, n in same}
    by_name: dict[str, str] = {}
    for path, names in ours.functions.items():
        for n in names:
            by_name.setdefault(bare(n), path)
    others: list[tuple[str, str, str]] = []
    for path, names in theirs.functions.items():
        for n in sorted(names):
            b = bare(n)
            if b in taken or b.lower() in GENERIC_NAMES or b not in by_name:
                continue
            if by_name[b] != path:
                others.append((path, n, by_name[b]))
                taken.add(b)
    hunks = sorted(
        p
        for p in theirs.ranges
        if p in ours.ranges and overlapping(ours.ranges[p], theirs.ranges[p])
    )
    return CodeOverlap(
        tuple(same), tuple(others), tuple(hunks), tuple(sorted(ours.files & theirs.files))
    )
