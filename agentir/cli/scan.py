"""`agentir scan [PATH…]`: every session under the given folders (default: the agents' own log
folders), assessed in parallel, ranked by severity and findings."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agentir.cli.common import JsonOpt, guarded, print_json, stderr_console, stdout_console
from agentir.errors import ExitCode, TraceError, UsageError

if TYPE_CHECKING:
    from rich.table import Table

    from agentir.analysis.scan import ScanResult

SHOWN = 50


def register(app: typer.Typer) -> None:
    """Add the command to the root app."""
    app.command("scan")(scan)


@guarded("scan")
def scan(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="PATH",
            show_default=False,
            help="Trace files or folders (read recursively). Default: ~/.claude/projects, "
            "~/.codex/sessions, ~/.gemini/tmp, ~/.openhands/… (those that exist).",
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only files modified since: 2d, 12h, 30m, 1w or a date."),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=1, help="Worker processes (default: one per CPU)."),
    ] = None,
    policy_file: Annotated[
        Path | None,
        typer.Option(
            "--policy", help="Policy file (default: agentir.yaml's policy:, else built-in)."
        ),
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option("--fail-on", help="Exit 4 when a session is at or above SEV1, SEV2 or SEV3."),
    ] = None,
    full: Annotated[
        bool, typer.Option("--all", help=f"Show every row, not the first {SHOWN}.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Find the bad sessions among many: assess every trace in parallel and rank them."""
    from agentir.analysis import scan as core
    from agentir.analysis.severity import at_or_above
    from agentir.cli.assess import _level
    from agentir.policy import load_policy

    threshold = _level(fail_on)
    cutoff = None
    if since is not None:
        try:
            cutoff = core.parse_since(since)
        except ValueError:
            raise UsageError(
                f"--since {since!r} is not a duration or a date",
                hint="use 2d, 12h, 30m, 1w or 2026-03-01",
            ) from None
    policy = load_policy(policy_file)
    roots = list(paths or core.default_roots())
    if not roots:
        raise TraceError(
            "no agent log folder found (~/.claude/projects, ~/.codex/sessions, ~/.gemini/tmp, "
            "~/.openhands/…)",
            hint="pass the folders or files to scan",
        )
    show_progress = not json_out and sys.stderr.isatty()
    result = _run(core, roots, cutoff, jobs, policy, show_progress)
    if (
        paths
        and len(result.errors) == len(roots)
        and all(e.code == "not_found" for e in result.errors)
    ):
        raise TraceError(
            f"nothing to scan: {', '.join(map(str, roots))} not found", hint="check the paths"
        )
    breach = threshold is not None and any(
        at_or_above(s.severity, threshold) for s in result.sessions
    )
    code = int(ExitCode.FINDINGS) if breach else 0
    if json_out:
        data = {
            "sessions": result.sessions,
            "errors": [{"path": e.path, "error": e.error, "code": e.code} for e in result.errors],
            "scanned_files": result.scanned_files,
            "not_traces": result.not_traces,
            "roots": result.roots,
            "since": result.since,
            "jobs": result.jobs,
            "policy": policy.source,
        }
        errors = [{"code": e.code, "message": f"{e.path}: {e.error}"} for e in result.errors]
        print_json("scan", data, exit_code=code, errors=errors)
        raise typer.Exit(code)
    _console().print(table(result, None if full else SHOWN))
    err = stderr_console()
    err.print(
        f"scanned {result.scanned_files} file(s): {len(result.sessions)} session(s), "
        f"{len(result.errors)} unreadable, {result.not_traces} not traces; "
        f"{result.seconds:.1f}s with {result.jobs} worker(s); policy: {policy.source}",
        markup=False,
        highlight=False,
    )
    if breach:
        err.print(f"agentir scan: a session is at or above {threshold} (exit 4)", markup=False)
    raise typer.Exit(code)


def _run(
    core: Any, roots: list[Path], cutoff: Any, jobs: int | None, policy: Any, show: bool
) -> ScanResult:
    if not show:
        return core.scan(roots, since=cutoff, jobs=jobs, policy=policy)  # type: ignore[no-any-return]
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("scanning"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=stderr_console(),
        transient=True,
    ) as bar:
        task = bar.add_task("scan", total=None)

        def tick(done: int, total: int, path: str) -> None:
            bar.update(task, completed=done, total=total)

        return core.scan(roots, since=cutoff, jobs=jobs, policy=policy, progress=tick)  # type: ignore[no-any-return]


def table(result: ScanResult, limit: int | None) -> Table:
    """Sessions ranked by severity and findings, then unreadable files as error rows."""
    from rich.table import Table
    from rich.text import Text

    from agentir.render.terminal import _SEV_STYLE, money, safe

    t = Table(title="Sessions (worst first)", title_justify="left", show_edge=False, pad_edge=False)
    t.add_column("severity", no_wrap=True, min_width=8)
    t.add_column("session", no_wrap=True, max_width=20, overflow="ellipsis")
    t.add_column("agent", no_wrap=True, min_width=5, max_width=12, overflow="ellipsis")
    t.add_column("findings", justify="right", no_wrap=True, min_width=8)
    t.add_column("top finding", min_width=20, max_width=90)
    t.add_column("effects", justify="right", no_wrap=True, min_width=7)
    t.add_column("cost", justify="right", no_wrap=True, min_width=7)
    t.add_column("trace", min_width=12, max_width=60)
    rows = result.sessions if limit is None else result.sessions[:limit]
    for s in rows:
        top = s.top_finding
        top_text = f"{top['severity']} {top['detector']}: {top['message']}" if top else "-"
        t.add_row(
            Text(s.severity or "-", style=_SEV_STYLE.get(s.severity, "")),
            safe(s.session_id, 36),
            safe(s.agent, 20),
            str(s.findings),
            _cell(safe(top_text, 200)),
            str(s.effects),
            money(s.cost_usd),
            _cell(safe(_short(s.trace_path, result.roots), 200)),
        )
    if limit is not None and len(result.sessions) > limit:
        more = Text(f"{len(result.sessions) - limit} more (use --all)", style="dim")
        t.add_row("…", more, *[""] * 6)
    for e in result.errors:
        t.add_row(
            Text("error", style="red"),
            "-",
            "-",
            "-",
            _cell(safe(e.error, 200, "red")),
            "-",
            "-",
            _cell(safe(_short(e.path, result.roots), 200)),
        )
    return t


def _cell(text: Any) -> Any:
    """One line, cut with an ellipsis when the column is narrow."""
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text


def _short(path: str, roots: list[str]) -> str:
    """A trace path relative to the folder it was found under (or with ~ for the home)."""
    for root in roots:
        base = str(Path(root).expanduser())
        if path.startswith(base.rstrip("/") + "/") and Path(base).is_dir():
            return path[len(base.rstrip("/")) + 1 :]
    home = str(Path.home())
    return "~" + path[len(home) :] if path.startswith(home + "/") else path


def _console() -> Any:
    """stdout; a pipe or file gets wide lines instead of rich's 80 columns."""
    console = stdout_console()
    if not sys.stdout.isatty():
        console.width = 200
    return console
