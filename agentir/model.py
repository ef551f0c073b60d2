"""Frozen dataclasses shared by every part of agentir: the event model and what analysis derives.

Readers turn a trace into `Event`s (one subclass per kind); analysis folds events into
`FileTouch`, `CommandRun`, `Effect`, `Finding` and an `Assessment`. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar


class EventKind(str, Enum):
    """What an event records."""

    SESSION = "session"  # metadata: cwd, branch, model, permission / sandbox mode (may repeat)
    MESSAGE = "message"
    MODEL_CALL = "model_call"
    TOOL_CALL = "tool_call"
    TOOL_RESULT = "tool_result"
    COMPACTION = "compaction"
    ERROR = "error"  # harness / API errors and abnormal ends that are not a tool result


class FileOp(str, Enum):
    """How a file was changed."""

    CREATE = "create"
    EDIT = "edit"
    WRITE = "write"  # created or overwritten, which one is unknown
    DELETE = "delete"
    RENAME = "rename"
    COPY = "copy"


class Risk(str, Enum):
    """Risk level of an external effect."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Order for sorting (critical highest)."""
        return _RISK_RANK[self]


_RISK_RANK = {Risk.LOW: 0, Risk.MEDIUM: 1, Risk.HIGH: 2, Risk.CRITICAL: 3}


@dataclass(frozen=True, slots=True)
class Source:
    """Where an event came from, so every finding can cite its evidence."""

    path: str
    line: int | None = None  # 1-based line number (line-oriented formats)
    pointer: str | None = None  # JSON pointer into a document (document formats)

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.path}:{self.line}"
        if self.pointer is not None:
            return f"{self.path}#{self.pointer}"
        return self.path


@dataclass(frozen=True, slots=True)
class FileChange:
    """A file change claimed by a tool call or confirmed by its result (path as in the trace)."""

    path: str
    op: FileOp
    dest: str | None = None  # rename / copy target
    added: int | None = None  # lines added, when a diff shows it
    removed: int | None = None


# --------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """One record of a session, in trace order (`seq` is 0-based per session)."""

    kind: ClassVar[EventKind]
    seq: int
    ts: datetime | None  # aware UTC, or None when the format has no per-event time
    source: Source
    session_id: str
    agent: str
    sidechain: str | None = None  # subagent id when the event belongs to a subagent


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionInfo(Event):
    """Session metadata as the trace reveals it; later values override earlier ones."""

    kind: ClassVar[EventKind] = EventKind.SESSION
    cwd: str | None = None
    git_branch: str | None = None
    git_commit: str | None = None  # HEAD when the session started (Codex session_meta.git)
    repository_url: str | None = None
    model: str | None = None
    agent_version: str | None = None
    permission_mode: str | None = (
        None  # Claude Code: default / acceptEdits / bypassPermissions / plan
    )
    sandbox: str | None = None  # Codex: read-only / workspace-write / danger-full-access
    approval_policy: str | None = None  # Codex: untrusted / on-request / on-failure / never
    network_access: bool | None = None
    allowed_tools: tuple[str, ...] | None = None
    title: str | None = None
    snapshot_commit: str | None = None  # an agent's own undo snapshot (Codex ghost_snapshot)
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Message(Event):
    """Text from the user, the assistant or the system."""

    kind: ClassVar[EventKind] = EventKind.MESSAGE
    role: str  # user / assistant / system
    text: str
    # Why this text is not the user's own intent: "meta", "system-reminder", "command",
    # "compaction-summary", "environment-context", "instructions"; None for real intent.
    injected: str | None = None
    reasoning: bool = False  # a thinking / reasoning excerpt


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelCall(Event):
    """One model response, counted once. `input_tokens` excludes cache reads and writes."""

    kind: ClassVar[EventKind] = EventKind.MODEL_CALL
    model: str | None
    message_id: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0  # all cache writes (5m + 1h)
    cache_write_1h_tokens: int = 0  # the part of cache_write_tokens written with a 1h TTL
    reasoning_tokens: int = 0  # informational; already inside output_tokens
    reported_cost_usd: float | None = None  # a cost the trace itself states
    calls: int = 1  # >1 when the trace only gives session totals (SWE-agent model_stats)
    context_window: int | None = None

    @property
    def context_tokens(self) -> int:
        """Size of the prompt the model saw on this call."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCall(Event):
    """The agent asked for a tool. `command` / `changes` are filled when the reader knows them."""

    kind: ClassVar[EventKind] = EventKind.TOOL_CALL
    call_id: str | None
    name: str
    args: Mapping[str, Any] = field(default_factory=dict)
    command: str | None = None  # the shell command line, when this call runs one
    changes: tuple[FileChange, ...] = ()  # files the call intends to change
    cwd: str | None = None  # working directory of this call, when it differs from the session's


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolResult(Event):
    """What a tool call returned. `ok` is None when the trace does not say."""

    kind: ClassVar[EventKind] = EventKind.TOOL_RESULT
    call_id: str | None
    name: str | None = None
    ok: bool | None = None
    exit_code: int | None = None
    output: str = ""  # an excerpt, never the whole output
    output_digest: str | None = None  # hash of the whole output (to tell polling from a loop)
    changes: tuple[FileChange, ...] = ()  # changes the result confirms (structured patch, diff)


@dataclass(frozen=True, slots=True, kw_only=True)
class Compaction(Event):
    """The context was summarised; token and context curves restart here."""

    kind: ClassVar[EventKind] = EventKind.COMPACTION
    trigger: str | None = None  # auto / manual
    pre_tokens: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorEvent(Event):
    """An API, harness or termination error that is not a tool result."""

    kind: ClassVar[EventKind] = EventKind.ERROR
    category: (
        str  # api_error, rate_limit, turn_aborted, max_iterations, context_window, exit_status
    )
    message: str = ""


# --------------------------------------------------------------------------- derived facts


@dataclass(frozen=True, slots=True)
class FileTouch:
    """A file the session changed (or tried to), normalised against the session cwd."""

    path: str
    ops: tuple[FileOp, ...]
    via: tuple[str, ...]  # tool names or shell programs that did it
    first_seq: int
    seqs: tuple[int, ...] = ()
    done: bool = True  # False when every attempt failed
    inside_cwd: bool = True


@dataclass(frozen=True, slots=True)
class CommandRun:
    """A shell command the agent ran, with its outcome."""

    command: str
    exit_code: int | None
    seq: int
    ok: bool | None = None
    tool: str | None = None


@dataclass(frozen=True, slots=True)
class ToolFailure:
    """A tool call that failed."""

    seq: int
    tool: str
    message: str
    exit_code: int | None = None


@dataclass(frozen=True, slots=True)
class Effect:
    """Something that reached beyond the working tree, which git cannot undo."""

    # network, git_push, deploy, publish, cloud, database, message, destructive, mcp,
    # secret_exposure
    kind: str
    target: str
    seq: int
    risk: Risk
    detail: str = ""
    source: str = ""
    succeeded: bool | None = None  # False when the command or tool call failed
    count: int = 1  # identical effects (same kind and target) folded into one


@dataclass(frozen=True, slots=True)
class Finding:
    """A detector's conclusion, citing the events that support it."""

    detector: str
    severity: str  # info / warning / high / critical
    message: str
    seqs: tuple[int, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Usage:
    """Token totals and cost for a session."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    model_calls: int = 0
    cost_usd: float | None = None
    cost_note: str | None = None  # why cost is null or partial
    by_model: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    peak_context_tokens: int = 0


@dataclass(frozen=True, slots=True)
class Session:
    """Who ran, where and when, as far as the trace tells."""

    id: str
    agent: str
    format: str
    trace_path: str
    cwd: str | None = None
    git_branch: str | None = None
    git_commit: str | None = None
    repository_url: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    models: tuple[str, ...] = ()
    agent_version: str | None = None
    permission_mode: str | None = None
    sandbox: str | None = None
    approval_policy: str | None = None
    network_access: bool | None = None
    task: str | None = None  # the first real user prompt
    snapshot_commits: tuple[str, ...] = ()

    @property
    def duration_seconds(self) -> float | None:
        """Wall time from first to last timestamped event."""
        if self.started_at and self.ended_at:
            return (self.ended_at - self.started_at).total_seconds()
        return None


@dataclass(frozen=True, slots=True)
class SeveritySuggestion:
    """The level agentir suggests (SEV1 / SEV2 / SEV3 or None) and why, citing evidence."""

    suggested: str | None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Counts:
    """How much the trace held."""

    events: int = 0
    messages: int = 0
    model_calls: int = 0
    tool_calls: int = 0
    tool_errors: int = 0
    commands: int = 0
    files: int = 0
    compactions: int = 0
    errors: int = 0
    skipped_records: int = 0


@dataclass(frozen=True, slots=True)
class TimelineItem:
    """One line of the condensed timeline."""

    seq: int
    ts: datetime | None
    kind: str
    summary: str
    source: str = ""
    sidechain: str | None = None


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """Cumulative cost and context size after one model call (for the review chart)."""

    seq: int
    ts: datetime | None
    cost_usd: float | None
    context_tokens: int
    output_tokens: int


@dataclass(frozen=True, slots=True)
class Assessment:
    """Everything `agentir assess` knows about one session."""

    session: Session
    counts: Counts
    files: tuple[FileTouch, ...]
    commands: tuple[CommandRun, ...]
    failures: tuple[ToolFailure, ...]
    usage: Usage
    effects: tuple[Effect, ...]
    findings: tuple[Finding, ...]
    severity: SeveritySuggestion
    timeline: tuple[TimelineItem, ...] = ()
    curve: tuple[CurvePoint, ...] = ()
    omitted: Mapping[str, int] = field(default_factory=dict)  # list entries dropped past caps
    skip_reasons: Mapping[str, int] = field(default_factory=dict)
    commit_refs: tuple[str, ...] = ()  # commit hashes the trace printed (git commit output, Aider)
