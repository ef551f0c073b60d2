"""Run `git revert` over a list of commits in a worktree agentir owns, and predict conflicts.

Reverts run as one `git revert` sequence (not one process per commit): when git stops, the
number of commits it made tells which commit stopped it; agentir records why (a conflict and
its files, or nothing left to undo), drops that commit and starts a new sequence with the rest.
Merge commits run in their own sequences with `-m 1`.

Every worktree lives under `<git common dir>/agentir/`, so a rerun finds what a killed run left.
Throwaway worktrees hold an flock for their lifetime; one whose lock is free is stale.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import shlex
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from agentir.errors import GitError

if TYPE_CHECKING:
    from agentir.actions.revert_plan import RevertPlan
    from agentir.gitrepo import CommitInfo, GitRepo

TMP_PREFIX = "tmp-"
_EDITOR = """#!/bin/sh
# agentir: put the prepared message (named by the reverted commit) in place of git's default.
# Shell builtins only: git runs this once per revert, and each extra process costs time.
sha=
while IFS= read -r line; do
  case $line in
    "This reverts commit "*) sha=${{line#This reverts commit }}; sha=${{sha%%[!0-9a-f]*}}; break ;;
  esac
done < "$1"
if [ -n "$sha" ] && [ -f {dir}/"$sha" ]; then
  {{ while IFS= read -r l || [ -n "$l" ]; do printf '%s\\n' "$l"; done < {dir}/"$sha"; }} > "$1"
fi
"""


@dataclass(frozen=True)
class Item:
    """One commit to revert."""

    sha: str
    mainline: int | None = None


@dataclass(frozen=True)
class Stop:
    """Why git stopped on a commit: conflict (with files) or empty (nothing left to undo)."""

    sha: str
    kind: str
    files: tuple[str, ...] = ()


def agentir_dir(repo: GitRepo) -> Path:
    """`<git common dir>/agentir/`: worktrees, messages and locks agentir owns."""
    path = repo.common_dir / "agentir"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def throwaway_worktree(repo: GitRepo, start: str) -> Iterator[Path]:
    """A detached worktree at `start`, removed afterwards (also after a crash, by the next run)."""
    base = agentir_dir(repo)
    clean_stale(repo)
    path = base / f"{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    with open(f"{path}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            repo.worktree_add(path, start)
            yield path
        finally:
            repo.worktree_remove(path)
            shutil.rmtree(path, ignore_errors=True)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{path}.lock")


def clean_stale(repo: GitRepo) -> list[str]:
    """Remove throwaway worktrees whose owner is gone (their lock is free)."""
    base = repo.common_dir / "agentir"
    removed: list[str] = []
    if not base.is_dir():
        return removed
    for lock_path in base.glob(f"{TMP_PREFIX}*.lock"):
        with open(lock_path, "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a live run owns it
            path = Path(str(lock_path)[: -len(".lock")])
            repo.worktree_remove(path)
            shutil.rmtree(path, ignore_errors=True)
            lock_path.unlink(missing_ok=True)
            removed.append(str(path))
    return removed


def reset_worktree(repo: GitRepo, worktree: Path, clean: bool = True) -> None:
    """Drop an in-progress revert (and stray files, unless `clean` is off: a throwaway trial
    has none, since a failed revert only leaves tracked files) in a worktree agentir owns."""
    repo.run("revert", "--quit", cwd=worktree, check=False, hooks=False)
    repo.run("reset", "-q", "--hard", "HEAD", cwd=worktree, hooks=False)
    if clean:
        repo.run("clean", "-ffdxq", cwd=worktree, hooks=False)


def write_editor(folder: Path, messages: dict[str, str]) -> dict[str, str]:
    """Message files named by commit, and the GIT_EDITOR env that puts them in place."""
    folder.mkdir(parents=True, exist_ok=True)
    for sha, text in messages.items():
        (folder / sha).write_text(text, encoding="utf-8")
    script = folder / "editor.sh"
    script.write_text(_EDITOR.format(dir=shlex.quote(str(folder))), encoding="utf-8")
    script.chmod(0o700)
    # git execs a plain path directly, but wraps anything with shell characters in `sh -c`
    plain = re.fullmatch(r"[A-Za-z0-9_./-]+", str(script)) is not None
    return {"GIT_EDITOR": str(script) if plain else f"sh {shlex.quote(str(script))}"}


def run_reverts(
    repo: GitRepo,
    worktree: Path,
    items: Sequence[Item],
    on_stop: Callable[[Stop], bool],
    *,
    editor_env: dict[str, str] | None = None,
    batch: int | None = None,
    between: Callable[[Sequence[Item], int], None] | None = None,
    light: bool = False,
) -> list[Stop]:
    """Revert `items` in order in `worktree`. `on_stop` returns True to skip and go on;
    `between(remaining, reverted so far)` runs after each sequence that completed."""
    stops: list[Stop] = []
    remaining = list(items)
    landed = 0
    while remaining:
        chunk = _chunk(remaining, batch)
        before = _head(repo, worktree)
        args = ["revert", "--edit" if editor_env else "--no-edit"]
        if chunk[0].mainline:
            args += ["-m", str(chunk[0].mainline)]
        res = repo.run(
            *args, *(i.sha for i in chunk), cwd=worktree, env=editor_env, check=False, hooks=False
        )
        if res.ok:
            remaining = remaining[len(chunk) :]
            landed += len(chunk)
            if between is not None:
                between(remaining, landed)
            continue
        made = int(repo.run("rev-list", "--count", f"{before}..HEAD", cwd=worktree).out.strip())
        if made >= len(chunk):  # every commit landed; git failed afterwards
            raise GitError(f"git revert failed: {_last(res.err)}", hint=f"in {worktree}")
        stuck = chunk[made]
        stop = _classify_stop(repo, worktree, stuck, res.out + "\n" + res.err)
        reset_worktree(repo, worktree, clean=not light)
        stops.append(stop)
        if not on_stop(stop):
            return stops
        remaining = remaining[made + 1 :]
        landed += made
    return stops


def _chunk(items: list[Item], batch: int | None) -> list[Item]:
    """The longest run of commits sharing the same -m option (merges apart from the rest)."""
    size = 1
    while size < len(items) and items[size].mainline == items[0].mainline:
        size += 1
    return items[: min(size, batch)] if batch else items[:size]


def _head(repo: GitRepo, worktree: Path) -> str:
    return repo.run("rev-parse", "HEAD", cwd=worktree).out.strip()


def _classify_stop(repo: GitRepo, worktree: Path, item: Item, output: str) -> Stop:
    unmerged = repo.run("diff", "--name-only", "--diff-filter=U", "-z", cwd=worktree).out
    files = tuple(sorted(f for f in unmerged.split("\0") if f))
    if files:
        return Stop(item.sha, "conflict", files)
    staged = repo.run("diff", "--cached", "--quiet", cwd=worktree, check=False)
    if staged.ok and "nothing to commit" in output:
        return Stop(item.sha, "empty")
    # the revert applied but git could not commit it (identity, signing, ...): not a conflict
    reset_worktree(repo, worktree)
    raise GitError(
        f"git revert {item.sha[:10]} failed: {_last(output)}",
        hint="fix the git setup (user.name / user.email, commit signing) and rerun",
    )


def _last(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if not ln.startswith("hint:")]
    return lines[-1] if lines else "unknown error"


def trial_items(plan: RevertPlan, commits: Sequence[CommitInfo]) -> list[Item]:
    """The reverts whose outcome is uncertain, in plan order; the others apply cleanly.

    A revert can only fail if a commit that stays touched the same files after it (walking
    newest to oldest). Reverts interact only through shared files, so the uncertain ones are
    the groups of reverts linked by shared files that hold such a commit; trying those groups
    alone gives the same answer as trying everything. Merges, and reverts older than the
    scanned range, make the whole plan uncertain."""
    items = [Item(c.sha, c.mainline) for c in plan.reverts]
    files = {c.sha: c.files for c in commits}
    if any(c.mainline for c in plan.reverts) or any(i.sha not in files for i in items):
        return items
    targets = {i.sha for i in items}
    risky: set[str] = set()
    kept_later: set[str] = set()
    for commit in commits:
        if commit.sha in targets:
            if kept_later.intersection(commit.files):
                risky.add(commit.sha)
        else:
            kept_later.update(commit.files)
    if not risky:
        return []
    group = _file_groups([(i.sha, files[i.sha]) for i in items])
    uncertain = {group[sha] for sha in risky}
    return [i for i in items if group[i.sha] in uncertain]


def _file_groups(commits: Sequence[tuple[str, Sequence[str]]]) -> dict[str, str]:
    """Union-find: commits linked by a shared path get the same group id."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for sha, paths in commits:
        for path in paths:
            parent[find("f:" + path)] = find("c:" + sha)
    return {sha: find("c:" + sha) for sha, _ in commits}


def trial_in_memory(repo: GitRepo, base: str, items: Sequence[Item]) -> list[Stop] | None:
    """Each revert as a 3-way merge with `git merge-tree` (no worktree, no index): base = the
    commit, ours = the tree so far, theirs = the commit's parent. None when git is too old
    (before 2.38) or a commit has no parent; the caller then tries them in a worktree."""
    if repo.version() < (2, 38):
        return None
    names = [f"{base}^{{tree}}"] + [f"{i.sha}^{i.mainline or 1}^{{tree}}" for i in items]
    trees = repo.resolve_objects(names)
    resolved = [trees.get(n) for n in names]
    if any(t is None for t in resolved):
        return None
    tree = str(resolved[0])
    stops: list[Stop] = []
    for item, parent_tree in zip(items, resolved[1:], strict=True):
        ours = repo.commit_tree(tree, item.sha)
        theirs = repo.commit_tree(str(parent_tree), item.sha)
        clean, result, files = repo.merge_trees(ours, theirs)
        if not clean:
            stops.append(Stop(item.sha, "conflict", files))
        elif result == tree:
            stops.append(Stop(item.sha, "empty"))
        else:
            tree = result
    return stops


def predict_conflicts(
    repo: GitRepo, plan: RevertPlan, commits: Sequence[CommitInfo], method: str = "auto"
) -> RevertPlan:
    """Try the uncertain reverts: in memory with merge-tree (`method` auto or merge-tree), else
    in a throwaway worktree; never in the responder's checkout."""
    if not plan.reverts or plan.base_commit is None:
        return plan
    items = trial_items(plan, commits)
    if not items:
        return replace(plan, conflicts_checked="no commit that stays touches the reverted files")
    found = trial_in_memory(repo, plan.base_commit, items) if method != "worktree" else None
    where = "with git merge-tree"
    if found is None:
        stops: list[Stop] = []
        with throwaway_worktree(repo, plan.base_commit) as worktree:
            run_reverts(repo, worktree, items, lambda stop: _keep(stops, stop), light=True)
        found, where = stops, "in a throwaway worktree"
    by_sha = {c.sha: c for c in plan.reverts}
    from agentir.actions.revert_plan import Conflict

    conflicts = tuple(
        Conflict(s.sha, by_sha[s.sha].short, by_sha[s.sha].subject, s.kind, s.files) for s in found
    )
    tried = f"tried {len(items)} of {len(plan.reverts)} reverts {where}"
    return replace(plan, conflicts=conflicts, conflicts_checked=tried)


def _keep(stops: list[Stop], stop: Stop) -> bool:
    """Collect a stop and carry on (the throwaway worktree tries every revert)."""
    stops.append(stop)
    return True
