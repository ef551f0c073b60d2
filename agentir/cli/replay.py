"""`agentir replay TRACE|INCIDENT`: the session as it happened, one step at a time."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agentir.cli.common import JsonOpt, guarded, print_json
from agentir.errors import AgentirError, IncidentError, TraceError, UsageError

if TYPE_CHECKING:
    from agentir.replay import Replay

_INCIDENT_REF = re.compile(r"^(?:INC-[0-9A-Za-z-]+|latest)$", re.IGNORECASE)


def register(app: typer.Typer) -> None:
    """Add the command to the root app."""
    app.command("replay", no_args_is_help=True)(replay)


@guarded("replay")
def replay(
    target: Annotated[
        str, typer.Argument(help="A trace file, or an incident id (INC-…, a prefix, or latest).")
    ],
    plain: Annotated[
        bool, typer.Option("--plain", help="Print every step as plain text (for a pipe).")
    ] = False,
    from_seq: Annotated[
        int | None, typer.Option("--from", help="Start at the first step at or after this seq.")
    ] = None,
    finding: Annotated[
        int | None, typer.Option("--finding", help="Start at finding N (numbered from 1).")
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option("--html", help="Write the replay as one self-contained HTML page."),
    ] = None,
    session: Annotated[
        str | None,
        typer.Option("--session", help="Only the session whose id starts with this."),
    ] = None,
    fmt: Annotated[str | None, typer.Option("--format", "-f", help="Force a trace format.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Step through an agent session: messages, reasoning, tool calls with results, findings."""
    from agentir.replay import load_replay, replay_data, select_session, start_index

    path, incident = _resolve(target)
    data = load_replay(path, fmt)
    if session is not None:
        data = select_session(data, session)
    start = start_index(data, from_seq, finding)
    if data.detector_error and not json_out:
        _note(f"note: the detectors failed ({data.detector_error}), so no findings are marked")
    elif not data.detectors and not json_out:
        _note("note: the detectors are not available in this build, so no findings are marked")
    if html is not None:
        _write_html(data, html, incident)
    if json_out:
        print_json("replay", replay_data(data, start))
        return
    if html is not None and not plain:
        return  # the page was what was asked for
    if not data.steps:
        sys.stdout.write(f"no steps to replay in {data.path}\n")
        return
    if plain or not _interactive():
        from agentir.render.replay_text import plain_lines

        try:
            for line in plain_lines(data, start):
                sys.stdout.write(line + "\n")
            sys.stdout.flush()
        except BrokenPipeError:  # `| head` closed the pipe: not an error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return
    from agentir.cli.replay_view import run_interactive

    run_interactive(data, start)


def _interactive() -> bool:
    if os.name != "posix":
        return False  # no termios: the plain view instead
    return sys.stdin.isatty() and sys.stdout.isatty()


def _resolve(target: str) -> tuple[Path, str | None]:
    """The trace to read, and the incident it came from (None for a plain file)."""
    path = Path(target).expanduser()
    if path.exists():
        if path.is_dir():
            raise UsageError(
                f"{target} is a directory; replay reads one trace file",
                hint="pass one session file (agentir assess DIR lists them)",
            )
        return path, None
    if not _INCIDENT_REF.match(target.strip()):
        raise TraceError(
            f"no such file: {target}", hint="pass a trace file or an incident id (INC-…)"
        )
    try:
        from agentir.incidents.store import IncidentStore
    except ImportError:
        raise IncidentError(
            f"{target} looks like an incident id, but the incident store is not available",
            hint="pass the trace file itself",
        ) from None
    store = IncidentStore()
    incident = store.get(target)
    if not incident.traces:
        raise IncidentError(
            f"{incident.id} has no trace attached",
            hint=f"pass the trace file, or attach one to {incident.id} first",
        )
    trace = Path(incident.traces[0])
    if trace.exists():
        return trace, incident.id
    # The agent's own file may be gone (Claude Code deletes old sessions): use the copy kept.
    folder = store.path(incident.id) / "evidence"
    for record in store.evidence(incident.id):
        copy = folder / record.name
        if record.path == str(trace) and copy.is_file():
            return copy, incident.id
    raise IncidentError(
        f"the trace of {incident.id} is gone: {trace}",
        hint="no copy of it is in the incident's evidence either",
    )


def _write_html(data: Replay, dest: Path, incident: str | None) -> None:
    from agentir.render.replay_html import render_replay_html

    page = render_replay_html(data)
    dest = dest.expanduser()
    temp: str | None = None
    try:  # written whole or not at all: a half page must not end up in the evidence
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=dest.parent, prefix=".replay-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(page)
        os.chmod(temp, 0o644)
        os.replace(temp, dest)
    except OSError as exc:
        if temp is not None and os.path.exists(temp):
            os.unlink(temp)
        raise AgentirError(f"cannot write {dest}: {exc.strerror or exc}") from None
    _note(f"wrote the replay page to {dest}")
    if incident is None:
        return
    from agentir.incidents.store import IncidentStore

    record, is_new = IncidentStore().add_evidence(incident, dest)
    where = IncidentStore().path(incident) / "evidence" / record.name
    verb = "stored" if is_new else "already"
    _note(f"{verb} in {incident}'s evidence as {where}")


def _note(text: str) -> None:
    """A message for the responder on stderr, unwrapped (paths stay copyable)."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()
