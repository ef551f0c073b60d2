"""Plan a remediation: which commits to revert (newest first, with reasons), what is uncommitted,
what was pushed where, and which reverts will conflict. Reads the repository, changes nothing.

Conflicts are predicted by trying the reverts for real in a throwaway worktree (never the
responder's checkout), but only when a cheap test says one is possible: a revert can only
conflict when a commit that stays (a human's, newer than the agent's) touched the same files.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from agentir.actions.checklist import ChecklistDraft, drafts_for
from agentir.analysis.commits import (
    DEFAULT_SLACK,
    KEPT,
    OTHER_AGENT,
    REVERT,
    Candidate,
    Reason,
    SessionEvidence,
    classify,
)
from agentir.errors import GitError
from agentir.model import Assessment

if TYPE_CHECKING:
    from agentir.gitrepo import CommitInfo, GitRepo, StatusEntry

DEFAULT_LOOKBACK = timedelta(days=30)
FILES_SHOWN = 50
_BRANCH_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class PlannedCommit:
    """A commit in the plan (to revert, or listed and left alone) and why."""

    sha: str
    short: str
    subject: str
    author: str
    authored_at: datetime
    committed_at: datetime
    action: str  # revert | other_agent | kept
    reasons: tuple[Reason, ...]
    files: tuple[str, ...]
    files_total: int
    overlap: tuple[str, ...]
    sessions: tuple[str, ...]
    mainline: int | None = None  # 1 for merge commits (reverted against the first parent)
    pushed_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class Conflict:
    """A revert that will not apply cleanly (or has nothing left to undo)."""

    sha: str
    short: str
    subject: str
    kind: str  # conflict | empty
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class Uncommitted:
    """Uncommitted changes in the responder's checkout."""

    agent_files: tuple[tuple[str, str], ...] = ()  # (path, porcelain code) the session wrote
    other_files: tuple[tuple[str, str], ...] = ()  # tracked changes the session did not write
    untracked_other: int = 0

    @property
    def dirty(self) -> bool:
        """Changes that a remediation must save and clear before it is complete."""
        return bool(self.agent_files or self.other_files)


@dataclass(frozen=True)
class SessionView:
    """A session as the plan used it."""

    id: str
    agent: str
    branch: str | None
    started_at: datetime | None
    ended_at: datetime | None
    files: int
    printed: int
    snapshot_commits: tuple[str, ...] = ()


@dataclass(frozen=True)
class RevertPlan:
    """Everything `agentir remediate --dry-run` prints, and what apply needs."""

    repo: str
    prefix: str
    base_branch: str | None
    base_commit: str | None
    target_branch: str
    label: str
    incident: str | None
    sessions: tuple[SessionView, ...]
    reverts: tuple[PlannedCommit, ...]  # newest first
    other_agent: tuple[PlannedCommit, ...] = ()
    kept: tuple[PlannedCommit, ...] = ()
    unresolved: tuple[str, ...] = ()  # printed hashes this repository does not have
    off_branch: tuple[str, ...] = ()  # printed commits not in the current branch's history
    restore_points: tuple[tuple[str, bool], ...] = ()  # (Codex ghost snapshot, present here)
    uncommitted: Uncommitted = field(default_factory=Uncommitted)
    conflicts: tuple[Conflict, ...] = ()
    conflicts_checked: str = "no reverts"
    checklist: tuple[ChecklistDraft, ...] = ()
    scanned: int = 0
    since: datetime | None = None
    warnings: tuple[str, ...] = ()


def target_branch_for(label: str) -> str:
    """`agentir/revert-<incident or session-short>`, safe as a ref name."""
    clean = _BRANCH_SAFE.sub("-", label).strip("-.") or "session"
    return f"agentir/revert-{clean}"


def repo_paths(assessment: Assessment, repo: GitRepo) -> frozenset[str]:
    """The files the session changed, relative to the repository root."""
    cwd = assessment.session.cwd
    local_cwd = Path(cwd) if cwd else None
    prefix = repo.prefix
    if local_cwd is not None and local_cwd.is_absolute():
        try:  # same machine: the trace's cwd tells where in the repository the agent ran
            rel = os.path.relpath(local_cwd.resolve(), repo.root)
            if not rel.startswith(".."):
                prefix = "" if rel == "." else Path(rel).as_posix()
        except (OSError, ValueError):
            pass
    out: set[str] = set()
    for touch in assessment.files:
        if not touch.done:
            continue
        path = touch.path
        if touch.inside_cwd and not posixpath.isabs(path):
            joined = posixpath.normpath(posixpath.join(prefix, path)) if prefix else path
            out.add(posixpath.normpath(joined))
            continue
        try:
            rel = os.path.relpath(Path(path).resolve(), repo.root)
        except (OSError, ValueError):
            continue
        if not rel.startswith(".."):
            out.add(Path(rel).as_posix())
    return frozenset(p for p in out if p and p != ".")


def build_plan(
    repo: GitRepo,
    assessments: Sequence[Assessment],
    *,
    label: str,
    incident: str | None = None,
    slack: timedelta = DEFAULT_SLACK,
    lookback: timedelta = DEFAULT_LOOKBACK,
    include_other: bool = False,
    predict: str = "auto",
) -> RevertPlan:
    """Find the sessions' commits in the current branch and plan their reverts.

    `predict`: how to try the reverts for conflicts: auto (merge-tree when git has it),
    merge-tree, worktree, or none."""
    head = repo.head()
    if head is None:
        raise GitError(f"{repo.root} has no commits yet", hint="there is nothing to revert")
    evidence, unresolved, warnings = _evidence(repo, assessments)
    starts = [s.started_at for s in evidence]
    since = None
    if starts and all(starts):
        try:
            since = min(s for s in starts if s is not None) - lookback
        except OverflowError:
            since = None
        if since is not None and since.timestamp() <= 0:  # before any commit: scan it all
            since = None
    notes = repo.has_ref("refs/notes/ai")
    commits = repo.log(["HEAD"], since=since, notes=notes)
    seen = {c.sha for c in commits}
    # Codex ghost snapshots are pre-turn states (restore points), never agent work to revert
    snapshots = {sha for a in assessments for sha in _full(repo, a.session.snapshot_commits)}
    printed = sorted({sha for s in evidence for sha in s.printed} - seen - snapshots)
    reachable = repo.reachable_from(head, printed)
    older = [sha for sha in printed if sha in reachable]
    off_branch = [sha for sha in printed if sha not in reachable]
    if older:  # printed before the scanned range: read them too (one call)
        extra = repo.log(older, no_walk=True, notes=notes)
        commits += sorted(extra, key=lambda c: c.committed_at, reverse=True)
    candidates = [c for c in classify(commits, evidence, slack=slack) if c.sha not in snapshots]
    if include_other:
        candidates = [
            replace(c, action=REVERT, reasons=(*c.reasons, _INCLUDED)) if c.action == OTHER_AGENT
            else c
            for c in candidates
        ]  # fmt: skip
    to_revert = [c for c in candidates if c.action == REVERT]
    pushed = repo.remote_branches_containing([c.sha for c in to_revert])
    reverts = tuple(_planned(c, pushed.get(c.sha, ())) for c in to_revert)
    branch = repo.current_branch()
    for s in evidence:
        if s.branch and branch and s.branch not in (branch, "HEAD"):
            warnings.append(
                f"session {s.id} worked on branch {s.branch!r} but {branch!r} is checked out: "
                f"only commits in {branch!r} are considered"
            )
    if branch is None:
        warnings.append("HEAD is detached: the revert branch starts from the detached commit")
    plan = RevertPlan(
        repo=str(repo.root),
        prefix=repo.prefix,
        base_branch=branch,
        base_commit=head,
        target_branch=target_branch_for(label),
        label=label,
        incident=incident,
        sessions=tuple(_view(a, s) for a, s in zip(assessments, evidence, strict=True)),
        reverts=reverts,
        other_agent=tuple(_planned(c) for c in candidates if c.action == OTHER_AGENT),
        kept=tuple(_planned(c) for c in candidates if c.action == KEPT),
        unresolved=tuple(unresolved),
        off_branch=tuple(off_branch),
        restore_points=tuple(
            (sha, repo.object_exists(sha))
            for a in assessments
            for sha in a.session.snapshot_commits
        ),
        uncommitted=uncommitted_changes(repo, frozenset().union(*(s.files for s in evidence))),
        checklist=tuple(_checklist(assessments, reverts)),
        scanned=len(commits),
        since=since,
        warnings=tuple(warnings),
    )
    if predict != "none":
        from agentir.actions.revert_engine import predict_conflicts

        plan = predict_conflicts(repo, plan, commits, predict)
    return plan


_INCLUDED = Reason("include_other", "included because --include-other was given")


def _evidence(
    repo: GitRepo, assessments: Sequence[Assessment]
) -> tuple[list[SessionEvidence], list[str], list[str]]:
    refs = {ref for a in assessments for ref in a.commit_refs}
    resolved = repo.resolve_commits(sorted(refs))
    unresolved = sorted(r for r, sha in resolved.items() if sha is None)
    warnings: list[str] = []
    out: list[SessionEvidence] = []
    for a in assessments:
        s = a.session
        after: frozenset[str] = frozenset()
        if s.git_commit:
            start = repo.resolve_commits([s.git_commit]).get(s.git_commit)
            if start and repo.is_ancestor(start, "HEAD"):
                after = frozenset(repo.rev_list(f"{start}..HEAD"))
            elif not start:
                warnings.append(f"session {s.id} started at {s.git_commit[:10]}, unknown here")
        if s.started_at is None:
            warnings.append(
                f"session {s.id} has no timestamps: only printed hashes, session links and "
                "agent markers on the session's files identify its commits"
            )
        printed = frozenset(sha for ref in a.commit_refs if (sha := resolved.get(ref)) is not None)
        out.append(
            SessionEvidence(
                id=s.id,
                agent=s.agent,
                started_at=s.started_at,
                ended_at=s.ended_at,
                branch=s.git_branch,
                files=repo_paths(a, repo),
                printed=printed,
                after_start=after,
            )
        )
    return out, unresolved, warnings


def _full(repo: GitRepo, shas: Sequence[str]) -> list[str]:
    return [sha for sha in repo.resolve_commits(shas).values() if sha]


def _planned(c: Candidate, pushed: Sequence[str] = ()) -> PlannedCommit:
    commit: CommitInfo = c.commit
    return PlannedCommit(
        sha=commit.sha,
        short=commit.short,
        subject=commit.subject,
        author=f"{commit.author_name} <{commit.author_email}>",
        authored_at=commit.authored_at,
        committed_at=commit.committed_at,
        action=c.action,
        reasons=c.reasons,
        files=commit.files[:FILES_SHOWN],
        files_total=len(commit.files),
        overlap=c.overlap[:FILES_SHOWN],
        sessions=c.sessions,
        mainline=1 if commit.is_merge else None,
        pushed_to=tuple(pushed),
    )


def _view(a: Assessment, s: SessionEvidence) -> SessionView:
    return SessionView(
        id=s.id,
        agent=s.agent,
        branch=s.branch,
        started_at=s.started_at,
        ended_at=s.ended_at,
        files=len(s.files),
        printed=len(s.printed),
        snapshot_commits=a.session.snapshot_commits,
    )


def uncommitted_changes(repo: GitRepo, agent_files: frozenset[str]) -> Uncommitted:
    """Split `git status` into the session's files and everyone else's."""
    mine: list[tuple[str, str]] = []
    other: list[tuple[str, str]] = []
    untracked_other = 0
    entries: list[StatusEntry] = repo.status()
    for entry in entries:
        ours = entry.path in agent_files or (entry.orig_path or "") in agent_files
        if ours:
            mine.append((entry.path, entry.code))
        elif entry.untracked:
            untracked_other += 1
        else:
            other.append((entry.path, entry.code))
    return Uncommitted(tuple(mine), tuple(other), untracked_other)


def _checklist(
    assessments: Sequence[Assessment], reverts: Sequence[PlannedCommit]
) -> list[ChecklistDraft]:
    carried: dict[str, list[str]] = {}
    for commit in reverts:
        for ref in commit.pushed_to:
            carried.setdefault(ref, []).append(commit.sha)
    out: list[ChecklistDraft] = []
    for a in assessments:
        out += drafts_for(
            a.session.id, a.effects, session_branch=a.session.git_branch, pushed=carried
        )
    return out
