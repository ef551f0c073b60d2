"""`agentir incident action add|done|list`: the review's follow-ups, kept in the incident."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from agentir.cli.common import JsonOpt, guarded, print_json, stderr_console, stdout_console
from agentir.cli.incident_view import safe, when
from agentir.incidents.records import ACTION_ITEM_TYPES

action_app = typer.Typer(
    help="Action items from the review: prevent, mitigate, guardrail or process.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

IdArg = Annotated[str, typer.Argument(help="Incident id, a unique prefix of it, or 'latest'.")]


@action_app.command("add")
@guarded("incident action add")
def add(
    incident_id: IdArg,
    text: Annotated[str, typer.Argument(help="What will be done (a structural change, ideally).")],
    kind: Annotated[
        str, typer.Option("--type", "-t", help=f"One of {', '.join(ACTION_ITEM_TYPES)}.")
    ] = "prevent",
    owner: Annotated[str | None, typer.Option("--owner", help="Who does it.")] = None,
    due: Annotated[str | None, typer.Option("--due", help="Due date, YYYY-MM-DD.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Add an action item (ids A1, A2, ...); recorded on the timeline."""
    from agentir.incidents.store import IncidentStore
    from agentir.review.actions import add_action, is_prompt_change

    store = IncidentStore()
    item = add_action(store, incident_id, kind=kind, text=text, owner=owner, due=due)
    if json_out:
        print_json("incident action add", {"action_item": item.to_dict()})
        return
    stdout_console().print(Text(item.id))
    err = stderr_console()
    err.print(Text(f"added {item.id} ({item.type}): ") + safe(item.text, 120))
    if is_prompt_change(item.text):
        err.print(
            Text(
                "warning: this reads as a prompt change; the agent can ignore a prompt. "
                "Pair it with a structural guardrail (a permission, a limit, a hook).",
                style="yellow",
            )
        )
    if not owner or not due:
        err.print(Text("hint: give it an owner (--owner) and a due date (--due)", style="dim"))


@action_app.command("done")
@guarded("incident action done")
def done(
    incident_id: IdArg,
    action_id: Annotated[str, typer.Argument(help="The action item id (A1, A2, ...).")],
    json_out: JsonOpt = False,
) -> None:
    """Mark an action item done; recorded on the timeline."""
    from agentir.incidents.store import IncidentStore
    from agentir.review.actions import complete_action

    item = complete_action(IncidentStore(), incident_id, action_id)
    if json_out:
        print_json("incident action done", {"action_item": item.to_dict()})
        return
    stderr_console().print(Text(f"{item.id} done at {when(item.done_at)}"))


@action_app.command("list")
@guarded("incident action list")
def list_(incident_id: IdArg = "latest", json_out: JsonOpt = False) -> None:
    """List the action items of an incident."""
    from agentir.incidents.store import IncidentStore
    from agentir.review.actions import is_prompt_change, prompt_only

    incident = IncidentStore().get(incident_id)
    items = incident.action_items
    if json_out:
        rows = [{**i.to_dict(), "prompt_change": is_prompt_change(i.text)} for i in items]
        print_json(
            "incident action list",
            {"id": incident.id, "action_items": rows, "prompt_only": prompt_only(items)},
        )
        return
    if not items:
        stderr_console().print(Text(f"{incident.id} has no action items"))
        return
    table = Table(title=f"action items of {incident.id}")
    for header in ("id", "type", "action", "owner", "due", "done"):
        table.add_column(header, no_wrap=header in ("id", "type", "due"))
    for item in items:
        table.add_row(
            Text(item.id), Text(item.type), safe(item.text, 200), safe(item.owner or "—"),
            safe(item.due or "—"), Text(when(item.done_at) if item.done_at else "open"),
        )  # fmt: skip
    stdout_console().print(table)
    if prompt_only(items):
        stderr_console().print(
            Text("warning: every action item is a prompt change", style="bold yellow")
        )
