"""`agentir review INCIDENT`: the post-incident review draft, from evidence, as Markdown or HTML."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from agentir.cli.common import JsonOpt, guarded, print_json, stderr_console
from agentir.errors import UsageError

FORMATS = ("md", "html")
STATUSES = ("draft", "in-review", "reviewed")


def register(app: typer.Typer) -> None:
    """Add `agentir review` to the root app."""
    app.command("review", no_args_is_help=True)(review)


@guarded("review")
def review(
    incident_id: Annotated[
        str, typer.Argument(help="Incident id, a unique prefix of it, or 'latest'.")
    ],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write here (and keep a copy in the incident)."),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", "-f", help="md (default) or html; -o FILE.html implies html."),
    ] = None,
    template: Annotated[
        Path | None, typer.Option("--template", help="A Jinja2 template to use instead.")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option("--status", help="Record the review status: draft, in-review, reviewed."),
    ] = None,
    policy: Annotated[
        Path | None, typer.Option("--policy", help="Policy file to judge the sessions against.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Draft the post-incident review: the five questions, blast radius, guardrails, actions."""
    from agentir.incidents.store import IncidentStore
    from agentir.render.report import template_name
    from agentir.review.publish import (
        keep_rendered,
        render_review_text,
        review_context,
        set_review_status,
    )

    chosen = _format(fmt, output)
    if status is not None and status not in STATUSES:
        raise UsageError(f"unknown --status {status!r}", hint=f"one of {', '.join(STATUSES)}")
    if template is not None and not template.is_file():
        raise UsageError(f"no template at {template}", hint="check the --template path")
    store = IncidentStore()
    ref = store.resolve(incident_id)
    if status is not None:
        set_review_status(store, ref, status)
    context = review_context(store, ref, policy=policy, status=status)
    if json_out and output is None:
        print_json("review", {"context": context, "written": None})
        return
    rendered = render_review_text(context, chosen, template=template)
    if output is None:
        sys.stdout.write(rendered)
        sys.stdout.flush()
        return
    used = str(template) if template else template_name("review", chosen)
    kept = keep_rendered(
        store, ref, rendered, chosen, output=output, status=context["review"]["status"],
        template=used,
    )  # fmt: skip
    if json_out:
        print_json("review", {"context": context, "written": str(output), "kept": str(kept)})
        return
    stderr_console().print(Text(f"wrote review to {output}"))


def _format(fmt: str | None, output: Path | None) -> str:
    if fmt is None:
        suffix = output.suffix.lower() if output is not None else ""
        return "html" if suffix in (".html", ".htm") else "md"
    if fmt not in FORMATS:
        raise UsageError(f"unknown --format {fmt!r}", hint="md or html")
    return fmt
