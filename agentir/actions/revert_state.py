"""The state of one remediation, kept so a killed run can be finished, and what it writes.

`.git/agentir-remediate.json` names the branch, its worktree, the base commit and the commits
to revert; which reverts are done is read back from the branch itself (git's own "This
reverts commit <sha>." line), so the file is written only at the start, on each skip and
when a phase ends.
A file lock (released by the OS when the process dies, even by SIGKILL) keeps one
remediation at a time per repository.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentir.actions import revert_engine as engine
from agentir.errors import GitError

if TYPE_CHECKING:
    from agentir.actions.revert_plan import PlannedCommit, RevertPlan
    from agentir.gitrepo import GitRepo

STATE_FILE = "agentir-remediate.json"
REVERTS = re.compile(r"^This reverts commit ([0-9a-f]{40})", re.MULTILINE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


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


def save_state(repo: GitRepo, state: State) -> None:
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


def revert_message(commit: PlannedCommit | dict[str, Any], heading: str) -> str:
    """Revert "<subject>" + git's own trailer line + the incident, the original and the reasons."""
    data = commit if isinstance(commit, dict) else plan_item(commit)
    subject = _CONTROL.sub(" ", str(data["subject"]))[:200]
    lines = [
        f'Revert "{subject}"',
        "",
        f"This reverts commit {data['sha']}.",
        "",
        f"{heading}: reverting agent commit {data['sha'][:10]} ({data['why']})",
    ]
    if data.get("mainline"):
        lines.append("Merge commit: reverted against its first parent (-m 1).")
    return "\n".join(lines) + "\n"


def plan_item(c: PlannedCommit) -> dict[str, Any]:
    words = (r.detail if r.kind == "marker" else _SHORT.get(r.kind, r.kind) for r in c.reasons)
    why = ", ".join(dict.fromkeys(words))
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
        "saved_at": now_iso(),
    }
    (folder / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return folder


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
