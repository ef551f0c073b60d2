"""The review's merged timeline: what the agent did (from the trace) and what responders did
(from the incident timeline), with the phase milestones and the time to each."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from agentir.incidents.records import Incident
from agentir.incidents.timeline import TimelineEntry
from agentir.review.collect import HARMFUL_FINDINGS, SessionEvidence, describe_effect
from agentir.review.fmt import Display, between, duration, iso, text, when

MAX_AGENT_ITEMS = 40
MAX_RESPONDER_ITEMS = 80
HIDDEN_ACTIONS = ("review.rendered",)  # drafts of this very review: noise in its own timeline
_FAR_PAST = datetime(1970, 1, 1, tzinfo=timezone.utc)
_RANK = {"start": 0, "task": 1, "end": 9}  # same time and step: start first, end last


def short_id(session_id: str) -> str:
    """The first 8 characters of a session id (how people say it)."""
    return session_id[:8]


def summarize_entry(entry: TimelineEntry, display: Display, limit: int = 240) -> str:
    """One line for a responder timeline entry: its action and the details that matter."""
    d = entry.details
    action = entry.action
    special = _special(action, d)
    if special is not None:
        return text(display.within(special), limit)
    parts = [action]
    for key in sorted(d):
        value = d[key]
        if value in (None, "", [], {}) or key in ("deadlines", "outcomes", "targets", "items"):
            continue
        shown = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        parts.append(f"{key}={shown if len(shown) <= 80 else shown[:79] + '…'}")
    return text(display.within("; ".join(parts)), limit)


def _special(action: str, d: Mapping[str, Any]) -> str | None:
    if action == "incident.opened":
        return f"incident opened ({d.get('severity', '?')}): {d.get('title', '')}"
    if action.startswith("status."):
        return f"status {d.get('from', '?')} → {d.get('to', action[7:])}" + (
            f" ({d['reason']})" if d.get("reason") else ""
        )
    if action == "severity.changed":
        return f"severity {d.get('from', '?')} → {d.get('to', '?')}: {d.get('reason', '')}"
    if action == "remediate.applied":
        reverted = d.get("reverted") or []
        return (
            f"reverted {len(reverted)} commit(s) on branch {d.get('branch', '?')}"
            f" (verified: {'yes' if d.get('verified') else 'no'})"
        )
    if action == "remediate.planned":
        shas = [str(r.get("sha", ""))[:10] for r in d.get("reverts") or [] if isinstance(r, dict)]
        return f"remediation planned: revert {len(shas)} commit(s) {', '.join(shas)}".rstrip()
    if action == "freeze.set":
        return f"deploy freeze on {len(d.get('commits') or [])} commit(s)"
    if action == "action.added":
        return f"action item {d.get('id', '?')} ({d.get('type', '?')}) added: {d.get('text', '')}"
    if action == "action.done":
        return f"action item {d.get('id', '?')} done"
    if action == "note":
        return f"note: {d.get('text', '')}"
    if action == "evidence.added":
        return f"evidence preserved: {d.get('path', '?')} (sha256 {str(d.get('sha256', ''))[:12]})"
    return None


def agent_items(ev: SessionEvidence, display: Display) -> list[dict[str, Any]]:
    """The agent's side: start, task, effects, findings, the first harmful step, end."""
    a = ev.assessment
    s = a.session
    who = f"agent {short_id(s.id)}"
    items: list[dict[str, Any]] = []

    def add(seq: int | None, at: datetime | None, kind: str, what: str, cite: str | None) -> None:
        items.append(
            {
                "at_dt": at,
                "seq": seq if seq is not None else -1,
                "origin": "agent",
                "actor": who,
                "kind": kind,
                "text": text(what, 300),
                "cite": cite_name(cite, display),
            }
        )

    first = a.timeline[0] if a.timeline else None
    add(
        first.seq if first else 0,
        s.started_at,
        "start",
        f"{s.agent} session started in {s.cwd or '?'}",
        ev.cite(first.seq if first else 0),
    )
    task = next((t for t in a.timeline if t.kind == "user"), None)
    if task is not None:
        add(task.seq, task.ts, "task", f"asked: {task.summary}", task.source)
    harm = ev.decision.seq if ev.decision else None
    for effect in sorted(a.effects, key=lambda e: (e.seq, -e.risk.rank))[:MAX_AGENT_ITEMS]:
        add(effect.seq, ev.index.time(effect.seq), "effect", describe_effect(effect), effect.source)
    for finding in sorted(a.findings, key=lambda f: min(f.seqs) if f.seqs else -1)[:20]:
        seq = min(finding.seqs) if finding.seqs else None
        add(
            seq,
            ev.index.time(seq) if seq is not None else None,
            "finding",
            f"finding {finding.detector} ({finding.severity}): {finding.message}",
            ev.cite(seq),
        )
    # the first item at the decision point's step stands for it (an effect before a finding)
    marked = next(
        (i for i in items if i["seq"] == harm and i["kind"] in ("effect", "finding")), None
    )
    if marked is not None:
        marked["kind"] = "harm"
    elif ev.decision is not None:
        d = ev.decision
        add(d.seq, d.ts, "harm", f"first harmful step: {d.what}", d.source)
    last = a.timeline[-1] if a.timeline else None
    add(
        last.seq if last else None,
        s.ended_at,
        "end",
        f"session's last record ({a.counts.events} events)",
        ev.cite(last.seq) if last else None,
    )
    return items


def cite_name(source: str | None, display: Display) -> str | None:
    """A citation as `<trace file name>:<line>` (the full paths are listed once, in the header)."""
    if not source:
        return None
    shown = display.path(source) or source
    return shown.rsplit("/", 1)[-1]


def responder_items(entries: Sequence[TimelineEntry], display: Display) -> list[dict[str, Any]]:
    """Every responder action on the incident timeline (drafts of this review left out)."""
    shown = [e for e in entries if e.action not in HIDDEN_ACTIONS]
    if len(shown) > MAX_RESPONDER_ITEMS:  # keep the start and the latest
        half = MAX_RESPONDER_ITEMS // 2
        shown = shown[:half] + shown[-half:]
    return [
        {
            "at_dt": e.at,
            "seq": e.seq,
            "origin": "responder",
            "actor": text(e.actor, 80),
            "kind": e.action,
            "text": summarize_entry(e, display),
            "cite": f"timeline #{e.seq}",
        }
        for e in shown
    ]


def merged(
    incident: Incident,
    entries: Sequence[TimelineEntry],
    sessions: Sequence[SessionEvidence],
    display: Display,
) -> list[dict[str, Any]]:
    """Agent and responder items in time order (untimed agent steps keep trace order)."""
    items: list[dict[str, Any]] = []
    for ev in sessions:
        agent = agent_items(ev, display)
        fallback = ev.assessment.session.started_at or incident.opened_at or _FAR_PAST
        for item in agent:
            rank = _RANK.get(item["kind"], 1)
            item["sort"] = (item["at_dt"] or fallback, 0, item["seq"], rank)
        items.extend(agent)
    for item in responder_items(entries, display):
        item["sort"] = (item["at_dt"] or incident.opened_at or _FAR_PAST, 1, item["seq"], 1)
        items.append(item)
    items.sort(key=lambda i: (i["sort"], i["actor"], i["text"]))
    out = []
    for item in items:
        at = item.pop("at_dt")
        item.pop("sort")
        item["at"] = when(at)
        item["iso"] = iso(at)
        out.append(item)
    return out


def _entry_for(entries: Sequence[TimelineEntry], *actions: str) -> TimelineEntry | None:
    return next((e for e in entries if e.action in actions), None)


def milestones(
    incident: Incident, entries: Sequence[TimelineEntry], sessions: Sequence[SessionEvidence]
) -> dict[str, Any]:
    """Phase times (agent start, first harm, detection, containment, remediation, review,
    close) and the time from incident open to each, with what each is taken from."""
    starts = [e.assessment.session.started_at for e in sessions if e.assessment.session.started_at]
    harms = [(e.decision.ts, e) for e in sessions if e.decision and e.decision.ts]
    findings = [
        (e.index.time(min(f.seqs)), f)
        for e in sessions
        for f in e.assessment.findings
        if f.severity in HARMFUL_FINDINGS and f.seqs and e.index.time(min(f.seqs))
    ]
    first_harm = min((t for t, _ in harms), default=None)
    opened = incident.opened_at
    rows: list[dict[str, Any]] = []

    def row(name: str, at: datetime | None, basis: str) -> None:
        rows.append({"name": name, "at": when(at), "iso": iso(at), "basis": basis})

    row("agent session started", min(starts, default=None), "the trace")
    row("first harmful step", first_harm, "the trace (first high-risk effect or finding)")
    first_finding = min((t for t, _ in findings if t is not None), default=None)
    if first_finding is not None:
        row("first detector finding (in hindsight)", first_finding, "detectors over the trace")
    row("detected (incident opened)", opened, _cite(_entry_for(entries, "incident.opened")))
    for name, stamp, action in (
        ("contained", incident.contained_at, "status.contained"),
        ("remediated", incident.remediated_at, "status.remediated"),
        ("reviewed", incident.reviewed_at, "status.reviewed"),
        ("closed", incident.closed_at, "status.closed"),
    ):
        row(name, stamp, _cite(_entry_for(entries, action)))
    spans = [
        ("time to detect (first harm → incident opened)", first_harm, opened),
        ("time to contain (opened → contained)", opened, incident.contained_at),
        ("time to remediate (opened → remediated)", opened, incident.remediated_at),
        ("time to review (opened → reviewed)", opened, incident.reviewed_at),
    ]
    durations = []
    for name, start, end in spans:
        seconds = between(start, end)
        missing = "no harmful step found" if start is None else "not yet"
        durations.append(
            {
                "name": name,
                "seconds": None if seconds is None else int(seconds),
                "text": duration(seconds) or missing,
            }
        )
    return {"milestones": rows, "durations": durations}


def _cite(entry: TimelineEntry | None) -> str:
    return f"timeline #{entry.seq}" if entry is not None else "incident.yaml"
