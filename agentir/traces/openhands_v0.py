"""OpenHands V0 events (trace-formats.md §4.1) to agentir events, one session at a time.

The same event dicts appear in a trajectory list, in each eval `output.jsonl` history and
in `sessions/<sid>/events/<n>.json`. Actions and observations pair through `cause` (the
action id) or `tool_call_metadata.tool_call_id`; the oldest (2024) flat entries have
neither and pair with the latest open action.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agentir.analysis.patches import parse_unified_diff
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
    opt_int,
    parse_ts,
)
from agentir.traces.litellm_usage import Cumulative, Tokens, from_usage

_EDIT_OPS = {
    "create": FileOp.CREATE,
    "str_replace": FileOp.EDIT,
    "insert": FileOp.EDIT,
    "undo_edit": FileOp.EDIT,
}
_TRANSLATED_COMMAND = re.compile(r"""['"]command['"]\s*:\s*['"](\w+)['"]""")
_URL = re.compile(r"""https?://[^\s'"()<>]+""")
_ENVELOPE = frozenset(
    {"id", "timestamp", "source", "message", "action", "observation", "cause", "content"}
)
# Actions that wait for an observation (finish, message and bookkeeping actions do not).
_TOOL_ACTIONS = frozenset(
    {"run", "run_ipython", "read", "write", "edit", "browse", "browse_interactive", "call_tool_mcp"}
    | {"delegate", "think", "push", "send_pr", "task_tracking", "download"}
)
_SILENT_ACTIONS = frozenset(
    {"recall", "change_agent_state", "null", "loop_recovery", "condensation_request"}
)
_SILENT_OBSERVATIONS = frozenset({"recall", "null", "agent_state_changed"})
_ARG_NOISE = frozenset(
    {"thought", "translated_ipython_code", "impl_source", "hidden", "confirmation_state"}
)


def has_response_usage(event: Any) -> bool:
    """True when an event carries a per-call `model_response.usage`."""
    metadata = as_dict(as_dict(event).get("tool_call_metadata"))
    return isinstance(as_dict(metadata.get("model_response")).get("usage"), dict)


def flat_events(history: Any) -> Iterator[tuple[int, Any]]:
    """(index, event) from a history list; older resolver output holds [action, observation] pairs."""
    for i, item in enumerate(history if isinstance(history, list) else []):
        if isinstance(item, list):
            for part in item:
                yield i, part
        else:
            yield i, item


@dataclass
class _Open:
    """An action still waiting for its observation."""

    call_id: str
    name: str
    action: str
    changes: tuple[FileChange, ...]


def error_category(message: str) -> str:
    """An ErrorEvent category for an OpenHands error text."""
    lowered = message.lower()
    if "maximum iteration" in lowered or "max_iterations" in lowered:
        return "max_iterations"
    if "contextwindow" in lowered or "context window" in lowered:
        return "context_window"
    if "ratelimit" in lowered or "rate limit" in lowered:
        return "rate_limit"
    if "stuck" in lowered or "loop" in lowered:
        return "loop_detected"
    return "agent_error"


class V0Session:
    """Stateful converter for the events of one OpenHands V0 session, fed in order."""

    def __init__(self, em: Emitter, stats: ReadStats, *, per_response_usage: bool) -> None:
        self.em = em
        self.stats = stats
        self.per_response_usage = per_response_usage  # else: differences of llm_metrics
        self.open: dict[str, _Open] = {}  # by action id / tool_call_id
        self.order: list[str] = []  # open action keys, oldest first
        self.call_ids: set[str] = set()
        self.responses: set[str] = set()
        self.cumulative = Cumulative()
        self.model_calls = 0
        self.cwd: str | None = None
        self.delegates: list[tuple[str, str]] = []  # (delegate action key, sidechain label)
        self.ts: datetime | None = None  # of the event being fed
        self.where: dict[str, Any] = {}  # its source line / pointer
        self.sidechain: str | None = None

    # ------------------------------------------------------------------ entry point

    def feed(
        self, raw: Any, *, line: int | None = None, pointer: str | None = None
    ) -> Iterator[Event]:
        """Events for one raw V0 event dict."""
        if not isinstance(raw, dict):
            self.stats.skip("OpenHands event is not an object")
            return
        self.where = {"line": line, "pointer": pointer}
        # Naive local time in V0 (no zone in the file): read as UTC, as parse_ts does for naive.
        self.ts = parse_ts(raw.get("timestamp"))
        if raw.get("observation") == "delegate":  # the delegate's answer belongs to the main chain
            self.delegates = [d for d in self.delegates if d[0] != str(raw.get("cause"))]
        self.sidechain = self.delegates[-1][1] if self.delegates else None
        if isinstance(raw.get("action"), str):
            yield from self._usage(raw)
            yield from self._action(raw)
        elif isinstance(raw.get("observation"), str):
            yield from self._observation(raw)
        else:
            self.stats.skip("OpenHands event without action or observation")

    def _make(self, cls: type[Any], **fields: Any) -> Any:
        return self.em.make(cls, ts=self.ts, sidechain=self.sidechain, **self.where, **fields)

    # ------------------------------------------------------------------ tokens

    def _usage(self, raw: Mapping[str, Any]) -> Iterator[Event]:
        metrics = as_dict(raw.get("llm_metrics"))
        totals = as_dict(metrics.get("accumulated_token_usage"))
        tokens: Tokens | None = None
        spent: float | None = None
        if totals or "accumulated_cost" in metrics:
            delta, spent = self.cumulative.delta("llm", totals, metrics.get("accumulated_cost"))
            if not self.per_response_usage and (delta.total or spent):
                tokens = delta
        model: str | None = totals.get("model") if isinstance(totals.get("model"), str) else None
        response_id: str | None = None
        if self.per_response_usage:
            response = as_dict(as_dict(raw.get("tool_call_metadata")).get("model_response"))
            usage = response.get("usage")
            rid = response.get("id") if isinstance(response.get("id"), str) else None
            if isinstance(usage, dict) and (rid is None or rid not in self.responses):
                # Several actions of one response repeat it: count each response id once.
                if rid:
                    self.responses.add(rid)
                tokens, response_id = from_usage(usage), rid
                model = response.get("model") if isinstance(response.get("model"), str) else model
        if tokens is None:
            return
        self.model_calls += 1
        yield self._make(
            ModelCall,
            model=model,
            message_id=response_id,
            input_tokens=tokens.input_tokens,
            output_tokens=tokens.output_tokens,
            cache_read_tokens=tokens.cache_read_tokens,
            cache_write_tokens=tokens.cache_write_tokens,
            reasoning_tokens=tokens.reasoning_tokens,
            reported_cost_usd=spent,
        )

    # ------------------------------------------------------------------ actions

    def _action(self, raw: Mapping[str, Any]) -> Iterator[Event]:
        kind = raw["action"]
        args = as_dict(raw.get("args"))
        if "args" not in raw:  # oldest flat form: the arguments sit beside "action"
            args = {k: v for k, v in raw.items() if k not in _ENVELOPE}
        source = raw.get("source")
        if kind == "message":
            text = as_str(args.get("content") if "content" in args else raw.get("message"))
            role = (
                "user" if source == "user" else "system" if source == "environment" else "assistant"
            )
            yield self._make(Message, role=role, text=text)
            return
        if kind == "system":
            tools = [
                as_dict(as_dict(t).get("function")).get("name") for t in args.get("tools") or []
            ]
            names = tuple(n for n in tools if isinstance(n, str))
            yield self._make(SessionInfo, allowed_tools=names or None)
            yield self._make(
                Message,
                role="system",
                text=excerpt(as_str(args.get("content"))),
                injected="instructions",
            )
            return
        if kind in ("condensation", "condense"):
            yield self._make(Compaction, trigger="auto")
            return
        if kind in _SILENT_ACTIONS:
            return
        thought = str(args["thought"]) if isinstance(args.get("thought"), str) else ""
        if kind in ("finish", "reject"):
            final = args.get("final_thought") or thought or raw.get("message")
            if isinstance(final, str) and final.strip():
                yield self._make(Message, role="assistant", text=final)
        elif thought.strip():
            yield self._make(Message, role="assistant", text=thought)
        if kind == "reject":
            return
        metadata = as_dict(raw.get("tool_call_metadata"))
        if kind not in _TOOL_ACTIONS and kind != "finish" and not metadata:
            self.stats.skip(f"unknown OpenHands action {kind!r}")
            return
        yield from self._tool_call(raw, kind, args, metadata)

    def _tool_call(
        self,
        raw: Mapping[str, Any],
        kind: str,
        args: Mapping[str, Any],
        metadata: Mapping[str, Any],
    ) -> Iterator[Event]:
        shown = {k: v for k, v in args.items() if k not in _ARG_NOISE and v is not None}
        command: str | None = None
        changes: tuple[FileChange, ...] = ()
        cwd: str | None = None
        name = kind
        if kind == "run":
            if not args.get("is_input") and isinstance(args.get("command"), str):
                command = args["command"]  # is_input sends keys to a running process
            cwd = args.get("cwd") if isinstance(args.get("cwd"), str) else None
        elif kind == "edit":
            op_name = args.get("command")
            if not isinstance(op_name, str) or not op_name:
                found = _TRANSLATED_COMMAND.search(as_str(args.get("translated_ipython_code")))
                op_name = found.group(1) if found else ("create" if args.get("file_text") else None)
                if op_name is None and args.get("content"):
                    op_name = "str_replace"  # the LLM-based editor rewrites a line range
            if op_name:
                shown["command"] = op_name
            op = _EDIT_OPS.get(op_name or "")
            if op and isinstance(args.get("path"), str):
                changes = (FileChange(args["path"], op),)
        elif kind == "write" and isinstance(args.get("path"), str):
            changes = (FileChange(args["path"], FileOp.WRITE),)
        elif kind == "browse_interactive" and "url" not in shown:
            urls = _URL.findall(as_str(args.get("browser_actions")))
            if urls:
                shown["url"] = urls[0]
        elif kind == "delegate":
            agent = args.get("agent") if isinstance(args.get("agent"), str) else "delegate"
            self.delegates.append((str(raw.get("id")), f"{agent}#{raw.get('id')}"))
        wanted = metadata.get("tool_call_id")
        # The oldest flat form has no ids at all: number those calls by their seq.
        own = f"event-{raw['id']}" if "id" in raw else f"call-{self.em.next_seq}"
        call_id = wanted if isinstance(wanted, str) and wanted not in self.call_ids else own
        if call_id in self.call_ids:
            call_id = f"{own}-{self.em.next_seq}"
        self.call_ids.add(call_id)
        yield self._make(
            ToolCall,
            call_id=call_id,
            name=name,
            args=shown,
            command=command,
            changes=changes,
            cwd=cwd,
        )
        if kind == "finish":
            return
        entry = _Open(call_id, name, kind, changes)
        key = str(raw["id"]) if "id" in raw else call_id
        self.open[key] = entry
        self.order.append(key)
        if isinstance(wanted, str):
            self.open[f"tc:{wanted}"] = entry

    # ------------------------------------------------------------------ observations

    def _pending(self, raw: Mapping[str, Any], kind: str) -> _Open | None:
        """The open action this observation answers, removed from the open set."""
        entry: _Open | None = None
        if raw.get("cause") is not None:
            entry = self.open.get(str(raw["cause"]))
        if entry is None:
            wanted = as_dict(raw.get("tool_call_metadata")).get("tool_call_id")
            entry = self.open.get(f"tc:{wanted}") if isinstance(wanted, str) else None
        if entry is None and raw.get("cause") is None and self.order:
            # No ids (oldest flat form, some error observations): the latest open action.
            for key in reversed(self.order):
                if self.open[key].action == kind or kind in ("error", "user_rejected", "success"):
                    entry = self.open[key]
                    break
        if entry is not None:
            for key in [k for k, v in self.open.items() if v is entry]:
                del self.open[key]
                if key in self.order:
                    self.order.remove(key)
        return entry

    def _observation(self, raw: Mapping[str, Any]) -> Iterator[Event]:
        kind = raw["observation"]
        extras = as_dict(raw.get("extras"))
        if "extras" not in raw:  # oldest flat form
            extras = {k: v for k, v in raw.items() if k not in _ENVELOPE}
        content = as_str(raw.get("content"))
        if kind == "agent_state_changed":
            state = extras.get("agent_state")
            if state in ("error", "rate_limited"):
                reason = as_str(extras.get("reason")) or content or f"agent state {state}"
                category = "rate_limit" if state == "rate_limited" else error_category(reason)
                yield self._make(ErrorEvent, category=category, message=reason)
            return
        if kind == "loop_detection":
            yield self._make(
                ErrorEvent, category="loop_detected", message=content or "loop detected"
            )
            return
        if kind == "condense":
            yield self._make(Compaction, trigger="auto")
            return
        if kind in _SILENT_OBSERVATIONS:
            return
        entry = self._pending(raw, kind)
        if entry is None:
            if kind == "error":
                yield self._make(ErrorEvent, category=error_category(content), message=content)
            else:
                self.stats.skip(f"OpenHands {kind!r} observation without its action")
            return
        yield from self._result(raw, kind, extras, content, entry)

    def _result(
        self,
        raw: Mapping[str, Any],
        kind: str,
        extras: Mapping[str, Any],
        content: str,
        entry: _Open,
    ) -> Iterator[Event]:
        exit_code: int | None = None
        ok: bool | None = True
        changes: tuple[FileChange, ...] = ()
        if kind in ("error", "user_rejected"):
            ok = False
        elif kind == "run":
            metadata = as_dict(extras.get("metadata"))
            exit_code = (
                opt_int(metadata.get("exit_code")) if metadata else opt_int(extras.get("exit_code"))
            )
            success = raw.get("success")
            ok = (
                exit_code == 0
                if exit_code is not None
                else success
                if isinstance(success, bool)
                else None
            )
            workdir = metadata.get("working_dir")
            if isinstance(workdir, str) and workdir and self.cwd is None:
                self.cwd = workdir
                yield self._make(SessionInfo, cwd=workdir)
        elif kind in ("edit", "write", "read"):
            ok = not content.lstrip().startswith("ERROR")
            if ok and kind == "edit":
                changes = self._confirmed_edit(extras, content, entry)
            elif ok and kind == "write":
                changes = entry.changes
        elif kind == "run_ipython":
            ok = "Traceback (most recent call last)" not in content
        elif kind == "browse":
            ok = not extras.get("error")
        yield self._make(
            ToolResult,
            call_id=entry.call_id,
            name=entry.name,
            ok=ok,
            exit_code=exit_code,
            output=excerpt(content),
            output_digest=digest(content),
            changes=changes,
        )

    def _confirmed_edit(
        self, extras: Mapping[str, Any], content: str, entry: _Open
    ) -> tuple[FileChange, ...]:
        """The change an edit observation shows (its diff), or the one its action claimed."""
        diff = extras.get("diff") if isinstance(extras.get("diff"), str) else ""
        if not diff and content.startswith("--- "):
            diff = content
        created = (
            extras.get("prev_exist") is False
            and entry.changes[:1] != ()
            and (entry.changes[0].op is FileOp.CREATE)
        )
        found = parse_unified_diff(diff) if diff else ()
        if found:
            return tuple(
                FileChange(c.path, FileOp.CREATE, None, c.added, c.removed) if created else c
                for c in found
            )
        return entry.changes
