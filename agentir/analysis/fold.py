"""Fold one session's events into an Assessment, in one pass with bounded memory.

Every list the assessment holds is capped (the number of entries left out is reported in
`Assessment.omitted`), so assessing a trace of hundreds of MB needs no more memory than a
small one. Detectors observe the same pass through the `Observer` protocol.
"""

from __future__ import annotations

import re
from collections import OrderedDict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from agentir.analysis.effect_ledger import MAX_EFFECTS, EffectLedger
from agentir.analysis.effects import EffectHit, effects_of, tool_effects
from agentir.analysis.files import FileLedger
from agentir.analysis.shell import changes_of, split_commands
from agentir.analysis.text import clean, plain
from agentir.analysis.tools import intended_changes, shell_command
from agentir.analysis.usage import UsageLedger
from agentir.model import (
    Assessment,
    CommandRun,
    Compaction,
    Counts,
    Effect,
    ErrorEvent,
    Event,
    FileChange,
    Finding,
    Message,
    ModelCall,
    Session,
    SessionInfo,
    SeveritySuggestion,
    TimelineItem,
    ToolCall,
    ToolFailure,
    ToolResult,
    Usage,
)

MAX_COMMANDS = 10_000
MAX_FILES = 10_000
MAX_FAILURES = 2_000
MAX_PENDING = 10_000
MAX_COMMIT_REFS = 1_000
TIMELINE_HEAD = 300
TIMELINE_TAIL = 200

_COMMIT_LINE = re.compile(r"^\[([^\]\s]+)(?: \(root-commit\))? ([0-9a-f]{7,40})\] ", re.MULTILINE)
_TAGS = re.compile(r"</?(?:command-[a-z]+|local-command-[a-z]+)>")


@dataclass
class Derived:
    """What analysis concluded from the event just folded (handed to observers)."""

    command: CommandRun | None = None
    changes_done: list[FileChange] = field(default_factory=list)
    changes_failed: list[FileChange] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    call: ToolCall | None = None  # the call a result belongs to
    cost_usd: float | None = None  # cumulative, after this event
    context_tokens: int = 0  # of the last model call


class Observer(Protocol):
    """A detector watching the fold: sees every event with what was derived from it."""

    def feed(self, event: Event, derived: Derived, fold: SessionFold) -> None:
        """Observe one event."""

    def finish(self, fold: SessionFold) -> Iterable[Finding]:
        """Findings once the session has been read."""


@dataclass
class _Pending:
    call: ToolCall
    command: str | None
    changes: tuple[FileChange, ...]
    shell_changes: list[tuple[FileChange, str]]
    hits: list[EffectHit]


class SessionFold:
    """Accumulates one session; call `feed` per event, then `finish`."""

    def __init__(
        self,
        session_id: str,
        agent: str,
        fmt: str,
        trace_path: str,
        observers: Sequence[Observer] = (),
    ) -> None:
        self.session_id = session_id
        self.agent = agent
        self.format = fmt
        self.trace_path = trace_path
        self.observers = list(observers)
        self.info: dict[str, object] = {}
        self.started: datetime | None = None
        self.ended: datetime | None = None
        self.models: dict[str, None] = {}
        self.task: str | None = None
        self.command_parts: dict[str, str] = {}  # slash command and its expansion
        self.snapshots: list[str] = []
        self.n = dict(
            events=0,
            messages=0,
            model_calls=0,
            tool_calls=0,
            tool_errors=0,
            compactions=0,
            errors=0,
        )
        self.pending: OrderedDict[str, _Pending] = OrderedDict()
        # call id -> index in self.commands, for a result that arrives after the first one
        # (Codex unified exec: "Process running…" first, the real exit code later)
        self.settled: OrderedDict[str, int] = OrderedDict()
        self.files = FileLedger(MAX_FILES)
        self.commands: list[CommandRun] = []
        self.failures: list[ToolFailure] = []
        self.effect_ledger = EffectLedger(MAX_EFFECTS)
        self.commit_refs: dict[str, None] = {}
        self.omitted: dict[str, int] = {}
        self.usage_ledger = UsageLedger()
        self.timeline_head: list[TimelineItem] = []
        self.timeline_tail: deque[TimelineItem] = deque(maxlen=TIMELINE_TAIL)
        self.timeline_total = 0

    # ------------------------------------------------------------------ helpers

    @property
    def cwd(self) -> str | None:
        """The session's working directory as last reported."""
        value = self.info.get("cwd")
        return value if isinstance(value, str) and value else None

    @property
    def cost_so_far(self) -> float | None:
        """Cumulative cost, None while every call so far was unpriced."""
        return self.usage_ledger.cost_so_far

    @property
    def tokens(self) -> dict[str, int]:
        """Token totals so far (input, output, cache_read, cache_write, reasoning)."""
        return self.usage_ledger.tokens

    @property
    def last_context(self) -> int:
        """Context size of the last model call."""
        return self.usage_ledger.last_context

    def _omit(self, what: str) -> None:
        self.omitted[what] = self.omitted.get(what, 0) + 1

    def _timeline(self, ev: Event, kind: str, summary: str, *, redacted: bool = False) -> None:
        text = plain(summary, 300) if redacted else clean(summary, 300)
        item = TimelineItem(ev.seq, ev.ts, kind, text, str(ev.source), ev.sidechain)
        self.timeline_total += 1
        if len(self.timeline_head) < TIMELINE_HEAD:
            self.timeline_head.append(item)
        else:
            self.timeline_tail.append(item)

    @property
    def effects(self) -> dict[tuple[str, str], Effect]:
        """Effects so far, by (kind, target)."""
        return self.effect_ledger.effects

    def _effect(self, hit: EffectHit, ev: Event, ok: bool | None) -> Effect:
        return self.effect_ledger.add(hit, ev.seq, str(ev.source), ok)

    def _scan_secrets(self, text: str, ev: Event, where: str, derived: Derived) -> str:
        """Report the credentials in `text` as effects; return `text` redacted."""
        redacted, new = self.effect_ledger.scan(text, ev.seq, str(ev.source), where)
        derived.effects.extend(new)
        return redacted

    def _touch(self, change: FileChange, via: str, seq: int, done: bool, cwd: str | None) -> None:
        self.files.touch(change, via, seq, done, cwd or self.cwd)

    # ------------------------------------------------------------------ folding

    def feed(self, ev: Event) -> None:
        """Fold one event."""
        self.n["events"] += 1
        if ev.ts is not None:
            if self.started is None or ev.ts < self.started:
                self.started = ev.ts
            if self.ended is None or ev.ts > self.ended:
                self.ended = ev.ts
        derived = Derived()
        if isinstance(ev, SessionInfo):
            self._session_info(ev)
        elif isinstance(ev, Message):
            self._message(ev, derived)
        elif isinstance(ev, ModelCall):
            self._model_call(ev)
        elif isinstance(ev, ToolCall):
            self._tool_call(ev, derived)
        elif isinstance(ev, ToolResult):
            self._tool_result(ev, derived)
        elif isinstance(ev, Compaction):
            self.n["compactions"] += 1
            self._timeline(ev, "compaction", f"context compacted ({ev.trigger or 'auto'})")
        elif isinstance(ev, ErrorEvent):
            self.n["errors"] += 1
            self._timeline(ev, "error", f"{ev.category}: {ev.message}")
        derived.cost_usd = self.cost_so_far
        derived.context_tokens = self.last_context
        for observer in self.observers:
            observer.feed(ev, derived, self)

    def _session_info(self, ev: SessionInfo) -> None:
        for name in (
            "cwd",
            "git_branch",
            "git_commit",
            "repository_url",
            "agent_version",
            "permission_mode",
            "sandbox",
            "approval_policy",
            "network_access",
            "title",
        ):
            value = getattr(ev, name)
            if value is not None and value != "":
                self.info[name] = value
        if ev.model:
            self.models.setdefault(ev.model, None)
        if ev.snapshot_commit and ev.snapshot_commit not in self.snapshots:
            self.snapshots.append(ev.snapshot_commit)

    def _message(self, ev: Message, derived: Derived) -> None:
        self.n["messages"] += 1
        if ev.reasoning:
            return
        slash = ev.role == "user" and ev.injected in ("command", "meta") and ev.sidechain is None
        if slash and ev.injected not in self.command_parts and len(self.command_parts) < 2:
            # a slash command and its expansion say what was asked when nothing was typed
            text = " ".join(_TAGS.sub(" ", ev.text).split())
            if text:
                self.command_parts[str(ev.injected)] = text
        if ev.role == "user" and ev.injected is None:
            text = self._scan_secrets(ev.text, ev, "user message", derived)
            if self.task is None and ev.sidechain is None and text.strip():
                self.task = plain(text.strip(), 4000)
            self._timeline(ev, "user", text, redacted=True)
        elif ev.role == "assistant":
            text = self._scan_secrets(ev.text, ev, "assistant message", derived)
            self._timeline(ev, "assistant", text, redacted=True)

    def _model_call(self, ev: ModelCall) -> None:
        self.n["model_calls"] += ev.calls
        if ev.model:
            self.models.setdefault(ev.model, None)
        self.usage_ledger.add(ev)

    def _tool_call(self, ev: ToolCall, derived: Derived) -> None:
        self.n["tool_calls"] += 1
        command = shell_command(ev)
        changes = () if command is not None else intended_changes(ev)
        cwd = ev.cwd or self.cwd
        cmds = split_commands(command, cwd) if command else []
        hits = effects_of(cmds) if command else tool_effects(ev.name, ev.args, ev.agent)
        shown = self._scan_secrets(command, ev, "command", derived) if command is not None else None
        pending = _Pending(ev, shown, changes, changes_of(cmds), hits)
        for hit in hits:
            derived.effects.append(self._effect(hit, ev, None))
        if shown is not None:
            self._timeline(ev, "command", shown, redacted=True)
        else:
            self._scan_secrets(_args_text(ev), ev, "tool input", derived)
            target = ", ".join(c.path for c in changes) or _args_summary(ev)
            self._timeline(ev, "tool", f"{ev.name} {target}".strip())
        if ev.call_id is None:
            self._settle(pending, None, derived)
            return
        if len(self.pending) >= MAX_PENDING:
            _, oldest = self.pending.popitem(last=False)
            self._settle(oldest, None, Derived())
        self.pending[ev.call_id] = pending

    def _tool_result(self, ev: ToolResult, derived: Derived) -> None:
        pending = self.pending.pop(ev.call_id, None) if ev.call_id is not None else None
        if ev.output:
            output = self._scan_secrets(ev.output, ev, "tool output", derived)
            if output is not ev.output:
                ev = replace(ev, output=output)  # failures quote the output: redacted once here
            for match in _COMMIT_LINE.finditer(ev.output):
                self._commit_ref(match.group(2))
        if pending is None and ev.call_id is not None and ev.call_id in self.settled:
            self._late_result(ev, self.settled[ev.call_id], derived)
            return
        if pending is None:
            for change in ev.changes:  # a diff with no call (SWE-agent submission, OpenHands patch)
                self._touch(change, ev.name or "result", ev.seq, True, None)
                derived.changes_done.append(change)
            if ev.ok is False:
                self._failure(ev, ev.name or "tool", None)
            return
        derived.call = pending.call
        self._settle(pending, ev, derived)

    def _late_result(self, ev: ToolResult, index: int, derived: Derived) -> None:
        """A second result for a command already settled: it carries the real outcome."""
        run = self.commands[index]
        if ev.exit_code is None and ev.ok is None:
            return
        ok = ev.ok if ev.ok is not None else ev.exit_code == 0
        if run.ok is not False and ok is False:
            self._failure(ev, run.tool or "tool", run.seq)
        updated = replace(
            run, exit_code=ev.exit_code if ev.exit_code is not None else run.exit_code, ok=ok
        )
        self.commands[index] = updated
        derived.command = updated

    def _commit_ref(self, sha: str) -> None:
        if sha not in self.commit_refs:
            if len(self.commit_refs) >= MAX_COMMIT_REFS:
                self._omit("commit_refs")
                return
            self.commit_refs[sha] = None

    def _failure(self, ev: ToolResult, tool: str, seq: int | None) -> None:
        self.n["tool_errors"] += 1
        if len(self.failures) >= MAX_FAILURES:
            self._omit("failures")
            return
        # ev.output was redacted when the result was folded
        message = ev.output.strip().splitlines()[0] if ev.output.strip() else "(no output)"
        self.failures.append(
            ToolFailure(seq if seq is not None else ev.seq, tool, plain(message, 300), ev.exit_code)
        )

    def _settle(self, p: _Pending, result: ToolResult | None, derived: Derived) -> None:
        """Decide what a call did once its result (or the end of the trace) is known."""
        call = p.call
        ok = None if result is None else result.ok
        if result is not None and ok is None and result.exit_code is not None:
            ok = result.exit_code == 0
        if result is not None and ok is False:
            self._failure(result, call.name, call.seq)
        if p.command is not None:
            # p.command was redacted when the call was folded
            run = CommandRun(
                plain(p.command), result.exit_code if result else None, call.seq, ok, call.name
            )
            derived.command = run
            if len(self.commands) < MAX_COMMANDS:
                self.commands.append(run)
                if call.call_id is not None:
                    self.settled[call.call_id] = len(self.commands) - 1
                    if len(self.settled) > MAX_PENDING:
                        self.settled.popitem(last=False)
            else:
                self._omit("commands")
        if call.name.lower() in ("git_commit",) and isinstance(call.args.get("sha"), str):
            self._commit_ref(str(call.args["sha"]))
        done = ok is True or (ok is None and result is not None and bool(result.changes))
        confirmed = result.changes if result is not None else ()
        for change in confirmed:
            self._touch(change, call.name, call.seq, True, call.cwd)
            derived.changes_done.append(change)
        confirmed_paths = {c.path for c in confirmed}
        for change in p.changes:
            if change.path in confirmed_paths:
                continue
            self._touch(change, call.name, call.seq, done, call.cwd)
            (derived.changes_done if done else derived.changes_failed).append(change)
        for change, via in p.shell_changes:
            self._touch(change, via, call.seq, ok is True, None)
            (derived.changes_done if ok else derived.changes_failed).append(change)
        self.effect_ledger.settle(p.hits, call.seq, ok)

    # ------------------------------------------------------------------ result

    def finish(self, skipped: int = 0, skip_reasons: dict[str, int] | None = None) -> Assessment:
        """The assessment of everything fed so far."""
        for p in list(self.pending.values()):
            self._settle(p, None, Derived())
        self.pending.clear()
        findings: list[Finding] = []
        for observer in self.observers:
            findings.extend(observer.finish(self))
        session = self.session()
        usage = self.usage()
        files = self.files.touches()
        if self.files.omitted:
            self.omitted["files"] = self.files.omitted
        effects = self.effect_ledger.ranked()
        if self.effect_ledger.omitted:
            self.omitted["effects"] = self.effect_ledger.omitted
        counts = Counts(
            events=self.n["events"],
            messages=self.n["messages"],
            model_calls=self.n["model_calls"],
            tool_calls=self.n["tool_calls"],
            tool_errors=self.n["tool_errors"],
            commands=len(self.commands) + self.omitted.get("commands", 0),
            files=len(files) + self.omitted.get("files", 0),
            compactions=self.n["compactions"],
            errors=self.n["errors"],
            skipped_records=skipped,
        )
        timeline = tuple(self.timeline_head) + tuple(self.timeline_tail)
        omitted = dict(self.omitted)
        if self.timeline_total > len(timeline):
            omitted["timeline"] = self.timeline_total - len(timeline)
        from agentir.analysis.severity import suggest

        assessment = Assessment(
            session=session,
            counts=counts,
            files=files,
            commands=tuple(self.commands),
            failures=tuple(self.failures),
            usage=usage,
            effects=effects,
            findings=tuple(sorted(findings, key=lambda f: f.seqs[0] if f.seqs else -1)),
            severity=SeveritySuggestion(None),
            timeline=timeline,
            curve=tuple(self.usage_ledger.curve),
            omitted=omitted,
            skip_reasons=dict(skip_reasons or {}),
            commit_refs=tuple(self.commit_refs),
        )
        return replace(assessment, severity=suggest(assessment))

    def session(self) -> Session:
        """The session header as known so far."""
        info = self.info

        def s(name: str) -> str | None:
            value = info.get(name)
            return value if isinstance(value, str) else None

        network = info.get("network_access")
        return Session(
            id=self.session_id,
            agent=self.agent,
            format=self.format,
            trace_path=self.trace_path,
            cwd=s("cwd"),
            git_branch=s("git_branch"),
            git_commit=s("git_commit"),
            repository_url=clean(s("repository_url") or "", 500) or None,
            started_at=self.started,
            ended_at=self.ended,
            models=tuple(m for m in self.models if m),
            agent_version=s("agent_version"),
            permission_mode=s("permission_mode"),
            sandbox=s("sandbox"),
            approval_policy=s("approval_policy"),
            network_access=network if isinstance(network, bool) else None,
            task=self.task
            or (
                clean(" — ".join(self.command_parts.values()), 4000) if self.command_parts else None
            ),
            snapshot_commits=tuple(self.snapshots),
        )

    def usage(self) -> Usage:
        """Token totals and cost."""
        return self.usage_ledger.usage()


def _args_text(call: ToolCall) -> str:
    parts: list[str] = []
    for value in call.args.values():
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, (list, dict)):
            parts.append(str(value))
    return "\n".join(parts)


def _args_summary(call: ToolCall) -> str:
    for key in ("file_path", "path", "url", "query", "pattern", "description", "prompt"):
        value = call.args.get(key)
        if isinstance(value, str) and value:
            return value
    return ""
