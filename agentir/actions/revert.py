"""Apply a revert plan: a new branch with one revert commit per agent commit, losing nothing.

Design: everything happens in a separate `git worktree` under `.git/agentir/`, on a new branch
`agentir/revert-<label>` started from the planned HEAD. The responder's checkout (its HEAD,
index, working tree, branches) is never touched, except by `--stash`, which runs last, only
after the revert branch is complete. History is never rewritten and nothing is pushed.

Order: save the session's uncommitted changes as evidence (before anything else); refuse a dirty
checkout unless --stash; write the state file; create branch and worktree; run the "before"
checks; revert; run the "after" checks; remove the worktree (the branch stays); stash.

A conflict with strategy "stop" removes the worktree, the branch and the state file: the
repository is as it was. Killed mid-way (even with SIGKILL), the state file
`.git/agentir-remediate.json` remains; the next run drops the half-made revert in the worktree,
reads which reverts the branch already has, and finishes the rest.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentir.actions import revert_engine as engine
from agentir.actions.verify import CheckResult, CheckSpec, run_checks, summary
from agentir.errors import ActionError, GitError

if TYPE_CHECKING:
    from agentir.actions.revert_plan import PlannedCommit, RevertPlan
    from agentir.gitrepo import GitRepo

STATE_FILE = "agentir-remediate.json"
PAUSE_ENV = "AGENTIR_TEST_PAUSE_AFTER_REVERTS"  # test-only: pause mid-revert so a test can kill
STRATEGIES = ("stop", "skip")
_REVERTS = re.compile(r"^This reverts commit ([0-9a-f]{40})", re.MULTILINE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

Recorder = Callable[[str, dict[str, Any]], None]
Preserver = Callable[[Path], str]


@dataclass(frozen=True)
class ApplyOptions:
    """How to apply: conflict strategy, stash, checks, and the test-only pause."""

    strategy: str = "stop"
    stash: bool = False
    checks: tuple[CheckSpec, ...] = ()
    pause_after: int | None = None


@dataclass(frozen=True)
class Reverted:
    """An agent commit and the commit that reverts it on the new branch."""

    original: str
    revert: str
    subject: str


@dataclass(frozen=True)
class Skipped:
    """A commit not reverted and why (conflict with files, or nothing left to undo)."""

    sha: str
    kind: str
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApplyResult:
    """What apply did."""

    branch: str | None
    base_commit: str | None
    resumed: bool = False
    reverted: tuple[Reverted, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    saved: str | None = None
    stash: str | None = None
    before: tuple[CheckResult, ...] = ()
    after: tuple[CheckResult, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def verified(self) -> bool | None:
        """True when every after-check passed; None when no check ran."""
        return all(r.ok for r in self.after) if self.after else None


@dataclass
class State:
    """The state file: enough to resume or clean up after a crash."""

    label: str
    incident: str | None
    branch: str
    worktree: str
    base_commit: str
    base_branch: str | None
    items: list[dict[str, Any]]
    started_at: str
    phase: str = "reverting"
    skipped: list[dict[str, Any]] = field(default_factory=list)
    before_done: bool = False
    before: list[dict[str, Any]] = field(default_factory=list)
    version: int = 1


def state_path(repo: GitRepo) -> Path:
    """`.git/agentir-remediate.json`."""
    return repo.common_dir / STATE_FILE


def load_state(repo: GitRepo) -> State | None:
    """The state of an unfinished remediation, or None."""
    path = state_path(repo)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        known = set(State.__dataclass_fields__)
        return State(**{k: v for k, v in data.items() if k in known})
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        raise GitError(
            f"{path} is unreadable ({exc})",
            hint=f"remove {path}, the {_worktree_hint(repo)} and the agentir/revert-* branch",
        ) from None


def _save_state(repo: GitRepo, state: State) -> None:
    path = state_path(repo)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(state), indent=2) + "\n", encoding="utf-8")
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _worktree_hint(repo: GitRepo) -> str:
    return f"worktrees under {repo.common_dir / 'agentir'}"


@contextlib.contextmanager
def repo_lock(repo: GitRepo) -> Iterator[None]:
    """One remediation at a time per repository (released by the OS even on SIGKILL)."""
    path = engine.agentir_dir(repo) / "remediate.lock"
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise GitError(
                "another agentir remediate is running on this repository",
                hint="wait for it to finish (its lock is .git/agentir/remediate.lock)",
            ) from None
        yield


def revert_message(commit: PlannedCommit | dict[str, Any], label_text: str) -> str:
    """Revert "<subject>" + git's own trailer line + the incident, the original and the reasons."""
    data = commit if isinstance(commit, dict) else _item(commit)
    subject = _CONTROL.sub(" ", str(data["subject"]))[:200]
    lines = [
        f'Revert "{subject}"',
        "",
        f"This reverts commit {data['sha']}.",
        "",
        f"{label_text}: reverting agent commit {data['sha'][:10]} ({data['why']})",
    ]
    if data.get("mainline"):
        lines.append("Merge commit: reverted against its first parent (-m 1).")
    return "\n".join(lines) + "\n"


def _item(c: PlannedCommit) -> dict[str, Any]:
    why = ", ".join(dict.fromkeys(r.detail if r.kind == "marker" else _SHORT.get(r.kind, r.kind)
                                  for r in c.reasons))  # fmt: skip
    return {"sha": c.sha, "subject": c.subject, "mainline": c.mainline, "why": why[:400]}


_SHORT = {
    "printed_hash": "hash printed in the trace",
    "session_link": "names the session",
    "window": "made during the session",
    "after_start_head": "made after the session's start commit",
    "paths": "changes the session's files",
    "merge": "merge commit",
    "include_other": "--include-other",
}


def label_text(plan_label: str, incident: str | None) -> str:
    """'agentir incident INC-…' or 'agentir session <id>' for messages and stash names."""
    return f"agentir incident {incident}" if incident else f"agentir session {plan_label}"


def save_uncommitted(repo: GitRepo, plan: RevertPlan, folder: Path) -> Path | None:
    """Write the session's uncommitted changes to `folder` (a patch plus untracked copies)."""
    changes = plan.uncommitted.agent_files
    if not changes:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    tracked = [p for p, code in changes if code != "??"]
    untracked = [p for p, code in changes if code == "??"]
    if tracked:
        patch = repo.run_bytes("diff", "HEAD", "--binary", "--no-color", "--", *tracked)
        (folder / "agent-changes.patch").write_bytes(patch)
    for rel in untracked:
        source = repo.root / rel
        if source.is_file() and not source.is_symlink():
            dest = folder / "untracked" / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest)
    manifest = {
        "repo": str(repo.root),
        "head": plan.base_commit,
        "branch": plan.base_branch,
        "tracked": tracked,
        "untracked": untracked,
        "restore": "cd <repo> && git apply --index agent-changes.patch; copy untracked/* back",
        "saved_at": _now(),
    }
    (folder / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return folder


def apply_plan(
    repo: GitRepo,
    plan: RevertPlan,
    options: ApplyOptions,
    *,
    record: Recorder,
    preserve: Preserver,
    scratch: Path,
) -> ApplyResult:
    """Carry out the plan (see the module docstring for the order of steps)."""
    if options.strategy not in STRATEGIES:
        raise ActionError(f"unknown strategy {options.strategy!r}", hint="stop or skip")
    with repo_lock(repo):
        engine.clean_stale(repo)
        state = load_state(repo)
        if state is not None and state.branch != plan.target_branch:
            raise GitError(
                f"an interrupted remediation for {state.branch} is unfinished",
                hint=f"rerun it (same incident or session) to finish it, or delete "
                f"{state_path(repo)} and the branch {state.branch}",
            )
        saved = None
        folder = save_uncommitted(repo, plan, scratch / f"uncommitted-{_stamp()}")
        if folder is not None:
            saved = preserve(folder)
            record("remediate.uncommitted_saved", {"files": [p for p, _ in plan.uncommitted.agent_files], "saved_to": saved})  # fmt: skip
        if plan.uncommitted.dirty and not options.stash:
            where = f"; the agent's changes were saved to {saved}" if saved else ""
            record("remediate.refused", {"reason": "uncommitted changes; --stash not given"})
            raise GitError(
                "the working tree has uncommitted changes "
                f"({len(plan.uncommitted.agent_files)} by the agent, "
                f"{len(plan.uncommitted.other_files)} others){where}",
                hint="commit or stash them yourself, or rerun with --stash (agentir stashes them "
                "after the revert branch is ready; `git stash list` shows it)",
            )
        if state is None and not plan.reverts:
            result = ApplyResult(None, plan.base_commit, saved=saved, notes=("nothing to revert",))
            return _finish_stash(repo, plan, options, record, result)
        resumed = state is not None
        if state is None:
            state = _new_state(repo, plan)
        else:
            record("remediate.resumed", {"branch": state.branch, "base": state.base_commit})
        return _run(repo, plan, options, state, record, saved, resumed)


def _new_state(repo: GitRepo, plan: RevertPlan) -> State:
    if repo.branch_exists(plan.target_branch):
        raise GitError(
            f"branch {plan.target_branch} already exists (a finished remediation?)",
            hint=f"review it, then delete it with `git branch -D {plan.target_branch}` to redo",
        )
    assert plan.base_commit is not None
    worktree = engine.agentir_dir(repo) / plan.target_branch.replace("/", "-")
    state = State(
        label=plan.label,
        incident=plan.incident,
        branch=plan.target_branch,
        worktree=str(worktree),
        base_commit=plan.base_commit,
        base_branch=plan.base_branch,
        items=[_item(c) for c in plan.reverts],
        started_at=_now(),
    )
    _save_state(repo, state)  # first, so a crash right after leaves something to clean up
    return state


def _run(
    repo: GitRepo,
    plan: RevertPlan,
    options: ApplyOptions,
    state: State,
    record: Recorder,
    saved: str | None,
    resumed: bool,
) -> ApplyResult:
    worktree = _ensure_worktree(repo, state)
    if not resumed:
        record("remediate.started", {"branch": state.branch, "base": state.base_commit,
                                     "base_branch": state.base_branch, "reverts": len(state.items)})  # fmt: skip
    before: list[CheckResult] = []
    if options.checks and not state.before_done:
        before = run_checks(options.checks, worktree / plan.prefix, "before")
        record("remediate.verify.before", summary(before))
        engine.reset_worktree(repo, worktree)
    state.before_done = True
    _save_state(repo, state)
    done = _done(repo, state)
    skipped_shas = {s["sha"] for s in state.skipped}
    todo = [i for i in state.items if i["sha"] not in done and i["sha"] not in skipped_shas]
    text = label_text(state.label, state.incident)
    env = engine.write_editor(
        Path(state.worktree + ".msgs"), {i["sha"]: revert_message(i, text) for i in todo}
    )
    by_sha = {i["sha"]: i for i in state.items}

    def on_stop(stop: engine.Stop) -> bool:
        if stop.kind == "conflict" and options.strategy == "stop":
            return False
        state.skipped.append({"sha": stop.sha, "kind": stop.kind, "files": list(stop.files)})
        _save_state(repo, state)
        return True

    between = _pause_hook(repo, worktree, options.pause_after, len(done))
    items = [engine.Item(i["sha"], i.get("mainline")) for i in todo]
    try:
        stops = engine.run_reverts(
            repo, worktree, items, on_stop, editor_env=env,
            batch=1 if between else None, between=between,
        )  # fmt: skip
    except GitError as exc:
        _abort(repo, state)
        record("remediate.aborted", {"branch": state.branch, "error": exc.message})
        raise
    fatal = [s for s in stops if s.kind == "conflict" and options.strategy == "stop"]
    if fatal:
        _abort(repo, state)
        stop = fatal[0]
        item = by_sha[stop.sha]
        files = ", ".join(stop.files)
        record("remediate.aborted", {"branch": state.branch, "conflict": stop.sha, "files": list(stop.files)})  # fmt: skip
        raise GitError(
            f"reverting {stop.sha[:10]} ({item['subject'][:60]}) conflicts in {files}; "
            f"nothing was changed (branch {state.branch} removed)",
            hint="rerun with --strategy skip to revert the others and leave this one, "
            "or resolve it by hand on a branch of your own",
        )
    state.phase = "verifying"
    _save_state(repo, state)
    after: list[CheckResult] = []
    if options.checks:
        after = run_checks(options.checks, worktree / plan.prefix, "after")
        record("remediate.verify.after", summary(after))
    reverted = _reverted(repo, state)
    skipped = tuple(Skipped(s["sha"], s["kind"], tuple(s["files"])) for s in state.skipped)
    repo.worktree_remove(worktree)
    shutil.rmtree(worktree, ignore_errors=True)
    shutil.rmtree(state.worktree + ".msgs", ignore_errors=True)
    state_path(repo).unlink(missing_ok=True)
    result = ApplyResult(
        state.branch,
        state.base_commit,
        resumed=resumed,
        reverted=reverted,
        skipped=skipped,
        saved=saved,
        before=tuple(before),
        after=tuple(after),
    )
    record("remediate.applied", {
        "branch": state.branch, "base": state.base_commit, "resumed": resumed,
        "reverted": [{"original": r.original, "revert": r.revert} for r in reverted],
        "skipped": [asdict(s) for s in skipped],
        "verified": result.verified,
    })  # fmt: skip
    return _finish_stash(repo, plan, options, record, result)


def _ensure_worktree(repo: GitRepo, state: State) -> Path:
    worktree = Path(state.worktree)
    registered = {Path(w.path).resolve() for w in repo.worktrees()}
    if worktree.resolve() in registered and worktree.is_dir():
        engine.reset_worktree(repo, worktree)  # drop a revert a killed run left half-done
        return worktree
    repo.worktree_remove(worktree)
    shutil.rmtree(worktree, ignore_errors=True)
    if repo.branch_exists(state.branch):
        repo.worktree_add_existing(worktree, state.branch)
    else:
        repo.worktree_add(worktree, state.base_commit, branch=state.branch)
    return worktree


def _done(repo: GitRepo, state: State) -> set[str]:
    if not repo.branch_exists(state.branch):
        return set()
    text = repo.run("log", "--format=%B", f"{state.base_commit}..refs/heads/{state.branch}").out
    return set(_REVERTS.findall(text))


def _reverted(repo: GitRepo, state: State) -> tuple[Reverted, ...]:
    out = repo.run(
        "log",
        "--reverse",
        "--format=%H%x1f%B%x1e",
        f"{state.base_commit}..refs/heads/{state.branch}",
    ).out
    subjects = {i["sha"]: i["subject"] for i in state.items}
    found: list[Reverted] = []
    for record in out.split("\x1e"):
        sha, _, body = record.strip().partition("\x1f")
        match = _REVERTS.search(body)
        if sha and match:
            found.append(Reverted(match.group(1), sha, subjects.get(match.group(1), "")))
    return tuple(found)


def _abort(repo: GitRepo, state: State) -> None:
    """Leave the repository as before: no worktree, no branch, no state file."""
    worktree = Path(state.worktree)
    repo.worktree_remove(worktree)
    shutil.rmtree(worktree, ignore_errors=True)
    shutil.rmtree(state.worktree + ".msgs", ignore_errors=True)
    repo.delete_branch(state.branch)
    state_path(repo).unlink(missing_ok=True)


def _finish_stash(
    repo: GitRepo, plan: RevertPlan, options: ApplyOptions, record: Recorder, result: ApplyResult
) -> ApplyResult:
    if not (options.stash and plan.uncommitted.dirty):
        return result
    if not repo.status():
        return result
    message = (
        f"{label_text(plan.label, plan.incident)}: uncommitted changes saved by agentir remediate"
    )
    sha = repo.stash_push(message)
    record("remediate.stashed", {"stash": sha, "message": message})
    from dataclasses import replace

    return replace(result, stash=f"{sha} ({message})")


def _pause_hook(
    repo: GitRepo, worktree: Path, pause_after: int | None, already: int
) -> Callable[[Sequence[engine.Item], int], None] | None:
    """Test-only: after N reverts, stage the next one without committing and sleep (to be killed)."""
    if not pause_after:
        return None

    def between(remaining: Sequence[engine.Item], done_now: int) -> None:
        if already + done_now < pause_after or not remaining:
            return
        nxt = remaining[0]
        args = ["revert", "--no-commit"] + (["-m", str(nxt.mainline)] if nxt.mainline else [])
        repo.run(*args, nxt.sha, cwd=worktree, check=False, hooks=False)
        sys.stderr.write(f"agentir: {PAUSE_ENV} reached after {already + done_now} revert(s)\n")
        sys.stderr.flush()
        time.sleep(3600)

    return between


def verify_branch(
    repo: GitRepo, branch: str, checks: Sequence[CheckSpec], prefix: str = ""
) -> list[CheckResult]:
    """Run the checks on a branch in a throwaway worktree (`--verify-only`)."""
    if not repo.branch_exists(branch):
        raise GitError(f"no branch {branch}", hint="run `agentir remediate --yes` first")
    with engine.throwaway_worktree(repo, f"refs/heads/{branch}") as worktree:
        return run_checks(checks, worktree / prefix, "verify")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
