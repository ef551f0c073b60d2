"""`agentir drill run SCENARIO`, `agentir drill status` and `agentir drill validate`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from agentir.cli.common import JsonOpt, guarded, print_json, stderr_console, stdout_console
from agentir.errors import ExitCode, UsageError

sub = typer.Typer(
    help="Tabletop drills: rehearse the response on a scenario before it is needed.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
RunbooksOpt = Annotated[
    Path | None, typer.Option("--runbooks", help="Folder of runbooks (and scenarios/) to use.")
]


def register(app: typer.Typer) -> None:
    """Add `agentir drill` to the root app."""
    app.add_typer(sub, name="drill")


@sub.command("run", no_args_is_help=True)
@guarded("drill run")
def run(
    scenario: Annotated[
        str, typer.Argument(help="A scenario id (see `agentir drill status`) or file.")
    ],
    answers: Annotated[
        Path | None, typer.Option("--answers", help="Answer every prompt from this YAML file.")
    ] = None,
    runbooks: RunbooksOpt = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Folder for the report (default: $AGENTIR_HOME/drills/RUN)."
        ),
    ] = None,
    speed: Annotated[
        float, typer.Option("--speed", help="Drill minutes per real minute (10: a rehearsal).")
    ] = 1.0,
    facilitator: Annotated[
        str | None, typer.Option("--facilitator", help="Who runs the drill (default: you).")
    ] = None,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the scratch repository and trace afterwards.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Walk a scenario through the real runbook of its severity, timed against its deadlines;
    practise each done step on a scratch repository and trace; end with a hot wash and write
    the after-action report (gaps, timings, action items).

    Without --answers it asks at the terminal: d (done), s REASON (skip), g NOTE (gap), q (end)."""
    from agentir.cli.drill_view import TerminalFacilitator, TerminalView
    from agentir.drill_engine import ScriptedFacilitator, SilentView
    from agentir.drill_run import drill
    from agentir.drills import find_scenario, load_answers
    from agentir.incidents.lifecycle import current_actor

    chosen = find_scenario(scenario, runbooks)
    err = stderr_console()
    view_console = err if json_out else stdout_console()
    if answers is not None:
        script = load_answers(answers)
        person: Any = ScriptedFacilitator(script)
        if facilitator:
            person.name = facilitator
        participants = script.participants
    else:
        if not (sys.stdin.isatty() and sys.stderr.isatty()):
            raise UsageError("no terminal to ask the facilitator", hint="pass --answers FILE")
        person = TerminalFacilitator(err, facilitator or current_actor())
        participants = ()
    view = TerminalView(view_console) if not (json_out and answers is not None) else SilentView()
    outcome = drill(chosen, person, runbooks_dir=runbooks, out=out, speed=speed, keep=keep,
                    view=view, participants=participants)  # fmt: skip
    context = outcome.context
    left = outcome.result.processes_left
    code = int(ExitCode.ERROR) if left else 0
    if json_out:
        print_json("drill run", {**context, "report_path": str(outcome.report)}, exit_code=code)
        raise typer.Exit(code)
    drill_info = context["drill"]
    view_console.print(Text(
        f"score {drill_info['score']['percent']}% · {len(context['gaps'])} gap(s) · "
        f"drill time {drill_info['drill_time']}", style="bold"))  # fmt: skip
    for gap in context["gaps"]:
        view_console.print(Text(f"  gap: {gap['label']}: {gap['text']}"))
    err.print(Text(f"wrote the drill report to {outcome.report}"))
    if left:
        err.print(Text(f"agentir drill run: stand-in processes still running: {left}"))
    raise typer.Exit(code)


@sub.command("status")
@guarded("drill status")
def status(runbooks: RunbooksOpt = None, json_out: JsonOpt = False) -> None:
    """When each scenario and the kill-switch drill were last run, and what is overdue
    (every scenario once per cadence: 90 days unless agentir.yaml `drills: {cadence_days: N}`)."""
    from agentir.drill_log import drill_status, read_log
    from agentir.drills import cadence_days, load_library

    cadence = cadence_days()
    library = load_library(runbooks)
    entries, bad = read_log()
    rows = drill_status(library, entries, cadence_days=cadence)
    kill = [r for r in rows if r.kill_switch]
    last_kill = max((r.last_run for r in kill if r.last_run), default=None)
    kill_data = {
        "scenarios": [r.id for r in kill],
        "last_run": last_kill.isoformat(timespec="seconds").replace("+00:00", "Z")
        if last_kill
        else None,
        "overdue": bool(kill) and all(r.overdue for r in kill),
    }
    overdue = [r.id for r in rows if r.overdue]
    if json_out:
        print_json("drill status", {"cadence_days": cadence, "scenarios": [r.to_data() for r in rows],
                                    "overdue": overdue, "kill_switch": kill_data,
                                    "unreadable_log_lines": bad})  # fmt: skip
        return
    table = Table(show_edge=False)
    for column in ("scenario", "severity", "last run", "runs", "score", "gaps", "status"):
        table.add_column(column)
    for r in rows:
        when = (
            r.last_run.strftime("%Y-%m-%d") + f" ({r.days_since}d ago)" if r.last_run else "never"
        )
        state = Text("OVERDUE", style="bold red") if r.overdue else Text("ok", style="green")
        if not r.in_library:
            state = Text("not in the library", style="dim")
        name = r.id + (" (kill switch)" if r.kill_switch else "")
        table.add_row(
            name, r.severity, when, str(r.runs), _num(r.last_score, "%"), _num(r.last_gaps), state
        )
    out = stdout_console()
    out.print(table)
    kill_when = last_kill.strftime("%Y-%m-%d") if last_kill else "never"
    line = Text(f"kill-switch drill: last run {kill_when}")
    if kill_data["overdue"]:
        line.append(" · OVERDUE", style="bold red")
    out.print(line)
    stderr_console().print(Text(f"cadence: every {cadence} days; {len(overdue)} overdue"))
    if bad:
        stderr_console().print(Text(f"{bad} unreadable line(s) in the drill log were skipped"))


def _num(value: int | None, suffix: str = "") -> str:
    return "-" if value is None else f"{value}{suffix}"


@sub.command("validate")
@guarded("drill validate")
def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Scenario files or folders (default: every scenario folder in use)."),
    ] = None,
    runbooks: RunbooksOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Check scenario files; list every error as file:line: key: message; exit 1 if any."""
    from agentir.drills import scenario_dirs, validate_paths

    targets = list(paths or scenario_dirs(runbooks))
    for target in targets:
        if not target.exists():
            raise UsageError(f"no such file or folder: {target}", hint="check the path")
    errors = validate_paths(targets)
    code = int(ExitCode.ERROR) if errors else 0
    if json_out:
        print_json("drill validate", {"paths": [str(t) for t in targets], "valid": not errors,
                                      "errors": [e.__dict__ for e in errors]}, exit_code=code,
                   errors=[{"code": "invalid_scenario", "message": str(e)} for e in errors])  # fmt: skip
        raise typer.Exit(code)
    out = stdout_console()
    for error in errors:
        out.print(Text(str(error)), soft_wrap=True)
    summary = f"{len(errors)} error(s) in " if errors else "valid: "
    stderr_console().print(Text(summary + ", ".join(str(t) for t in targets)))
    raise typer.Exit(code)
