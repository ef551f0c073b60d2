"""The incident record (incident.yaml) as dataclasses that round-trip plain dicts.

Every record keeps the keys it does not know in `other`, and writes them back, so a file written
by a newer agentir survives being rewritten by an older one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar, TypeVar

SEVERITIES = ("SEV1", "SEV2", "SEV3")
STATUSES = ("open", "contained", "remediated", "reviewed", "closed")
ACTION_ITEM_TYPES = ("prevent", "mitigate", "guardrail", "process")
CHECKLIST_STATUSES = ("pending", "done", "not_applicable")
ID_PATTERN = re.compile(r"^INC-(\d{8})-(\d{4,})$")

# Which deadline a status change meets (deadline names are runbook phase names).
STATUS_MEETS = {"contained": "contain", "remediated": "remediate", "reviewed": "learn"}

T = TypeVar("T", bound="Record")


def utc_now() -> datetime:
    """The current time, aware UTC, to the second (what incident.yaml stores)."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def to_iso(value: datetime | None) -> str | None:
    """ISO-8601 UTC with a trailing Z, or None."""
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def parse_iso(value: Any) -> datetime | None:
    """An aware UTC datetime from an ISO string (or a datetime YAML already parsed), else None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip().replace("Z", "+00:00")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def normalize_severity(value: str) -> str | None:
    """SEV1/SEV2/SEV3 from 'sev1', 'SEV1' or '1'; None when it is none of them."""
    text = str(value).strip().upper()
    if text in ("1", "2", "3"):
        text = f"SEV{text}"
    return text if text in SEVERITIES else None


@dataclass
class Record:
    """Base: `from_dict` keeps unknown keys in `other`; `to_dict` writes them back."""

    _datetimes: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_dict(cls: type[T], data: Any) -> T:
        """Build from a plain mapping; unknown keys are kept, bad timestamps become None."""
        data = dict(data) if isinstance(data, dict) else {}
        known = {f.name for f in fields(cls)} - {"other"}
        kwargs: dict[str, Any] = {}
        for name in known & data.keys():
            value = data[name]
            kwargs[name] = parse_iso(value) if name in cls._datetimes else value
        # Every subclass declares `other` as its last field (so positional order stays natural).
        kwargs["other"] = {k: v for k, v in data.items() if k not in known}
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for YAML/JSON: datetimes as ISO strings, unknown keys preserved."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "other":
                continue
            value = getattr(self, f.name)
            out[f.name] = to_iso(value) if isinstance(value, datetime) else value
        out.update(vars(self).get("other", {}))
        return out


@dataclass
class SeverityChange(Record):
    """One entry of severity_history: what the level became, when, by whom, why."""

    _datetimes: ClassVar[tuple[str, ...]] = ("at",)
    severity: str = "SEV1"
    at: datetime | None = None
    by: str = ""
    reason: str = ""
    other: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Deadline(Record):
    """A phase deadline counted from incident open; met_at is when it was met (or None)."""

    _datetimes: ClassVar[tuple[str, ...]] = ("due", "met_at")
    due: datetime | None = None
    met_at: datetime | None = None
    other: dict[str, Any] = field(default_factory=dict, repr=False)

    def state(self, now: datetime, *, active: bool = True) -> str:
        """met | missed (met late, or never met by close) | overdue | pending | none."""
        if self.due is None:
            return "none"
        if self.met_at is not None:
            return "met" if self.met_at <= self.due else "missed"
        if now > self.due:
            return "overdue" if active else "missed"
        return "pending" if active else "not_met"


@dataclass
class ActionItem(Record):
    """A follow-up from the review: prevent | mitigate | guardrail | process."""

    _datetimes: ClassVar[tuple[str, ...]] = ("done_at",)
    id: str = ""
    type: str = "prevent"
    text: str = ""
    owner: str | None = None
    due: str | None = None
    done_at: datetime | None = None
    other: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class ChecklistItem(Record):
    """A manual to-do (a runbook step, an external effect git cannot undo)."""

    id: str = ""
    text: str = ""
    kind: str = "manual"
    status: str = "pending"
    note: str | None = None
    other: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Freeze(Record):
    """The deploy freeze `agentir gate` enforces: commits it covers, in which repository."""

    commits: list[str] = field(default_factory=list)
    repo: str | None = None
    active: bool = False
    other: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class TimelineHead(Record):
    """Entry count and last hash of timeline.jsonl, so removing the last lines is detected."""

    count: int = 0
    hash: str = ""
    other: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass
class Incident(Record):
    """The current state of one incident (incident.yaml)."""

    _datetimes: ClassVar[tuple[str, ...]] = (
        "opened_at",
        "contained_at",
        "remediated_at",
        "reviewed_at",
        "closed_at",
    )
    id: str = ""
    title: str = ""
    severity: str = "SEV1"
    status: str = "open"
    opened_by: str = ""
    opened_at: datetime | None = None
    contained_at: datetime | None = None
    remediated_at: datetime | None = None
    reviewed_at: datetime | None = None
    closed_at: datetime | None = None
    close_reason: str | None = None
    runbook: str | None = None
    severity_history: list[SeverityChange] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)
    traces: list[str] = field(default_factory=list)
    responders: list[str] = field(default_factory=list)
    deadlines: dict[str, Deadline] = field(default_factory=dict)
    action_items: list[ActionItem] = field(default_factory=list)
    checklist: list[ChecklistItem] = field(default_factory=list)
    freeze: Freeze = field(default_factory=Freeze)
    extra: dict[str, Any] = field(default_factory=dict)
    timeline_head: TimelineHead = field(default_factory=TimelineHead)
    other: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, data: Any) -> Incident:
        """Build from incident.yaml data, nested records included."""
        incident = super().from_dict(data)
        incident.severity_history = [
            SeverityChange.from_dict(x) for x in _list(incident.severity_history)
        ]
        incident.sessions = [str(x) for x in _list(incident.sessions)]
        incident.traces = [str(x) for x in _list(incident.traces)]
        incident.responders = [str(x) for x in _list(incident.responders)]
        raw_deadlines = incident.deadlines if isinstance(incident.deadlines, dict) else {}
        incident.deadlines = {str(k): Deadline.from_dict(v) for k, v in raw_deadlines.items()}
        incident.action_items = [ActionItem.from_dict(x) for x in _list(incident.action_items)]
        incident.checklist = [ChecklistItem.from_dict(x) for x in _list(incident.checklist)]
        incident.freeze = Freeze.from_dict(incident.freeze)
        incident.extra = incident.extra if isinstance(incident.extra, dict) else {}
        incident.timeline_head = TimelineHead.from_dict(incident.timeline_head)
        return incident

    def to_dict(self) -> dict[str, Any]:
        """Plain data for incident.yaml (and for --json)."""
        out = super().to_dict()
        out["severity_history"] = [x.to_dict() for x in self.severity_history]
        out["deadlines"] = {k: v.to_dict() for k, v in self.deadlines.items()}
        out["action_items"] = [x.to_dict() for x in self.action_items]
        out["checklist"] = [x.to_dict() for x in self.checklist]
        out["freeze"] = self.freeze.to_dict()
        out["timeline_head"] = self.timeline_head.to_dict()
        return out

    @property
    def active(self) -> bool:
        """Not closed yet."""
        return self.status != "closed"

    def deadline_states(self, now: datetime) -> dict[str, str]:
        """The state of every deadline at `now` (closed incidents are judged at closing time)."""
        moment = self.closed_at or now
        return {name: d.state(moment, active=self.active) for name, d in self.deadlines.items()}

    def next_deadline(self, now: datetime) -> tuple[str, Deadline] | None:
        """The earliest deadline not met yet, or None."""
        pending = [(n, d) for n, d in self.deadlines.items() if d.met_at is None and d.due]
        if not self.active or not pending:
            return None
        return min(pending, key=lambda item: item[1].due or now)

    def age(self, now: datetime) -> timedelta:
        """Time since open (until close for closed incidents)."""
        start = self.opened_at or now
        return (self.closed_at or now) - start


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def format_duration(delta: timedelta) -> str:
    """'2d 3h', '1h 05m', '4m 10s' — compact, for status lines."""
    seconds = int(abs(delta).total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        text = f"{days}d {hours}h"
    elif hours:
        text = f"{hours}h {minutes:02d}m"
    else:
        text = f"{minutes}m {secs:02d}s"
    return f"-{text}" if delta < timedelta(0) else text
