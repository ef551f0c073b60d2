"""`agentir demo`: the whole response (contain, assess, remediate, review) on a bundled
incident, in a scratch folder. Progress on stderr, a short summary on stdout."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from agentir.cli.common import JsonOpt, guarded, print_json, stderr_console, stdout_console
from agentir.errors import ExitCode


def register(app: typer.Typer) -> None:
    """Add the command to the root app."""
    app.command("demo")(demo)


@guarded("demo")
def demo(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="An empty folder for the demo (default: a new temp folder)."
        ),
    ] = None,
    keep_going: Annotated[
        bool, typer.Option("--keep-going", help="Run the remaining phases after one fails.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Run the whole response on a bundled incident: an agent that loops, writes outside its
    scope and leaks a (fake) token. Contain pauses a stand-in agent process, assess reads the
    trace, remediate reverts the agent's commit on a new branch, review writes the draft.
    Needs no network; leaves nothing but the output folder (no process keeps running).

    Exit 0 when every phase is done; 1 otherwise."""
    from agentir.demo import prepare_out, run_demo

    folder = prepare_out(out) if out is not None else Path(tempfile.mkdtemp(prefix="agentir-demo-"))
    err = stderr_console()

    def progress(text: str) -> None:
        err.print(Text(f"agentir demo: {text}"))

    result = run_demo(folder, keep_going=keep_going, progress=progress)
    code = 0 if result.ok else int(ExitCode.ERROR)
    if json_out:
        print_json("demo", _data(result), exit_code=code)
        raise typer.Exit(code)
    out_console = stdout_console()
    out_console.print(Text(f"agentir demo: a scratch incident in {folder}"), soft_wrap=True)
    for phase in result.phases:
        line = Text(f"  {phase.name:<10} {phase.status:<8} ")
        line.append(phase.summary)
        out_console.print(line, soft_wrap=True)
    left = result.processes_left
    ending = (
        f"  {'cleanup':<10} {'done' if not left else 'FAILED':<8} "
        + ("the stand-in agent was killed; nothing of the session runs"
           if not left else f"still running: {', '.join(map(str, left))}")
    )  # fmt: skip
    out_console.print(Text(ending), soft_wrap=True)
    if result.review:
        out_console.print(Text(f"review: {result.review['md']}"), soft_wrap=True)
        err.print(Text(f"agentir demo: wrote the review to {result.review['md']} (and .html)"))
    raise typer.Exit(code)


def _data(result: Any) -> dict[str, Any]:
    ws = result.workspace
    return {
        "output": str(result.out),
        "incident": result.incident,
        "session": ws.session_id if ws else None,
        "trace": str(ws.trace) if ws else None,
        "repo": str(ws.repo) if ws else None,
        "phases": [
            {"name": p.name, "status": p.status, "summary": p.summary, "details": p.details}
            for p in result.phases
        ],
        "review": result.review or None,
        "killed": result.killed,
        "processes_left": result.processes_left,
    }
