"""The rules of an incident's life: who acts, which status changes are allowed, deadlines."""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from agentir.errors import IncidentError
from agentir.incidents.records import STATUS_MEETS, STATUSES, Deadline, Incident

_RANK = {status: index for index, status in enumerate(STATUSES)}


def current_actor() -> str:
    """Who is acting: $AGENTIR_ACTOR, else user@host."""
    env = os.environ.get("AGENTIR_ACTOR")
    if env and env.strip():
        return env.strip()
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # containers without a passwd entry for the uid
        user = f"uid{os.getuid()}"
    return f"{user}@{socket.gethostname()}"


def check_transition(incident: Incident, new: str, reason: str | None) -> None:
    """Raise IncidentError unless `incident` may move to status `new`."""
    current = incident.status
    if new not in _RANK:
        raise IncidentError(f"unknown status {new!r}", hint=f"one of {', '.join(STATUSES)}")
    if current == "closed":
        raise IncidentError(
            f"{incident.id} is closed", hint="open a new incident and reference this one"
        )
    if new == "contained":
        return  # containing (again) is always allowed while the incident is not closed
    if new == "closed":
        if current != "reviewed" and not (reason and reason.strip()):
            raise IncidentError(
                f"{incident.id} has not been reviewed; closing it needs a reason",
                hint="pass --reason 'why no review is needed'",
            )
        return
    if _RANK[new] <= _RANK[current]:
        raise IncidentError(
            f"{incident.id} is {current}; it cannot become {new}",
            hint="status moves forward: open → contained → remediated → reviewed → closed",
        )


def apply_transition(
    incident: Incident, new: str, now: datetime, reason: str | None
) -> dict[str, Any]:
    """Move `incident` to `new` (already checked); returns what the timeline should record."""
    old = incident.status
    details: dict[str, Any] = {"from": old, "to": new}
    if reason:
        details["reason"] = reason
    if new not in ("contained", "closed"):
        skipped = [s for s in STATUSES[_RANK[old] + 1 : _RANK[new]]]
        if skipped:
            details["skipped"] = skipped
    if new == "contained" and _RANK[old] > _RANK["contained"]:
        # Re-containment after remediation: the later phases have to be done again.
        details["reopened"] = {
            "remediated_at": incident.remediated_at,
            "reviewed_at": incident.reviewed_at,
        }
        incident.remediated_at = None
        incident.reviewed_at = None
    stamp = f"{new}_at"
    if hasattr(incident, stamp) and getattr(incident, stamp) is None:
        setattr(incident, stamp, now)
    if new == "closed":
        incident.close_reason = reason
    incident.status = new
    deadline = STATUS_MEETS.get(new)
    if deadline and deadline in incident.deadlines:
        met = meet(incident, deadline, now)
        if met:
            details["deadline"] = met
    return details


def meet(incident: Incident, name: str, now: datetime) -> dict[str, Any] | None:
    """Mark a deadline met (first time only); returns {name, due, met_at, state} or None."""
    deadline = incident.deadlines.get(name)
    if deadline is None or deadline.met_at is not None:
        return None
    deadline.met_at = now
    return {"name": name, "due": deadline.due, "met_at": now, "state": deadline.state(now)}


def compute_deadlines(
    opened_at: datetime, phase_deadlines: Mapping[str, timedelta], keep: Mapping[str, Deadline]
) -> dict[str, Deadline]:
    """Deadlines from incident open; deadlines already met keep their met_at."""
    out: dict[str, Deadline] = {}
    for name, delta in phase_deadlines.items():
        previous = keep.get(name)
        out[name] = Deadline(due=opened_at + delta, met_at=previous.met_at if previous else None)
    return out
