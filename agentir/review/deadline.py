"""The review deadline: the runbook's learn deadline (48 h after open for SEV1), met or not."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from agentir.incidents.records import Deadline, Incident

SEV1_REVIEW = timedelta(hours=48)
LEARN = "learn"


def review_deadline(incident: Incident, now: datetime) -> dict[str, Any]:
    """{due, met_at, state (met|missed|overdue|pending|none|not_met), seconds_left, basis}."""
    deadline = incident.deadlines.get(LEARN)
    basis = "the runbook's learn deadline"
    if (deadline is None or deadline.due is None) and incident.opened_at is not None:
        if incident.severity != "SEV1":
            return _row(None, "none", None, "no review deadline for this severity")
        deadline = Deadline(due=incident.opened_at + SEV1_REVIEW, met_at=incident.reviewed_at)
        basis = "48 h after open (SEV1)"
    if deadline is None or deadline.due is None:
        return _row(None, "none", None, "the incident has no open time")
    met_at = deadline.met_at
    state = deadline.state(incident.closed_at or now, active=incident.active)
    reference = met_at or incident.closed_at or now
    left = int((deadline.due - reference).total_seconds())
    row = _row(deadline.due, state, left, basis)
    row["met_at"] = met_at
    return row


def _row(due: datetime | None, state: str, left: int | None, basis: str) -> dict[str, Any]:
    return {"due": due, "met_at": None, "state": state, "seconds_left": left, "basis": basis}


def is_overdue(incident: Incident, now: datetime) -> bool:
    """True while the review is late and not done."""
    return bool(review_deadline(incident, now)["state"] == "overdue")
