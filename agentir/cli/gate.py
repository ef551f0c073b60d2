"""`agentir gate`: what a deploy pipeline runs; blocks while a freeze covers the commit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agentir.cli.common import JsonOpt, guarded, print_json, stderr_console, stdout_console
from agentir.errors import ExitCode, UsageError

BLOCKED = int(ExitCode.FINDINGS)  # 4: the deploy is blocked by a freeze


def register(app: typer.Typer) -> None:
    """Add the command to the root app."""
    app.command("gate")(gate)


@guarded("gate")
def gate(
    commit: Annotated[
        str, typer.Option("--commit", help="The commit to be deployed (default: HEAD).")
    ] = "HEAD",
    repo: Annotated[
        Path, typer.Option("--repo", help="The repository of the commit (default: here).")
    ] = Path("."),
    lift: Annotated[
        str | None,
        typer.Option("--lift", metavar="INCIDENT", help="Lift this incident's freeze instead."),
    ] = None,
    reason: Annotated[
        str, typer.Option("--reason", help="Why the freeze is lifted (with --lift).")
    ] = "",
    json_out: JsonOpt = False,
) -> None:
    """Exit 4 while an incident that is not yet reviewed or closed has a deploy freeze on a
    commit in the history of --commit (an ancestor of it, or the commit itself) that the
    history does not revert, naming the incident
    and the commit; exit 0 when the deploy may go ahead; exit 1 when the gate cannot decide
    (not a repository, unknown commit, unreadable incident) - a pipeline fails closed on any
    non-zero code. `--lift INCIDENT --reason TEXT` lifts a freeze (recorded)."""
    from agentir.actions.freeze import evaluate_gate, lift_freeze
    from agentir.cli.incident_view import safe
    from agentir.incidents.store import IncidentStore

    store = IncidentStore()
    out, err = stdout_console(), stderr_console()
    if lift is not None:
        if not reason.strip():
            raise UsageError("lifting a freeze needs a reason", hint="pass --reason 'why'")
        incident = lift_freeze(store, store.resolve(lift), reason)
        if json_out:
            print_json("gate", {"lifted": incident.id, "commits": incident.freeze.commits})
            return
        out.print(safe(f"lifted the deploy freeze of {incident.id}; recorded with the reason"))
        return
    result = evaluate_gate(store, repo, commit)
    code = BLOCKED if result.blocked else 0
    if json_out:
        print_json(
            "gate",
            {
                "repo": result.repo,
                "ref": result.ref,
                "commit": result.commit,
                "blocked": result.blocked,
                "blocks": result.blocks,
                "active_freezes": result.active_freezes,
                "unknown_here": result.unknown_here,
            },
            exit_code=code,
        )
        raise typer.Exit(code)
    if result.blocked:
        out.print(safe(f"BLOCKED: deploying {result.commit[:12]} ({result.ref}) is frozen"))
        for block in result.blocks:
            out.print(
                safe(
                    f"  {block.incident} ({block.severity}, {block.status}): frozen commit "
                    f"{block.frozen_commit[:12]} is in its history - {block.title}"
                )
            )
        err.print(
            safe(
                "deploy the agentir/revert-... branch (or merge it first); the freeze ends when "
                "the incident is reviewed or closed, or with `agentir gate --lift INCIDENT --reason ...`"
            )
        )
    else:
        out.print(safe(f"ok: no deploy freeze covers {result.commit[:12]} ({result.ref})"))
    if result.unknown_here:
        shown = ", ".join(c[:12] for c in result.unknown_here[:10])
        err.print(safe(f"frozen commits not in this repository (not checked): {shown}"))
    raise typer.Exit(code)
