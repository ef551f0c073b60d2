"""After a drill: the gaps it found, its score, action items, and the after-action report.

Gaps are what a drill is for: steps nobody owns, owners with no contact (or a placeholder one),
trace access that failed, deadlines missed, expected actions not taken (or taken with no runbook
step for them), steps that did not work when practised, and what the team itself called a gap.
Each gap becomes an action item with an owner and a due date. The report is rendered from the
`drill_report.md.j2` template by `agentir.render.report`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from agentir.drill_engine import DrillResult

GAP_KINDS = {
    "reported": "reported by the team",
    "no_owner": "step with no owner",
    "missing_contact": "missing contact",
    "trace_access": "trace access failed",
    "deadline_missed": "deadline missed",
    "expected_action": "expected action not taken",
    "no_runbook_step": "expected action with no runbook step",
    "step_failed": "step did not work when practised",
    "agent_running": "agent never stopped",
    "not_reached": "not reached",
}
ACTION_DUE_DAYS = 30
_PLACEHOLDER = re.compile(r"example\.(?:com|org|net)|\bTODO\b|\bTBD\b|changeme|<[^>]*>", re.I)


@dataclass(frozen=True)
class Gap:
    """One gap the drill found."""

    kind: str
    text: str
    step: str | None = None
    fix: str = ""

    @property
    def label(self) -> str:
        """The kind in words."""
        return GAP_KINDS.get(self.kind, self.kind)


def find_gaps(result: DrillResult) -> list[Gap]:
    """Every gap of a drill run, in the order of the report's sections."""
    runbook, scenario = result.runbook, result.scenario
    gaps: list[Gap] = []
    for r in result.steps:
        if r.result == "gap":
            gaps.append(
                Gap("reported", f"{r.id}: {r.note}", r.id, f"resolve in step {r.id}: {r.note}")
            )
    for step in runbook.steps():
        if step.owner is None:
            gaps.append(Gap("no_owner", f"step {step.id} ({step.title}) has no owner", step.id,
                            f"give step {step.id} an owner (owner: on_call | agent_infra)"))  # fmt: skip
    roles = dict.fromkeys([*scenario.contacts, *(s.owner for s in runbook.steps() if s.owner)])
    for role in roles:
        found = runbook.contact(role)
        if not found:
            gaps.append(Gap("missing_contact", f"no {role} contact in the {runbook.severity} runbook",
                            None, f"add contacts.{role} to {runbook.path.name}"))  # fmt: skip
        for c in found:
            if _PLACEHOLDER.search(c.name) or _PLACEHOLDER.search(c.reach):
                gaps.append(Gap("missing_contact", f"{role} contact looks like a placeholder: {c.name} ({c.reach})",
                                None, f"put the real {role} contact in {runbook.path.name}"))  # fmt: skip
    if not runbook.traces_location.strip():
        gaps.append(Gap("trace_access", "the runbook does not say where the agent's traces are", None,
                        f"fill traces.location in {runbook.path.name}"))  # fmt: skip
    for r in result.steps:
        if r.practice is not None and r.practice.trace_failure:
            why = r.practice.lines[0] if r.practice.lines else "the trace could not be read"
            gaps.append(Gap("trace_access", f"{r.id}: {why}", r.id,
                            "make sure on-call can fetch agent traces within minutes (where, who has access)"))  # fmt: skip
    for r in result.steps:
        if r.deadline_state == "missed":
            gaps.append(Gap("deadline_missed", f"{r.id} done at {fmt_minutes(r.at)}, deadline {fmt_minutes(r.deadline)}",
                            r.id, f"find what slowed {r.id} down and fix it (access, tooling, practice)"))  # fmt: skip
    for a in result.actions:
        if a.in_runbook and not a.taken:
            gaps.append(Gap("expected_action", f"{a.id} was not done ({_why(a.note)})", a.id,
                            f"decide whether {a.id} must happen in this kind of incident; train it"))  # fmt: skip
        elif not a.in_runbook:
            state = "done, but" if a.taken else f"not done ({_why(a.note)}), and"
            gaps.append(Gap("no_runbook_step", f"{a.id} ({a.text or 'expected'}) was {state} the "
                            f"{runbook.severity} runbook has no step for it", a.id,
                            f"add a step for {a.id} to {runbook.path.name}"))  # fmt: skip
    for r in result.steps:
        if r.practice is not None and r.practice.failed and not r.practice.trace_failure:
            why = r.practice.lines[-1] if r.practice.lines else "failed"
            gaps.append(
                Gap("step_failed", f"{r.id}: {why}", r.id, f"make step {r.id} work as written")
            )
    ks = result.kill_switch
    if ks is not None and ks.get("stopped_at") is None:
        gaps.append(Gap("agent_running", "the stand-in agent was never paused or killed during the drill",
                        None, "practise `agentir contain SESSION` until it is muscle memory"))  # fmt: skip
    reached = [r for r in result.steps if r.result == "not reached"]
    if reached:
        gaps.append(Gap("not_reached", f"{len(reached)} step(s) not reached: the drill ended early", None,
                        "finish the drill (run it again)"))  # fmt: skip
    return gaps


def _why(note: str) -> str:
    return note or "no reason given"


def fmt_minutes(value: float | None) -> str:
    """`T+12m` / `T+1h05m` / `T+2d03h`."""
    if value is None:
        return "-"
    total = round(value)
    if total < 60:
        return f"T+{total}m"
    if total < 48 * 60:
        return f"T+{total // 60}h{total % 60:02d}m"
    return f"T+{total // 1440}d{(total % 1440) // 60:02d}h"


def score(result: DrillResult) -> dict[str, int]:
    """Steps done on time plus expected actions taken, out of all of them."""
    on_time = sum(1 for r in result.steps if r.result == "done" and r.deadline_state != "missed")
    taken = sum(1 for a in result.actions if a.taken and not a.in_runbook)
    named = sum(1 for a in result.actions if not a.in_runbook)
    total = len(result.steps) + named
    points = on_time + taken
    return {
        "points": points,
        "total": total,
        "percent": round(100 * points / total) if total else 0,
    }


def action_items(result: DrillResult, gaps: list[Gap]) -> list[dict[str, str]]:
    """The team's items, then one per distinct gap fix, each with an owner and a due date."""
    finished = result.finished_at or result.started_at
    due = (finished + timedelta(days=ACTION_DUE_DAYS)).date().isoformat()
    infra = result.runbook.contact("agent_infra")
    owner = infra[0].name if infra else "the runbook's maintainer"
    items = [{"what": i.what, "owner": i.owner or "unassigned", "due": i.due or due, "source": "hot wash"}
             for i in result.action_items]  # fmt: skip
    seen: set[str] = set()
    for gap in gaps:
        if gap.fix and gap.fix not in seen:
            seen.add(gap.fix)
            items.append({"what": gap.fix, "owner": owner, "due": due, "source": gap.label})
    return items


def report_context(
    result: DrillResult, run_id: str, report_path: Path, kept: bool
) -> dict[str, Any]:
    """Everything the report template shows (plain data, also written as drill.json)."""
    gaps = find_gaps(result)
    s, ws, scenario = score(result), result.workspace, result.scenario
    counts: dict[str, int] = {}
    for gap in gaps:
        counts[gap.label] = counts.get(gap.label, 0) + 1
    return {
        "drill": {
            "run_id": run_id,
            "scenario": scenario.id,
            "title": scenario.title,
            "severity": scenario.severity,
            "kill_switch": scenario.kill_switch,
            "scenario_file": str(scenario.path),
            "runbook": str(result.runbook.path),
            "runbook_title": result.runbook.title,
            "mode": result.mode,
            "facilitator": result.facilitator,
            "participants": list(result.participants),
            "speed": result.speed,
            "started_at": _iso(result.started_at),
            "finished_at": _iso(result.finished_at),
            "drill_minutes": result.minutes,
            "drill_time": fmt_minutes(result.minutes),
            "ended_early": result.ended_early,
            "score": s,
            "report": str(report_path),
        },
        "briefing": scenario.briefing,
        "steps": [
            {
                "phase": r.phase,
                "id": r.id,
                "title": r.title,
                "kind": r.kind,
                "owner": r.owner or "",
                "contact": r.contact or "",
                "result": r.result,
                "note": r.note,
                "deadline": fmt_minutes(r.deadline) if r.deadline is not None else "",
                "at": fmt_minutes(r.at),
                "took": r.took,
                "deadline_state": r.deadline_state,
                "practice": r.practice.status if r.practice else "",
                "practice_lines": list(r.practice.lines[:8]) if r.practice else [],
            }
            for r in result.steps
        ],
        "injects": [
            {
                "at": fmt_minutes(i.inject.at_minute),
                "text": i.inject.text,
                "shown": fmt_minutes(i.shown_at) if i.shown_at is not None else "",
                "before_step": i.before_step or "",
            }
            for i in result.injects
        ],
        "expected": [
            {
                "phase": a.phase,
                "id": a.id,
                "text": a.text,
                "in_runbook": a.in_runbook,
                "taken": a.taken,
                "note": a.note,
            }
            for a in result.actions
        ],
        "gaps": [
            {"kind": g.kind, "label": g.label, "step": g.step or "", "text": g.text} for g in gaps
        ],
        "gap_counts": counts,
        "hot_wash": [{"question": q, "notes": n} for q, n in result.hot_wash],
        "action_items": action_items(result, gaps),
        "kill_switch": _kill_switch(result),
        "workspace": {
            "root": str(ws.root),
            "repo": str(ws.repo),
            "trace": str(ws.trace),
            "session": ws.session_id,
            "incident": result.incident,
            "kept": kept,
            "trace_arrived": fmt_minutes(result.trace_arrived_at)
            if result.trace_arrived_at is not None
            else "",
            "processes_left": result.processes_left,
        },
    }


def _kill_switch(result: DrillResult) -> dict[str, Any] | None:
    ks = result.kill_switch
    if ks is None:
        return None
    stopped = ks.get("stopped_at")
    return {
        "pids": ks.get("pids", []),
        "stopped": stopped is not None,
        "at": fmt_minutes(stopped) if stopped is not None else "",
        "how": ks.get("how") or "",
        "step": ks.get("step") or "",
    }


def _iso(value: Any) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z") if value is not None else ""


def write_report(
    context: dict[str, Any], out_dir: Path, template: Path | None = None
) -> tuple[Path, Path]:
    """Render the Markdown report and write it with the context as JSON: (report, json)."""
    from agentir.incidents.locking import atomic_write
    from agentir.render.report import render_template
    from agentir.review.publish import local_templates

    local = local_templates()
    search = [local] if local else []
    text = render_template("drill_report", context, fmt="md", template_path=template, search=search)
    report = out_dir / "drill-report.md"
    data = out_dir / "drill.json"
    atomic_write(report, text.encode("utf-8"))
    atomic_write(data, (json.dumps(context, indent=2, default=str) + "\n").encode("utf-8"))
    return report, data
