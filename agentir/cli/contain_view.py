"""Plain-text views of a containment plan and its outcome (untrusted text never as markup)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from agentir.actions.containment import ContainOutcome, ContainPlan
from agentir.actions.credentials import CredentialReport
from agentir.cli.incident_view import safe


def print_lines(console: Console, lines: list[str]) -> None:
    """Print each line as Text (control characters removed, no markup)."""
    for line in lines:
        console.print(safe(line), soft_wrap=True)


def plan_lines(plan: ContainPlan) -> list[str]:
    """The whole plan: incident, processes with reasons, credentials, commands, freeze."""
    lines = ["Containment plan"]
    if plan.join:
        lines.append(f"  incident: join {plan.join} ({plan.severity}) {plan.title}")
    else:
        lines.append(f"  incident: open a new {plan.severity} incident: {plan.title}")
    lines.append(f"  severity {plan.severity} ({plan.severity_source})")
    lines += [f"    - {reason}" for reason in plan.severity_reasons[:8]]
    lines.append(f"  runbook: {plan.runbook.path}")
    s = plan.session
    lines.append(
        f"  session: {s.id or '(unknown)'} agent={s.agent or '?'} cwd={s.cwd or '?'} "
        f"trace={s.trace or '(none)'}"
    )
    lines.append("")
    step = f" [runbook step {plan.process_step}]" if plan.process_step else ""
    lines.append(f"1. Processes{step}")
    lines += [f"  {line}" for line in str(plan.processes).splitlines()]
    lines.append("")
    lines.append("2. Credentials the trace shows the agent used (redacted)")
    lines += [f"  {line}" for line in credential_lines(plan.credentials)]
    lines.append("")
    lines.append("3. Revocation commands (the runbook's contain-phase command steps)")
    if not plan.revocations:
        lines.append("  (the runbook has none)")
    for command in plan.revocations:
        flag = " [asks for confirmation]" if command.needs_confirmation else ""
        lines.append(
            f"  {command.step_id}: {command.title}{flag} (on failure: {command.on_failure})"
        )
        lines.append(f"    $ {command.shown}")
    if plan.manual_steps:
        lines.append("  by hand (record them with `agentir respond`):")
        lines += [f"    {sid}: {title}" for sid, title in plan.manual_steps]
    lines.append("")
    lines.append(f"4. Deploy freeze (repository: {plan.freeze.repo or 'not known'})")
    if not plan.freeze.commits:
        lines.append("  no commit known: nothing to freeze (pass --commit SHA)")
    for commit in plan.freeze.commits:
        lines.append(f"  {commit.sha} (from {commit.origin})")
    if plan.notes:
        lines.append("")
        lines.append("Notes")
        lines += [f"  - {note}" for note in plan.notes]
    return lines


def credential_lines(report: CredentialReport | None) -> list[str]:
    """One line per credential with its first evidence."""
    if report is None:
        return ["no trace known: nothing to list"]
    if not report.credentials:
        return ["none seen in the trace"]
    lines = []
    for cred in report.credentials:
        where = ", ".join(f"seq {e.seq} ({e.source})" for e in cred.evidence[:2])
        times = f" x{cred.count}" if cred.count > 1 else ""
        lines.append(f"{cred.kind:<9} {cred.name}{times}: {cred.detail} [{where}]")
    if report.omitted:
        lines.append(f"... and {report.omitted} more not listed")
    return lines


def outcome_lines(outcome: ContainOutcome) -> list[str]:
    """What was done, the proof, and what is left for the responder."""
    verb = "opened" if outcome.opened else "joined"
    lines = [f"Incident {outcome.incident_id} ({verb}), status {outcome.status}"]
    lines.append("Processes")
    lines += [f"  {line}" for line in str(outcome.containment).splitlines()]
    proof = "PROVEN" if outcome.contained else "NOT PROVEN"
    lines.append(f"  proof: {proof}: {outcome.containment.verification.summary}")
    if outcome.revocations:
        lines.append("Revocation commands")
    for rev in outcome.revocations:
        code = f" (exit {rev.exit_code})" if rev.exit_code is not None else ""
        why = f": {rev.error}" if rev.error and rev.status != "done" else ""
        lines.append(f"  {rev.step_id}: {rev.status}{code}{why}")
        lines += [f"    | {line}" for line in rev.output.splitlines()[-5:]]
    if outcome.escalations:
        lines.append(f"Escalate now: {', '.join(outcome.escalations)} failed (see the runbook)")
    if outcome.freeze_commits:
        shown = ", ".join(c[:12] for c in outcome.freeze_commits)
        lines.append(f"Deploy freeze on {shown}: `agentir gate` blocks builds containing them")
    if outcome.contain_deadline:
        lines.append(f"Contain deadline: {outcome.contain_deadline}")
    return lines


def outcome_data(outcome: ContainOutcome) -> dict[str, Any]:
    """The outcome as plain data (the `result` of --json)."""
    return {
        "incident": outcome.incident_id,
        "opened": outcome.opened,
        "status": outcome.status,
        "contained": outcome.contained,
        "containment": outcome.containment,
        "revocations": [r.record() for r in outcome.revocations],
        "escalations": list(outcome.escalations),
        "freeze_commits": list(outcome.freeze_commits),
        "contain_deadline": outcome.contain_deadline,
    }


def remaining_text(outcome: ContainOutcome) -> Text:
    """One line naming what of the session still runs."""
    names = ", ".join(f"{p.pid} {p.name}" for p in outcome.containment.verification.remaining[:10])
    return safe(f"still running: {names}")
