"""`agentir similar`: does other work share the incident's flaw?

From the incident's traces (its findings, the files and functions its sessions changed) and
its commits in the repository (their patches), build an `IncidentPattern`; then search

- other sessions (given paths, or the agents' own log folders) for the same detector firing on
  the same subject, the same functions or the same files changed (`similar_sessions`, in
  worker processes like `scan`);
- the repository's history since a date (default: 90 days before the incident) for commits by
  the same agent whose patches touch the same code: the same functions, overlapping hunks.

The incident's own sessions and commits are left out. Scoring is in `similar_match`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentir.analysis.secrets import redact
from agentir.analysis.similar_changes import ChangeCollector
from agentir.analysis.similar_code import CodeProfile, diff_profile
from agentir.analysis.similar_match import IncidentPattern, Match, finding_sig, match_commit, rank
from agentir.analysis.similar_sessions import (
    Progress,
    SessionSearch,
    assess_with_changes,
    is_own,
    search_sessions,
)
from agentir.errors import AgentirError, GitError, UsageError
from agentir.model import Assessment
from agentir.policy import Policy

if TYPE_CHECKING:
    from agentir.gitrepo import CommitInfo, GitRepo
    from agentir.incidents.records import Incident
    from agentir.incidents.store import IncidentStore

DEFAULT_LOOKBACK = timedelta(days=90)


@dataclass
class CommitSearch:
    """What the history search read and found."""

    repo: str | None = None
    since: datetime | None = None
    read: int = 0  # commits in the range
    agent: int = 0  # of those, by the incident's agent (the incident's own left out)
    own: list[str] = field(default_factory=list)
    matches: list[Match] = field(default_factory=list)


@dataclass
class SimilarResult:
    """The ranked look-alikes and what was searched."""

    incident: str
    pattern: IncidentPattern
    sessions: SessionSearch
    commits: CommitSearch
    matches: list[Match]
    roots: list[str]
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, Any]:
        """What was searched and found, in numbers (the timeline line)."""
        return {
            "trace_files": self.sessions.files,
            "sessions": self.sessions.sessions,
            "unreadable": len(self.sessions.errors),
            "repo": self.commits.repo,
            "since": self.commits.since,
            "commits": self.commits.read,
            "agent_commits": self.commits.agent,
            "matching_sessions": len(self.sessions.matches),
            "matching_commits": len(self.commits.matches),
        }

    def to_dict(self, limit: int | None = None) -> dict[str, Any]:
        """Plain data for --json."""
        shown = self.matches if limit is None else self.matches[:limit]
        p = self.pattern
        return {
            "incident": self.incident,
            "pattern": {
                "sessions": list(p.sessions),
                "agents": list(p.agents),
                "findings": [
                    {"detector": f.detector, "severity": f.severity, "message": f.message}
                    for f in p.findings
                ],
                "files": sorted(p.session_files),
                "functions": _functions(p.session_code),
                "commits": self.commits.own,
            },
            "searched": {
                **self.counts(),
                "roots": self.roots,
                "own_sessions_skipped": self.sessions.own,
                "not_traces": self.sessions.not_traces,
                "jobs": self.sessions.jobs,
                "seconds": round(self.sessions.seconds, 3),
            },
            "matches": [{"rank": i, **m.to_dict()} for i, m in enumerate(shown, 1)],
            "total_matches": len(self.matches),
            "errors": [
                {"path": e.path, "error": e.error, "code": e.code} for e in self.sessions.errors
            ],
            "notes": self.notes,
        }


def _functions(code: CodeProfile) -> list[str]:
    return sorted(f"{path}:{name}" for path, names in code.functions.items() for name in names)


def incident_traces(store: IncidentStore, incident: Incident) -> list[Path]:
    """The incident's traces; one gone from its place is read from the evidence copy."""
    from agentir.incidents.store import EVIDENCE_DIR

    copies = {r.path: r.name for r in store.evidence(incident.id)}
    out: list[Path] = []
    for trace in incident.traces:
        path = Path(trace)
        if not path.exists() and trace in copies:
            path = store.path(incident.id) / EVIDENCE_DIR / copies[trace]
        if path.exists():
            out.append(path)
    return out


def incident_sessions(
    store: IncidentStore, incident: Incident, policy: Policy
) -> list[tuple[Assessment, ChangeCollector]]:
    """The incident's sessions (those it lists, else every session of its traces)."""
    traces = incident_traces(store, incident)
    if not traces:
        raise UsageError(
            f"{incident.id} has no readable trace to take the pattern from",
            hint="attach one: agentir incident open --trace, or agentir contain",
        )
    found: list[tuple[Assessment, ChangeCollector]] = []
    for trace in traces:
        try:
            found += assess_with_changes(trace, policy)
        except AgentirError:
            continue
    listed = [p for p in found if is_own(p[0].session.id, incident.sessions)]
    chosen = listed or found
    if not chosen:
        raise UsageError(f"no session could be read from the traces of {incident.id}")
    return chosen


def build_pattern(
    pairs: Sequence[tuple[Assessment, ChangeCollector]], commits_code: CodeProfile | None = None,
    prefix: str | None = None,
) -> IncidentPattern:  # fmt: skip
    """The incident's pattern: findings, and the code it changed (trace and commits).

    `prefix` is where in the repository the sessions ran; it maps the trace's cwd-relative
    paths and the commits' repository-relative paths onto each other."""
    session_code = CodeProfile()
    repo_code = CodeProfile()
    findings = []
    for a, collector in pairs:
        findings += [sig for f in a.findings if (sig := finding_sig(f)) is not None]
        for t in a.files:
            if t.done and t.inside_cwd:
                session_code.files.add(t.path)
        for c in collector.changed.values():
            session_code.add_function(c.path, c.name)
    if prefix is not None:
        for path in session_code.files:
            repo_code.files.add(posixpath.normpath(posixpath.join(prefix, path)))
        for path, names in session_code.functions.items():
            for name in names:
                repo_code.add_function(posixpath.normpath(posixpath.join(prefix, path)), name)
    if commits_code is not None:
        repo_code.merge(commits_code)
        # the commits' functions are exact: the sessions' look-alikes are judged on them too
        for path, names in commits_code.functions.items():
            local = _under(path, prefix)
            if local is not None:
                for name in names:
                    session_code.add_function(local, name)
    return IncidentPattern(
        sessions=tuple(dict.fromkeys(a.session.id for a, _ in pairs)),
        agents=tuple(dict.fromkeys(a.session.agent for a, _ in pairs)),
        findings=tuple(findings),
        session_code=session_code,
        code=repo_code,
    )


def _under(path: str, prefix: str | None) -> str | None:
    if prefix is None:
        return None
    if not prefix:
        return path
    return path[len(prefix) + 1 :] if path.startswith(prefix.rstrip("/") + "/") else None


def agent_filter(
    agents: Sequence[str], own_sessions: Sequence[str], own: set[str]
) -> tuple[Any, dict[str, str]]:
    """A predicate for commits by the incident's agent (not the incident's own), and the marker
    that decided each one (sha -> evidence)."""
    from agentir.analysis.commits import commit_markers, note_markers, same_agent, session_link

    evidence: dict[str, str] = {}

    def is_agent(commit: CommitInfo) -> bool:
        if commit.sha in own:
            return False
        markers = commit_markers(commit) + note_markers(commit.note, own_sessions)
        if any(session_link(m, sid) for m in markers for sid in own_sessions):
            own.add(commit.sha)  # it names the incident's session: the incident's own work
            return False
        for m in markers:
            if m.agent and any(same_agent(m.agent, agent) for agent in agents):
                evidence[commit.sha] = m.evidence
                return True
        return False

    return is_agent, evidence


def search_commits(
    repo: GitRepo, pattern: IncidentPattern, since: datetime | None, own: Sequence[str]
) -> CommitSearch:
    """Commits by the incident's agent since `since` whose patches touch the same code."""
    from agentir.gitrepo import commits_by_agent_since

    result = CommitSearch(repo=str(repo.root), since=since, own=list(own))
    own_set = set(own)
    is_agent, markers = agent_filter(pattern.agents, pattern.sessions, own_set)
    result.read, found = commits_by_agent_since(repo, is_agent, since)
    result.own = [*own, *sorted(own_set - set(own))]
    result.agent = len(found)
    for cp in found:
        c = cp.commit
        match = match_commit(
            pattern,
            diff_profile(cp.diff),
            sha=c.sha,
            subject=redact(c.subject)[:200],  # written by the agent under investigation
            author=redact(f"{c.author_name} <{c.author_email}>")[:200],
            date=c.committed_at,
            marker=redact(markers.get(c.sha, "agent marker")),
        )
        if match is not None:
            result.matches.append(match)
    return result


def find_similar(
    store: IncidentStore,
    ref: str,
    paths: Sequence[Path] = (),
    *,
    repo_path: Path | None = None,
    since: datetime | None = None,
    session_since: datetime | None = None,
    jobs: int | None = None,
    policy: Policy | None = None,
    progress: Progress | None = None,
) -> SimilarResult:
    """Search sessions and history for look-alikes of incident `ref`; ranked, best first."""
    from agentir.actions.agent_commits import cwd_prefix, default_repo, open_repo, session_commits
    from agentir.analysis.scan import default_roots

    policy = policy or Policy()
    incident = store.get(ref)
    pairs = incident_sessions(store, incident, policy)
    assessments = [a for a, _ in pairs]
    notes: list[str] = []
    repo = open_repo(repo_path) if repo_path is not None else default_repo(assessments)
    commits_code: CodeProfile | None = None
    own: list[str] = []
    prefix: str | None = None
    if repo is None:
        notes.append(
            "no repository: the sessions' working directory is not a checkout here "
            "(pass --repo PATH to search its history)"
        )
    else:
        prefix = cwd_prefix(repo, assessments[0].session.cwd)
        try:
            mine = session_commits(repo, assessments, incident.id)
        except GitError as exc:
            notes.append(f"the incident's commits could not be read: {exc.message}")
        else:
            own = mine.shas
            commits_code = CodeProfile()
            for diff in mine.diffs.values():
                commits_code.merge(diff_profile(diff))
            notes += mine.warnings
    pattern = build_pattern(pairs, commits_code, prefix)
    if not pattern.findings and pattern.session_code.empty and pattern.code.empty:
        notes.append(
            "the incident's sessions have no finding and changed no file: nothing to match"
        )
    roots = list(paths) or default_roots()
    if not roots:
        notes.append("no agent log folder found and no PATH given: no session was searched")
    sessions = search_sessions(
        pattern, roots, since=session_since, jobs=jobs, policy=policy, progress=progress,
        skip=[store.path(incident.id)],
    )  # fmt: skip
    commits = CommitSearch()
    if repo is not None:
        if since is None:
            starts = [a.session.started_at for a in assessments if a.session.started_at]
            anchor = min(starts) if starts else incident.opened_at
            since = anchor - DEFAULT_LOOKBACK if anchor else None
        commits = search_commits(repo, pattern, since, own)
    matches = rank([*sessions.matches, *commits.matches])
    return SimilarResult(
        incident=incident.id,
        pattern=pattern,
        sessions=sessions,
        commits=commits,
        matches=matches,
        roots=[str(r) for r in roots],
        notes=notes,
    )


def record(store: IncidentStore, result: SimilarResult, top: int = 5) -> None:
    """One timeline line: what was searched and what was found (counts, and the best few)."""
    details: dict[str, Any] = {
        **result.counts(),
        "roots": result.roots[:10],
        "top": [_brief(m) for m in result.matches[:top]],
    }
    store.append(result.incident, "similar.searched", details)


def _brief(m: Match) -> str:
    what = f"session {m.session_id}" if m.kind == "session" else f"commit {(m.sha or '')[:10]}"
    return redact(f"{what} ({m.score:.2f}): {m.reasons[0].detail[:160]}")
