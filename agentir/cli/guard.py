"""`agentir guard install|uninstall|hook|status`: the kill switch as a Claude Code hook."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from agentir.cli.common import DryRunOpt, JsonOpt, guarded, print_json, stderr_console
from agentir.errors import UsageError

sub = typer.Typer(
    help="The live kill switch as a Claude Code PreToolUse hook: install, remove, inspect.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

ProjectOpt = Annotated[
    Path | None,
    typer.Option("--project", help="Project folder: DIR/.claude/settings.json (default: cwd)."),
]
UserOpt = Annotated[
    bool, typer.Option("--user", help="Your user settings ~/.claude/settings.json.")
]
SettingsOpt = Annotated[
    Path | None, typer.Option("--settings", help="This Claude Code settings file instead.")
]


def register(app: typer.Typer) -> None:
    """Add `agentir guard` to the root app."""
    app.add_typer(sub, name="guard")


def _where(project: Path | None, user: bool, settings: Path | None) -> Path:
    from agentir.guard.settings import settings_path

    if sum((project is not None, user, settings is not None)) > 1:
        raise UsageError("give only one of --project, --user and --settings")
    if settings is not None:
        return settings.expanduser().resolve()
    return settings_path(project, user=user)


def _diff(change: Any) -> str:
    before = (change.before or b"").decode("utf-8", "replace").splitlines(keepends=True)
    after = (change.after or b"").decode("utf-8", "replace").splitlines(keepends=True)
    name = str(change.path)
    return "".join(difflib.unified_diff(before, after, name, name + " (after)"))


def _report(command: str, change: Any, backup: Path | None, dry_run: bool, json_out: bool) -> None:
    data = {
        "settings": str(change.path),
        "changed": change.changed,
        "dry_run": dry_run,
        "note": change.note,
        "command": change.command,
        "backup": str(backup) if backup else None,
        "restored_from": str(change.restored_from) if change.restored_from else None,
        "deleted": change.changed and change.after is None,
    }
    if json_out:
        if dry_run:
            data["diff"] = _diff(change)
        print_json(command, data)
        return
    err = stderr_console()
    if dry_run and change.changed:
        typer.echo(_diff(change), nl=False)
    verb = "would change" if dry_run else ("changed" if change.changed else "unchanged")
    err.print(Text(f"{change.path}: {verb}: {change.note}"))
    if backup is not None:
        err.print(Text(f"backup of the previous file: {backup}"))
    if dry_run:
        err.print(Text("dry run: nothing was written"))


@sub.command("install")
@guarded("guard install")
def install(
    project: ProjectOpt = None,
    user: UserOpt = False,
    settings: SettingsOpt = None,
    policy: Annotated[
        Path | None,
        typer.Option("--policy", help="Policy file for the hook (default: nearest agentir.yaml)."),
    ] = None,
    dry_run: DryRunOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Add the guard as a PreToolUse hook to Claude Code's settings (merged with the hooks
    there, the file backed up first). It runs this Python: `-m agentir.guard.hook`."""
    from agentir.guard.settings import apply, hook_command, plan_install

    if policy is not None and not policy.is_file():
        raise UsageError(f"no such policy file: {policy}")
    path = _where(project, user, settings)
    change = plan_install(path, hook_command(policy=policy))
    backup = None if dry_run else apply(change)
    _report("guard install", change, backup, dry_run, json_out)


@sub.command("uninstall")
@guarded("guard uninstall")
def uninstall(
    project: ProjectOpt = None,
    user: UserOpt = False,
    settings: SettingsOpt = None,
    dry_run: DryRunOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Remove exactly what install added; the file is byte-identical to before install when
    nothing else changed in it since."""
    from agentir.guard.settings import apply, plan_uninstall

    path = _where(project, user, settings)
    change = plan_uninstall(path)
    backup = None if dry_run else apply(change)
    _report("guard uninstall", change, backup, dry_run, json_out)


@sub.command(
    "hook",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def hook(
    ctx: typer.Context,
    policy: Annotated[
        Path | None, typer.Option("--policy", help="Policy file (default: nearest agentir.yaml).")
    ] = None,
) -> None:
    """The hook itself: reads Claude Code's PreToolUse JSON on stdin; exit 0 allows the call,
    exit 2 blocks it with the reason on stderr. Fails closed. (Installed as the leaner
    `python -m agentir.guard.hook`.)"""
    from agentir.guard.hook import main

    argv = ["--policy", str(policy)] if policy is not None else []
    raise typer.Exit(main([*argv, *ctx.args]))


@sub.command("status")
@guarded("guard status")
def status(
    project: ProjectOpt = None,
    user: UserOpt = False,
    settings: SettingsOpt = None,
    last: Annotated[int, typer.Option("--last", help="How many recent blocks to show.")] = 5,
    json_out: JsonOpt = False,
) -> None:
    """Is the guard installed here, can its policy be read, and what did it block lately."""
    from agentir.guard.status import guard_status

    path = _where(project, user, settings)
    data = guard_status(path, project or (path.parent.parent if not user else None), last)
    if json_out:
        print_json("guard status", data)
        return
    from agentir.cli.common import stdout_console
    from agentir.cli.incident_view import safe

    console = stdout_console()

    def out(text: str) -> None:
        console.print(safe(text), soft_wrap=True)

    out(f"settings: {data['settings']}")
    out(f"installed: {'yes' if data['installed'] else 'no'}")
    for command in data["commands"]:
        out(f"  command: {command['command']}")
        out(f"  python: {'ok' if command['python_exists'] else 'MISSING (the hook cannot start)'}")
    policy = data["policy"]
    state = "readable" if policy["ok"] else f"UNREADABLE, every call is blocked: {policy['error']}"
    out(f"policy: {policy['source']} ({state})")
    out(f"sessions with state: {data['sessions']}")
    out(f"blocks logged: {data['blocks_total']} ({data['blocks_log']})")
    for block in data["recent_blocks"]:
        out(f"  {block.get('at')}  {block.get('session')}  {block.get('reason')}")
