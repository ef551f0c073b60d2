"""`agentir contain SESSION`: stop the agent, list and revoke its credentials, freeze deploys."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

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
from agentir.errors import AgentirError, UsageError

RunbooksOpt = Annotated[
    Path | None, typer.Option("--runbooks", help="Folder of runbooks overriding the defaults.")
]


def register(app: typer.Typer) -> None:
    """Add the command to the root app."""
    app.command("contain")(contain)


def interactive() -> bool:
    """Whether a person can answer a question (stdin and stderr are terminals)."""
    return sys.stdin.isatty() and sys.stderr.isatty()


@guarded("contain")
def contain(
    session: Annotated[
        str | None, typer.Argument(help="The agent session id (from its trace or process).")
    ] = None,
    trace: Annotated[Path | None, typer.Option("--trace", help="The session's trace file.")] = None,
    pid: Annotated[
        list[int] | None, typer.Option("--pid", help="A process of the session (repeatable).")
    ] = None,
    cwd: Annotated[
        Path | None,
        typer.Option("--cwd", help="Also match agent executables running in this folder."),
    ] = None,
    severity: Annotated[
        str | None,
        typer.Option("--severity", "-s", help="SEV1, SEV2 or SEV3 (default: suggested, or SEV1)."),
    ] = None,
    kill: Annotated[
        bool, typer.Option("--kill", help="Kill (SIGTERM, then SIGKILL) instead of pausing.")
    ] = False,
    grace: Annotated[
        float, typer.Option("--grace", help="Seconds between SIGTERM and SIGKILL with --kill.")
    ] = 5.0,
    commit: Annotated[
        list[str] | None,
        typer.Option("--commit", help="A commit of the session to freeze (repeatable)."),
    ] = None,
    repo: Annotated[
        Path | None,
        typer.Option("--repo", help="The repository the commits are in (default: session cwd)."),
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help="Title of a new incident.")] = None,
    runbooks: RunbooksOpt = None,
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Pause (or --kill) every process of an agent session and prove it, list and revoke its
    credentials, and freeze deploys of its commits; every step recorded on an incident.

    Exit 0 when contained; 1 when something of the session still runs, a revocation that
    must not fail failed, or the plan was not confirmed."""
    from agentir.actions.containment import ContainRequest, apply_contain, plan_contain
    from agentir.cli.contain_view import (
        outcome_data,
        outcome_lines,
        plan_lines,
        print_lines,
        remaining_text,
    )
    from agentir.incidents.store import IncidentStore

    if not (session or trace or pid or cwd):
        raise UsageError(
            "nothing identifies the session", hint="give a session id, --trace, --pid or --cwd"
        )
    request = ContainRequest(
        session_id=session,
        trace=trace,
        pids=tuple(pid or ()),
        cwd=cwd,
        severity=severity,
        mode="kill" if kill else "pause",
        grace=grace,
        commits=tuple(commit or ()),
        repo=repo,
        runbooks_dir=runbooks,
        title=title,
    )
    store = IncidentStore()
    plan = plan_contain(request, store)
    out, err = stdout_console(), stderr_console()
    if dry_run:
        if json_out:
            print_json("contain", {"dry_run": True, "plan": plan.to_data(), "result": None})
        else:
            print_lines(out, plan_lines(plan))
            err.print("dry run: nothing was changed, no incident was written", markup=False)
        return
    if not json_out:
        print_lines(out, plan_lines(plan))
    if not yes:
        if not interactive():
            raise AgentirError(
                "applying the containment plan needs a confirmation",
                hint="pass --yes to apply it, or --dry-run to only print it",
            )
        if not typer.confirm("Apply this containment plan?", default=False, err=True):
            raise AgentirError(
                "not confirmed: nothing was changed", hint="--dry-run shows the plan"
            )

    def confirm(command: object) -> bool:
        if yes:
            return True
        shown = getattr(command, "shown", "")
        step = getattr(command, "step_id", "")
        print_lines(err, [f"{step}: $ {shown}"])
        return bool(typer.confirm(f"Run step {step}?", default=False, err=True))

    outcome = apply_contain(plan, store, confirm=confirm)
    code = outcome.exit_code
    if json_out:
        print_json(
            "contain",
            {"dry_run": False, "plan": plan.to_data(), "result": outcome_data(outcome)},
            exit_code=code,
        )
        raise typer.Exit(code)
    out.print()
    print_lines(out, outcome_lines(outcome))
    if not outcome.contained:
        err.print(remaining_text(outcome))
        err.print(
            f"agentir contain: NOT contained; recorded on {outcome.incident_id}", markup=False
        )
    raise typer.Exit(code)
