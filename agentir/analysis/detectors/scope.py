"""Scope creep: files changed outside the allowed write paths, inside forbidden or sensitive
ones, or far from the paths the task itself named.

Paths are judged against the session cwd. The task scope is the set of top-level directories
of the paths named in the first real user prompt ("fix src/auth/login.py" -> `src/`; a named
test file sets no scope: it says what must work, not where the fix goes); a change
in another top-level directory is flagged, except tests, lock files, root-level files and
files the session created and deleted again (scratch files). A failed attempt is reported one
level lower than a change that happened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from posixpath import basename, relpath

from agentir.analysis.detectors.common import Detector, quote
from agentir.analysis.fold import Derived, SessionFold
from agentir.analysis.paths import absolute
from agentir.model import Event, FileChange, FileOp, ToolCall
from agentir.policy import Policy, match_paths

MAX_PATHS = 50
MAX_CANDIDATES = 500
MAX_VERDICTS = 4096
_LOWER = {"critical": "high", "high": "warning", "warning": "info", "info": "info"}
_TASK_PATH = re.compile(
    r"(?<![\w/.:@-])((?:\.{1,2}/|/)?(?:[\w.@+-]+/)+[\w.@+-]*|[\w@+-]+(?:\.[\w-]+)*\.[A-Za-z]{1,6})(?![\w/])"
)
_LOCKS = frozenset(
    {
        "package-lock.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "poetry.lock",
        "uv.lock",
        "Cargo.lock",
        "go.sum",
        "go.mod",
        "Gemfile.lock",
        "composer.lock",
        "Pipfile.lock",
    }
)
_TESTISH = re.compile(
    r"(^|/)(tests?|specs?|__tests__|testing)(/|$)|(^|/)test_[^/]*$|[._-](test|spec)\.[^/]+$|_test\.[^/]+$"
)
_RULES = {
    "forbidden": ("high", "changed forbidden path(s)"),
    "outside": ("high", "changed file(s) outside the allowed write paths"),
    "sensitive": ("warning", "changed sensitive file(s) (CI, hooks, agent settings)"),
    "task_scope": ("warning", "changed file(s) far from the paths the task named"),
}


def task_dirs(task: str | None, cwd: str | None) -> set[str]:
    """Top-level directories (relative to cwd) of the paths a task names."""
    if not task:
        return set()
    dirs: set[str] = set()
    for match in _TASK_PATH.finditer(task[:4000]):
        raw = match.group(1).rstrip(".,;:")
        start = match.start(1)
        if task[max(0, start - 3) : start].endswith("://"):
            continue
        parts = [p for p in raw.split("/") if p and p != "."]
        named_dir = raw.endswith("/") or raw.startswith(("./", "/")) or len(parts) >= 3
        has_ext = bool(parts) and "." in parts[-1].strip(".")
        if len(parts) < 2 or not (has_ext or named_dir):
            continue  # "and/or", "I/O": not a path
        full = absolute(raw, cwd)
        if raw.startswith("/"):
            if not cwd or not full.startswith(cwd.rstrip("/") + "/"):
                continue
            parts = relpath(full, cwd).split("/")
        if len(parts) >= 2 and parts[0] not in ("..", "") and not _TESTISH.search("/".join(parts)):
            dirs.add(parts[0])  # a named test says what must work, not where the fix goes
    return dirs


def project_relative(full: str, root: str | None) -> str | None:
    """`full` relative to the session root, or None when outside it; `full` itself when no
    root is known (scope cannot be judged, so the path is taken as inside)."""
    if full.startswith(("~", "$")):
        return None  # the home directory: never inside the project
    if root and full.startswith("/"):
        base = root.rstrip("/") or "/"
        return relpath(full, base) if full == base or full.startswith(base + "/") else None
    return full


def path_rule(policy: Policy, full: str, rel: str | None, root: str | None) -> tuple[str, str]:
    """(rule, why) for writing a path: forbidden or sensitive (why: the pattern it matched),
    outside (why: where it is), or ("", "") when the path policy allows it."""
    paths = policy.paths
    rule = match_paths(paths.forbidden, full, rel)
    if rule:
        return "forbidden", rule
    if not match_paths(paths.allowed_write, full, rel):
        return (
            "outside",
            f"outside {root}" if rel is None and root else "not in paths.allowed_write",
        )
    rule = match_paths(paths.sensitive, full, rel)
    if rule:
        return "sensitive", rule
    return "", ""


def written(change: FileChange) -> list[tuple[str, FileOp]]:
    """The paths a change writes (a copy writes its destination, a rename both ends)."""
    if change.op is FileOp.COPY and change.dest:
        return [(change.dest, FileOp.COPY)]
    if change.op is FileOp.RENAME and change.dest:
        return [(change.path, FileOp.DELETE), (change.dest, FileOp.RENAME)]
    return [(change.path, change.op)]


@dataclass
class _Hit:
    severity: str
    paths: dict[str, int] = field(default_factory=dict)  # path -> first seq
    patterns: dict[str, None] = field(default_factory=dict)
    source: str = ""
    more: int = 0


class ScopeDetector(Detector):
    """Writes outside the allowed paths, into forbidden / sensitive ones, or off the task."""

    name = "scope"

    def __init__(self, policy: Policy) -> None:
        super().__init__(policy)
        self.hits: dict[tuple[str, bool], _Hit] = {}  # (rule, attempt) -> paths
        self.scope: set[str] | None = None
        self.candidates: dict[str, tuple[int, str, list[FileOp]]] = {}  # off-task paths
        self.verdicts: dict[tuple[str, str | None], tuple[str, str]] = {}

    def feed(self, event: Event, derived: Derived, fold: SessionFold) -> None:
        """Judge every file change the fold derived from this event."""
        if not derived.changes_done and not derived.changes_failed:
            return
        call = derived.call or (event if isinstance(event, ToolCall) else None)
        cwd = fold.cwd
        call_cwd = call.cwd if call is not None and call.cwd else cwd
        seq = call.seq if call is not None else event.seq
        for attempt, changes in ((False, derived.changes_done), (True, derived.changes_failed)):
            for change in changes:
                for raw, op in written(change):
                    self._judge(raw, op, call_cwd, cwd, seq, str(event.source), attempt, fold)

    def _judge(
        self,
        raw: str,
        op: FileOp,
        call_cwd: str | None,
        cwd: str | None,
        seq: int,
        source: str,
        attempt: bool,
        fold: SessionFold,
    ) -> None:
        full = absolute(raw, call_cwd)
        rel = project_relative(full, cwd)
        shown = rel if rel is not None else full
        verdict = self.verdicts.get((full, rel))
        if verdict is None:
            verdict = path_rule(self.policy, full, rel, cwd)
            if len(self.verdicts) < MAX_VERDICTS:  # agents touch the same files again and again
                self.verdicts[(full, rel)] = verdict
        if verdict[0]:
            self._hit(verdict[0], attempt, shown, seq, source, verdict[1])
            return
        if self.policy.paths.task_scope and rel is not None and not attempt:
            self._task_scope(rel, op, seq, source, fold)

    def _task_scope(self, rel: str, op: FileOp, seq: int, source: str, fold: SessionFold) -> None:
        if self.scope is None:
            self.scope = task_dirs(fold.task, fold.cwd)
        parts = rel.split("/")
        if not self.scope or len(parts) < 2 or parts[0] in self.scope or parts[0] == "..":
            return
        if basename(rel) in _LOCKS or _TESTISH.search(rel):
            return
        entry = self.candidates.get(rel)
        if entry is None:
            if len(self.candidates) >= MAX_CANDIDATES:
                return
            entry = (seq, source, [])
            self.candidates[rel] = entry
        if len(entry[2]) < 8:
            entry[2].append(op)

    def _hit(self, rule: str, attempt: bool, path: str, seq: int, source: str, why: str) -> None:
        hit = self.hits.get((rule, attempt))
        if hit is None:
            severity = _RULES[rule][0]
            hit = _Hit(_LOWER[severity] if attempt else severity, source=source)
            self.hits[(rule, attempt)] = hit
        if path in hit.paths:
            return
        if len(hit.paths) >= MAX_PATHS:
            hit.more += 1
            return
        hit.paths[path] = seq
        hit.patterns.setdefault(why, None)

    def final(self, fold: SessionFold) -> None:
        """One finding per rule (and per attempt / done), listing the paths."""
        for rel, (seq, source, ops) in self.candidates.items():
            scratch = FileOp.DELETE in ops and ops[-1] is FileOp.DELETE
            if not scratch:
                self._hit("task_scope", False, rel, seq, source, "task scope")
        for (rule, attempt), hit in self.hits.items():
            listed = ", ".join(f"{quote(p, 80)} (seq {s})" for p, s in list(hit.paths.items())[:5])
            count = len(hit.paths) + hit.more
            more = f" and {count - 5} more" if count > 5 else ""
            what = _RULES[rule][1]
            if attempt:
                what = "tried (and failed) to " + what.replace("changed", "change")
            detail = ""
            if rule in ("forbidden", "sensitive"):
                detail = f" [matched {', '.join(list(hit.patterns)[:3])}]"
            elif rule == "task_scope":
                detail = f" [the task names {', '.join(sorted(self.scope or ()))}/]"
            elif rule == "outside":
                detail = f" [{', '.join(list(hit.patterns)[:2])}]"
            self.emit(
                hit.severity,
                f"{what}: {listed}{more}{detail}",
                sorted(hit.paths.values()),
                hit.source,
                rule=rule,
                attempt=attempt,
                paths=list(hit.paths),
                count=count,
            )
