"""OTLP log events of coding agents (Claude Code, Codex, Gemini CLI) turned into events.

These agents export their telemetry as log records, not spans (trace-formats.md §5.3):
`claude_code.tool_result`, `claude_code.api_request`, `codex.tool_result`,
`codex.sse_event`, `gemini_cli.tool_call`, `gemini_cli.api_response`, ... The event name
is the `event.name` attribute (sometimes without the vendor prefix) or the body.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agentir.analysis.tools import changes_of_tool, exit_code_in, shell_command_of
from agentir.model import ErrorEvent, Event, Message, ModelCall, ToolCall, ToolResult
from agentir.traces.base import (
    Emitter,
    as_int,
    as_str,
    digest,
    excerpt,
    json_args,
    opt_float,
    opt_int,
)
from agentir.traces.genai_attrs import KNOWN_AGENTS

_VENDORS = {"claude_code": "claude-code", "codex": "codex", "gemini_cli": "gemini-cli"}


@dataclass
class LogRecord:
    """One decoded OTLP log record."""

    index: int
    name: str
    ts: datetime | None
    attrs: Mapping[str, Any]
    pointer: str
    line: int | None = None
    resource: Mapping[str, Any] = field(default_factory=dict)


def log_agent(record: LogRecord) -> str | None:
    """The agent that wrote a log record (service.name or the event's vendor prefix)."""
    service = record.resource.get("service.name")
    if isinstance(service, str) and service.lower() in KNOWN_AGENTS:
        return KNOWN_AGENTS[service.lower()]
    vendor = record.name.split(".", 1)[0]
    return _VENDORS.get(vendor)


def log_session(record: LogRecord) -> str | None:
    """The session a log record belongs to."""
    for source in (record.attrs, record.resource):
        for key in ("session.id", "conversation.id", "gen_ai.conversation.id"):
            value = source.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def log_events(em: Emitter, record: LogRecord) -> Iterator[Event] | None:
    """Events for one log record, or None when the record kind is not one agentir uses."""
    kind = record.name.rsplit(".", 1)[-1]
    if kind == "user_prompt":
        prompt = record.attrs.get("prompt")
        if not isinstance(prompt, str) or not prompt:
            return None  # prompts are only logged when the user opted in
        return iter([_make(em, Message, record, role="user", text=excerpt(prompt))])
    if kind in ("api_request", "api_response", "sse_event"):
        call = _model_call(em, record)
        return iter([call]) if call is not None else None
    if kind == "api_error":
        message = as_str(record.attrs.get("error") or record.attrs.get("error.message"))
        status = as_str(record.attrs.get("status_code"))
        category = "rate_limit" if status == "429" else "api_error"
        text = f"{status} {message}".strip()
        return iter([_make(em, ErrorEvent, record, category=category, message=text)])
    if kind in ("tool_result", "tool_call"):
        return _tool(em, record)
    return None


def _make(em: Emitter, cls: type[Any], record: LogRecord, **fields: Any) -> Any:
    return em.make(cls, ts=record.ts, line=record.line, pointer=record.pointer, **fields)


def _model_call(em: Emitter, record: LogRecord) -> ModelCall | None:
    a = record.attrs
    if "input_tokens" in a or "cache_read_tokens" in a:  # Claude Code: input excludes the cache
        inp = as_int(a.get("input_tokens"))
        out = as_int(a.get("output_tokens"))
        read = as_int(a.get("cache_read_tokens"))
        write = as_int(a.get("cache_creation_tokens"))
        reasoning = 0
    elif "input_token_count" in a or "output_token_count" in a:  # Gemini CLI and Codex
        read = as_int(a.get("cached_content_token_count", a.get("cached_token_count")))
        inp = max(as_int(a.get("input_token_count")) - read, 0) + as_int(a.get("tool_token_count"))
        write = 0
        thoughts = as_int(a.get("thoughts_token_count"))
        reasoning = thoughts or as_int(a.get("reasoning_token_count"))
        # Gemini counts thoughts apart from output; Codex (OpenAI) already includes reasoning.
        out = as_int(a.get("output_token_count")) + thoughts
    else:
        return None
    cost = a.get("cost_usd")
    model = a.get("model")
    call: ModelCall = _make(
        em,
        ModelCall,
        record,
        model=model if isinstance(model, str) and model else None,
        message_id=_first_str(a, "request_id", "response_id"),
        input_tokens=inp,
        output_tokens=out,
        cache_read_tokens=read,
        cache_write_tokens=write,
        reasoning_tokens=reasoning,
        reported_cost_usd=opt_float(cost),
    )
    return call


def _tool(em: Emitter, record: LogRecord) -> Iterator[Event]:
    a = record.attrs
    name = _first_str(a, "tool_name", "function_name", "tool.name") or "unknown"
    call_id = _first_str(a, "tool_use_id", "call_id", "tool_call_id", "function_call_id")
    args = json_args(
        a.get("tool_input")
        or a.get("function_args")
        or a.get("arguments")
        or a.get("tool_parameters")
    )
    output = as_str(a.get("output") or a.get("error") or "")
    success = a.get("success")
    ok = (
        success
        if isinstance(success, bool)
        else {"true": True, "false": False}.get(str(success).lower())
    )
    exit_code = opt_int(a.get("exit_code"))
    if exit_code is None:
        exit_code = exit_code_in(output)
    if ok is not False and exit_code:
        ok = False
    call = _make(
        em,
        ToolCall,
        record,
        call_id=call_id,
        name=name,
        args=args,
        command=shell_command_of(name, args),
        changes=changes_of_tool(name, args),
    )
    result = _make(
        em,
        ToolResult,
        record,
        call_id=call_id,
        name=name,
        ok=ok,
        exit_code=exit_code,
        output=excerpt(output),
        output_digest=digest(output) if output else None,
    )
    return iter([call, result])


def _first_str(attrs: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = attrs.get(key)
        if isinstance(value, str) and value:
            return value
    return None
