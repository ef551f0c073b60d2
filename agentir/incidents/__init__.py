"""The incident store: records, the hash-chained timeline, evidence, locking and export."""

from __future__ import annotations

from agentir.incidents.evidence import EvidenceRecord
from agentir.incidents.lifecycle import current_actor
from agentir.incidents.records import Deadline, Incident, SeverityChange
from agentir.incidents.store import IncidentStore
from agentir.incidents.timeline import TimelineEntry, VerifyProblem, VerifyReport

__all__ = [
    "Deadline",
    "EvidenceRecord",
    "Incident",
    "IncidentStore",
    "SeverityChange",
    "TimelineEntry",
    "VerifyProblem",
    "VerifyReport",
    "current_actor",
]
