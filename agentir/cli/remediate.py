"""`agentir remediate [INCIDENT] --repo PATH [--trace FILE]`: revert the agent's commits safely."""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from agentir.cli.common import (
    DryRunOpt,
    JsonOpt,
    YesOpt,
    guarded,
    print_json,
    stderr_console,
    stdout_console,
)
from agentir.errors import ExitCode, UsageError


def register(app: typer.Typer) -> None:
    """Add the command to the root app."""
    app.command("remediate", no_args_is_help=True)(remediate)


@guarded("remediate")
def remediate(
    incident: Annotated[
        str | None,
        typer.Argument(help="Incident id (or prefix, or 'latest'); optional.", metavar="INCIDENT"),
    ] = None,
    repo: Annotated[
        Path | None,
        typer.Option("--repo", metavar="PATH", help="The repository (default: the session's cwd)."),
    ] = None,
    trace: Annotated[
        list[Path] | None,
        typer.Option(
            "--trace",
            metavar="FILE",
            help="Agent trace (repeatable; default: the incident's traces).",
        ),
    ] = None,
    session: Annotated[
        list[str] | None,
        typer.Option("--session", metavar="ID", help="Only this session id (repeatable)."),
    ] = None,
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
    strategy: Annotated[
        str,
        typer.Option(
            "--strategy", metavar="stop|skip", help="On a conflict: stop (undo everything) or skip."
        ),
    ] = "stop",
    stash: Annotated[
        bool, typer.Option("--stash", help="Stash a dirty working tree (after the reverts).")
    ] = False,
    verify_only: Annotated[
        bool, typer.Option("--verify-only", help="Only rerun the checks on the revert branch.")
    ] = False,
    check: Annotated[
        list[str] | None,
        typer.Option(
            "--check",
            metavar="CMD",
            help="A check command, e.g. 'pytest -q' (repeatable; no shell).",
        ),
    ] = None,
    check_timeout: Annotated[
        float, typer.Option("--check-timeout", metavar="SECONDS", help="Seconds per --check.")
    ] = 600.0,
    include_other: Annotated[
        bool, typer.Option("--include-other", help="Also revert other agent commits.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", metavar="DIR", help="Evidence folder when there is no incident."),
    ] = None,
    runbooks: Annotated[
        Path | None,
        typer.Option(
            "--runbooks", metavar="DIR", help="Folder of runbooks overriding the defaults."
        ),
    ] = None,
    slack: Annotated[
        float,
        typer.Option(
            "--window-slack", metavar="SECONDS", help="Seconds added around the session window."
        ),
    ] = 120.0,
    lookback: Annotated[
        float,
        typer.Option("--lookback-days", metavar="DAYS", help="How far before the session to scan."),
    ] = 30.0,
    json_out: JsonOpt = False,
) -> None:
    """Find the agent's commits and revert them on a new branch; prove the result with checks."""
    from agentir.actions.remediation import Sink, load_sessions

    if strategy not in ("stop", "skip"):
        raise UsageError(f"--strategy {strategy!r}", hint="use stop or skip")
    sink = Sink(incident, out)
    record = sink.incident_record()
    traces = list(trace or []) or sink.incident_traces()
    if not traces:
        raise UsageError("no trace to read", hint="pass --trace FILE (or an incident with traces)")
    sessions, notes = load_sessions(traces, session or [], record.sessions if record else [])
    if not sessions:
        raise UsageError("the traces hold no agent session", hint="check the --trace path")
    label = sink.incident or sessions[0].session.id[:8]
    git_repo = _open_repo(repo, sessions)
    checks = _checks(check, check_timeout, sink, record, runbooks, sessions, label)
    err = stderr_console()
    for note in notes:
        err.print(f"agentir remediate: {note}")
    if verify_only:
        _verify_only(git_repo, label, checks, sink, json_out)
        return
    from agentir.actions.revert_plan import build_plan

    plan = build_plan(
        git_repo, sessions, label=label, incident=sink.incident,
        slack=timedelta(seconds=slack), lookback=timedelta(days=lookback),
        include_other=include_other,
    )  # fmt: skip
    if dry_run:
        _show(plan, None, [], json_out, dry_run=True)
        raise typer.Exit(0)
    if not yes:
        _confirm(plan, json_out)
    _apply(git_repo, plan, sink, strategy, stash, checks, json_out)


def _open_repo(repo: Path | None, sessions: list[Any]) -> Any:
    from agentir.gitrepo import GitRepo

    if repo is None:
        cwd = next((a.session.cwd for a in sessions if a.session.cwd), None)
        repo = Path(cwd) if cwd and Path(cwd).is_dir() else Path.cwd()
    return GitRepo(repo)


def _checks(
    check: list[str] | None,
    timeout: float,
    sink: Any,
    record: Any,
    runbooks: Path | None,
    sessions: list[Any],
    label: str,
) -> list[Any]:
    from agentir.actions.remediation import runbook_checks
    from agentir.actions.verify import parse_check

    if check:
        try:
            return [parse_check(c, timeout) for c in check]
        except ValueError as exc:
            raise UsageError(f"--check: {exc}", hint="e.g. --check 'pytest -q'") from None
    if record is None:
        return []
    s = sessions[0].session
    values = {
        "incident.id": record.id, "incident.severity": record.severity,
        "incident.title": record.title, "incident.dir": sink.incident_dir(),
        "session.id": s.id, "session.cwd": s.cwd, "session.agent": s.agent,
        "trace": s.trace_path, "repo": ".", "actor": None, "now": None, "commit": None,
    }  # fmt: skip
    return runbook_checks(record, runbooks, values)


def _confirm(plan: Any, json_out: bool) -> None:
    if json_out or not sys.stdin.isatty():
        raise UsageError("applying needs --yes (or an interactive terminal)", hint="or --dry-run")
    _show(plan, None, [], False, dry_run=False)
    question = f"Revert {len(plan.reverts)} commit(s) on a new branch {plan.target_branch}?"
    if not typer.confirm(question):
        stderr_console().print("agentir remediate: not applied, nothing changed")
        raise typer.Exit(int(ExitCode.ERROR))


def _apply(
    repo: Any, plan: Any, sink: Any, strategy: str, stash: bool, checks: list[Any], json_out: bool
) -> None:
    from agentir.actions.remediation import remediate
    from agentir.actions.revert import PAUSE_ENV, ApplyOptions

    pause = os.environ.get(PAUSE_ENV)
    options = ApplyOptions(
        strategy=strategy, stash=stash, checks=tuple(checks),
        pause_after=int(pause) if pause and pause.isdigit() else None,
    )  # fmt: skip
    outcome = remediate(repo, plan, options, sink)
    result, added = outcome.result, outcome.checklist_added
    if sink.incident is None and sink.out is not None:
        stderr_console().print(f"agentir remediate: evidence written to {sink.out}")
    failed = result.verified is False
    if outcome.remediated:
        stderr_console().print(
            f"agentir remediate: incident {sink.incident} is remediated; merge {result.branch} to "
            "deploy (the deploy gate blocks history that still carries the agent's commits)"
        )
    _show(plan, result, added, json_out, dry_run=False, code=int(ExitCode.ERROR) if failed else 0)
    if failed:
        stderr_console().print(
            f"agentir remediate: the checks fail on {result.branch}; it is kept for you to inspect"
        )
        raise typer.Exit(int(ExitCode.ERROR))


def _verify_only(repo: Any, label: str, checks: list[Any], sink: Any, json_out: bool) -> None:
    from agentir.actions.revert import verify_branch
    from agentir.actions.revert_plan import target_branch_for
    from agentir.actions.verify import summary

    if not checks:
        raise UsageError("no checks to run", hint="pass --check CMD or use a runbook with checks")
    branch = target_branch_for(label)
    results = verify_branch(repo, branch, checks, repo.prefix)
    sink.record("remediate.verify", {"branch": branch, **summary(results)})
    ok = all(r.ok for r in results)
    code = 0 if ok else int(ExitCode.ERROR)
    if json_out:
        print_json("remediate", {"branch": branch, "checks": results, "ok": ok}, exit_code=code)
    else:
        from agentir.cli.remediate_view import checks_view

        stdout_console().print(checks_view(results, f"Checks on {branch}"))
    raise typer.Exit(code)


def _show(
    plan: Any, result: Any, added: list[str], json_out: bool, *, dry_run: bool, code: int = 0
) -> None:
    if json_out:
        data = {"dry_run": dry_run, "plan": plan, "result": result, "checklist_added": added}
        data["verified"] = result.verified if result is not None else None
        errors = []
        if code:
            errors = [{"code": "verification_failed", "message": "checks fail on the branch"}]
        print_json("remediate", data, exit_code=code, errors=errors)
        return
    from agentir.cli.remediate_view import plan_view, result_view

    out = stdout_console()
    if result is None:
        out.print(plan_view(plan))
        if dry_run:
            stderr_console().print("agentir remediate: dry run, nothing changed")
        return
    out.print(result_view(result))
    if added:
        stderr_console().print(f"agentir remediate: {len(added)} checklist item(s) added")
