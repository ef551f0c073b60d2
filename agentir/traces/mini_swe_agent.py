"""mini-swe-agent trajectories: one bash block per assistant message, then its output.

Layouts: `{"info", "messages", "trajectory_format": "mini-swe-agent-1*"}` (v1: ```bash
blocks and `<returncode>N</returncode>` in the observation; v2: ```mswea_bash_command blocks,
`extra.actions`, `extra.returncode`, `extra.timestamp`, tool-call models with `role: tool`)
and the older bare message list used in tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from agentir.analysis.patches import parse_unified_diff
from agentir.model import ErrorEvent, Event, Message, ModelCall, SessionInfo, ToolCall, ToolResult
from agentir.traces.base import (
    Emitter,
    ReadStats,
    as_dict,
    as_int,
    digest,
    excerpt,
    json_args,
    opt_float,
    opt_int,
    parse_ts,
)
from agentir.traces.litellm_usage import from_usage

_FENCE = re.compile(r"```(?:bash|mswea_bash_command)[ \t]*\n(.*?)\n```", re.DOTALL)
_RETURNCODE = re.compile(r"<returncode>\s*(-?\d+)\s*</returncode>")
_TIMED_OUT = ("timed out and has been killed", "Command timed out")
_ROLES = frozenset({"system", "user", "assistant", "tool", "exit"})


def is_mini_document(doc: Mapping[str, Any]) -> bool:
    """A mini-swe-agent trajectory object."""
    fmt = doc.get("trajectory_format")
    if isinstance(fmt, str) and fmt.startswith("mini-swe-agent"):
        return True
    return isinstance(doc.get("messages"), list) and "mini_version" in as_dict(doc.get("info"))


def is_bare_message_list(doc: list[Any]) -> bool:
    """The older test layout: a list of chat messages whose assistant turns hold bash blocks."""
    if not doc or not all(
        isinstance(m, dict) and m.get("role") in _ROLES and "content" in m for m in doc
    ):
        return False
    has_block = any(m["role"] == "assistant" and _FENCE.search(_text(m["content"])) for m in doc)
    has_output = any(m["role"] == "user" and _RETURNCODE.search(_text(m["content"])) for m in doc)
    return has_block and has_output


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def _commands(message: Mapping[str, Any], extra: Mapping[str, Any]) -> list[tuple[str | None, str]]:
    """(tool call id, command) for each action of an assistant message."""
    calls = message.get("tool_calls")
    if isinstance(calls, list) and calls:
        found = []
        for call in calls:
            call = as_dict(call)
            args = json_args(as_dict(call.get("function")).get("arguments"))
            command = args.get("command")
            if isinstance(command, str):
                found.append((call.get("id") if isinstance(call.get("id"), str) else None, command))
        return found
    actions = extra.get("actions")
    if isinstance(actions, list) and actions:
        commands = [a if isinstance(a, str) else as_dict(a).get("command") for a in actions]
        return [(None, c) for c in commands if isinstance(c, str)]
    blocks = _FENCE.findall(_text(message.get("content")))
    # mini-swe-agent runs a message only when it holds exactly one block (else: format error).
    return [(None, blocks[0])] if len(blocks) == 1 else []


def mini_events(doc: dict[str, Any] | list[Any], em: Emitter, stats: ReadStats) -> Iterator[Event]:
    """Events of one mini-swe-agent run."""
    info: Mapping[str, Any] = {}
    messages: list[Any] = []
    if isinstance(doc, list):
        messages = doc
    else:
        raw = doc.get("messages")
        messages = raw if isinstance(raw, list) else []
        if "messages" in doc and not isinstance(doc.get("messages"), list):
            stats.skip("'messages' is not a list")
        info = as_dict(doc.get("info"))
    config = as_dict(info.get("config"))
    model_name = as_dict(config.get("model")).get("model_name")
    model = model_name if isinstance(model_name, str) else None
    cwd = as_dict(config.get("environment")).get("cwd")
    version = info.get("mini_version")
    yield em.make(
        SessionInfo,
        ts=None,
        pointer="",
        cwd=cwd if isinstance(cwd, str) and cwd else None,
        model=model,
        agent_version=version if isinstance(version, str) else None,
    )
    per_call_usage = any(
        isinstance(as_dict(as_dict(as_dict(m).get("extra")).get("response")).get("usage"), dict)
        for m in messages
    )
    pending: list[tuple[str | None, str]] = []  # (trace call id, our call id), oldest first
    task_seen = False
    for i, message in enumerate(messages):
        pointer = f"/messages/{i}" if isinstance(doc, dict) else f"/{i}"
        if not isinstance(message, dict):
            stats.skip("message is not an object")
            continue
        role, text, extra = (
            message.get("role"),
            _text(message.get("content")),
            as_dict(message.get("extra")),
        )
        ts = parse_ts(extra.get("timestamp"))
        if role == "system" or role == "exit":
            continue  # the prompt template; v2's exit message repeats info.exit_status / submission
        if role == "assistant":
            response = as_dict(extra.get("response"))
            usage = response.get("usage")
            if per_call_usage and isinstance(usage, dict):
                tokens = from_usage(usage)
                cost = extra.get("cost")
                yield em.make(
                    ModelCall,
                    ts=ts,
                    pointer=pointer,
                    model=response.get("model")
                    if isinstance(response.get("model"), str)
                    else model,
                    message_id=response.get("id") if isinstance(response.get("id"), str) else None,
                    input_tokens=tokens.input_tokens,
                    output_tokens=tokens.output_tokens,
                    cache_read_tokens=tokens.cache_read_tokens,
                    cache_write_tokens=tokens.cache_write_tokens,
                    reasoning_tokens=tokens.reasoning_tokens,
                    reported_cost_usd=float(cost) if isinstance(cost, (int, float)) else None,
                )
            if text.strip():
                yield em.make(Message, ts=ts, pointer=pointer, role="assistant", text=text)
            for k, (trace_id, command) in enumerate(_commands(message, extra)):
                call_id = f"msg-{i}" if k == 0 else f"msg-{i}-{k}"
                pending.append((trace_id, call_id))
                command = command.strip()
                yield em.make(
                    ToolCall,
                    ts=ts,
                    pointer=pointer,
                    call_id=call_id,
                    name="bash",
                    args={"command": command},
                    command=command,
                )
        elif role in ("user", "tool"):
            if not task_seen and role == "user" and not pending:
                task_seen = True
                yield em.make(Message, ts=ts, pointer=pointer, role="user", text=text)
                continue
            if not pending:
                yield em.make(
                    Message, ts=ts, pointer=pointer, role="user", text=text, injected="meta"
                )
                continue
            wanted = message.get("tool_call_id")
            match = next((p for p in pending if wanted and p[0] == wanted), pending[0])
            pending.remove(match)
            exit_code = opt_int(extra.get("returncode"))
            if exit_code is None:
                found = _RETURNCODE.search(text)
                exit_code = int(found.group(1)) if found else None
            timed_out = any(marker in text for marker in _TIMED_OUT)
            ok = False if timed_out else (exit_code == 0 if exit_code is not None else None)
            yield em.make(
                ToolResult,
                ts=ts,
                pointer=pointer,
                call_id=match[1],
                name="bash",
                ok=ok,
                exit_code=exit_code,
                output=excerpt(text),
                output_digest=digest(text),
            )
        else:
            stats.skip(f"message with role {role!r}")
    yield from _totals(info, model, per_call_usage, em)


def _totals(
    info: Mapping[str, Any], model: str | None, per_call_usage: bool, em: Emitter
) -> Iterator[Event]:
    model_stats = info.get("model_stats")
    if isinstance(model_stats, dict) and not per_call_usage:
        calls, cost = as_int(model_stats.get("api_calls")), model_stats.get("instance_cost")
        cost = opt_float(cost)
        if calls or cost:
            yield em.make(
                ModelCall,
                ts=None,
                pointer="/info/model_stats",
                model=model,
                reported_cost_usd=cost,
                calls=calls or 1,
            )
    yield from submission_result(em, info.get("submission"))
    status = info.get("exit_status")
    if isinstance(status, str) and status.strip() and status.strip().lower() != "submitted":
        yield exit_status_error(em, status)


def submission_result(em: Emitter, submission: Any) -> Iterator[ToolResult]:
    """`info.submission` (the diff the agent submitted) as a successful result, if any."""
    if isinstance(submission, str) and submission.strip():
        yield em.make(
            ToolResult,
            ts=None,
            pointer="/info/submission",
            call_id=None,
            name="submission",
            ok=True,
            output=excerpt(submission),
            output_digest=digest(submission),
            changes=parse_unified_diff(submission),
        )


def exit_status_error(em: Emitter, status: str) -> ErrorEvent:
    """An abnormal `info.exit_status` as an error event."""
    return em.make(
        ErrorEvent,
        ts=None,
        pointer="/info/exit_status",
        category="exit_status",
        message=status.strip(),
    )
