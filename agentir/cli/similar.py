"""`agentir similar INCIDENT [PATH…]`: other sessions and commits that share the incident's flaw."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agentir.cli.common import JsonOpt, guarded, print_json, stderr_console, stdout_console
from agentir.errors import UsageError

if TYPE_CHECKING:
    from rich.table import Table

    from agentir.analysis.similar import SimilarResult


def register(app: typer.Typer) -> None:
    """Add the command to the root app."""
    app.command("similar", no_args_is_help=True)(similar)


@guarded("similar")
def similar(
    incident_id: Annotated[
        str, typer.Argument(help="Incident id, a unique prefix of it, or 'latest'.")
    ],
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="[PATH]...",
            show_default=False,
            help="Trace files or folders to search. Default: the agents' own log folders "
            "(~/.claude/projects, ~/.codex/sessions, … that exist), as agentir scan.",
        ),
    ] = None,
    repo: Annotated[
        Path | None,
        typer.Option(
            "--repo", help="Repository whose history to search (default: the session's cwd)."
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Search commits since: a date or 30d, 12w (default: 90 days before the incident).",
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Matches to show.")] = 20,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=1, help="Worker processes (default: one per CPU)."),
    ] = None,
    policy_file: Annotated[
        Path | None, typer.Option("--policy", help="Policy file for the detectors.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Does other work share the flaw? Search sessions and history for the incident's pattern."""
    from agentir.analysis.scan import parse_since
    from agentir.analysis.similar import find_similar, record
    from agentir.incidents.store import IncidentStore
    from agentir.policy import load_policy

    cutoff = None
    if since is not None:
        try:
            cutoff = parse_since(since)
        except ValueError:
            raise UsageError(
                f"--since {since!r} is not a duration or a date", hint="use 30d, 12w or 2026-03-01"
            ) from None
    for path in paths or []:
        if not path.exists():
            raise UsageError(f"no such file or folder: {path}", hint="check the PATH arguments")
    store = IncidentStore()
    ref = store.resolve(incident_id)
    policy = load_policy(policy_file)
    result = find_similar(
        store, ref, list(paths or []), repo_path=repo, since=cutoff, jobs=jobs, policy=policy,
        progress=None if json_out or not sys.stderr.isatty() else _progress(),
    )  # fmt: skip
    record(store, result)
    if json_out:
        errors = [
            {"code": e.code, "message": f"{e.path}: {e.error}"} for e in result.sessions.errors
        ]
        print_json("similar", result.to_dict(limit), errors=errors)
        return
    console = stdout_console()
    if not sys.stdout.isatty():
        console.width = 200
    if result.matches:
        console.print(table(result, limit))
    err = stderr_console()
    for line in summary(result):
        err.print(line, markup=False, highlight=False)


def _progress() -> Any:
    err = stderr_console()

    def tick(done: int, total: int, path: str) -> None:
        if done == total or done % 50 == 0:
            err.print(f"searched {done}/{total} trace file(s)", markup=False, highlight=False)

    return tick


def summary(result: SimilarResult) -> list[str]:
    """What was searched and found, for stderr."""
    s, c = result.sessions, result.commits
    lines = [
        f"searched {s.files} trace file(s) under {', '.join(result.roots) or 'nothing'}: "
        f"{s.sessions} other session(s), {len(s.errors)} unreadable "
        f"({s.seconds:.1f}s, {s.jobs} worker(s))"
    ]
    if c.repo:
        since = c.since.date().isoformat() if c.since else "the beginning"
        lines.append(
            f"searched {c.read} commit(s) of {c.repo} since {since}: {c.agent} other "
            f"commit(s) by the incident's agent ({len(c.own)} of the incident's own left out)"
        )
    lines.append(
        f"found {len(s.matches)} similar session(s) and {len(c.matches)} similar commit(s)"
        + ("" if result.matches else ": nothing shares the incident's pattern")
    )
    lines += [f"note: {n}" for n in result.notes]
    lines += [f"unreadable: {e.path}: {e.error}" for e in s.errors[:10]]
    return lines


def table(result: SimilarResult, limit: int) -> Table:
    """The ranked matches with their evidence."""
    from rich.table import Table
    from rich.text import Text

    from agentir.render.terminal import safe

    t = Table(
        title=f"Look-alikes of {result.incident} (best first)",
        title_justify="left",
        show_edge=False,
        pad_edge=False,
        show_lines=True,
    )
    t.add_column("#", justify="right", no_wrap=True)
    t.add_column("score", justify="right", no_wrap=True)
    t.add_column("what", min_width=20, max_width=60)
    t.add_column("evidence", min_width=30)
    for i, m in enumerate(result.matches[:limit], 1):
        if m.kind == "session":
            what = safe(f"session {m.session_id}", 80)
            where = f"{m.trace_path}" + (
                f" (seqs {', '.join(map(str, m.seqs[:8]))})" if m.seqs else ""
            )
            what.append("\n").append_text(safe(where, 200, "dim"))
        else:
            what = safe(f"commit {(m.sha or '')[:10]} {m.subject or ''}", 100)
            when = m.date.date().isoformat() if m.date else ""
            what.append("\n").append_text(safe(f"{m.author} {when}", 120, "dim"))
        evidence = Text()
        for j, reason in enumerate(m.reasons):
            if j:
                evidence.append("\n")
            evidence.append_text(safe(f"- {reason.detail}", 300))
        t.add_row(str(i), f"{m.score:.2f}", what, evidence)
    if len(result.matches) > limit:
        t.add_row("…", "", Text(f"{len(result.matches) - limit} more (--limit)", style="dim"), "")
    return t
