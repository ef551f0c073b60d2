"""Find and read an incident's traces for its review: the original file when it is still there,
the preserved evidence copy otherwise. One assess pass per trace."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from agentir.errors import AgentirError
from agentir.incidents.records import Incident
from agentir.incidents.store import EVIDENCE_DIR, IncidentStore
from agentir.review.collect import SessionEvidence, collect
from agentir.review.context import TraceNote
from agentir.review.policy_info import PolicyInfo

_LATEST = datetime.max.replace(tzinfo=timezone.utc)


def _wanted(session_id: str, listed: list[str]) -> bool:
    return any(session_id.startswith(x) or x.startswith(session_id) for x in listed)


def gather(
    store: IncidentStore, incident: Incident, policy: PolicyInfo, fmt: str | None = None
) -> tuple[list[SessionEvidence], list[TraceNote]]:
    """The sessions of the incident found in its traces, and a note per trace."""
    copies = {r.path: r for r in store.evidence(incident.id)}
    sessions: list[SessionEvidence] = []
    notes: list[TraceNote] = []
    for trace in incident.traces:
        path = Path(trace)
        state, note = "read", ""
        if not path.exists():
            record = copies.get(trace)
            if record is None:
                notes.append(TraceNote(trace, "missing", "not on disk and not preserved"))
                continue
            path = store.path(incident.id) / EVIDENCE_DIR / record.name
            state, note = "evidence-copy", f"the original is gone; read the copy {record.name}"
        try:
            found = collect(path, fmt, policy.factory)
        except AgentirError as exc:
            notes.append(TraceNote(trace, "unreadable", exc.message))
            continue
        kept = [s for s in found if _wanted(s.assessment.session.id, incident.sessions)]
        if incident.sessions and not kept and found:
            note = (note + "; " if note else "") + "none of its sessions is listed on the incident"
        notes.append(TraceNote(trace, state, note))
        sessions.extend(kept or found)
    sessions.sort(
        key=lambda s: (s.assessment.session.started_at or _LATEST, s.assessment.session.id)
    )
    return sessions, notes
