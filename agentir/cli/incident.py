"""`agentir incident open|list|show|status|close|verify|export|severity|note`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from agentir.cli.common import JsonOpt, guarded, print_json, stderr_console, stdout_console
from agentir.cli.incident_view import (
    deadlines_table,
    evidence_table,
    incident_table,
    review_line,
    safe,
    severity_table,
    status_data,
    summary_table,
    timeline_table,
    verify_data,
    when,
)
from agentir.errors import UsageError
from agentir.incidents.records import STATUSES, format_duration
from agentir.incidents.store import IncidentStore

sub = typer.Typer(
    help="Open, list, inspect, verify, close and export incidents.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

IdArg = Annotated[str, typer.Argument(help="Incident id, a unique prefix of it, or 'latest'.")]
RunbooksOpt = Annotated[
    Path | None, typer.Option("--runbooks", help="Folder of runbooks overriding the defaults.")
]


def register(app: typer.Typer) -> None:
    """Add `agentir incident` to the root app."""
    from agentir.cli import incident_share, incident_tests
    from agentir.cli.incident_action import action_app

    sub.add_typer(action_app, name="action")
    incident_share.register(sub)
    incident_tests.register(sub)
    app.add_typer(sub, name="incident")


@sub.command("open")
@guarded("incident open")
def open_(
    title: Annotated[str, typer.Option("--title", "-t", help="What happened, in one line.")],
    severity: Annotated[
        str, typer.Option("--severity", "-s", help="SEV1, SEV2 or SEV3 (if unsure, the higher).")
    ] = "SEV1",
    session: Annotated[
        list[str] | None, typer.Option("--session", help="Agent session id (repeatable).")
    ] = None,
    trace: Annotated[
        list[Path] | None, typer.Option("--trace", help="Trace file or folder (repeatable).")
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why this severity.")] = "",
    runbooks: RunbooksOpt = None,
    no_evidence: Annotated[
        bool, typer.Option("--no-evidence", help="Do not copy the traces into evidence/.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Open an incident; prints its id. The traces are copied into its evidence."""
    traces = list(trace or [])
    for path in traces:
        if not path.exists():
            raise UsageError(f"no such trace: {path}", hint="check the --trace path")
    store = IncidentStore()
    incident = store.open(
        title, severity, sessions=session or [], traces=traces, reason=reason,
        runbooks_dir=runbooks,
    )  # fmt: skip
    records = [] if no_evidence else [store.add_evidence(incident.id, p)[0] for p in traces]
    incident = store.get(incident.id)
    if json_out:
        evidence = [r.to_dict() for r in records]
        print_json("incident open", {"incident": incident.to_dict(), "evidence": evidence})
        return
    stdout_console().print(Text(incident.id))
    err = stderr_console()
    err.print(Text(f"opened {incident.id} ({incident.severity}): ") + safe(incident.title))
    for name, deadline in incident.deadlines.items():
        err.print(Text(f"  {name} by {when(deadline.due)}"))


@sub.command("list")
@guarded("incident list")
def list_(
    status: Annotated[
        list[str] | None,
        typer.Option("--status", help=f"Only this status (repeatable): {', '.join(STATUSES)}."),
    ] = None,
    active: Annotated[bool, typer.Option("--active", help="Only incidents not closed.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """List incidents, oldest first."""
    for value in status or []:
        if value not in STATUSES:
            raise UsageError(f"unknown status {value!r}", hint=f"one of {', '.join(STATUSES)}")
    store = IncidentStore()
    incidents = store.list(status or None)
    if active:
        incidents = [i for i in incidents if i.active]
    now = store.now()
    if json_out:
        items = []
        for incident in incidents:
            extra = status_data(incident, now)
            states = {row["name"]: row["state"] for row in extra["deadlines"]}
            item = {**incident.to_dict(), "deadline_states": states}
            item.update(age_seconds=extra["age_seconds"], next_deadline=extra["next_deadline"])
            items.append(item)
        print_json("incident list", {"incidents": items})
        return
    if not incidents:
        stderr_console().print("no incidents", markup=False)
        return
    stdout_console().print(incident_table(incidents, now))


@sub.command("show")
@guarded("incident show")
def show(
    incident_id: IdArg = "latest",
    limit: Annotated[
        int, typer.Option("--limit", "-n", help="Timeline entries to show (0: all).")
    ] = 20,
    json_out: JsonOpt = False,
) -> None:
    """Show one incident: facts, severity history, deadlines, evidence and its timeline."""
    store = IncidentStore()
    incident = store.get(incident_id)
    entries = store.timeline(incident.id)
    records = store.evidence(incident.id)
    now = store.now()
    if json_out:
        data = {
            "incident": incident.to_dict(),
            "status": status_data(incident, now),
            "evidence": [r.to_dict() for r in records],
            "timeline": [e.to_dict() for e in entries],
        }
        print_json("incident show", data)
        return
    out = stdout_console()
    out.print(summary_table(incident, now))
    out.print(severity_table(incident))
    if incident.deadlines:
        out.print(deadlines_table(incident, now))
    if records:
        out.print(evidence_table(records))
    shown = entries if limit <= 0 else entries[-limit:]
    out.print(timeline_table(shown))
    if len(shown) < len(entries):
        stderr_console().print(
            f"({len(entries) - len(shown)} earlier entries hidden; --limit 0 shows all)",
            markup=False,
        )


@sub.command("status")
@guarded("incident status")
def status_(incident_id: IdArg = "latest", json_out: JsonOpt = False) -> None:
    """Where the incident stands: phase, time since open, deadlines met, missed or overdue."""
    store = IncidentStore()
    incident = store.get(incident_id)
    now = store.now()
    data = status_data(incident, now)
    if json_out:
        print_json("incident status", data)
        return
    out = stdout_console()
    head = Text(f"{incident.id} {incident.severity} {incident.status.upper()}  ")
    out.print(head + safe(incident.title))
    out.print(
        Text(f"open for {format_duration(incident.age(now))} (since {when(incident.opened_at)})")
    )
    if incident.deadlines:
        out.print(deadlines_table(incident, now))
    out.print(review_line(data["review"]))
    overdue = [r["name"] for r in data["deadlines"] if r["state"] == "overdue"]
    if overdue:
        stderr_console().print(Text(f"overdue: {', '.join(overdue)}", style="bold red"))


@sub.command("close")
@guarded("incident close")
def close(
    incident_id: IdArg,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (required unless it was reviewed).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Close an incident (after its review, or with a reason)."""
    store = IncidentStore()
    incident = store.set_status(incident_id, "closed", reason=reason)
    if json_out:
        print_json("incident close", {"incident": incident.to_dict()})
        return
    stderr_console().print(Text(f"closed {incident.id}"))


@sub.command("verify")
@guarded("incident verify")
def verify(incident_id: IdArg = "latest", json_out: JsonOpt = False) -> None:
    """Re-compute the timeline's hash chain; exit 1 naming the first bad line."""
    store = IncidentStore()
    report = store.verify(incident_id)
    code = 0 if report.ok else 1
    if json_out:
        errors = [
            {"code": "broken_timeline", "message": f"line {p.line}: {p.message}"}
            for p in report.problems
        ]
        print_json("incident verify", verify_data(report), exit_code=code, errors=errors)
        raise typer.Exit(code)
    out = stdout_console()
    if report.ok:
        out.print(
            Text(f"{report.incident_id}: timeline intact ({report.entries} entries, "
                 f"head {report.head[:16]})")
        )  # fmt: skip
    else:
        first = report.problems[0]
        out.print(
            Text(f"{report.incident_id}: timeline BROKEN at line {first.line}: {first.message}"),
            soft_wrap=True,
        )
        for problem in report.problems[1:]:
            out.print(Text(f"  line {problem.line}: {problem.message}"), soft_wrap=True)
    for warning in report.warnings:
        stderr_console().print(Text(f"warning: {warning}"))
    raise typer.Exit(code)


@sub.command("export")
@guarded("incident export")
def export(
    incident_id: IdArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="tar.gz or md.")] = "tar.gz",
    json_out: JsonOpt = False,
) -> None:
    """Write the incident as one tar.gz (state, timeline, evidence, manifest) or Markdown."""
    if fmt not in ("tar.gz", "md"):
        raise UsageError(f"unknown format {fmt!r}", hint="use --format tar.gz or --format md")
    store = IncidentStore()
    path = store.export(incident_id, output, fmt)
    data: dict[str, Any] = {"path": str(path), "format": fmt, "bytes": path.stat().st_size}
    if json_out:
        print_json("incident export", data)
        return
    stderr_console().print(Text(f"wrote {path} ({data['bytes']} bytes)"))


@sub.command("severity")
@guarded("incident severity")
def severity(
    incident_id: IdArg,
    level: Annotated[str, typer.Argument(help="SEV1, SEV2 or SEV3.")],
    reason: Annotated[str, typer.Option("--reason", help="Why the level changes.")],
    runbooks: RunbooksOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Change the severity (recorded with who and why); deadlines follow its runbook."""
    store = IncidentStore()
    incident = store.set_severity(incident_id, level, reason=reason, runbooks_dir=runbooks)
    if json_out:
        print_json("incident severity", {"incident": incident.to_dict()})
        return
    stderr_console().print(Text(f"{incident.id} is now {incident.severity}"))


@sub.command("note")
@guarded("incident note")
def note(
    incident_id: IdArg,
    text: Annotated[str, typer.Argument(help="What to record on the timeline.")],
    json_out: JsonOpt = False,
) -> None:
    """Record a note on the incident's timeline."""
    store = IncidentStore()
    entry = store.append(incident_id, "note", {"text": text})
    if json_out:
        print_json("incident note", {"entry": entry.to_dict()})
        return
    stderr_console().print(Text(f"recorded note #{entry.seq}"))
