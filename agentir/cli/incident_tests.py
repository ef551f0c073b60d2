"""`agentir incident tests INCIDENT [--repo PATH]`: adversarial test suggestions from the diff of
the agent's commits, kept in the incident (the review shows them) as action items."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from agentir.cli.common import JsonOpt, guarded, print_json, stderr_console, stdout_console


def register(sub: typer.Typer) -> None:
    """Add `tests` to `agentir incident`."""
    sub.command("tests", no_args_is_help=True)(tests)


@guarded("incident tests")
def tests(
    incident_id: Annotated[
        str, typer.Argument(help="Incident id, a unique prefix of it, or 'latest'.")
    ],
    repo: Annotated[
        Path | None,
        typer.Option("--repo", help="The repository the agent committed to (default: its cwd)."),
    ] = None,
    limit: Annotated[
        int,
        typer.Option("--limit", min=1, help="Action items: one per changed function, this many."),
    ] = 20,
    json_out: JsonOpt = False,
) -> None:
    """Propose tests for what agents get wrong (boundaries, off-by-ones, empty and missing
    inputs, error paths) in the functions the agent changed; store them on the incident."""
    from agentir.actions.test_suggestions import suggest_for_incident
    from agentir.incidents.store import IncidentStore
    from agentir.render.terminal import safe

    out = suggest_for_incident(IncidentStore(), incident_id, repo, limit=limit)
    if json_out:
        print_json("incident tests", out.to_dict())
        return
    if out.suggestions:
        table = Table(
            title=f"Adversarial test suggestions for {out.incident}", title_justify="left"
        )
        for header in ("file", "function", "line", "category", "code", "test"):
            table.add_column(header, no_wrap=header in ("line", "category"))
        for s in out.suggestions:
            table.add_row(
                safe(s["file"], 80), safe(s["function"], 60), str(s["line"]),
                Text(str(s["category"])), safe(s["code"], 100), safe(s["test_case"], 300),
            )  # fmt: skip
        console = stdout_console()
        if not sys.stdout.isatty():
            console.width = 200
        console.print(table)
    err = stderr_console()
    where = {"commits": f"{len(out.commits)} commit(s)", "uncommitted": "uncommitted changes"}
    err.print(
        Text(
            f"{len(out.suggestions)} suggestion(s) from {where.get(out.source, 'nothing')} in "
            f"{out.repo}; stored on {out.incident}; "
            f"{len(out.action_items)} new action item(s) (type prevent)"
        )
    )
    for warning in out.warnings:
        err.print(Text(f"note: {warning}", style="dim"))
    if out.suggestions:
        err.print(Text(f"the review shows them: agentir review {out.incident}", style="dim"))
