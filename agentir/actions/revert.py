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

import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentir.actions import revert_engine as engine
from agentir.actions.revert_state import (
    REVERTS,
    State,
    label_text,
    load_state,
    now_iso,
    plan_item,
    repo_lock,
    revert_message,
    save_state,
    save_uncommitted,
    stamp,
    state_path,
)
from agentir.actions.verify import CheckResult, CheckSpec, run_checks, summary
from agentir.errors import ActionError, GitError

if TYPE_CHECKING:
    from agentir.actions.revert_plan import RevertPlan
    from agentir.gitrepo import GitRepo

PAUSE_ENV = "AGENTIR_TEST_PAUSE_AFTER_REVERTS"  # test-only: pause mid-revert so a test can kill
STRATEGIES = ("stop", "skip")

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
        folder = save_uncommitted(repo, plan, scratch / f"uncommitted-{stamp()}")
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
        items=[plan_item(c) for c in plan.reverts],
        started_at=now_iso(),
    )
    save_state(repo, state)  # first, so a crash right after leaves something to clean up
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
    save_state(repo, state)
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
        save_state(repo, state)
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
    save_state(repo, state)
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
    return set(REVERTS.findall(text))


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
        match = REVERTS.search(body)
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
