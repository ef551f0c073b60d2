"""GenAI spans to events: shared by the OTLP/JSON reader and the Langfuse export reader.

A span is a model call (`gen_ai.operation.name` chat / text_completion / generate_content,
`openinference.span.kind=LLM`, a Langfuse GENERATION), a tool execution (`execute_tool`,
`openinference.span.kind=TOOL`, a Langfuse TOOL) or structure (agent runs, chains),
which gives no event. Span start time is the event time; spans are ordered by it.

Double counting: a model's output message may list the tool calls it asked for
(`tool_call` parts) while a tool span records the same call being run. Tool spans are
the better evidence (they carry the result and the error status), so a `tool_call` part
becomes a ToolCall only when no tool span in the same batch (document, or JSONL line)
or an earlier one carries its call id. Tool spans without a call id (LangSmith's bridge,
OpenInference) claim the earliest unclaimed part with the same tool name that started
before them, and take over its call id. A part whose tool span only arrives in a later
JSONL batch is counted twice: that cannot be known without buffering the whole file.

Sub-agents: an agent span nested under a tool span, or under an agent span that makes
model calls of its own, is a sub-agent; events below it carry its id as `sidechain`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from agentir.analysis.tools import changes_of_tool, exit_code_in, shell_command_of
from agentir.model import ErrorEvent, Event, Message, ModelCall, ToolCall, ToolResult
from agentir.traces.base import Emitter, as_str, digest, excerpt
from agentir.traces.genai_attrs import (
    OUTPUT_KEYS,
    Span,
    model_name,
    model_usage,
    output_tool_names,
    span_messages,
    span_role,
    tool_args,
    tool_call_id,
    tool_name,
)
from agentir.traces.genai_messages import Msg, parse_jsonish, text_of

_MIN_TS = datetime.min.replace(tzinfo=timezone.utc)
_MAX_REMEMBERED = 4096  # bound on ids and texts remembered across JSONL batches


class SpanInterpreter:
    """Turns the spans of one session into events; keeps small state across batches."""

    def __init__(self, emitter: Emitter) -> None:
        self.em = emitter
        self.executed_ids: set[str] = set()  # call ids that tool spans recorded
        self.pending: dict[str, str] = {}  # part-derived call id -> tool name, awaiting a result
        self.system_seen: set[str] = set()
        self.last_user: str | None = None

    def events(self, spans: Sequence[Span]) -> Iterator[Event]:
        """Events of one batch of spans, in start-time order."""
        order = sorted(spans, key=lambda s: (s.start or _MIN_TS, s.index))
        roles = {s.index: span_role(s) for s in order}
        messages = {s.index: span_messages(s) for s in order if roles[s.index] == "llm"}
        side = _sidechains(order, roles)
        claimed, assigned = self._match_tools(order, roles, messages)
        for span in order:
            role = roles[span.index]
            chain = side.get(span.index)
            if role == "llm":
                yield from self._model_call(span, chain, messages[span.index], claimed)
            elif role == "tool":
                yield from self._tool(span, chain, assigned.get(span.index))
            elif role == "agent" and span.error:
                yield self._make(
                    ErrorEvent,
                    span,
                    chain,
                    ts=span.end or span.start,
                    category="agent_error",
                    message=span.status_message,
                )
        if len(self.executed_ids) > _MAX_REMEMBERED:
            self.executed_ids.clear()
        if len(self.system_seen) > _MAX_REMEMBERED:
            self.system_seen.clear()

    def _make(
        self,
        cls: type[Any],
        span: Span,
        chain: str | None,
        ts: datetime | None = None,
        **fields: Any,
    ) -> Any:
        return self.em.make(
            cls,
            ts=ts if ts is not None else span.start,
            line=span.line,
            pointer=span.pointer,
            sidechain=chain,
            **fields,
        )

    def _match_tools(
        self,
        order: Sequence[Span],
        roles: Mapping[int, str],
        messages: Mapping[int, tuple[list[Msg], list[Msg]]],
    ) -> tuple[set[tuple[int, int]], dict[int, str]]:
        parts = []  # (llm span index, ordinal, start, call id, name)
        for span in order:
            if roles[span.index] == "llm":
                calls = [c for m in messages[span.index][1] for c in m.tool_calls]
                parts += [
                    (span.index, k, span.start, c.call_id, c.name) for k, c in enumerate(calls)
                ]
        tools = [s for s in order if roles[s.index] == "tool"]
        self.executed_ids.update(i for i in map(tool_call_id, tools) if i)
        claimed = {(p[0], p[1]) for p in parts if p[3] in self.executed_ids}
        assigned: dict[int, str] = {}
        for span in tools:
            if tool_call_id(span):
                continue
            name = tool_name(span)
            for idx, k, start, call_id, part_name in parts:
                if (idx, k) in claimed or part_name != name:
                    continue
                if start and span.start and start > span.start:
                    continue
                claimed.add((idx, k))
                if call_id:
                    assigned[span.index] = call_id
                break
        return claimed, assigned

    def _model_call(
        self,
        span: Span,
        chain: str | None,
        msgs: tuple[list[Msg], list[Msg]],
        claimed: set[tuple[int, int]],
    ) -> Iterator[Event]:
        inputs, outputs = msgs
        last_other = max(
            (i for i, m in enumerate(inputs) if m.role not in _PROMPT_ROLES), default=-1
        )
        for i, msg in enumerate(inputs):
            text = msg.text
            if msg.role in ("system", "developer") and text and text not in self.system_seen:
                self.system_seen.add(text)
                yield self._make(
                    Message, span, chain, role="system", text=excerpt(text), injected="instructions"
                )
            elif msg.role in ("user", "human") and i > last_other and text:
                if text != self.last_user:
                    yield self._make(Message, span, chain, role="user", text=excerpt(text))
                self.last_user = text
            for call_id, output in msg.tool_results:
                if call_id and call_id in self.pending:
                    name = self.pending.pop(call_id)
                    yield self._make(
                        ToolResult,
                        span,
                        chain,
                        call_id=call_id,
                        name=name,
                        ok=None,
                        output=excerpt(output),
                        output_digest=digest(output),
                    )
        usage = model_usage(span)
        if span.error:
            yield self._make(
                ErrorEvent,
                span,
                chain,
                ts=span.end or span.start,
                category=_error_category(span),
                message=span.status_message,
            )
        if not span.error or any(usage.values()):
            yield self._make(
                ModelCall,
                span,
                chain,
                model=model_name(span),
                message_id=_str(span.attrs.get("gen_ai.response.id")) or span.span_id,
                input_tokens=usage["input"],
                output_tokens=usage["output"],
                cache_read_tokens=usage["cache_read"],
                cache_write_tokens=usage["cache_write"],
                reasoning_tokens=usage["reasoning"],
                reported_cost_usd=span.cost,
            )
        ordinal = 0
        output_tools = output_tool_names(span.attrs)
        for msg in outputs:
            for thought in msg.reasoning:
                yield self._make(
                    Message,
                    span,
                    chain,
                    ts=span.end or span.start,
                    role="assistant",
                    text=excerpt(thought),
                    reasoning=True,
                )
            if msg.text:
                yield self._make(
                    Message,
                    span,
                    chain,
                    ts=span.end or span.start,
                    role="assistant",
                    text=excerpt(msg.text),
                )
            for call in msg.tool_calls:
                k, ordinal = ordinal, ordinal + 1
                if (span.index, k) in claimed:
                    continue
                if call.name in output_tools:  # structured final answer, not an action
                    text = as_str(call.args)
                    yield self._make(Message, span, chain, ts=span.end or span.start,
                                     role="assistant", text=excerpt(text))  # fmt: skip
                    continue
                if call.call_id and len(self.pending) < _MAX_REMEMBERED:
                    self.pending[call.call_id] = call.name
                yield self._make(
                    ToolCall,
                    span,
                    chain,
                    ts=span.end or span.start,
                    call_id=call.call_id,
                    name=call.name,
                    args=call.args,
                    command=shell_command_of(call.name, call.args),
                    changes=changes_of_tool(call.name, call.args),
                )

    def _tool(self, span: Span, chain: str | None, assigned_id: str | None) -> Iterator[Event]:
        name = tool_name(span)
        call_id = tool_call_id(span) or assigned_id
        args = tool_args(span)
        raw_output: Any = None
        for key in OUTPUT_KEYS:
            if key in span.attrs:
                raw_output = span.attrs[key]
                break
        else:
            raw_output = span.output
        parsed = parse_jsonish(raw_output)
        output = text_of(parsed)
        exit_code = exit_code_in(parsed if isinstance(parsed, Mapping) else output)
        failed = span.error or bool(span.attrs.get("error.type")) or bool(exit_code)
        if failed and not output:
            output = span.status_message or str(span.attrs.get("error.type") or "")
        workdir = args.get("cwd") or args.get("workdir") or args.get("directory")
        yield self._make(
            ToolCall,
            span,
            chain,
            call_id=call_id,
            name=name,
            args=args,
            command=shell_command_of(name, args),
            changes=changes_of_tool(name, args),
            cwd=workdir if isinstance(workdir, str) and workdir else None,
        )
        yield self._make(
            ToolResult,
            span,
            chain,
            ts=span.end or span.start,
            call_id=call_id,
            name=name,
            ok=not failed,
            exit_code=exit_code,
            output=excerpt(output),
            output_digest=digest(output) if output else None,
        )


_PROMPT_ROLES = frozenset({"user", "human", "system", "developer"})


def _error_category(span: Span) -> str:
    text = f"{span.attrs.get('error.type', '')} {span.status_message}".lower()
    if "429" in text or "rate" in text:
        return "rate_limit"
    if "context" in text and ("length" in text or "window" in text):
        return "context_window"
    return "api_error"


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _sidechains(order: Sequence[Span], roles: Mapping[int, str]) -> dict[int, str]:
    by_id = {s.span_id: s for s in order if s.span_id}

    def parent(span: Span) -> Span | None:
        if not span.parent_id or span.parent_id == span.span_id:
            return None
        return by_id.get(span.parent_id)

    def ancestors(span: Span) -> Iterator[Span]:
        current = parent(span)
        for _ in range(256):  # a cycle in broken data must not hang the reader
            if current is None:
                return
            yield current
            current = parent(current)

    owners = set()
    for span in order:
        if roles[span.index] == "llm":
            owner = next((a for a in ancestors(span) if roles[a.index] == "agent"), None)
            if owner is not None:
                owners.add(owner.index)
    subagents: dict[int, str] = {}
    for span in order:
        if roles[span.index] != "agent":
            continue
        for anc in ancestors(span):
            if roles[anc.index] == "tool" or (roles[anc.index] == "agent" and anc.index in owners):
                subagents[span.index] = _agent_label(span)
                break
    if not subagents:
        return {}
    result: dict[int, str] = {}
    for span in order:
        chain = [span, *ancestors(span)]
        found = next((subagents[s.index] for s in chain if s.index in subagents), None)
        if found:
            result[span.index] = found
    return result


def _agent_label(span: Span) -> str:
    agent_id = span.attrs.get("gen_ai.agent.id")
    if isinstance(agent_id, str) and agent_id:
        return agent_id
    name = span.attrs.get("gen_ai.agent.name")
    label = name if isinstance(name, str) and name else span.name
    return f"{label}:{span.span_id}" if span.span_id else label
