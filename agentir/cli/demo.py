"""`agentir demo`: the tool at work on a bundled scenario, in a scratch directory."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from agentir.cli.common import JsonOpt, guarded, print_json, stderr_console, stdout_console


def register(app: typer.Typer) -> None:
    """Add the command to the root app."""
    app.command("demo")(demo)


@guarded("demo")
def demo(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Folder for the demo's output (default: a new temp folder)."
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Run agentir on a bundled incident: an agent that loops, strays and leaks a token."""
    from agentir.analysis.assess import assess_trace
    from agentir.demo import write_demo_trace
    from agentir.render import terminal
    from agentir.render.jsonout import assessment_data

    folder = out or Path(tempfile.mkdtemp(prefix="agentir-demo-"))
    repo = folder / "repo"
    repo.mkdir(parents=True, exist_ok=True)
    trace = write_demo_trace(folder / "traces", repo)
    err = stderr_console()
    err.print(f"demo: a Claude Code session was written to {trace.path}")
    result = assess_trace(trace.path)
    assessment = result.sessions[0]
    if json_out:
        print_json(
            "demo",
            {
                "output": str(folder),
                "trace": str(trace.path),
                "assessment": assessment_data(assessment),
            },
        )
        return
    err.print("demo: assess — what did the agent do?")
    stdout_console().print(terminal.assessment_view(assessment))
    err.print(f"demo: output kept in {folder}")
