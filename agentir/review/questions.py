"""The first four of the review's five questions, answered from evidence with citations:
what did the agent do, why, why didn't the guardrails catch it, and what is the blast radius.
(The fifth, what will prevent recurrence, is `guardrails.recommend` plus the action items.)"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentir.incidents.records import Incident
from agentir.incidents.timeline import TimelineEntry
from agentir.model import Risk
from agentir.review.collect import SessionEvidence
from agentir.review.fmt import Display, iso, money, text, when
from agentir.review.policy_info import PolicyInfo
from agentir.review.timeline import cite_name, short_id, summarize_entry

MAX_FILES = 40
MAX_COMMANDS = 40
MAX_EFFECTS = 50
EXTERNAL_KINDS = ("network", "deploy", "publish", "cloud", "database", "message", "mcp")
_RISKY_MODES = {
    "permission_mode": ("bypassPermissions",),
    "sandbox": ("danger-full-access",),
    "approval_policy": ("never",),
}


def what(sessions: Sequence[SessionEvidence], display: Display) -> list[dict[str, Any]]:
    """Per session: files, commands, effects and commits, each with its citation."""
    out = []
    for ev in sessions:
        a = ev.assessment
        files = [
            {
                "path": text(f.path, 300),
                "ops": [op.value for op in f.ops],
                "via": list(f.via),
                "done": f.done,
                "inside_cwd": f.inside_cwd,
                "seq": f.first_seq,
                "cite": cite_name(ev.cite(f.first_seq), display),
            }
            for f in a.files[:MAX_FILES]
        ]
        commands = [
            {
                "command": text(c.command, 300),
                "exit_code": c.exit_code,
                "ok": c.ok,
                "seq": c.seq,
                "cite": cite_name(ev.cite(c.seq), display),
            }
            for c in a.commands[:MAX_COMMANDS]
        ]
        out.append(
            {
                "session": short_id(a.session.id),
                "files": files,
                "files_more": max(0, a.counts.files - len(files)),
                "commands": commands,
                "commands_more": max(0, a.counts.commands - len(commands)),
                "effects": effects(ev, display),
                "effects_more": max(0, len(a.effects) - MAX_EFFECTS),
                "commits": [text(c, 60) for c in a.commit_refs[:50]],
                "failures": a.counts.tool_errors,
            }
        )
    return out


def effects(ev: SessionEvidence, display: Display) -> list[dict[str, Any]]:
    """The session's external effects, riskiest first, each citing the step that caused it."""
    return [
        {
            "kind": e.kind,
            "target": text(e.target, 300),
            "risk": e.risk.value,
            "detail": text(e.detail, 200),
            "succeeded": e.succeeded,
            "count": e.count,
            "seq": e.seq,
            "at": when(ev.index.time(e.seq)),
            "cite": cite_name(e.source or ev.cite(e.seq), display),
        }
        for e in ev.assessment.effects[:MAX_EFFECTS]
    ]


def why(sessions: Sequence[SessionEvidence], display: Display) -> list[dict[str, Any]]:
    """Per session: the task it was given and the messages just before its first harmful step."""
    out = []
    for ev in sessions:
        s = ev.assessment.session
        task = next((t for t in ev.assessment.timeline if t.kind == "user"), None)
        decision = None
        if ev.decision is not None:
            d = ev.decision
            decision = {
                "seq": d.seq,
                "at": when(d.ts),
                "cite": cite_name(d.source, display),
                "what": text(d.what, 300),
                "via": d.via,
                "messages": [
                    {
                        "role": m.role + (" (reasoning)" if m.reasoning else ""),
                        "subagent": m.sidechain,
                        "text": text(m.text, 1200),
                        "seq": m.seq,
                        "at": when(m.ts),
                        "cite": cite_name(m.source, display),
                    }
                    for m in d.messages
                ],
            }
        out.append(
            {
                "session": short_id(s.id),
                "task": text(s.task, 1500) if s.task else None,
                "task_cite": cite_name(task.source, display) if task else None,
                "decision": decision,
            }
        )
    return out


def guardrails(
    sessions: Sequence[SessionEvidence],
    policy: PolicyInfo,
    entries: Sequence[TimelineEntry],
    display: Display,
) -> dict[str, Any]:
    """The policy in force, how each session was authorised, and which detectors fired when."""
    auth = []
    findings = []
    for ev in sessions:
        s = ev.assessment.session
        modes = {
            "permission_mode": s.permission_mode,
            "sandbox": s.sandbox,
            "approval_policy": s.approval_policy,
        }
        risky = sorted(k for k, v in modes.items() if v in _RISKY_MODES[k])
        auth.append(
            {
                "session": short_id(s.id),
                "agent": s.agent,
                **modes,
                "network_access": s.network_access,
                "risky": risky,
                "unknown": all(v is None for v in modes.values()),
            }
        )
        harm = ev.decision.seq if ev.decision else None
        for f in ev.assessment.findings:
            first = min(f.seqs) if f.seqs else None
            findings.append(
                {
                    "session": short_id(s.id),
                    "detector": f.detector,
                    "severity": f.severity,
                    "message": text(f.message, 400),
                    "step": first,
                    "steps": len(f.seqs),
                    "at": when(ev.index.time(first)) if first is not None else None,
                    "cite": cite_name(ev.cite(first), display),
                    "before_harm": harm is not None and first is not None and first <= harm,
                }
            )
    findings.sort(key=lambda f: (f["session"], f["step"] if f["step"] is not None else -1))
    live = [e for e in entries if e.action.startswith(("guard.", "watch."))]
    return {
        "policy": {
            "available": policy.available,
            "source": display.path(policy.source) if policy.source else None,
            "rules": [text(r, 300) for r in policy.rules],
            "notes": [text(display.within(n), 400) for n in policy.notes],
        },
        "authorization": auth,
        "findings": findings,
        "fired_before_harm": sum(1 for f in findings if f["before_harm"]),
        "enforced_live": [
            {"cite": f"timeline #{e.seq}", "text": summarize_entry(e, display)} for e in live
        ],
    }


def blast_radius(
    incident: Incident,
    entries: Sequence[TimelineEntry],
    sessions: Sequence[SessionEvidence],
    display: Display,
) -> dict[str, Any]:
    """Files, commits, branches and remotes, external systems, secrets, and what is undone."""
    files_changed = 0
    outside: list[dict[str, Any]] = []
    deleted: list[dict[str, Any]] = []
    branches: dict[str, str] = {}
    external: list[dict[str, Any]] = []
    secrets: list[dict[str, Any]] = []
    for ev in sessions:
        a = ev.assessment
        s = a.session
        files_changed += sum(1 for f in a.files if f.done)
        for f in a.files:
            row = {"path": text(f.path, 300), "cite": cite_name(ev.cite(f.first_seq), display)}
            if f.done and not f.inside_cwd and len(outside) < MAX_FILES:
                outside.append(row)
            if f.done and any(op.value == "delete" for op in f.ops) and len(deleted) < MAX_FILES:
                deleted.append(row)
        if s.git_branch:
            branches.setdefault(f"{s.git_branch} (the session's branch)", "the trace")
        if s.repository_url:
            branches.setdefault(f"remote {s.repository_url}", "the trace")
        for e in effects(ev, display):
            if e["kind"] == "git_push":
                branches[f"pushed: {e['target']} ({e['detail']})"] = e["cite"] or ""
            elif e["kind"] == "secret_exposure":
                secrets.append(e)
            elif e["kind"] in EXTERNAL_KINDS and e["risk"] != Risk.LOW.value:
                external.append(e)
    return {
        "files_changed": files_changed,
        "outside_cwd": outside,
        "deleted": deleted,
        "commits": commits(incident, entries, sessions),
        "branches": [{"what": text(k, 300), "cite": v} for k, v in sorted(branches.items())],
        "external": external,
        "secrets": secrets,
        "checklist": [
            {
                "id": text(c.id, 80),
                "text": text(c.text, 300),
                "status": c.status,
                "note": text(c.note, 300) if c.note else None,
                "cite": text(c.other.get("evidence"), 120) if c.other.get("evidence") else None,
            }
            for c in incident.checklist
        ],
        "remediation": [
            {"cite": f"timeline #{e.seq}", "at": when(e.at), "text": summarize_entry(e, display)}
            for e in entries
            if e.action.startswith(("remediate.", "credentials.", "freeze.", "contain."))
        ][-40:],
        "freeze": {
            "active": incident.freeze.active,
            "commits": [c[:12] for c in incident.freeze.commits],
        },
        "cost": _cost(sessions),
    }


def commits(
    incident: Incident, entries: Sequence[TimelineEntry], sessions: Sequence[SessionEvidence]
) -> list[dict[str, Any]]:
    """Every commit the evidence names, with where each was seen (trace, plan, revert, freeze)."""
    seen: dict[str, list[str]] = {}

    def note(sha: Any, where: str) -> None:
        if not isinstance(sha, str) or not sha.strip():
            return
        key = sha.strip()[:12]
        for known in seen:  # a short hash and its full form are the same commit
            if known.startswith(key) or key.startswith(known):
                key = known if len(known) >= len(key) else key
                seen[key] = seen.pop(known)
                break
        places = seen.setdefault(key, [])
        if where not in places:
            places.append(where)

    for ev in sessions:
        for sha in ev.assessment.commit_refs:
            note(sha, "printed in the trace")
    for e in entries:
        d = e.details
        if e.action == "remediate.planned":
            for r in d.get("reverts") or []:
                if isinstance(r, dict):
                    note(r.get("sha"), f"planned for revert (timeline #{e.seq})")
        elif e.action == "remediate.applied":
            for r in d.get("reverted") or []:
                if isinstance(r, dict):
                    revert = str(r.get("revert") or "")[:10]
                    note(r.get("original"), f"reverted by {revert} (timeline #{e.seq})")
    for sha in incident.freeze.commits:
        note(sha, "deploy freeze")
    return [{"sha": text(k, 40), "seen": [text(w, 120) for w in v]} for k, v in seen.items()]


def _cost(sessions: Sequence[SessionEvidence]) -> dict[str, Any]:
    known = [e.assessment.usage.cost_usd for e in sessions]
    total = sum(c for c in known if c is not None) if any(c is not None for c in known) else None
    peak = max((e.assessment.usage.peak_context_tokens for e in sessions), default=0)
    return {"usd": total, "text": money(total), "peak_context_tokens": peak}


def session_row(ev: SessionEvidence, display: Display) -> dict[str, Any]:
    """The header facts of one session."""
    a = ev.assessment
    s = a.session
    return {
        "id": s.id,
        "short": short_id(s.id),
        "agent": s.agent,
        "agent_version": s.agent_version,
        "format": s.format,
        "models": list(s.models),
        "trace": display.path(ev.trace),
        "trace_name": cite_name(ev.trace, display),
        "cwd": text(s.cwd, 300) if s.cwd else None,
        "git_branch": text(s.git_branch, 200) if s.git_branch else None,
        "git_commit": s.git_commit,
        "repository_url": text(s.repository_url, 300) if s.repository_url else None,
        "started_at": when(s.started_at),
        "ended_at": when(s.ended_at),
        "started_iso": iso(s.started_at),
        "duration": None if s.duration_seconds is None else int(s.duration_seconds),
        "counts": {
            "events": a.counts.events,
            "tool_calls": a.counts.tool_calls,
            "tool_errors": a.counts.tool_errors,
            "commands": a.counts.commands,
            "files": a.counts.files,
            "model_calls": a.counts.model_calls,
            "compactions": a.counts.compactions,
            "skipped_records": a.counts.skipped_records,
        },
        "cost": money(a.usage.cost_usd),
        "cost_note": text(a.usage.cost_note, 300) if a.usage.cost_note else None,
        "peak_context_tokens": a.usage.peak_context_tokens,
        "suggested_severity": a.severity.suggested,
        "severity_reasons": [text(display.within(r), 400) for r in a.severity.reasons[:8]],
    }
