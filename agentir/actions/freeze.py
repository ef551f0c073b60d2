"""The deploy freeze: the session's commits recorded on the incident, and the gate that checks them.

`agentir gate` is what a deploy pipeline runs: it blocks while an incident that is not yet
reviewed or closed (status open, contained or remediated) has an active freeze covering a
commit in the history of the commit being deployed — a frozen commit that is an ancestor of
(or equal to) it — unless that history also holds a revert of the frozen commit. So the
`agentir/revert-…` branch, and the main branch once it is merged, deploy; the main branch
still carrying the agent's commits does not, even after remediation built the revert
branch. The freeze ends when the incident is reviewed or closed, or when it is lifted with
a reason (recorded on the timeline).

A frozen commit unknown to the repository being gated cannot be in its history, so it does
not block; the gate lists it so the responder can see the freeze was recorded for another
repository. An incident whose file cannot be read fails the gate closed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentir.errors import AgentirError, GitError, IncidentError, UsageError
from agentir.incidents.records import Incident

BLOCKING_STATUSES = ("open", "contained", "remediated")
_SHA = re.compile(r"^[0-9a-fA-F]{7,40}$")
_UNSAFE_REF = re.compile(r"[\s\x00-\x1f\x7f]")


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


# -- git (through agentir.gitrepo, the one module that talks to git) ------------------------


def open_repo(path: Path) -> Any | None:
    """The git work tree containing `path` (agentir.gitrepo.GitRepo), or None."""
    from agentir.gitrepo import GitRepo

    try:
        return GitRepo(path)
    except GitError:
        return None


def resolve_commit(repo: Any, ref: str) -> str | None:
    """The full sha of a commit-ish in `repo`, or None when the repository does not have it."""
    if not ref or ref.startswith("-") or _UNSAFE_REF.search(ref):
        return None  # never read as an option, never a second line of the batch query
    found = repo.resolve_commits([ref]).get(ref)
    return str(found) if found else None


def is_ancestor(repo: Any, ancestor: str, descendant: str) -> bool:
    """Whether `ancestor` is in the history of `descendant` (equal counts); both must exist."""
    return bool(repo.is_ancestor(ancestor, descendant))


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
    git = open_repo(repo) if repo is not None else None
    top = git.root if git is not None else None
    notes: list[str] = []
    if repo is not None and git is None:
        notes.append(f"{repo} is not a git repository: commits are recorded as given")
    seen: dict[str, FrozenCommit] = {}
    for origin, values in (("option", given), ("trace", trace_refs), ("finder", finder)):
        for value in values:
            full = resolve_commit(git, value) if git is not None else None
            sha = (full or value).lower()
            if sha not in seen and not any(s.startswith(sha) for s in seen):
                seen[sha] = FrozenCommit(sha, value, origin, full is not None)
    unresolved = [c.given for c in seen.values() if not c.resolved and top is not None]
    if unresolved:
        notes.append(f"not in {top}: {', '.join(unresolved[:10])} (recorded as given)")
    return FreezePlan(str(top) if top else None, tuple(seen.values()), tuple(notes))


def finder_commits(repo: Path | None, assessment: Any) -> tuple[list[str], str | None]:
    """The commits `agentir remediate` attributes to the session (its finder), newest first."""
    if repo is None or assessment is None:
        return [], None
    git = open_repo(repo)
    if git is None:
        return [], None
    try:
        from agentir.actions.revert_plan import build_plan
    except ImportError:  # remediation not part of this build
        return [], None
    try:
        plan = build_plan(git, [assessment], label="freeze", predict="none")
    except AgentirError as exc:
        return [], f"the commit finder found nothing usable: {exc.message}"
    return [c.sha for c in plan.reverts], None


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

    incident: Incident = store.update(ref, change, action="freeze.set", actor=actor)
    return incident


def lift_freeze(store: Any, ref: str, reason: str, *, actor: str | None = None) -> Incident:
    """Lift an incident's freeze (the gate passes for it from now on); the reason is recorded."""
    if not reason.strip():
        raise UsageError("lifting a freeze needs a reason", hint="pass --reason 'why'")

    def change(incident: Incident) -> dict[str, Any]:
        if not incident.freeze.active:
            raise IncidentError(f"{incident.id} has no active freeze", hint="nothing to lift")
        incident.freeze.active = False
        return {"reason": reason, "commits": list(incident.freeze.commits)}

    incident: Incident = store.update(ref, change, action="freeze.lifted", actor=actor)
    return incident


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
    from agentir.gitrepo import GitRepo

    git = GitRepo(repo)  # GitError (exit 1) when it is not a repository
    commit = resolve_commit(git, ref)
    if commit is None:
        raise GitError(f"no commit {ref!r} in {git.root}", hint="pass --commit SHA of the deploy")
    incidents = active_freezes(store)
    blocks: list[Block] = []
    unknown: dict[str, None] = {}
    for incident in incidents:
        for frozen in _unique(incident.freeze.commits):
            full = resolve_commit(git, frozen)
            if full is None:
                unknown.setdefault(frozen, None)
                continue
            if is_ancestor(git, full, commit) and full not in git.reverted_between(full, commit):
                blocks.append(
                    Block(incident.id, incident.title, incident.severity, incident.status, full)
                )
    return GateResult(str(git.root), ref, commit, tuple(blocks), len(incidents), tuple(unknown))


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))
