"""`agentir resume [INCIDENT|SESSION]`: continue the processes an incident paused."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from agentir.cli.common import (
    DryRunOpt,
    JsonOpt,
    YesOpt,
    guarded,
    print_json,
    stderr_console,
    stdout_console,
)
from agentir.errors import AgentirError, IncidentError


def register(app: typer.Typer) -> None:
    """Add the command to the root app."""
    app.command("resume")(resume_cmd)


def find_incident(store: Any, ref: str | None) -> str:
    """The incident meant by an id / prefix / `latest`, a session id, or (None) the newest
    active incident that paused processes."""
    from agentir.actions.contain_steps import paused_identities

    if ref is None:
        for incident in reversed(store.list()):
            if incident.active and paused_identities(store.timeline(incident.id)):
                return str(incident.id)
        raise IncidentError("no open incident has paused processes", hint="name the incident")
    try:
        return str(store.resolve(ref))
    except IncidentError:
        by_session = store.find_open_for_session(ref)
        if by_session is None:
            raise
        return str(by_session.id)


@guarded("resume")
def resume_cmd(
    target: Annotated[
        str | None,
        typer.Argument(help="Incident id (or prefix, or 'latest') or agent session id."),
    ] = None,
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Continue (SIGCONT) the processes an incident paused, each only if it is still the same
    process (pid and start time recorded at pause). Exit 1 when one stays stopped."""
    from agentir.actions.contain_steps import paused_identities, resume_incident
    from agentir.actions.process_signals import status_of
    from agentir.cli.contain import interactive
    from agentir.cli.incident_view import safe
    from agentir.incidents.store import IncidentStore

    store = IncidentStore()
    ref = find_incident(store, target)
    found = paused_identities(store.timeline(ref))
    if not found:
        raise IncidentError(f"{ref} has no paused processes", hint="`agentir contain` pauses them")
    now = [(ident, name, status_of(ident.pid, ident.create_time)) for ident, name in found]
    out, err = stdout_console(), stderr_console()
    if dry_run or not json_out:
        rows = [{"pid": i.pid, "name": n, "status": s} for i, n, s in now]
        if dry_run and json_out:
            print_json("resume", {"incident": ref, "dry_run": True, "processes": rows})
            return
        out.print(safe(f"{ref}: {len(now)} paused process(es) to continue"))
        for ident, name, status in now:
            out.print(safe(f"  {ident.pid} {name}: now {status}"))
        if dry_run:
            err.print("dry run: nothing was changed", markup=False)
            return
    if not yes:
        if not interactive():
            raise AgentirError(
                "resuming lets the agent run again and needs a confirmation",
                hint="pass --yes to resume, or --dry-run to list the processes",
            )
        if not typer.confirm("Let these processes run again?", default=False, err=True):
            raise AgentirError("not confirmed: nothing was changed")
    result = resume_incident(store, ref)
    code = 0 if result.ok else 1
    if json_out:
        data = {"incident": ref, "dry_run": False, "result": result}
        print_json("resume", data, exit_code=code)
        raise typer.Exit(code)
    for o in result.outcomes:
        detail = f" ({o.detail})" if o.detail else ""
        out.print(safe(f"  {o.pid} {o.name}: {o.outcome.value}{detail}"))
    if result.still_stopped:
        err.print(safe(f"still stopped: {', '.join(map(str, result.still_stopped))}"))
    else:
        err.print(safe(f"resumed; recorded on {ref}"))
    raise typer.Exit(code)
