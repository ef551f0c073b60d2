"""`agentir contain`: plan, then apply and record, the first minutes of an incident.

Planning changes nothing (not even the incident store): it decides the incident (join the
open one for the session, or a new one and its severity), scans the session's processes,
lists the credentials the trace shows, renders the runbook's revocation commands and picks
the commits to freeze. Applying opens or joins the incident and records every step on its
timeline with the step's deadline met or missed: processes paused or killed and the proof
that nothing of the session still runs, credentials listed, revocation commands run (each
confirmed unless the caller says yes), the deploy freeze set, and the status `contained`
once the proof holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentir.actions.contain_inputs import (
    ContainRequest,
    SessionFacts,
    decide_severity,
    default_title,
    read_trace,
    session_selector,
)
from agentir.actions.contain_steps import (
    mark_contained,
    record_containment,
    record_plan,
    run_revocations,
)
from agentir.actions.credentials import CredentialReport
from agentir.actions.freeze import FreezePlan, apply_freeze, finder_commits, plan_freeze
from agentir.actions.processes import (
    ContainmentPlan,
    ContainmentResult,
    apply_containment,
    find_session_processes,
    plan_containment,
)
from agentir.actions.steps import (
    NEW_INCIDENT,
    CommandOutcome,
    PlannedCommand,
    clean_text,
    plan_command,
    template_values,
)
from agentir.incidents.lifecycle import current_actor
from agentir.incidents.records import Incident

__all__ = [
    "ContainOutcome",
    "ContainPlan",
    "ContainRequest",
    "SessionFacts",
    "apply_contain",
    "plan_contain",
]


@dataclass(frozen=True)
class ContainPlan:
    """Everything `contain` will do, decided before anything is done."""

    request: ContainRequest
    join: str | None  # the open incident to join; None: a new one is opened
    title: str
    severity: str
    severity_source: str  # given | incident | suggested | default
    severity_reasons: tuple[str, ...]
    session: SessionFacts
    runbook: Any = field(repr=False)
    processes: ContainmentPlan = field(repr=False)
    process_step: str | None
    credentials: CredentialReport | None
    credentials_step: str | None
    revocations: tuple[PlannedCommand, ...]
    manual_steps: tuple[tuple[str, str], ...]
    freeze: FreezePlan
    freeze_step: str | None
    notes: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        """The plan as plain data (what --dry-run --json prints)."""
        p = self.processes
        return {
            "incident": {
                "join": self.join,
                "title": self.title,
                "severity": self.severity,
                "severity_source": self.severity_source,
                "severity_reasons": list(self.severity_reasons),
                "runbook": str(self.runbook.path),
            },
            "session": self.session,
            "processes": {
                "mode": p.mode,
                "grace": p.grace,
                "step": self.process_step,
                "targets": p.targets,
                "not_touched": p.not_touched,
                "steps": p.steps,
            },
            "credentials": self.credentials.credentials if self.credentials else [],
            "revocations": [
                {
                    "step": c.step_id,
                    "title": c.title,
                    "argv": [clean_text(a) for a in c.argv] if c.argv is not None else None,
                    "command": c.shown,
                    "error": c.error,
                    "confirm": c.needs_confirmation,
                    "on_failure": c.on_failure,
                }
                for c in self.revocations
            ],
            "manual_steps": [{"step": i, "title": t} for i, t in self.manual_steps],
            "freeze": {"repo": self.freeze.repo, "commits": self.freeze.commits},
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class ContainOutcome:
    """What applying the plan came to."""

    incident_id: str
    opened: bool
    containment: ContainmentResult
    revocations: tuple[CommandOutcome, ...]
    escalations: tuple[str, ...]
    freeze_commits: tuple[str, ...]
    status: str
    contain_deadline: str | None  # met | missed | None (no contain deadline)

    @property
    def contained(self) -> bool:
        """Whether the proof holds: nothing of the session still runs (or all is stopped)."""
        return self.containment.ok

    @property
    def exit_code(self) -> int:
        """0 when contained and no revocation that must not fail failed; else 1."""
        failed = any(o.status == "failed" and o.on_failure != "continue" for o in self.revocations)
        return 0 if self.contained and not failed else 1


def plan_contain(request: ContainRequest, store: Any) -> ContainPlan:
    """Decide everything `contain` will do; reads the trace and the process table only."""
    from agentir.runbooks import load_runbook

    notes: list[str] = []
    assessment, credentials, trace = read_trace(request, notes)
    session_id = request.session_id or (assessment.session.id if assessment else None)
    session = SessionFacts(
        id=session_id,
        agent=assessment.session.agent if assessment else None,
        cwd=assessment.session.cwd if assessment else None,
        trace=str(trace) if trace else None,
    )
    existing: Incident | None = store.find_open_for_session(session_id) if session_id else None
    severity, source, reasons = decide_severity(request, existing, assessment)
    runbook = load_runbook(severity, request.runbooks_dir)
    contain_steps = runbook.steps("contain")

    selector = session_selector(request, session_id, trace, notes)
    processes = plan_containment(find_session_processes(selector), request.mode, request.grace)
    if not processes.targets:
        notes.append(
            "no running process of the session was found: it may have exited already, or the "
            "selector misses it (name it with --pid, or --cwd for an agent in its folder)"
        )

    repo = request.repo or (
        Path(session.cwd) if session.cwd and Path(session.cwd).is_dir() else None
    )
    found, warning = finder_commits(repo, assessment)
    if warning:
        notes.append(warning)
    freeze = plan_freeze(
        given=request.commits,
        trace_refs=assessment.commit_refs if assessment else (),
        finder=found,
        repo=repo,
    )
    notes.extend(freeze.notes)
    if not freeze.commits:
        notes.append("no commit of the session is known: pass --commit SHA to freeze one")

    title = request.title or default_title(session, request)
    incident = existing or Incident(title=title, severity=severity)
    values = _values(incident, store, session, freeze, store.now())
    revocations = tuple(
        plan_command(runbook, s, values) for s in contain_steps if s.kind == "command"
    )

    def builtin(name: str) -> str | None:
        return next((s.id for s in contain_steps if s.builtin == name), None)

    return ContainPlan(
        request=request,
        join=existing.id if existing else None,
        title=existing.title if existing else title,
        severity=severity,
        severity_source=source,
        severity_reasons=reasons,
        session=session,
        runbook=runbook,
        processes=processes,
        process_step=builtin(f"contain.{request.mode}"),
        credentials=credentials,
        credentials_step=builtin("credentials.list"),
        revocations=revocations,
        manual_steps=tuple((s.id, s.title) for s in contain_steps if s.kind == "manual"),
        freeze=freeze,
        freeze_step=builtin("freeze"),
        notes=tuple(notes),
    )


def apply_contain(
    plan: ContainPlan,
    store: Any,
    *,
    confirm: Callable[[PlannedCommand], bool],
    actor: str | None = None,
) -> ContainOutcome:
    """Open or join the incident, then contain, list, revoke, freeze, each step recorded."""
    who = actor or current_actor()
    ref, opened = _incident(plan, store, who)

    runbook = plan.runbook
    process_step = runbook.step(plan.process_step) if plan.process_step else None
    record_plan(store, ref, plan.processes, step=process_step, actor=who)
    result = apply_containment(plan.processes)
    record_containment(store, ref, plan.processes, result, step=process_step, actor=who)
    pause_step = next((s for s in runbook.steps("contain") if s.builtin == "contain.pause"), None)
    if plan.request.mode == "kill" and result.ok and pause_step is not None:
        # The runbook's pause step is moot once the session is gone: say so for `respond`.
        reason = "the session was killed instead (agentir contain --kill)"
        details = {"step": pause_step.id, "result": "skipped", "reason": reason}
        store.append(ref, "contain.step.skipped", details, who)

    if plan.credentials is not None:
        _record_credentials(store, ref, plan.credentials, plan.credentials_step, who)

    incident = store.get(ref)
    values = _values(incident, store, plan.session, plan.freeze, store.now(), who)
    commands = [plan_command(runbook, runbook.step(c.step_id), values) for c in plan.revocations]
    outcomes, escalations = run_revocations(store, ref, runbook, commands, confirm, who)

    if plan.freeze.commits:
        apply_freeze(store, ref, plan.freeze, step=plan.freeze_step, actor=who)
    else:
        store.append(
            ref,
            "freeze.none",
            {
                "step": plan.freeze_step,
                "result": "failed",
                "reason": "no commit of the session is known",
            },
            who,
        )

    deadline = mark_contained(store, ref, result, who) if result.ok else None
    if not result.ok:
        store.append(
            ref,
            "contain.incomplete",
            {"remaining": [_named(p) for p in result.verification.remaining]},
            who,
        )
    if opened:  # the on-call engineer hears of a new incident (when alerts are configured)
        from agentir.alerts import contain_alert

        contain_alert(store, ref, who, result.verification.summary)
    final = store.get(ref)
    return ContainOutcome(
        incident_id=ref,
        opened=opened,
        containment=result,
        revocations=tuple(outcomes),
        escalations=tuple(escalations),
        freeze_commits=tuple(final.freeze.commits),
        status=final.status,
        contain_deadline=deadline,
    )


def _incident(plan: ContainPlan, store: Any, actor: str) -> tuple[str, bool]:
    session, trace = plan.session.id, plan.session.trace
    if plan.join is not None:
        ref = plan.join
        incident = store.get(ref)
        new_sessions = [session] if session and session not in incident.sessions else []
        new_traces = [trace] if trace and str(Path(trace).resolve()) not in incident.traces else []
        if new_sessions or new_traces:
            store.attach(ref, sessions=new_sessions, traces=new_traces, actor=actor)
        if plan.severity != incident.severity:
            store.set_severity(
                ref, plan.severity, reason="given to agentir contain", actor=actor,
                runbooks_dir=plan.request.runbooks_dir,
            )  # fmt: skip
        opened = False
    else:
        reason = "; ".join(plan.severity_reasons) or plan.severity_source
        incident = store.open(
            plan.title,
            plan.severity,
            sessions=[session] if session else [],
            traces=[trace] if trace else [],
            actor=actor,
            reason=f"{plan.severity_source}: {reason}"[:2000],
            runbooks_dir=plan.request.runbooks_dir,
        )
        ref, opened = incident.id, True
    if trace:
        store.add_evidence(ref, Path(trace), actor=actor)
    return ref, opened


def _record_credentials(
    store: Any, ref: str, report: CredentialReport, step: str | None, actor: str
) -> None:
    store.append(
        ref,
        "credentials.listed",
        {
            "step": step,
            "result": "done",
            "session": report.session_id,
            "count": len(report.credentials),
            "credentials": [
                {
                    "kind": c.kind,
                    "name": c.name,
                    "detail": c.detail,
                    "count": c.count,
                    "evidence": [{"seq": e.seq, "source": e.source} for e in c.evidence],
                }
                for c in report.credentials
            ],
        },
        actor,
    )


def _values(
    incident: Incident,
    store: Any,
    session: SessionFacts,
    freeze: FreezePlan,
    now: Any,
    actor: str | None = None,
) -> dict[str, object]:
    return template_values(
        incident,
        incident_dir=store.root / (incident.id or NEW_INCIDENT),
        session=session.values(),
        trace=session.trace,
        repo=freeze.repo,
        commit=freeze.shas[0] if freeze.shas else None,
        actor=actor or current_actor(),
        now=now,
    )


def _named(proc: Any) -> dict[str, Any]:
    return {
        "pid": proc.pid,
        "create_time": proc.create_time,
        "name": proc.name,
        "cmdline": proc.cmdline,
    }
