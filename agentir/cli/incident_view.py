"""Rich renderables and JSON shapes for `agentir incident`: tables, never markup from data."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from rich.table import Table
from rich.text import Text

from agentir.incidents.evidence import EvidenceRecord
from agentir.incidents.records import Incident, format_duration
from agentir.incidents.timeline import TimelineEntry, VerifyReport
from agentir.render.jsonout import to_jsonable
from agentir.review.deadline import review_deadline

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_STATE_STYLE = {
    "met": "green",
    "pending": "yellow",
    "missed": "red",
    "overdue": "bold red",
    "not_met": "red",
}


def safe(value: Any, limit: int | None = None) -> Text:
    """Untrusted text as a rich Text: control characters (ESC included) removed, never markup."""
    text = _CONTROL.sub("", "" if value is None else str(value))
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return Text(text)


def when(value: datetime | None) -> str:
    """A UTC timestamp for people."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "—"


def deadline_rows(incident: Incident, now: datetime) -> list[dict[str, Any]]:
    """Each deadline with its state and the time left (negative: late)."""
    states = incident.deadline_states(now)
    rows = []
    for name, deadline in incident.deadlines.items():
        reference = deadline.met_at or incident.closed_at or now
        left = (deadline.due - reference).total_seconds() if deadline.due else None
        rows.append(
            {
                "name": name,
                "due": deadline.due,
                "met_at": deadline.met_at,
                "state": states[name],
                "seconds_left": None if left is None else int(left),
            }
        )
    return sorted(rows, key=lambda r: r["due"] or now)


def status_data(incident: Incident, now: datetime) -> dict[str, Any]:
    """What `incident status --json` reports."""
    upcoming = incident.next_deadline(now)
    return {
        "id": incident.id,
        "title": incident.title,
        "severity": incident.severity,
        "status": incident.status,
        "opened_at": incident.opened_at,
        "age_seconds": int(incident.age(now).total_seconds()),
        "deadlines": deadline_rows(incident, now),
        "next_deadline": upcoming[0] if upcoming else None,
        "review": review_deadline(incident, now),
    }


def review_line(review: dict[str, Any]) -> Text:
    """`review: due … — overdue by 3h 10m` (bold red when overdue)."""
    state = review["state"]
    if review["due"] is None:
        return Text(f"review: no deadline ({review['basis']})")
    left = review["seconds_left"] or 0
    if state == "overdue":
        tail, style = f"OVERDUE by {_left(left).removesuffix(' late')}", "bold red"
    elif state == "met":
        tail, style = f"met (reviewed {when(review['met_at'])})", "green"
    elif state in ("missed", "not_met"):
        tail, style = f"{state.replace('_', ' ')}", "red"
    else:
        tail, style = f"{_left(left)} left", "yellow"
    return Text(f"review: due {when(review['due'])} — ") + Text(tail, style=style)


def incident_table(incidents: list[Incident], now: datetime) -> Table:
    """One row per incident for `incident list`."""
    table = Table(title=None, show_lines=False)
    for header in ("id", "sev", "status", "title", "opened", "age", "next deadline"):
        table.add_column(header, no_wrap=header in ("id", "sev", "status"))
    for incident in incidents:
        upcoming = incident.next_deadline(now)
        if upcoming and upcoming[1].due is not None:
            name, deadline = upcoming
            assert deadline.due is not None
            late = deadline.due < now
            left = format_duration(deadline.due - now)
            cell = Text(f"{name} {'overdue ' if late else 'in '}{left.lstrip('-')}")
            cell.stylize("bold red" if late else "yellow")
        else:
            cell = Text("—")
        table.add_row(
            Text(incident.id),
            Text(incident.severity),
            Text(incident.status),
            safe(incident.title, 60),
            Text(when(incident.opened_at)),
            Text(format_duration(incident.age(now))),
            cell,
        )
    return table


def deadlines_table(incident: Incident, now: datetime) -> Table:
    """Deadlines with their state (met / missed / overdue / pending) and the time left."""
    table = Table(title="deadlines (from open)")
    for header in ("deadline", "due", "met at", "state", "left"):
        table.add_column(header)
    for row in deadline_rows(incident, now):
        left = row["seconds_left"]
        left_text = "—" if left is None or row["met_at"] else _left(left)
        state = Text(row["state"], style=_STATE_STYLE.get(row["state"], ""))
        table.add_row(
            Text(row["name"]), Text(when(row["due"])), Text(when(row["met_at"])), state,
            Text(left_text),
        )  # fmt: skip
    return table


def _left(seconds: int) -> str:
    from datetime import timedelta

    text = format_duration(timedelta(seconds=abs(seconds)))
    return f"{text} late" if seconds < 0 else text


def summary_table(incident: Incident, now: datetime) -> Table:
    """Key facts of one incident as a two-column table."""
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value")
    rows: list[tuple[str, Text]] = [
        ("id", Text(incident.id)),
        ("title", safe(incident.title)),
        ("severity", Text(incident.severity)),
        ("status", Text(incident.status)),
        ("opened", Text(f"{when(incident.opened_at)} by ") + safe(incident.opened_by)),
        ("age", Text(format_duration(incident.age(now)))),
    ]
    for stamp in ("contained_at", "remediated_at", "reviewed_at", "closed_at"):
        value = getattr(incident, stamp)
        if value is not None:
            rows.append((stamp.removesuffix("_at"), Text(when(value))))
    if incident.close_reason:
        rows.append(("close reason", safe(incident.close_reason)))
    rows.append(("sessions", safe(", ".join(incident.sessions) or "—")))
    rows.append(("traces", safe("\n".join(incident.traces) or "—")))
    rows.append(("responders", safe(", ".join(incident.responders))))
    rows.append(("runbook", safe(incident.runbook or "—")))
    if incident.freeze.active:
        rows.append(("deploy freeze", safe(", ".join(c[:12] for c in incident.freeze.commits))))
    for name, value in rows:
        table.add_row(name, value)
    return table


def severity_table(incident: Incident) -> Table:
    """The severity history: level, when, by whom, why."""
    table = Table(title="severity history")
    for header in ("at", "severity", "by", "reason"):
        table.add_column(header)
    for change in incident.severity_history:
        table.add_row(
            Text(when(change.at)), Text(change.severity), safe(change.by), safe(change.reason)
        )
    return table


def evidence_table(records: list[EvidenceRecord]) -> Table:
    """Preserved traces with their sha256."""
    table = Table(title="evidence")
    for header in ("sha256", "kind", "size", "source"):
        table.add_column(header, no_wrap=header == "sha256")
    for record in records:
        table.add_row(
            Text(record.sha256[:16]), Text(record.kind), Text(str(record.size)), safe(record.path)
        )
    return table


def timeline_table(entries: list[TimelineEntry]) -> Table:
    """Timeline entries: seq, time, actor, action, details (summarised)."""
    table = Table(title="timeline")
    for header in ("#", "time (UTC)", "actor", "action", "details"):
        table.add_column(header, no_wrap=header in ("#", "time (UTC)"))
    for entry in entries:
        table.add_row(
            Text(str(entry.seq)),
            Text(entry.time.replace("T", " ").removesuffix("Z")),
            safe(entry.actor),
            safe(entry.action),
            safe(details_text(entry.details), 160),
        )
    return table


def details_text(details: dict[str, Any]) -> str:
    """`key=value; ...` for a timeline entry's details."""
    parts = []
    for key, value in details.items():
        if value in (None, "", [], {}):
            continue
        plain = to_jsonable(value)
        shown = plain if isinstance(plain, str) else json.dumps(plain, ensure_ascii=False)
        parts.append(f"{key}={shown}")
    return "; ".join(parts)


def verify_data(report: VerifyReport) -> dict[str, Any]:
    """What `incident verify --json` reports."""
    return {
        "id": report.incident_id,
        "ok": report.ok,
        "entries": report.entries,
        "head": report.head,
        "first_bad_line": report.first_bad_line,
        "problems": [{"line": p.line, "message": p.message} for p in report.problems],
        "warnings": list(report.warnings),
    }
