"""`agentir incident share --to DIR`: the review, timeline and evidence index of an incident
into a team folder that is a git repository, committed there with a message naming it.

What goes to `<DIR>/<INCIDENT>/`: `review.md` and `review.html` (the copies the incident kept
when `agentir review -o` rendered them, else rendered now through the review module),
`timeline.md` (the Markdown export, hash chain verified), `evidence.json` (sha256, size and
original path of each preserved trace — not the traces themselves unless `with_traces`, since
a raw trace can hold secrets the redaction did not catch). Only those paths are committed;
the team repository's other changes are left alone, and its hooks do not run.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentir.analysis.secrets import redact
from agentir.errors import GitError, UsageError
from agentir.incidents.locking import atomic_write
from agentir.incidents.store import EVIDENCE_DIR, IncidentStore

REVIEW_FORMATS = ("md", "html")


@dataclass
class FolderShare:
    """What a folder share wrote and committed."""

    incident: str
    repo: str
    folder: str  # relative to the repository root
    files: list[str] = field(default_factory=list)  # relative to the repository root
    rendered: list[str] = field(default_factory=list)  # review formats rendered now
    commit: str | None = None  # None: the folder already held exactly this
    with_traces: bool = False
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain data for --json and the timeline."""
        return dict(self.__dict__)


def render_review(store: IncidentStore, ref: str, fmt: str) -> str:
    """The review as `agentir review` renders it (no status change, nothing recorded)."""
    from agentir.review.publish import render_review_text, review_context

    return render_review_text(review_context(store, ref), fmt)


def commit_message(store: IncidentStore, ref: str) -> str:
    """`agentir: share INC-… (SEV2, open): title` — one line, redacted."""
    incident = store.get(ref)
    title = " ".join(redact(incident.title).split())
    if len(title) > 72:
        title = title[:71] + "…"
    return f"agentir: share {incident.id} ({incident.severity}, {incident.status}): {title}"


def share_to_folder(
    store: IncidentStore,
    ref: str,
    dest: Path,
    *,
    with_traces: bool = False,
    actor: str | None = None,
) -> FolderShare:
    """Write the incident into `dest/<ID>/`, commit it in the repository `dest` belongs to,
    and record the share on the incident's timeline."""
    from agentir.gitrepo import GitRepo, commit_folder

    ref = store.resolve(ref)
    dest = dest.expanduser()
    if not dest.is_dir():
        raise UsageError(f"--to {dest} is not a folder", hint="point --to at the team's checkout")
    repo = GitRepo(dest)
    folder = dest.resolve() / ref
    rel = Path(os.path.relpath(folder, repo.root)).as_posix()
    if rel.startswith(".."):
        raise GitError(f"{folder} is outside the repository {repo.root}")
    folder.mkdir(parents=True, exist_ok=True)
    share = FolderShare(ref, str(repo.root), rel, with_traces=with_traces)
    home = store.path(ref)
    for fmt in REVIEW_FORMATS:
        kept = home / f"review.{fmt}"
        if kept.is_file():
            data = kept.read_bytes()
        else:
            data = render_review(store, ref, fmt).encode("utf-8")
            share.rendered.append(fmt)
        atomic_write(folder / f"review.{fmt}", data)
    store.export(ref, folder / "timeline.md", "md", actor=actor)
    records = [r.to_dict() for r in store.evidence(ref)]
    index = {"incident": ref, "evidence": records, "traces_included": with_traces}
    atomic_write(folder / "evidence.json", (json.dumps(index, indent=2) + "\n").encode())
    if with_traces:
        _copy_traces(home / EVIDENCE_DIR, folder / "evidence", [str(r["name"]) for r in records])
    share.files = sorted(
        Path(os.path.relpath(p, repo.root)).as_posix() for p in folder.rglob("*") if p.is_file()
    )
    share.message = commit_message(store, ref)
    share.commit = commit_folder(repo, [rel], share.message)
    details = {k: v for k, v in share.to_dict().items() if k not in ("incident", "message")}
    store.append(ref, "incident.shared", details, actor)
    return share


def _copy_traces(source: Path, target: Path, names: list[str]) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        src = source / name
        # copyfile, not copy2: evidence copies are read-only, the team's copies must not be
        if src.is_dir():
            shutil.copytree(src, target / name, copy_function=shutil.copyfile, dirs_exist_ok=True)
        elif src.is_file():
            shutil.copyfile(src, target / name)
