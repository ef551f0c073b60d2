"""`agentir watch TRACE`: follow a live trace and pause the agent on a kill-switch trigger."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from agentir.cli.common import JsonOpt, guarded, print_json, stderr_console, stdout_console
from agentir.errors import ExitCode, UsageError

TRIGGERED = int(ExitCode.FINDINGS)


def register(app: typer.Typer) -> None:
    """Add the command to the root app."""
    app.command("watch")(watch)


class _Stop:
    """Ctrl-C (or SIGTERM) handling: never in the middle of recording a trigger."""

    def __init__(self, watcher: Any) -> None:
        self.watcher = watcher
        self.signal: int | None = None

    def __call__(self, signum: int, _frame: Any) -> None:
        self.signal = signum
        if not self.watcher.busy:
            raise KeyboardInterrupt  # unwinds the sleep or the read at once

    def requested(self) -> bool:
        return self.signal is not None


@guarded("watch")
def watch(
    trace: Annotated[Path, typer.Argument(help="The live trace file (it may not exist yet).")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="Trace format (default: detected).")
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option("--policy", help="Policy file (default: the nearest agentir.yaml)."),
    ] = None,
    kill: Annotated[
        bool, typer.Option("--kill", help="Kill the agent instead of pausing.")
    ] = False,
    session: Annotated[
        str | None,
        typer.Option("--session", help="The agent session id (default: the trace's)."),
    ] = None,
    pid: Annotated[
        list[int] | None, typer.Option("--pid", help="A process of the agent (repeatable).")
    ] = None,
    cwd: Annotated[
        Path | None,
        typer.Option("--cwd", help="Also match agent executables running in this folder."),
    ] = None,
    poll: Annotated[
        float, typer.Option("--poll", help="Seconds between looks at the trace.")
    ] = 0.25,
    once: Annotated[
        bool, typer.Option("--once", help="Judge what the trace holds now, act, and exit.")
    ] = False,
    keep_watching: Annotated[
        bool,
        typer.Option("--keep-watching", help="Go on watching after containing the agent."),
    ] = False,
    new_only: Annotated[
        bool,
        typer.Option("--new-only", help="Act only on what is written after the watch starts."),
    ] = False,
    grace: Annotated[
        float, typer.Option("--grace", help="Seconds between SIGTERM and SIGKILL with --kill.")
    ] = 5.0,
    json_out: JsonOpt = False,
) -> None:
    """Follow a live agent trace (Claude Code, Codex, or any format agentir reads), apply the
    policy as events arrive, and on a kill-switch trigger pause the agent's processes (or
    --kill them), open an incident with the finding first, and send the configured alerts.

    Survives the file being rotated, truncated or not existing yet. Exit 0 when nothing
    fired, 4 when the kill switch fired and the agent was contained, 1 when it fired but
    something of the agent may still run, 130 on Ctrl-C."""
    from agentir.alerts import load_alerts
    from agentir.policy import load_policy
    from agentir.watch import Watcher, WatchOptions, warm_up

    if poll <= 0:
        raise UsageError("--poll must be above 0 seconds")
    trace = trace.expanduser().absolute()
    start = trace.parent if trace.parent.is_dir() else None
    loaded = load_policy(policy, start=start)
    alerts = load_alerts(_alerts_file(policy), start=start)
    options = WatchOptions(
        trace=trace,
        policy=loaded,
        fmt=fmt,
        kill=kill,
        session=session,
        pids=tuple(pid or ()),
        cwd=cwd,
        poll=poll,
        once=once,
        keep_watching=keep_watching,
        new_only=new_only,
        grace=grace,
        alerts=alerts,
    )
    err = stderr_console()

    def say(text: str) -> None:
        err.print(Text(f"agentir watch: {text}"))

    warm_up()
    watcher = Watcher(options, say)
    stop = _Stop(watcher)
    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    ks = loaded.kill_switch
    say(
        f"watching {trace} (policy: {loaded.source}; triggers {', '.join(ks.triggers)} "
        f"from {ks.min_severity}; alerts: {'on' if alerts.configured else 'none'}; "
        f"{'kill' if kill else 'pause'} on trigger)"
    )
    try:
        fired = watcher.run(stop=stop.requested)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if stop.requested():
        raise KeyboardInterrupt
    _finish(fired, watcher, json_out)


def _alerts_file(policy: Path | None) -> Path | None:
    """A --policy file that is a whole agentir.yaml (with `alerts:`) configures the alerts."""
    if policy is None:
        return None
    from agentir.config import load_section

    data, _ = load_section("alerts", policy)
    return policy if data is not None else None


def _finish(fired: list[Any], watcher: Any, json_out: bool) -> None:
    code = 0
    if fired:
        code = TRIGGERED if all(f.contained for f in fired) else int(ExitCode.ERROR)
    if json_out:
        data = {
            "trace": str(watcher.options.trace),
            "format": watcher.events.format,
            "events": watcher.events_seen,
            "fired": [f.to_data() for f in fired],
        }
        print_json("watch", data, exit_code=code)
        raise typer.Exit(code)
    out = stdout_console()
    for f in fired:
        finding = f.trigger.finding
        line = (
            f"{f.trigger.trigger}: {finding.message} ({finding.detector}, {finding.severity}); "
            f"{f.mode}: {f.summary or 'nothing done'}; incident {f.incident}"
        )
        out.print(Text(line), soft_wrap=True)
    if not fired:
        stderr_console().print(
            Text(f"agentir watch: {watcher.events_seen} events, no trigger"), highlight=False
        )
    raise typer.Exit(code)
