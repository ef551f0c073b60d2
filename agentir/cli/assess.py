"""`agentir assess TRACE`: what the agent did, from its own trace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from agentir.cli.common import JsonOpt, guarded, print_json, stderr_console, stdout_console
from agentir.errors import ExitCode, TraceError, UsageError

FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format", "-f", help="Force a trace format instead of detecting it (see README)."
    ),
]
PolicyOpt = Annotated[
    Path | None,
    typer.Option(
        "--policy",
        help="Policy file (YAML; the policy at the top level or under `policy:`). "
        "Default: the `policy:` section of the nearest agentir.yaml, else the built-in policy.",
    ),
]
FailOnOpt = Annotated[
    str | None,
    typer.Option(
        "--fail-on", help="Exit 4 when a session is at or above this level (SEV1, SEV2, SEV3)."
    ),
]


def register(app: typer.Typer) -> None:
    """Add the command to the root app."""
    app.command("assess", no_args_is_help=True)(assess)


@guarded("assess")
def assess(
    trace: Annotated[
        Path, typer.Argument(help="A trace file, or a directory of traces (read recursively).")
    ],
    fmt: FormatOpt = None,
    fail_on: FailOnOpt = None,
    policy_file: PolicyOpt = None,
    json_out: JsonOpt = False,
    full: Annotated[
        bool, typer.Option("--all", help="Show every row instead of the first 25.")
    ] = False,
) -> None:
    """Read an agent's trace: files touched, commands, failures, cost, external effects, severity."""
    from agentir.analysis.batch import assess_path
    from agentir.analysis.detectors import observer_factory
    from agentir.analysis.severity import at_or_above
    from agentir.policy import load_policy

    threshold = _level(fail_on)
    policy = load_policy(policy_file)
    result = assess_path(trace, fmt, observer_factory(policy))
    if not result.rows:
        raise TraceError(
            f"no agent trace found in {trace}",
            hint="point at a session file (e.g. ~/.claude/projects/<dir>/<id>.jsonl) or use --format",
        )
    sessions = [a for _, a, _ in result.rows if a is not None]
    breach = threshold is not None and any(
        at_or_above(a.severity.suggested, threshold) for a in sessions
    )
    code = int(ExitCode.FINDINGS) if breach else 0
    single = not result.directory and len(result.rows) == 1 and sessions
    if json_out:
        from agentir.render.jsonout import assessment_data

        data: Any
        errors = [
            {"code": "unreadable_trace", "message": f"{p}: {e}"}
            for p, a, e in result.rows
            if a is None
        ]
        if single:
            data = assessment_data(sessions[0])
        else:
            data = {
                "sessions": [assessment_data(a) for a in sessions],
                "unreadable": [{"path": p, "error": e} for p, a, e in result.rows if a is None],
                "not_traces": result.not_traces,
            }
        print_json("assess", data, exit_code=code, errors=errors)
        raise typer.Exit(code)
    _render(result, bool(single), full)
    if breach:
        stderr_console().print(f"agentir assess: a session is at or above {threshold} (exit 4)")
    raise typer.Exit(code)


def _level(value: str | None) -> str | None:
    if value is None:
        return None
    level = value.strip().upper()
    if level not in ("SEV1", "SEV2", "SEV3"):
        raise UsageError(f"--fail-on {value!r} is not a level", hint="use SEV1, SEV2 or SEV3")
    return level


def _render(result: Any, single: bool, full: bool) -> None:
    from agentir.render import terminal

    out = stdout_console()
    limit = 10_000 if full else terminal.LIST_LIMIT
    if single:
        a = result.rows[0][1]
        out.print(terminal.assessment_view(a, limit))
    else:
        out.print(terminal.sessions_summary(result.rows))
        sessions = [a for _, a, _ in result.rows if a is not None]
        if len(sessions) == 1 and not result.directory:
            out.print(terminal.assessment_view(sessions[0], limit))
    err = stderr_console()
    for path, a, error in result.rows:
        if a is None:
            err.print(terminal.safe(f"skipped {path}: {error}", 300))
    if result.not_traces:
        err.print(f"{result.not_traces} file(s) were not agent traces and were skipped")
    if result.read_notes:
        for note in result.read_notes:
            err.print(terminal.safe(note, 300))
