"""`agentir respond [INCIDENT]`: a guided walk through the runbook of the incident's severity."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from agentir.cli.common import JsonOpt, guarded, print_json, stderr_console, stdout_console
from agentir.errors import IncidentError

RunbooksOpt = Annotated[
    Path | None, typer.Option("--runbooks", help="Folder of runbooks overriding the defaults.")
]
_CHOICES = {"d": "done", "s": "skip", "l": "later", "r": "run", "q": "quit"}


def register(app: typer.Typer) -> None:
    """Add the command to the root app."""
    app.command("respond")(respond)


def latest_open(store: Any) -> str:
    """The newest incident that is not closed."""
    for incident in reversed(store.list()):
        if incident.active:
            return str(incident.id)
    raise IncidentError("there is no open incident", hint="`agentir contain` or `incident open`")


def step_lines(state: Any, planned: Any, runbook: Any) -> list[str]:
    """One step: title, kind, owner and whom to reach, deadline, result, command."""
    from agentir.incidents.records import format_duration

    step = state.step
    flag = " [confirm]" if step.confirm or step.destructive else ""
    lines = [f"[{state.result or 'todo'}] {step.id}: {step.title} ({step.kind}){flag}"]
    if state.due is not None:
        left = state.seconds_left or 0
        span = format_duration(timedelta(seconds=abs(left)))
        timing = f"{span} left" if left >= 0 else f"{span} late"
        due = state.due.strftime("%Y-%m-%d %H:%M UTC")
        lines.append(f"    due {due}: {state.deadline_state} ({timing})")
    if step.owner:
        reach = "; ".join(f"{c.name}: {c.reach}" for c in runbook.contact(step.owner))
        lines.append(f"    owner {step.owner}" + (f" ({reach})" if reach else ""))
    if step.builtin:
        lines.append(f"    builtin {step.builtin}")
    if planned is not None:
        lines.append(f"    $ {planned.shown}")
    if step.instructions:
        lines.append(f"    {step.instructions}")
    return lines


def _print(console: Console, lines: list[str]) -> None:
    from agentir.cli.incident_view import safe

    for line in lines:
        console.print(safe(line), soft_wrap=True)


@guarded("respond")
def respond(
    incident: Annotated[
        str | None, typer.Argument(help="Incident id, prefix or 'latest' (default: newest open).")
    ] = None,
    answers: Annotated[
        Path | None,
        typer.Option("--answers", help="YAML/JSON: step id -> done | skip:<reason> | run | later."),
    ] = None,
    runbooks: RunbooksOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Walk the runbook of the incident's severity from its current phase: deadlines, owners
    and contacts; manual steps recorded done or skipped (with a reason); command and builtin
    steps run on confirmation. Without a terminal and without --answers it prints the plan of
    the current phase. Exit 1 when a step failed whose on_failure is not `continue`."""
    from agentir.actions.respond import (
        Answer,
        current_phase,
        load_answers,
        parse_answer,
        planned_command,
        step_states,
        walk,
    )
    from agentir.cli.contain import interactive
    from agentir.incidents.store import IncidentStore
    from agentir.runbooks import load_runbook

    store = IncidentStore()
    ref = store.resolve(incident) if incident else latest_open(store)
    record = store.get(ref)
    runbook = load_runbook(record.severity, runbooks)
    now = store.now()
    states = step_states(record, runbook, store.timeline(ref), now)
    phase = current_phase(record, states)
    out, err = stdout_console(), stderr_console()
    header = [
        f"{record.id} ({record.severity}, {record.status}): {record.title}",
        f"runbook {runbook.path}; current phase: {phase or 'none (every step is finished)'}",
    ]
    header += [f"  contact {c.role}: {c.name} - {c.reach}" for c in runbook.contacts]
    plan_only = answers is None and not interactive()
    if plan_only or phase is None:
        shown = [s for s in states if s.step.phase == phase]
        if json_out:
            print_json("respond", _plan_data(record, runbook, phase, shown))
            return
        _print(out, header)
        for state in shown:
            cmd = (
                planned_command(store, ref, runbook, state.step)
                if state.step.kind == "command"
                else None
            )
            _print(out, step_lines(state, cmd, runbook))
        if plan_only and phase is not None:
            err.print("no terminal and no --answers: printed the plan only", markup=False)
        return

    given = load_answers(answers, runbook) if answers is not None else None
    sink = err if json_out else out
    _print(sink, header)

    def ask(state: Any, planned: Any) -> Answer:
        _print(sink, step_lines(state, planned, runbook))
        if given is not None:
            return given.get(state.step.id, Answer("later"))
        options = "[d]one [s]kip [l]ater [q]uit" + ("" if state.step.kind == "manual" else " [r]un")
        while True:
            raw = typer.prompt(options, default="l", err=True).strip().lower()
            choice = _CHOICES.get(raw[:1], raw)
            if choice == "run" and state.step.kind == "manual":
                continue
            if choice == "skip":
                reason = typer.prompt("why skip it?", err=True)
                return parse_answer(f"skip:{reason}") if reason.strip() else Answer("later")
            if choice in _CHOICES.values():
                return Answer(choice)

    def confirm(command: Any) -> bool:
        if given is not None:
            return True  # `run` in the answers file is the responder's confirmation
        _print(err, [f"$ {command.shown}"])
        return bool(typer.confirm(f"Run step {command.step_id}?", default=False, err=True))

    records = walk(store, ref, runbook, ask=ask, confirm=confirm, say=lambda s: _print(sink, [s]))
    failed = [r.step for r in records if r.must_not_fail]
    code = 1 if failed else 0
    if json_out:
        data = {
            "incident": ref,
            "phase": phase,
            "steps": [
                {"step": r.step, "result": r.result, "lines": list(r.lines)} for r in records
            ],
            "failed": failed,
        }
        print_json("respond", data, exit_code=code)
    raise typer.Exit(code)


def _plan_data(record: Any, runbook: Any, phase: str | None, states: list[Any]) -> dict[str, Any]:
    return {
        "incident": record.id,
        "severity": record.severity,
        "status": record.status,
        "phase": phase,
        "runbook": str(runbook.path),
        "contacts": [{"role": c.role, "name": c.name, "reach": c.reach} for c in runbook.contacts],
        "steps": [
            {
                "id": s.step.id,
                "title": s.step.title,
                "kind": s.step.kind,
                "builtin": s.step.builtin,
                "owner": s.step.owner,
                "due": s.due,
                "deadline_state": s.deadline_state,
                "seconds_left": s.seconds_left,
                "result": s.result,
            }
            for s in states
        ],
    }
