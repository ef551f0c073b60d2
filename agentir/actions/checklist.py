"""What git cannot undo: the session's external effects as manual checklist items.

Pushes, deploys, API calls, messages, database statements, publishes and exposed secrets stay
done whatever happens to the repository. Each becomes a checklist item on the incident (status
pending) that a responder marks done or not applicable. Read-only network traffic (fetch,
clone, plain GETs) is left out: there is nothing to undo.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agentir.model import Effect, Risk

_FINGERPRINT = re.compile(r"\[REDACTED:([a-z0-9\-]+):([0-9a-f]{8})\]")

# kind -> what the responder must do (the target is appended)
_ACTIONS = {
    "deploy": "Roll back or verify the deploy",
    "publish": "Yank or deprecate what was published",
    "database": "Check and restore the database after the statement",
    "message": "Follow up on the message the agent sent",
    "network": "Review the request the agent sent (data may have left the machine)",
    "cloud": "Undo or verify the cloud change",
    "mcp": "Review what the MCP tool changed in the external system",
    "destructive": "Check what the destructive command removed (git may not have it)",
}


@dataclass(frozen=True)
class ChecklistDraft:
    """A checklist item before it goes on the incident."""

    id: str
    kind: str
    text: str
    target: str
    source: str
    seq: int
    risk: str
    session: str
    succeeded: bool | None = None

    def to_item(self) -> dict[str, Any]:
        """incident.yaml checklist item (extra keys are kept by the incident record)."""
        return {
            "id": self.id,
            "text": self.text,
            "kind": self.kind,
            "status": "pending",
            "note": None,
            "target": self.target,
            "evidence": self.source,
            "seq": self.seq,
            "risk": self.risk,
            "session": self.session,
            "origin": "agentir remediate",
        }


def push_remote_branch(target: str, session_branch: str | None) -> str | None:
    """`origin main` / `origin HEAD:refs/heads/x` (a git_push effect target) -> `origin/x`."""
    text = target.strip()
    if not text:
        return None
    if text.startswith("(default remote)"):  # how effects name a bare `git push`
        remote, rest = "origin", text.removeprefix("(default remote)")
    else:
        remote, _, rest = text.partition(" ")
    refs = [p for p in rest.split() if not p.startswith("(")] if "(" not in rest else []
    ref = refs[0] if refs else session_branch
    if not ref:
        return None
    ref = ref.lstrip("+").split(":")[-1].removeprefix("refs/heads/")
    if ref in ("HEAD", ""):
        ref = session_branch or ""
    return f"{remote}/{ref}" if ref else None


def drafts_for(
    session_id: str,
    effects: Iterable[Effect],
    *,
    session_branch: str | None = None,
    pushed: Mapping[str, Sequence[str]] | None = None,
) -> list[ChecklistDraft]:
    """Checklist drafts for one session's effects. `pushed`: remote branch -> agent commits."""
    carried = {ref: list(shas) for ref, shas in (pushed or {}).items()}
    out: list[ChecklistDraft] = []
    for effect in effects:
        text = _text(effect, session_branch, carried)
        if text is None:
            continue
        if effect.succeeded is False:
            text += " (the command failed; confirm it had no effect)"
        key = f"{session_id}\0{effect.kind}\0{effect.target}".encode()
        out.append(
            ChecklistDraft(
                id=f"{effect.kind.replace('_', '-')}-{hashlib.sha256(key).hexdigest()[:8]}",
                kind=effect.kind,
                text=text,
                target=effect.target,
                source=effect.source,
                seq=effect.seq,
                risk=effect.risk.value,
                session=session_id,
                succeeded=effect.succeeded,
            )
        )
    return out


def _text(effect: Effect, branch: str | None, carried: Mapping[str, list[str]]) -> str | None:
    kind, target = effect.kind, effect.target
    if kind == "secret_exposure":
        found = _FINGERPRINT.search(target)
        what = f"{found.group(1)} with fingerprint {found.group(2)}" if found else target
        return f"Rotate the secret ({what}): it appeared in {effect.detail or 'the trace'}"
    if kind == "git_push":
        remote_branch = push_remote_branch(target, branch)
        shas = carried.get(remote_branch or "", [])
        if not shas:  # the push named no branch we track: any remote branch carrying them
            shas = sorted({s for values in carried.values() for s in values})
            refs = ", ".join(sorted(r for r, v in carried.items() if v))
            remote_branch = refs or remote_branch
        where = remote_branch or target
        if shas:
            shown = ", ".join(s[:10] for s in shas[:8]) + (" ..." if len(shas) > 8 else "")
            return (
                f"{where} still carries the agent's commits ({shown}): push the revert branch "
                "and merge it there after review (never force-push)"
            )
        return (
            f"The agent pushed to {where} ({effect.detail or 'push'}): fetch and check which of "
            "its commits the remote carries, then push the revert there after review"
        )
    if kind == "network" and effect.risk is Risk.LOW:
        return None
    action = _ACTIONS.get(kind)
    if action is None:
        action = f"Check the external effect ({kind})"
    detail = f" ({effect.detail})" if effect.detail else ""
    return f"{action}: {target}{detail}"


def merge_into(
    existing: Iterable[Mapping[str, Any]], drafts: Iterable[ChecklistDraft]
) -> list[str]:
    """Ids of drafts not already on the incident (reruns never duplicate or reset an item)."""
    have = {str(item.get("id")) for item in existing}
    return [d.id for d in drafts if d.id not in have]
