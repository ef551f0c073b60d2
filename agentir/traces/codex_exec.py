"""`codex exec --json` stdout (thread / turn / item events, as kept in CI logs) to events.

The stream has no timestamps and reports tokens per turn, not per model call.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from agentir.model import (
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
    E,
    Emitter,
    ReadStats,
    as_dict,
    as_str,
    digest,
    excerpt,
    json_args,
    opt_int,
)
from agentir.traces.codex_items import content_text, error_category, usage_from_vector, usage_vector
from agentir.traces.parser import RecordParser

MAX_TRACKED_ITEMS = 4096  # started items remembered so completion does not repeat the call
_EXEC_FILE_OPS = {"add": FileOp.CREATE, "delete": FileOp.DELETE, "update": FileOp.EDIT}


class ExecParser(RecordParser):
    """One pass over `codex exec --json` output."""

    label = "codex-exec"

    def __init__(self, path: Path, stats: ReadStats, agent: str = "codex") -> None:
        super().__init__(path, stats, agent)
        self.emitter: Emitter | None = None
        self.started: OrderedDict[str, None] = OrderedDict()

    def _make(self, cls: type[E], **fields: Any) -> E:
        if self.emitter is None:
            self.emitter = Emitter(self.path, self.agent, self.path.stem)
        return self.emitter.make(cls, ts=None, line=self.line, **fields)

    def _record(self, record: Mapping[str, Any]) -> Iterator[Event]:
        rtype = record.get("type")
        item = as_dict(record.get("item"))
        if rtype == "thread.started" and self.emitter is None:
            thread = record.get("thread_id")
            self.emitter = Emitter(
                self.path,
                self.agent,
                thread if isinstance(thread, str) else self.path.stem,
            )
            yield self._make(SessionInfo, extra={"originator": "codex_exec"})
        elif rtype == "item.started":
            yield from self._item(item, done=False)
        elif rtype == "item.completed":
            yield from self._item(item, done=True)
        elif rtype == "turn.completed":
            usage = as_dict(record.get("usage"))
            vector = usage_vector(usage)
            if vector is None:
                self.stats.skip("codex-exec: turn.completed without usage")
                return
            u = usage_from_vector(vector)
            # one turn may span several model calls; exec output only gives the turn's sum
            yield self._make(
                ModelCall,
                model=None,
                input_tokens=u.input_tokens,
                output_tokens=u.output_tokens,
                cache_read_tokens=u.cache_read_tokens,
                cache_write_tokens=u.cache_write_tokens,
                reasoning_tokens=u.reasoning_tokens,
            )
        elif rtype in ("turn.failed", "error"):
            error = as_dict(record.get("error"))
            message = as_str(error.get("message") if error else record.get("message"))
            yield self._make(ErrorEvent, category=error_category(None, message), message=message)
        else:
            self.stats.skip(f"codex-exec: {rtype}")

    def _item(self, item: Mapping[str, Any], done: bool) -> Iterator[Event]:
        itype = item.get("type")
        item_id = item.get("id") if isinstance(item.get("id"), str) else None
        if itype in ("command_execution", "mcp_tool_call"):
            if not done or item_id not in self.started:
                yield self._call(item, item_id)
            if done:
                yield self._call_result(item, item_id)
        elif not done:
            self.stats.skip(f"codex-exec: item.started {itype}")
        elif itype in ("agent_message", "reasoning"):
            text = as_str(item.get("text"))
            yield self._make(Message, role="assistant", text=text, reasoning=itype == "reasoning")
        elif itype == "file_change":
            changes = tuple(
                FileChange(
                    path=str(c.get("path")), op=_EXEC_FILE_OPS.get(str(c.get("kind")), FileOp.WRITE)
                )
                for c in (as_dict(x) for x in item.get("changes") or [])
                if c.get("path")
            )
            yield self._make(
                ToolCall,
                call_id=item_id,
                name="apply_patch",
                args={"files": [c.path for c in changes]},
                changes=changes,
            )
            ok = item.get("status") == "completed"
            yield self._make(
                ToolResult,
                call_id=item_id,
                name="apply_patch",
                ok=ok,
                changes=changes if ok else (),
            )
        elif itype == "web_search":
            yield self._make(
                ToolCall, call_id=item_id, name="web_search", args={"query": item.get("query")}
            )
        elif itype == "error":
            message = as_str(item.get("message"))
            yield self._make(ErrorEvent, category=error_category(None, message), message=message)
        else:
            self.stats.skip(f"codex-exec: item {itype}")

    def _call(self, item: Mapping[str, Any], item_id: str | None) -> ToolCall:
        if item_id:
            self.started[item_id] = None
            while len(self.started) > MAX_TRACKED_ITEMS:
                self.started.popitem(last=False)
        if item.get("type") == "mcp_tool_call":
            name = f"{item.get('server')}__{item.get('tool')}"
            return self._make(
                ToolCall, call_id=item_id, name=name, args=json_args(item.get("arguments"))
            )
        command = as_str(item.get("command")) or None
        return self._make(
            ToolCall,
            call_id=item_id,
            name="exec_command",
            args={"command": command},
            command=command,
        )

    def _call_result(self, item: Mapping[str, Any], item_id: str | None) -> ToolResult:
        status = item.get("status")
        if item.get("type") == "mcp_tool_call":
            error = as_dict(item.get("error"))
            text = (
                as_str(error.get("message"))
                if error
                else content_text(as_dict(item.get("result")).get("content"))
            )
            ok = status == "completed" and not error
            name = f"{item.get('server')}__{item.get('tool')}"
            return self._make(
                ToolResult,
                call_id=item_id,
                name=name,
                ok=ok,
                output=excerpt(text),
                output_digest=digest(text),
            )
        exit_code = opt_int(item.get("exit_code"))
        text = as_str(item.get("aggregated_output"))
        ok = (
            exit_code == 0
            if exit_code is not None
            else (False if status in ("failed", "declined") else None)
        )
        return self._make(
            ToolResult,
            call_id=item_id,
            name="exec_command",
            ok=ok,
            exit_code=exit_code,
            output=excerpt(text),
            output_digest=digest(text),
        )
