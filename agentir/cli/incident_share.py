"""`agentir incident share INCIDENT --to DIR --webhook URL`: what was learned, to the team."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from agentir.cli.common import JsonOpt, guarded, print_json, stderr_console, stdout_console
from agentir.errors import ActionError, UsageError


def register(sub: typer.Typer) -> None:
    """Add `share` to `agentir incident`."""
    sub.command("share", no_args_is_help=True)(share)


@guarded("incident share")
def share(
    incident_id: Annotated[
        str, typer.Argument(help="Incident id, a unique prefix of it, or 'latest'.")
    ],
    to: Annotated[
        Path | None,
        typer.Option("--to", help="Team folder in a git repository: writes <DIR>/<ID>/, commits."),
    ] = None,
    webhook: Annotated[
        str | None,
        typer.Option(
            "--webhook",
            envvar="AGENTIR_SHARE_WEBHOOK",
            show_envvar=True,
            help="POST a short summary (Slack-compatible JSON) to this URL.",
        ),
    ] = None,
    with_traces: Annotated[
        bool,
        typer.Option(
            "--with-traces", help="Also copy the raw traces (they may hold unredacted secrets)."
        ),
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Webhook timeout in seconds.")
    ] = 10.0,
    json_out: JsonOpt = False,
) -> None:
    """Share the review, timeline and evidence index (a team repo, a webhook); recorded."""
    from agentir.actions import share_webhook
    from agentir.actions.share import share_to_folder
    from agentir.incidents.store import IncidentStore

    if to is None and not webhook:
        raise UsageError("nothing to share to", hint="pass --to DIR and/or --webhook URL")
    if webhook:
        target = share_webhook.target_of(webhook)  # a bad URL stops before anything is written
    store = IncidentStore()
    ref = store.resolve(incident_id)
    err = stderr_console()
    data: dict[str, Any] = {"incident": ref, "folder": None, "webhook": None}
    folder = None
    if to is not None:
        folder = share_to_folder(store, ref, to, with_traces=with_traces)
        data["folder"] = folder.to_dict()
        if not json_out:
            _folder_lines(folder)
    if webhook:
        text = share_webhook.summary(store.get(ref), folder, store.now())
        try:
            result = share_webhook.post(webhook, text, timeout)
        except ActionError as exc:
            store.append(
                ref, "incident.webhook", {"target": target, "ok": False, "error": exc.message}
            )
            data["webhook"] = {"target": target, "ok": False, "error": exc.message}
            if json_out:
                print_json(
                    "incident share", data, exit_code=1,
                    errors=[{"code": exc.code, "message": exc.message}],
                )  # fmt: skip
            # one line whatever the terminal's width (rich would wrap it)
            sys.stderr.write(f"agentir incident share: error: {exc.message}\n")
            raise typer.Exit(1) from None
        store.append(ref, "incident.webhook", result.to_dict())
        data["webhook"] = result.to_dict()
        if not json_out:
            err.print(Text(f"posted the summary to {result.target} (HTTP {result.status})"))
    if json_out:
        print_json("incident share", data)


def _folder_lines(folder: Any) -> None:
    out = stdout_console()
    for path in folder.files:
        out.print(Text(path))
    err = stderr_console()
    where = f"{folder.repo}/{folder.folder}"
    if folder.commit:
        err.print(Text(f"committed {folder.commit[:10]} in {folder.repo}: {folder.message}"))
    else:
        err.print(Text(f"{where} already held this share: nothing new to commit"))
    if folder.rendered:
        err.print(Text(f"rendered the review now ({', '.join(folder.rendered)})", style="dim"))
    if folder.with_traces:
        err.print(
            Text(
                "warning: raw traces were shared; they may hold unredacted secrets", style="yellow"
            )
        )
