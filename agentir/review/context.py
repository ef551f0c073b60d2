"""The review's template context: plain data built from the incident, its timeline and the
sessions' evidence. Deterministic for the same inputs: `now` is passed in, lists are ordered,
machine paths go through aliases. Every string is redacted once more on the way out.

Schema (version 1), top-level keys: schema, as_of, incident, review, sessions, traces,
summary, timeline, phases, questions (what, why, guardrails, blast), recommendations,
action_items, tests, charts, warnings. README.md documents each for template authors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agentir.analysis.secrets import redact
from agentir.guardrails import Guardrail, recommend
from agentir.incidents.records import Incident
from agentir.incidents.timeline import TimelineEntry
from agentir.review import questions as q
from agentir.review.actions import is_prompt_change, prompt_only
from agentir.review.collect import SessionEvidence
from agentir.review.deadline import review_deadline
from agentir.review.fmt import Display, duration, iso, money, text, when
from agentir.review.picture import chart
from agentir.review.policy_info import PolicyInfo
from agentir.review.timeline import cite_name, merged, milestones, short_id

SCHEMA = 1
REVIEW_STATUSES = ("draft", "in-review", "reviewed")
_LABELS = {"draft": "draft", "in-review": "in review", "reviewed": "reviewed", "closed": "closed"}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class TraceNote:
    """A trace the incident lists, and what reading it gave."""

    path: str
    state: str  # read / evidence-copy / missing / unreadable
    note: str = ""


@dataclass(frozen=True)
class ReviewInputs:
    """Everything a review is built from."""

    incident: Incident
    entries: Sequence[TimelineEntry]
    sessions: Sequence[SessionEvidence]
    policy: PolicyInfo
    now: datetime
    traces: Sequence[TraceNote] = ()
    status: str | None = None
    aliases: Mapping[str, str] = field(default_factory=dict)


def review_status(incident: Incident, requested: str | None) -> str:
    """draft | in-review | reviewed | closed: the incident's close wins, then the flag, then
    what was recorded last."""
    if not incident.active:
        return "closed"
    if requested:
        return requested
    recorded = incident.extra.get("review") if isinstance(incident.extra, dict) else None
    value = recorded.get("status") if isinstance(recorded, dict) else None
    if value in REVIEW_STATUSES:
        return str(value)
    return "reviewed" if incident.status == "reviewed" else "draft"


def build(inputs: ReviewInputs) -> dict[str, Any]:
    """The whole template context."""
    inc = inputs.incident
    display = Display(inputs.aliases)
    sessions = list(inputs.sessions)
    recs = recommend([ev.assessment for ev in sessions])
    status = review_status(inc, inputs.status)
    deadline = review_deadline(inc, inputs.now)
    context: dict[str, Any] = {
        "schema": SCHEMA,
        "as_of": when(inputs.now),
        "incident": _incident(inc, display),
        "review": {
            "status": status,
            "status_label": _LABELS[status],
            "steps": [{"key": k, "label": v, "current": k == status} for k, v in _LABELS.items()],
            "deadline": {
                "due": when(deadline["due"]),
                "met_at": when(deadline["met_at"]),
                "state": deadline["state"],
                "left": duration(abs(deadline["seconds_left"]))
                if deadline["seconds_left"] is not None
                else None,
                "late": (deadline["seconds_left"] or 0) < 0,
                "basis": deadline["basis"],
                "text": _deadline_text(deadline),
            },
        },
        "sessions": [q.session_row(ev, display) for ev in sessions],
        "traces": [
            {"path": display.path(t.path), "state": t.state, "note": text(display.within(t.note))}
            for t in inputs.traces
        ],
        "summary": _summary(inc, sessions),
        "timeline": merged(inc, inputs.entries, sessions, display),
        "phases": milestones(inc, inputs.entries, sessions),
        "questions": {
            "what": q.what(sessions, display),
            "why": q.why(sessions, display),
            "guardrails": q.guardrails(sessions, inputs.policy, inputs.entries, display),
            "blast": q.blast_radius(inc, inputs.entries, sessions, display),
        },
        "recommendations": [_recommendation(g, sessions, display) for g in recs],
        "action_items": _actions(inc, inputs.now),
        "tests": _tests(inc),
        "charts": [chart(ev, display) for ev in sessions],
    }
    context["warnings"] = _warnings(context, inputs)
    scrubbed: dict[str, Any] = scrub(context)
    return scrubbed


def _deadline_text(d: Mapping[str, Any]) -> str:
    """`due … (basis): state, 1d 2h left` in one line."""
    if d["due"] is None:
        return f"none ({d['basis']})"
    left = d["seconds_left"]
    state = d["state"]
    if state == "met":
        tail = f", reviewed {when(d['met_at'])}"
    elif left is None:
        tail = ""
    elif left < 0:
        tail = f", {duration(-left)} late"
    else:
        tail = f", {duration(left)} left"
    return f"due {when(d['due'])} ({d['basis']}): {state}{tail}"


def _incident(inc: Incident, display: Display) -> dict[str, Any]:
    return {
        "id": inc.id,
        "title": inc.title,
        "severity": inc.severity,
        "severity_history": [
            {"severity": c.severity, "at": when(c.at), "by": c.by, "reason": c.reason}
            for c in inc.severity_history
        ],
        "status": inc.status,
        "opened_at": when(inc.opened_at),
        "opened_iso": iso(inc.opened_at),
        "opened_by": inc.opened_by,
        "contained_at": when(inc.contained_at),
        "remediated_at": when(inc.remediated_at),
        "reviewed_at": when(inc.reviewed_at),
        "closed_at": when(inc.closed_at),
        "close_reason": inc.close_reason,
        "runbook": display.path(inc.runbook),
        "responders": list(inc.responders),
        "sessions": list(inc.sessions),
    }


def _summary(inc: Incident, sessions: Sequence[SessionEvidence]) -> dict[str, Any]:
    lines: list[str] = []
    impact: list[str] = []
    for ev in sessions:
        a = ev.assessment
        s = a.session
        model = ", ".join(s.models) or "an unknown model"
        where = f" in {s.cwd}" if s.cwd else ""
        branch = f" on branch {s.git_branch}" if s.git_branch else ""
        began = f" on {when(s.started_at)}" if s.started_at else ""
        lines.append(
            f"{s.agent} session {short_id(s.id)} ({model}){where}{branch}{began} ran "
            f"{a.counts.commands} command(s) and changed {sum(1 for f in a.files if f.done)} "
            f"file(s) in {duration(s.duration_seconds) or 'an unknown time'}, for "
            f"{money(a.usage.cost_usd)}."
        )
        harmful = [e for e in a.effects if e.risk.value in ("high", "critical")]
        if ev.decision is not None:
            lines.append(
                f"Its first harmful step was step {ev.decision.seq}: {ev.decision.what}; "
                f"{len(harmful)} high-risk effect(s) in all."
            )
        for e in harmful[:12]:
            state = " (attempt failed)" if e.succeeded is False else ""
            impact.append(f"{e.kind}: {e.target} — {e.detail or e.risk.value}{state}")
        outside = [f.path for f in a.files if f.done and not f.inside_cwd]
        if outside:
            impact.append(f"{len(outside)} file(s) written outside the working directory")
    if not sessions:
        lines.append(
            "No trace of the agent session could be read; the facts below come from the "
            "incident record alone."
        )
    return {
        "title": inc.title,
        "lines": [text(x, 800) for x in lines],
        "impact": [text(x, 400) for x in impact],
    }


def _recommendation(
    g: Guardrail, sessions: Sequence[SessionEvidence], display: Display
) -> dict[str, Any]:
    by_id = {ev.assessment.session.id: ev for ev in sessions}
    cites = []
    for sid, seq in g.evidence[:8]:
        ev = by_id.get(sid)
        cite = cite_name(ev.cite(seq), display) if ev else None
        cites.append({"session": short_id(sid), "seq": seq, "cite": cite})
    return {
        "id": g.id,
        "kind": g.kind,
        "title": g.title,
        "why": g.why,
        "evidence": cites,
        "changes": [
            {"target": c.target, "file": c.file, "language": c.language, "snippet": c.snippet}
            for c in g.changes
        ],
    }


def _actions(inc: Incident, now: datetime) -> dict[str, Any]:
    today = now.date().isoformat()
    items = []
    for item in sorted(inc.action_items, key=lambda i: (_num(i.id), i.id)):
        items.append(
            {
                "id": item.id,
                "type": item.type,
                "text": item.text,
                "owner": item.owner,
                "due": item.due,
                "done": item.done_at is not None,
                "done_at": when(item.done_at),
                "overdue": item.done_at is None and bool(item.due) and str(item.due) < today,
                "prompt_change": is_prompt_change(item.text),
            }
        )
    warnings = []
    if not items:
        warnings.append(
            "No action items yet: add them with agentir incident action add (type guardrail, "
            "prevent, mitigate or process, with an owner and a due date)."
        )
    if prompt_only(list(inc.action_items)):
        warnings.append(
            "Every action item is a prompt change. Prompts are advice the agent can ignore; add "
            "at least one structural guardrail (a permission removed, a budget or loop limit "
            "enforced, a path restriction, a blocking hook, a credential revoked)."
        )
    unowned = [str(i["id"]) for i in items if not i["owner"] or not i["due"]]
    if unowned:
        warnings.append(f"Action item(s) without an owner or a due date: {', '.join(unowned)}.")
    return {
        "all": items,
        "open": sum(1 for i in items if not i["done"]),
        "done": sum(1 for i in items if i["done"]),
        "prompt_only": prompt_only(list(inc.action_items)),
        "warnings": warnings,
    }


def _num(action_id: str) -> int:
    digits = "".join(ch for ch in action_id if ch.isdigit())
    return int(digits) if digits else 0


def _tests(inc: Incident) -> dict[str, Any]:
    raw = inc.extra.get("test_suggestions") if isinstance(inc.extra, dict) else None
    rows = [r for r in raw if isinstance(r, dict)] if isinstance(raw, list) else []
    keys = ("file", "function", "line", "category", "rationale", "test_case", "code", "language")
    suggestions = [{k: r.get(k) for k in keys} for r in rows]
    markdown = None
    if suggestions:
        try:
            from agentir.analysis.testgen import Suggestion, render_suggestions_md
        except ImportError:
            markdown = None
        else:
            made = [
                Suggestion(
                    **{k: str(s[k] or "") for k in keys if k != "line"}, line=_int(s["line"])
                )
                for s in suggestions
            ]
            markdown = render_suggestions_md(made, level=3)
    return {"suggestions": suggestions, "markdown": markdown}


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _warnings(context: Mapping[str, Any], inputs: ReviewInputs) -> list[str]:
    out: list[str] = []
    deadline = context["review"]["deadline"]
    if deadline["state"] == "overdue":
        out.append(f"The review is overdue: it was due {deadline['due']} ({deadline['basis']}).")
    for t in inputs.traces:
        if t.state in ("missing", "unreadable"):
            out.append(f"Trace {t.state}: {t.path}{': ' + t.note if t.note else ''}")
    if not inputs.incident.traces:
        out.append(
            "The incident lists no trace: attach one with agentir incident open --trace "
            "or agentir contain, so the review can cite the agent's steps."
        )
    if not inputs.policy.available:
        out.extend(f"Detectors: {n}" for n in inputs.policy.notes)
    if context["action_items"]["prompt_only"]:
        out.append("Every action item is a prompt change: see Action items.")
    return [text(Display(inputs.aliases).within(w), 600) for w in out]


def scrub(value: Any, key: str = "") -> Any:
    """Redact secrets and control characters in every string (the SVG is built from scrubbed
    pieces and escaped already)."""
    if isinstance(value, str):
        return value if key == "svg" else _CONTROL.sub(" ", redact(value))
    if isinstance(value, Mapping):
        return {k: scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v, key) for v in value]
    return value
