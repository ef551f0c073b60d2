"""The contain steps as recorded on an incident's timeline, shared by contain, respond and resume.

Every step-related entry carries `step` (the runbook step id, or None when the runbook has no
such step) and `result` (done | failed | declined | not_run | skipped), so `agentir respond`
can tell which steps are done. Paused processes are recorded by identity (pid and start
time), so a later `agentir resume` keeps the pid-reuse guard.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from agentir.actions.processes import (
    ContainmentMode,
    ContainmentPlan,
    ContainmentResult,
    MatchedProcess,
    Outcome,
    ProcessIdentity,
    ResumeResult,
    SessionSelector,
    apply_containment,
    find_session_processes,
    plan_containment,
    resume,
)
from agentir.actions.steps import CommandOutcome, PlannedCommand, run_command, step_deadline
from agentir.errors import IncidentError
from agentir.incidents.timeline import TimelineEntry

REVOKE_ACTIONS = {
    "done": "credentials.revoked",
    "failed": "credentials.revoke_failed",
    "declined": "credentials.revoke_declined",
    "not_run": "credentials.revoke_not_run",
}


@dataclass(frozen=True)
class PausedProcess:
    """A paused process as recorded: its identity and the name to show."""

    pid: int
    create_time: float
    name: str = ""


def process_details(proc: MatchedProcess) -> dict[str, Any]:
    """A matched process as the timeline records it (its command line is already redacted)."""
    return {
        "pid": proc.pid,
        "create_time": proc.create_time,
        "ppid": proc.ppid,
        "name": proc.name,
        "cmdline": proc.cmdline,
        "status": proc.status,
        "reasons": list(proc.reasons),
    }


def deadline_now(store: Any, ref: str, step: Any | None) -> dict[str, Any] | None:
    """The step's deadline judged now: met or missed, and the seconds left."""
    if step is None or getattr(step, "deadline", None) is None:
        return None
    return step_deadline(store.get(ref), step.deadline, store.now())


def record_plan(
    store: Any, ref: str, plan: ContainmentPlan, *, step: Any | None, actor: str | None
) -> None:
    """`contain.planned`: the processes to signal (with reasons) and those left alone."""
    selector = plan.selector
    store.append(
        ref,
        "contain.planned",
        {
            "step": step.id if step else None,
            "mode": plan.mode,
            "grace": plan.grace,
            "selector": {
                "session_id": selector.session_id,
                "trace": str(selector.trace_path) if selector.trace_path else None,
                "pids": list(selector.pids),
                "cwd": str(selector.cwd) if selector.cwd else None,
            },
            "targets": [process_details(p) for p in plan.targets],
            "not_touched": [
                {"pid": x.pid, "name": x.name, "reason": x.reason} for x in plan.not_touched
            ],
            "steps": list(plan.steps),
        },
        actor,
    )


def record_containment(
    store: Any,
    ref: str,
    plan: ContainmentPlan,
    result: ContainmentResult,
    *,
    step: Any | None,
    actor: str | None,
) -> None:
    """`contain.applied` (per-process outcomes, paused identities) and `contain.verified`."""
    paused = [o for o in result.outcomes if o.outcome is Outcome.PAUSED]
    store.append(
        ref,
        "contain.applied",
        {
            "step": step.id if step else None,
            "mode": plan.mode,
            "outcomes": [
                {
                    "pid": o.pid,
                    "create_time": o.create_time,
                    "name": o.name,
                    "cmdline": o.cmdline,
                    "outcome": o.outcome.value,
                    "detail": o.detail,
                    "discovered": o.discovered,
                }
                for o in result.outcomes
            ],
            "paused": [
                {"pid": o.pid, "create_time": o.create_time, "name": o.name} for o in paused
            ],
            "started_at": result.started_at,
            "duration_s": result.duration_s,
        },
        actor,
    )
    verification = result.verification
    store.append(
        ref,
        "contain.verified",
        {
            "step": step.id if step else None,
            "result": "done" if verification.ok else "failed",
            "ok": verification.ok,
            "summary": verification.summary,
            "rounds": verification.rounds,
            "remaining": [process_details(p) for p in verification.remaining],
            "checked_at": verification.checked_at,
            "deadline": deadline_now(store, ref, step),
        },
        actor,
    )


def mark_contained(
    store: Any, ref: str, result: ContainmentResult, actor: str | None
) -> str | None:
    """Move the incident to `contained` when that is news; the contain deadline's state.

    An incident already contained stays as it is; one already remediated goes back to
    contained only when processes of the session were found running again (re-containment),
    so re-running contain on a finished incident does not undo its remediation."""
    incident = store.get(ref)
    acted = any(o.outcome in (Outcome.PAUSED, Outcome.KILLED) for o in result.outcomes)
    if incident.status == "open" or (incident.status in ("remediated", "reviewed") and acted):
        incident = store.set_status(
            ref, "contained", actor=actor, details={"summary": result.verification.summary}
        )
    deadline = incident.deadlines.get("contain")
    if deadline is None:
        return None
    return str(deadline.state(store.now()))


def run_revocations(
    store: Any,
    ref: str,
    runbook: Any,
    commands: Sequence[PlannedCommand],
    confirm: Callable[[PlannedCommand], bool],
    actor: str | None,
) -> tuple[list[CommandOutcome], list[str]]:
    """Run the revocation commands in order, each recorded; (outcomes, steps escalated)."""
    outcomes: list[CommandOutcome] = []
    escalations: list[str] = []
    stopped_by: str | None = None
    for command in commands:
        if stopped_by is not None:
            outcome = CommandOutcome(
                command.step_id, command.argv, "not_run", on_failure=command.on_failure,
                error=f"step {stopped_by} failed and its on_failure is stop",
            )  # fmt: skip
        elif command.argv is not None and command.needs_confirmation and not confirm(command):
            outcome = CommandOutcome(
                command.step_id, command.argv, "declined", on_failure=command.on_failure,
                error="the responder declined it",
            )  # fmt: skip
        else:
            outcome = run_command(command)
        outcomes.append(outcome)
        step = runbook.step(command.step_id)
        details = {**outcome.record(), "title": command.title}
        details["deadline"] = deadline_now(store, ref, step)
        store.append(ref, REVOKE_ACTIONS[outcome.status], details, actor)
        if outcome.status == "failed":
            if command.on_failure == "stop":
                stopped_by = command.step_id
            elif command.on_failure == "escalate":
                escalations.append(command.step_id)
                record_escalation(store, ref, runbook, command.step_id, outcome.error, actor)
    return outcomes, escalations


def record_escalation(
    store: Any, ref: str, runbook: Any, step_id: str, error: str | None, actor: str | None
) -> None:
    """`escalation.needed`: a step whose on_failure is escalate failed; whom to call."""
    contacts = [{"name": c.name, "reach": c.reach} for c in runbook.contact("escalation")]
    store.append(
        ref, "escalation.needed", {"step": step_id, "error": error, "contacts": contacts}, actor
    )


def contain_processes(
    store: Any,
    ref: str,
    selector: SessionSelector,
    mode: ContainmentMode,
    grace: float,
    *,
    step: Any | None,
    actor: str | None,
) -> ContainmentResult:
    """Scan, plan, apply and record process containment for one selector (respond's builtin)."""
    plan = plan_containment(find_session_processes(selector), mode, grace)
    record_plan(store, ref, plan, step=step, actor=actor)
    result = apply_containment(plan)
    record_containment(store, ref, plan, result, step=step, actor=actor)
    if result.ok:
        mark_contained(store, ref, result, actor)
    return result


def paused_identities(entries: Iterable[TimelineEntry]) -> list[tuple[ProcessIdentity, str]]:
    """Every process a `contain.applied` entry recorded as paused: (identity, name), deduplicated."""
    seen: dict[tuple[int, float], str] = {}
    for entry in entries:
        if entry.action != "contain.applied" or entry.details.get("mode") != "pause":
            continue
        for item in entry.details.get("paused") or ():
            try:
                key = (int(item["pid"]), float(item["create_time"]))
            except (KeyError, TypeError, ValueError):
                continue  # a damaged entry: never guess an identity
            seen.setdefault(key, str(item.get("name") or ""))
    return [(ProcessIdentity(pid, created), name) for (pid, created), name in seen.items()]


def resume_incident(store: Any, ref: str, *, actor: str | None = None) -> ResumeResult:
    """SIGCONT what the incident paused (pid-reuse guarded); records `contain.resumed`."""
    found = paused_identities(store.timeline(ref))
    if not found:
        raise IncidentError(
            f"{ref} has no paused processes on its timeline", hint="`agentir contain` pauses them"
        )
    result = resume([PausedProcess(i.pid, i.create_time, name) for i, name in found])
    store.append(
        ref,
        "contain.resumed",
        {
            "ok": result.ok,
            "outcomes": [
                {
                    "pid": o.pid,
                    "create_time": o.create_time,
                    "outcome": o.outcome.value,
                    "detail": o.detail,
                }
                for o in result.outcomes
            ],
            "still_stopped": list(result.still_stopped),
        },
        actor,
    )
    return result
