"""OpenHands V1 (software-agent-sdk) events, discriminated by `kind` (trace-formats.md §4.2).

Actions and observations pair through `action_id` (the action event id) or `tool_call_id`.
Token usage comes only as running totals in `ConversationStateUpdateEvent` (`key: stats`),
so each ModelCall is the difference from the previous totals of the same usage id.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from agentir.model import (
    Compaction,
    ErrorEvent,
    Event,
    FileChange,
    FileOp,
    Message,
    ModelCall,
    SessionInfo,
    ToolCall,
    ToolResult,
)
from agentir.traces.base import (
    Emitter,
    ReadStats,
    as_dict,
    as_str,
    digest,
    excerpt,
    json_args,
    opt_int,
    parse_ts,
)
from agentir.traces.litellm_usage import Cumulative
from agentir.traces.openhands_v0 import error_category

V1_KINDS = frozenset(
    {
        "ActionEvent",
        "ObservationEvent",
        "MessageEvent",
        "SystemPromptEvent",
        "AgentErrorEvent",
        "UserRejectObservation",
        "ConversationStateUpdateEvent",
        "ConversationErrorEvent",
        "ConversationIterationLimitEvent",
        "Condensation",
        "CondensationRequest",
        "CondensationSummaryEvent",
        "PauseEvent",
        "TokenEvent",
        "HookExecutionEvent",
    }
)
_SILENT_KINDS = frozenset({"CondensationRequest", "PauseEvent", "TokenEvent", "HookExecutionEvent"})
_EDIT_OPS = {
    "create": FileOp.CREATE,
    "str_replace": FileOp.EDIT,
    "insert": FileOp.EDIT,
    "undo_edit": FileOp.EDIT,
}
_SHELL_ACTIONS = frozenset({"TerminalAction", "ExecuteBashAction", "BashAction"})
_EDITOR_ACTIONS = frozenset({"FileEditorAction", "StrReplaceEditorAction"})


def is_v1_event(value: Any) -> bool:
    """True for one V1 SDK event object."""
    return isinstance(value, dict) and value.get("kind") in V1_KINDS and "id" in value


def _text(content: Any) -> str:
    """Text of a string or a list of `{type: text, text}` parts (a single part object too)."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        content = [content]
    if isinstance(content, list):
        return "\n".join(
            str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("text")
        )
    return ""


class V1Session:
    """Stateful converter for the events of one V1 conversation, fed in order."""

    def __init__(self, em: Emitter, stats: ReadStats) -> None:
        self.em = em
        self.stats = stats
        self.open: dict[str, tuple[str, str, tuple[FileChange, ...]]] = {}  # id -> call
        self.cumulative = Cumulative()
        self.cwd: str | None = None
        self.ts: datetime | None = None  # of the event being fed
        self.where: dict[str, Any] = {}  # its source line / pointer
        self._last_changes: tuple[FileChange, ...] = ()  # claimed by the action last answered

    def feed(
        self, raw: Any, *, line: int | None = None, pointer: str | None = None
    ) -> Iterator[Event]:
        """Events for one raw V1 event."""
        if not isinstance(raw, dict) or not isinstance(raw.get("kind"), str):
            self.stats.skip("OpenHands V1 event without a kind")
            return
        self.where = {"line": line, "pointer": pointer}
        # The SDK writes naive ISO times; parse_ts reads a naive time as UTC.
        self.ts = parse_ts(raw.get("timestamp"))
        kind = raw["kind"]
        handler = {
            "ActionEvent": self._action,
            "ObservationEvent": self._observation,
            "AgentErrorEvent": self._agent_error,
            "UserRejectObservation": self._rejected,
            "MessageEvent": self._message,
            "SystemPromptEvent": self._system,
            "ConversationStateUpdateEvent": self._state,
        }.get(kind)
        if handler is not None:
            yield from handler(raw)
        elif kind == "ConversationErrorEvent":
            detail = as_str(raw.get("detail")) or as_str(raw.get("code"))
            yield self._make(ErrorEvent, category=error_category(detail), message=detail)
        elif kind == "ConversationIterationLimitEvent":
            yield self._make(
                ErrorEvent, category="max_iterations", message=as_str(raw.get("detail"))
            )
        elif kind == "Condensation":
            yield self._make(Compaction, trigger="auto")
        elif kind == "CondensationSummaryEvent":
            text = as_str(raw.get("summary"))
            yield self._make(Message, role="user", text=text, injected="compaction-summary")
        elif kind not in _SILENT_KINDS:
            self.stats.skip(f"unknown OpenHands V1 event kind {kind!r}")

    def _make(self, cls: type[Any], **fields: Any) -> Any:
        return self.em.make(cls, ts=self.ts, **self.where, **fields)

    def _action(self, raw: Mapping[str, Any]) -> Iterator[Event]:
        thought = _text(raw.get("thought"))
        if thought.strip():
            yield self._make(Message, role="assistant", text=thought)
        reasoning = raw.get("reasoning_content")
        if isinstance(reasoning, str) and reasoning.strip() and reasoning.strip() not in thought:
            yield self._make(Message, role="assistant", text=reasoning, reasoning=True)
        action = as_dict(raw.get("action"))
        tool_call = as_dict(raw.get("tool_call"))
        args = {k: v for k, v in action.items() if k != "kind" and v is not None}
        if not action:  # the call failed validation before an action was built
            args = dict(json_args(tool_call.get("arguments")))
        kind = action.get("kind")
        name = raw.get("tool_name") or tool_call.get("name") or kind or "unknown"
        command: str | None = None
        changes: tuple[FileChange, ...] = ()
        if (kind in _SHELL_ACTIONS or name in ("terminal", "execute_bash")) and not args.get(
            "is_input"
        ):
            command = args.get("command") if isinstance(args.get("command"), str) else None
        elif kind in _EDITOR_ACTIONS or name in ("file_editor", "str_replace_editor"):
            op = _EDIT_OPS.get(str(args.get("command")))
            if op and isinstance(args.get("path"), str):
                changes = (FileChange(args["path"], op),)
        call_id = raw.get("tool_call_id") or tool_call.get("id") or f"event-{raw.get('id')}"
        yield self._make(
            ToolCall,
            call_id=str(call_id),
            name=str(name),
            args=args,
            command=command,
            changes=changes,
        )
        entry = (str(call_id), str(name), changes)
        self.open[str(raw.get("id"))] = entry
        self.open[f"tc:{call_id}"] = entry

    def _take(self, raw: Mapping[str, Any]) -> tuple[str, str, tuple[FileChange, ...]] | None:
        entry = self.open.get(str(raw.get("action_id"))) or self.open.get(
            f"tc:{raw.get('tool_call_id')}"
        )
        if entry is not None:
            for key in [k for k, v in self.open.items() if v is entry]:
                del self.open[key]
        return entry

    def _result_fields(self, raw: Mapping[str, Any]) -> tuple[str, str]:
        """(call id, tool name) of the action answered; the raw ids when it is not in the trace."""
        entry = self._take(raw)
        if entry is not None:
            self._last_changes = entry[2]
            return entry[0], entry[1]
        self._last_changes = ()
        return str(raw.get("tool_call_id") or raw.get("action_id") or ""), str(
            raw.get("tool_name") or ""
        )

    def _observation(self, raw: Mapping[str, Any]) -> Iterator[Event]:
        call_id, name = self._result_fields(raw)
        obs = as_dict(raw.get("observation"))
        metadata = as_dict(obs.get("metadata"))
        exit_code = (
            opt_int(obs.get("exit_code"))
            if "exit_code" in obs
            else opt_int(metadata.get("exit_code"))
        )
        if obs.get("is_error") is True:
            ok: bool | None = False
        elif exit_code is not None:
            ok = exit_code == 0
        else:
            ok = True
        workdir = metadata.get("working_dir")
        if isinstance(workdir, str) and workdir and self.cwd is None:
            self.cwd = workdir
            yield self._make(SessionInfo, cwd=workdir)
        changes: tuple[FileChange, ...] = ()
        op = _EDIT_OPS.get(str(obs.get("command")))
        if (
            ok
            and op
            and isinstance(obs.get("path"), str)
            and obs.get("old_content") != obs.get("new_content")
        ):
            # The editor's own before/after content confirms the change.
            changes = (
                FileChange(obs["path"], FileOp.CREATE if obs.get("prev_exist") is False else op),
            )
        elif ok and op:
            changes = self._last_changes
        text = _text(obs.get("content")) or as_str(obs.get("output"))
        yield self._make(
            ToolResult,
            call_id=call_id,
            name=name,
            ok=ok,
            exit_code=exit_code,
            output=excerpt(text),
            output_digest=digest(text),
            changes=changes,
        )

    def _agent_error(self, raw: Mapping[str, Any]) -> Iterator[Event]:
        error = as_str(raw.get("error"))
        if raw.get("tool_call_id") is None and raw.get("action_id") is None:
            yield self._make(ErrorEvent, category=error_category(error), message=error)
            return
        call_id, name = self._result_fields(raw)
        yield self._make(
            ToolResult,
            call_id=call_id,
            name=name,
            ok=False,
            output=excerpt(error),
            output_digest=digest(error),
        )

    def _rejected(self, raw: Mapping[str, Any]) -> Iterator[Event]:
        call_id, name = self._result_fields(raw)
        reason = as_str(raw.get("rejection_reason")) or "rejected"
        yield self._make(ToolResult, call_id=call_id, name=name, ok=False, output=excerpt(reason))

    def _message(self, raw: Mapping[str, Any]) -> Iterator[Event]:
        message = as_dict(raw.get("llm_message"))
        role = (
            message.get("role") if message.get("role") in ("user", "assistant", "system") else None
        )
        role = role or ("user" if raw.get("source") == "user" else "assistant")
        yield self._make(Message, role=role, text=_text(message.get("content")))

    def _system(self, raw: Mapping[str, Any]) -> Iterator[Event]:
        tools = [as_dict(t).get("title") or as_dict(t).get("name") for t in raw.get("tools") or []]
        names = tuple(str(t) for t in tools if isinstance(t, str) and t)
        yield self._make(SessionInfo, allowed_tools=names or None)
        text = _text(raw.get("system_prompt"))
        yield self._make(Message, role="system", text=excerpt(text), injected="instructions")

    def _state(self, raw: Mapping[str, Any]) -> Iterator[Event]:
        key, value = raw.get("key"), raw.get("value")
        if key == "full_state" and isinstance(value, dict):
            if "stats" in value:
                yield from self._stats(value.get("stats"))
            key, value = "execution_status", value.get("execution_status")
        if key == "stats":
            yield from self._stats(value)
        elif key in ("execution_status", "agent_status") and value in ("error", "stuck"):
            category = "loop_detected" if value == "stuck" else "agent_error"
            yield self._make(ErrorEvent, category=category, message=f"execution status {value}")

    def _stats(self, value: Any) -> Iterator[Event]:
        """One ModelCall per usage id whose running totals grew (totals are cumulative)."""
        for usage_id, metrics in as_dict(as_dict(value).get("usage_to_metrics")).items():
            metrics = as_dict(metrics)
            totals = as_dict(metrics.get("accumulated_token_usage"))
            tokens, spent = self.cumulative.delta(
                str(usage_id), totals, metrics.get("accumulated_cost")
            )
            if not tokens.total and not spent:
                continue
            model = metrics.get("model_name") or totals.get("model")
            window = opt_int(totals.get("context_window"))
            yield self._make(
                ModelCall,
                model=str(model) if model else None,
                input_tokens=tokens.input_tokens,
                output_tokens=tokens.output_tokens,
                cache_read_tokens=tokens.cache_read_tokens,
                cache_write_tokens=tokens.cache_write_tokens,
                reasoning_tokens=tokens.reasoning_tokens,
                reported_cost_usd=spent,
                context_window=window or None,
            )
