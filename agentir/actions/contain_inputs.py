"""What `agentir contain` is given, made usable: the request, the session's trace (found by
session id when not named), the severity decision, and the process selector."""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass
from pathlib import Path

from agentir.actions.credentials import CredentialReport, detector_observers, scan_trace
from agentir.actions.process_tree import MIN_SESSION_ID_LEN
from agentir.actions.processes import ContainmentMode, SessionSelector
from agentir.errors import TraceError, UsageError
from agentir.incidents.records import Incident, normalize_severity
from agentir.model import Assessment

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]+$")


@dataclass(frozen=True)
class ContainRequest:
    """What the responder asked for on the command line."""

    session_id: str | None = None
    trace: Path | None = None
    pids: tuple[int, ...] = ()
    cwd: Path | None = None
    severity: str | None = None
    mode: ContainmentMode = "pause"
    grace: float = 5.0
    commits: tuple[str, ...] = ()
    repo: Path | None = None
    runbooks_dir: Path | None = None
    title: str | None = None


@dataclass(frozen=True)
class SessionFacts:
    """The session as far as the command line and its trace tell."""

    id: str | None
    agent: str | None
    cwd: str | None
    trace: str | None

    def values(self) -> dict[str, str | None]:
        """The `{session.*}` template values."""
        return {"id": self.id, "agent": self.agent, "cwd": self.cwd}


def find_trace(session_id: str, home: Path | None = None) -> Path | None:
    """The trace of a Claude Code or Codex session by its id, from the agents' usual folders."""
    if not _SAFE_ID.match(session_id):
        return None
    base = home or Path.home()
    safe = glob.escape(session_id)
    patterns = [
        base / ".claude" / "projects" / "*" / f"{safe}.jsonl",
        base / ".codex" / "sessions" / "*" / "*" / "*" / f"rollout-*{safe}.jsonl",
    ]
    for pattern in patterns:
        hits = sorted(glob.glob(str(pattern)))
        if hits:
            return Path(hits[-1])
    return None


def read_trace(
    request: ContainRequest, notes: list[str]
) -> tuple[Assessment | None, CredentialReport | None, Path | None]:
    """Assess the session's trace (given, or found by session id); notes say what happened."""
    trace = request.trace
    if trace is None and request.session_id:
        trace = find_trace(request.session_id)
        if trace is not None:
            notes.append(f"found the session's trace at {trace}")
    if trace is None:
        return None, None, None
    if request.trace is not None and not trace.exists():
        raise UsageError(f"no such trace: {trace}", hint="check the --trace path")
    try:
        sessions = scan_trace(trace, detector_observers())
    except TraceError as exc:
        if request.trace is not None:
            raise
        notes.append(f"could not read {trace}: {exc.message}")
        return None, None, None
    if not sessions:
        notes.append(f"{trace} holds no agent session")
        return None, None, trace
    wanted = [s for s in sessions if s[0].session.id == request.session_id]
    assessment, credentials = (wanted or sessions)[0]
    if len(sessions) > 1:
        notes.append(f"{trace} holds {len(sessions)} sessions; using {assessment.session.id}")
    return assessment, credentials, trace


def decide_severity(
    request: ContainRequest, existing: Incident | None, assessment: Assessment | None
) -> tuple[str, str, tuple[str, ...]]:
    """(level, source, reasons): given > the joined incident's > suggested > SEV1."""
    if request.severity is not None:
        level = normalize_severity(request.severity)
        if level is None:
            raise UsageError(f"unknown severity {request.severity!r}", hint="SEV1, SEV2 or SEV3")
        return level, "given", ("given on the command line",)
    if existing is not None:
        return existing.severity, "incident", (f"the severity of {existing.id}",)
    if assessment is not None and assessment.severity.suggested:
        return assessment.severity.suggested, "suggested", tuple(assessment.severity.reasons)
    return "SEV1", "default", ("nothing to judge by; if unsure, the higher level",)


def session_selector(
    request: ContainRequest, session_id: str | None, trace: Path | None, notes: list[str]
) -> SessionSelector:
    """What identifies the session's processes (a too-short id is left out, with a note).

    The trace's cwd is deliberately not used: another agent session may run in the same
    folder, so agent executables in a folder are matched only when --cwd names it."""
    usable = session_id if session_id and len(session_id) >= MIN_SESSION_ID_LEN else None
    if session_id and usable is None:
        if not (request.pids or request.cwd or trace):
            raise UsageError(
                f"session id {session_id!r} is too short to match processes safely",
                hint="name the processes with --pid instead",
            )
        notes.append(f"session id {session_id!r} is too short to match processes by; not used")
    return SessionSelector(
        session_id=usable, trace_path=trace, pids=tuple(request.pids), cwd=request.cwd
    )


def default_title(session: SessionFacts, request: ContainRequest) -> str:
    """A title for a new incident when none is given."""
    if session.id:
        agent = f" ({session.agent})" if session.agent else ""
        return f"Agent session {session.id}{agent} contained"
    return f"Agent processes {', '.join(map(str, request.pids))} contained"
