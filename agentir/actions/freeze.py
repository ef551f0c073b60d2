"""The deploy freeze: the session's commits recorded on the incident, and the gate that checks them.

`agentir gate` is what a deploy pipeline runs: it blocks while an incident that is not yet
remediated (status open or contained) has an active freeze covering a commit in the history
of the commit being deployed, i.e. a frozen commit that is an ancestor of (or equal to) it.
The freeze ends when the incident is remediated, reviewed or closed, or when it is lifted
with a reason (recorded on the timeline).

A frozen commit unknown to the repository being gated cannot be in its history, so it does
not block; the gate lists it so the responder can see the freeze was recorded for another
repository. An incident whose file cannot be read fails the gate closed.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentir.errors import GitError, IncidentError, UsageError
from agentir.incidents.records import Incident

BLOCKING_STATUSES = ("open", "contained")
_SHA = re.compile(r"^[0-9a-fA-F]{7,40}$")


@dataclass(frozen=True)
class FrozenCommit:
    """One commit to freeze: as given, resolved to a full sha when the repository knows it."""

    sha: str
    given: str
    origin: str  # option | trace | finder
    resolved: bool


@dataclass(frozen=True)
class FreezePlan:
    """What the freeze will record: the repository and the commits."""

    repo: str | None
    commits: tuple[FrozenCommit, ...]
    notes: tuple[str, ...] = ()

    @property
    def shas(self) -> list[str]:
        """The commits to record (full shas where resolved)."""
        return [c.sha for c in self.commits]


@dataclass(frozen=True)
class Block:
    """An incident whose freeze covers the deployed commit, and the frozen commit that does."""

    incident: str
    title: str
    severity: str
    status: str
    frozen_commit: str


@dataclass(frozen=True)
class GateResult:
    """The gate's verdict for one commit of one repository."""

    repo: str
    ref: str
    commit: str
    blocks: tuple[Block, ...]
    active_freezes: int  # incidents with an active freeze that are not remediated
    unknown_here: tuple[str, ...]  # frozen commits this repository does not have

    @property
    def blocked(self) -> bool:
        """Whether the deploy must not go ahead."""
        return bool(self.blocks)


# -- git -----------------------------------------------------------------------------------


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"}
    try:
        return subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=120,
        )
    except FileNotFoundError as exc:
        raise GitError("git is not installed", hint="install git to use the deploy gate") from exc


def git_toplevel(path: Path) -> Path | None:
    """The work tree root containing `path`, or None when it is not in a git repository."""
    if not path.is_dir():
        return None
    proc = _git(path, "rev-parse", "--show-toplevel")
    return Path(proc.stdout.strip()) if proc.returncode == 0 and proc.stdout.strip() else None


def resolve_commit(repo: Path, ref: str) -> str | None:
    """The full sha of a commit-ish in `repo`, or None when the repository does not have it."""
    if ref.startswith("-"):
        return None  # never let a value be read as an option
    proc = _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    sha = proc.stdout.strip()
    return sha if proc.returncode == 0 and sha else None


def is_ancestor(repo: Path, ancestor: str, descendant: str) -> bool:
    """Whether `ancestor` is in the history of `descendant` (equal counts); both must exist."""
    gitrepo = _gitrepo_is_ancestor()
    if gitrepo is not None:
        return bool(gitrepo(repo, ancestor, descendant))
    proc = _git(repo, "merge-base", "--is-ancestor", ancestor, descendant)
    if proc.returncode in (0, 1):
        return proc.returncode == 0
    raise GitError(
        f"git merge-base failed in {repo}: {proc.stderr.strip() or proc.returncode}",
        hint="check that both commits exist in the repository",
    )


def _gitrepo_is_ancestor() -> Any:
    """`agentir.gitrepo.is_ancestor` when that module provides it (the one home for git)."""
    try:
        module = importlib.import_module("agentir.gitrepo")
    except ImportError:
        return None
    return getattr(module, "is_ancestor", None)


# -- planning and recording the freeze ------------------------------------------------------


def plan_freeze(
    *,
    given: Sequence[str] = (),
    trace_refs: Sequence[str] = (),
    finder: Sequence[str] = (),
    repo: Path | None = None,
) -> FreezePlan:
    """The commits to freeze, from --commit, hashes the trace printed and the commit finder."""
    for value in given:
        if not _SHA.match(value):
            raise UsageError(f"--commit {value!r} is not a commit hash", hint="7 to 40 hex digits")
    top = git_toplevel(repo) if repo is not None else None
    notes: list[str] = []
    if repo is not None and top is None:
        notes.append(f"{repo} is not a git repository: commits are recorded as given")
    seen: dict[str, FrozenCommit] = {}
    for origin, values in (("option", given), ("trace", trace_refs), ("finder", finder)):
        for value in values:
            full = resolve_commit(top, value) if top is not None else None
            sha = (full or value).lower()
            if sha not in seen and not any(s.startswith(sha) for s in seen):
                seen[sha] = FrozenCommit(sha, value, origin, full is not None)
    unresolved = [c.given for c in seen.values() if not c.resolved and top is not None]
    if unresolved:
        notes.append(f"not in {top}: {', '.join(unresolved[:10])} (recorded as given)")
    return FreezePlan(str(top) if top else None, tuple(seen.values()), tuple(notes))


def finder_commits(repo: Path | None, assessment: Any) -> tuple[list[str], str | None]:
    """The session's commits by the remediation finder (agentir.analysis.commits), if present."""
    if repo is None:
        return [], None
    try:
        module = importlib.import_module("agentir.analysis.commits")
    except ImportError:
        return [], None
    for name in ("find_session_commits", "find_agent_commits", "find_commits"):
        func = getattr(module, name, None)
        if func is None:
            continue
        try:
            found = func(repo, assessment)
        except Exception as exc:  # another helper's API; a failure must not stop containment
            return [], f"the commit finder failed ({type(exc).__name__}: {exc})"
        shas = [str(getattr(c, "sha", c)) for c in found or ()]
        return [s for s in shas if _SHA.match(s)], None
    return [], None


def apply_freeze(
    store: Any, ref: str, plan: FreezePlan, *, step: str | None = None, actor: str | None = None
) -> Incident:
    """Record the freeze on the incident (adding to any commits already frozen)."""

    def change(incident: Incident) -> dict[str, Any]:
        before = list(incident.freeze.commits)
        added = [s for s in plan.shas if s not in before]
        incident.freeze.commits = before + added
        if plan.repo:
            incident.freeze.repo = plan.repo
        incident.freeze.active = True
        return {
            "step": step,
            "result": "done",
            "commits": incident.freeze.commits,
            "added": [
                {"sha": c.sha, "given": c.given, "origin": c.origin, "resolved": c.resolved}
                for c in plan.commits
                if c.sha in added
            ],
            "repo": incident.freeze.repo,
            "notes": list(plan.notes),
        }

    return store.update(ref, change, action="freeze.set", actor=actor)


def lift_freeze(store: Any, ref: str, reason: str, *, actor: str | None = None) -> Incident:
    """Lift an incident's freeze (the gate passes for it from now on); the reason is recorded."""
    if not reason.strip():
        raise UsageError("lifting a freeze needs a reason", hint="pass --reason 'why'")

    def change(incident: Incident) -> dict[str, Any]:
        if not incident.freeze.active:
            raise IncidentError(f"{incident.id} has no active freeze", hint="nothing to lift")
        incident.freeze.active = False
        return {"reason": reason, "commits": list(incident.freeze.commits)}

    return store.update(ref, change, action="freeze.lifted", actor=actor)


# -- the gate -------------------------------------------------------------------------------


def active_freezes(store: Any) -> list[Incident]:
    """Incidents whose freeze blocks deploys; an unreadable incident fails closed (raises)."""
    out = []
    for incident_id in store.ids():
        try:
            incident = store.get(incident_id)
        except IncidentError as exc:
            raise IncidentError(
                f"incident {incident_id} cannot be read, so the gate cannot decide: {exc.message}",
                hint="repair it (agentir incident verify) or close it",
            ) from exc
        if incident.freeze.active and incident.status in BLOCKING_STATUSES:
            out.append(incident)
    return out


def evaluate_gate(store: Any, repo: Path, ref: str = "HEAD") -> GateResult:
    """Whether deploying `ref` of `repo` is blocked by a freeze, and by which incident."""
    top = git_toplevel(repo)
    if top is None:
        raise GitError(f"{repo} is not a git repository", hint="pass --repo DIR")
    commit = resolve_commit(top, ref)
    if commit is None:
        raise GitError(f"no commit {ref!r} in {top}", hint="pass --commit SHA of the deploy")
    incidents = active_freezes(store)
    blocks: list[Block] = []
    unknown: dict[str, None] = {}
    for incident in incidents:
        for frozen in _unique(incident.freeze.commits):
            full = resolve_commit(top, frozen)
            if full is None:
                unknown.setdefault(frozen, None)
                continue
            if is_ancestor(top, full, commit):
                blocks.append(
                    Block(incident.id, incident.title, incident.severity, incident.status, full)
                )
    return GateResult(str(top), ref, commit, tuple(blocks), len(incidents), tuple(unknown))


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))
