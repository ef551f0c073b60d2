"""The commits an incident's sessions made in a repository, and their patches.

The same finder `agentir remediate` plans with (printed hashes, session links, agent markers
in the session window, window + paths), without the conflict prediction: `agentir similar`
and `agentir incident tests` only need to know which commits are the session's and what
they changed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from agentir.errors import GitError
from agentir.model import Assessment

if TYPE_CHECKING:
    from agentir.gitrepo import GitRepo


@dataclass
class SessionCommits:
    """The sessions' commits (newest first) with their patches, and what to tell the user."""

    repo: str
    shas: list[str] = field(default_factory=list)
    subjects: dict[str, str] = field(default_factory=dict)
    diffs: dict[str, str] = field(default_factory=dict)
    truncated: list[str] = field(default_factory=list)
    uncommitted: str = ""  # `git diff HEAD` of the session's files still not committed
    warnings: list[str] = field(default_factory=list)


def open_repo(path: Path | str) -> GitRepo:
    """The repository at `path` (GitError when it is none)."""
    from agentir.gitrepo import GitRepo

    return GitRepo(path)


def default_repo(assessments: Sequence[Assessment]) -> GitRepo | None:
    """The repository the sessions worked in, when their cwd is a checkout on this machine."""
    for a in assessments:
        cwd = a.session.cwd
        if cwd and os.path.isdir(cwd):
            try:
                return open_repo(cwd)
            except GitError:
                continue
    return None


def session_commits(
    repo: GitRepo, assessments: Sequence[Assessment], label: str, *, uncommitted: bool = False
) -> SessionCommits:
    """Find the sessions' commits and read their patches (two git calls for the patches)."""
    from agentir.actions.revert_plan import build_plan, repo_paths
    from agentir.gitrepo import patches

    out = SessionCommits(str(repo.root))
    if repo.head() is None:
        out.warnings.append(f"{repo.root} has no commits yet")
        return out
    plan = build_plan(repo, assessments, label=label, predict="none")
    out.warnings += list(plan.warnings)
    out.shas = [c.sha for c in plan.reverts]
    out.subjects = {c.sha: c.subject for c in plan.reverts}
    for sha, (text, cut) in patches(repo, out.shas).items():
        out.diffs[sha] = text
        if cut:
            out.truncated.append(sha)
    if uncommitted:
        files = sorted({p for a in assessments for p in repo_paths(a, repo)})
        if files:
            res = repo.run(
                "diff", "HEAD", "--no-color", "--no-ext-diff", "--no-textconv", "--", *files,
                check=False,
            )  # fmt: skip
            out.uncommitted = res.out if res.ok else ""
    return out


def new_files(repo: GitRepo, diffs: dict[str, str]) -> dict[str, dict[str, str]]:
    """sha -> {path: contents at that commit} for the code files each patch changed (one
    `git cat-file --batch` call), so Python is read by `ast` as a whole file."""
    from agentir.analysis.testgen import language_of
    from agentir.analysis.testgen_diff import parse_diff
    from agentir.gitrepo import read_blobs

    wanted: dict[str, list[str]] = {}
    for sha, diff in diffs.items():
        wanted[sha] = [
            fd.path for fd in parse_diff(diff) if fd.path and language_of(fd.path) is not None
        ]
    blobs = read_blobs(repo, [f"{sha}:{p}" for sha, paths in wanted.items() for p in paths])
    return {
        sha: {p: blobs[f"{sha}:{p}"] for p in paths if f"{sha}:{p}" in blobs}
        for sha, paths in wanted.items()
    }


def cwd_prefix(repo: GitRepo, cwd: str | None) -> str | None:
    """Where in the repository a session ran ("" at the root); None when outside it."""
    if not cwd:
        return repo.prefix
    try:
        rel = os.path.relpath(Path(cwd).resolve(), repo.root)
    except (OSError, ValueError):
        return None
    if rel.startswith(".."):
        return None
    return "" if rel == "." else Path(rel).as_posix()
