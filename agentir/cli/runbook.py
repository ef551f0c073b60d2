"""`agentir runbook validate [DIR]` and `agentir runbook show SEV`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from agentir.cli.common import JsonOpt, guarded, print_json, stderr_console, stdout_console
from agentir.commandline import display
from agentir.errors import UsageError
from agentir.incidents.records import normalize_severity
from agentir.runbooks import PHASES, Runbook, load_runbook, runbook_dirs, validate_dir

sub = typer.Typer(
    help="Check and print the runbooks that drive each severity.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def register(app: typer.Typer) -> None:
    """Add `agentir runbook` to the root app."""
    app.add_typer(sub, name="runbook")


@sub.command("validate")
@guarded("runbook validate")
def validate(
    folder: Annotated[
        Path | None,
        typer.Argument(help="Runbook folder (default: the folders agentir would use)."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Check runbooks; list every error with file, line and key path; exit 1 if any."""
    folders = [folder] if folder is not None else runbook_dirs()
    errors = [error for path in folders for error in validate_dir(path)]
    code = 1 if errors else 0
    if json_out:
        data = {
            "folders": [str(f) for f in folders],
            "valid": not errors,
            "errors": [e.__dict__ for e in errors],
        }
        envelope_errors = [{"code": "invalid_runbook", "message": str(e)} for e in errors]
        print_json("runbook validate", data, exit_code=code, errors=envelope_errors)
        raise typer.Exit(code)
    out = stdout_console()
    for error in errors:
        out.print(Text(str(error)), soft_wrap=True)
    summary = f"{len(errors)} error{'s' if len(errors) != 1 else ''} in " if errors else "valid: "
    stderr_console().print(Text(summary + ", ".join(str(f) for f in folders)))
    raise typer.Exit(code)


@sub.command("show")
@guarded("runbook show")
def show(
    severity: Annotated[str, typer.Argument(help="SEV1, SEV2 or SEV3.")],
    runbooks: Annotated[
        Path | None, typer.Option("--runbooks", help="Folder of runbooks overriding the defaults.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Print the runbook of one severity: contacts, traces, and each phase's steps."""
    level = normalize_severity(severity)
    if level is None:
        raise UsageError(f"unknown severity {severity!r}", hint="SEV1, SEV2 or SEV3")
    runbook = load_runbook(level, runbooks)
    if json_out:
        print_json("runbook show", runbook_data(runbook))
        return
    out = stdout_console()
    out.print(Text(f"{runbook.severity}: {runbook.title}", style="bold"))
    out.print(Text(str(runbook.path), style="dim"))
    if runbook.description:
        out.print(Text(runbook.description))
    out.print(_contacts(runbook))
    if runbook.traces_location or runbook.replays:
        out.print(Text(f"traces: {runbook.traces_location or '—'}"))
        out.print(Text(f"replays: {runbook.replays or '—'}"))
    for phase in PHASES:
        steps = runbook.steps(phase)
        if steps:
            out.print(_steps(runbook, phase))
    if runbook.checks:
        table = Table(title="verification checks")
        for header in ("name", "command", "timeout"):
            table.add_column(header)
        for check in runbook.checks:
            table.add_row(
                Text(check.name), Text(display(check.command)), Text(f"{check.timeout:g}s")
            )
        out.print(table)


def _contacts(runbook: Runbook) -> Table:
    table = Table(title="contacts")
    for header in ("role", "name", "reach"):
        table.add_column(header)
    for contact in runbook.contacts:
        table.add_row(Text(contact.role), Text(contact.name), Text(contact.reach))
    return table


def _steps(runbook: Runbook, phase: str) -> Table:
    deadline = runbook.phase_deadlines().get(phase)
    title = f"{phase}" + (f" (within {_duration(deadline.total_seconds())})" if deadline else "")
    table = Table(title=title, show_lines=True)
    for header in ("id", "step", "kind", "deadline", "owner", "on failure"):
        table.add_column(header, no_wrap=header in ("id", "kind", "deadline"))
    for step in runbook.steps(phase):
        what = Text(step.title, style="bold")
        if step.instructions:
            what.append("\n" + step.instructions)
        if step.command is not None:
            shown = step.command if isinstance(step.command, str) else display(step.command)
            what.append("\n$ " + shown, style="cyan")
        kind = step.builtin if step.kind == "builtin" else step.kind
        if step.confirm:
            kind = f"{kind} (confirm)"
        table.add_row(
            Text(step.id), what, Text(kind or ""),
            Text(_duration(step.deadline.total_seconds()) if step.deadline else "—"),
            Text(step.owner or "—"), Text(step.on_failure),
        )  # fmt: skip
    return table


def _duration(seconds: float) -> str:
    value = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if value % size == 0 and value >= size:
            return f"{value // size}{unit}"
    return f"{value}s"


def runbook_data(runbook: Runbook) -> dict[str, Any]:
    """The runbook as plain data for --json (deadlines in seconds and as text)."""
    return {
        "severity": runbook.severity,
        "path": str(runbook.path),
        "title": runbook.title,
        "description": runbook.description,
        "contacts": [c.__dict__ for c in runbook.contacts],
        "traces": {"location": runbook.traces_location, "replays": runbook.replays},
        "vars": dict(runbook.vars),
        "phase_deadlines": {
            k: _duration(v.total_seconds()) for k, v in runbook.phase_deadlines().items()
        },
        "phases": {
            phase: [
                {
                    "id": s.id,
                    "title": s.title,
                    "kind": s.kind,
                    "builtin": s.builtin,
                    "command": list(s.command) if isinstance(s.command, tuple) else s.command,
                    "shell": s.shell,
                    "instructions": s.instructions,
                    "deadline": _duration(s.deadline.total_seconds()) if s.deadline else None,
                    "deadline_seconds": int(s.deadline.total_seconds()) if s.deadline else None,
                    "confirm": s.confirm,
                    "destructive": s.destructive,
                    "on_failure": s.on_failure,
                    "owner": s.owner,
                }
                for s in runbook.steps(phase)
            ]
            for phase in PHASES
        },
        "verification": {
            "checks": [
                {"name": c.name, "command": list(c.command), "timeout": c.timeout}
                for c in runbook.checks
            ]
        },
    }
