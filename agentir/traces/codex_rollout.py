"""Codex rollout records (`~/.codex/sessions/**/rollout-*.jsonl`) to events, in one pass.

State stays bounded: the latest turn context, the previous cumulative token total, and a
capped map of recent tool calls (to pair results and drop the duplicates Codex writes both as
events and as items). Messages come from `response_item`s only: `event_msg` user and agent
messages repeat them. The legacy layout (bare items, no per-line time) is read by the same code.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from agentir.model import (
    Compaction,
    ErrorEvent,
    Event,
    FileChange,
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
    parse_ts,
)
from agentir.traces.codex_items import (
    CallShape,
    OutputInfo,
    argv_to_command,
    call_shape,
    content_text,
    environment_context,
    error_category,
    injected_kind,
    network_from_policy,
    parse_output,
    patch_event_changes,
    patch_success_changes,
    policy_name,
    usage_from_vector,
    usage_vector,
)
from agentir.traces.parser import RecordParser

ROLLOUT_TYPES = frozenset(
    {"session_meta", "turn_context", "response_item", "event_msg", "compacted"}
)
MAX_TRACKED_CALLS = 4096  # open / recent tool calls remembered for pairing results
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
_DUPLICATE_EVENTS = frozenset(
    {
        "user_message",
        "agent_message",
        "agent_reasoning",
        "agent_reasoning_raw_content",
        "web_search_end",
    }
)
_STATE_FIELDS = ("cwd", "model", "approval_policy", "sandbox", "network_access")


@dataclass
class _Call:
    name: str
    has_result: bool = False
    outcome_known: bool = False  # the result said ok / failed or gave an exit code


class RolloutParser(RecordParser):
    """One pass over one rollout file."""

    label = "codex"

    def __init__(self, path: Path, stats: ReadStats, agent: str = "codex") -> None:
        super().__init__(path, stats, agent)
        self.session_id: str | None = None
        self.emitter: Emitter | None = None
        self.state: dict[str, Any] = dict.fromkeys(_STATE_FIELDS)
        self.calls: OrderedDict[str, _Call] = OrderedDict()
        self.prev_total: tuple[int, ...] | None = None
        self.context_window: int | None = None
        self.last_prompt: int | None = None  # prompt size of the latest model call
        self.last_compaction: str | None = None  # kind of a compaction record not yet paired

    # ------------------------------------------------------------------ plumbing

    def _make(self, cls: type[E], ts: datetime | None, **fields: Any) -> E:
        if self.emitter is None:
            match = _UUID.search(self.path.name)
            sid = self.session_id or (match.group(0) if match else self.path.stem)
            self.session_id = sid
            self.emitter = Emitter(self.path, self.agent, sid)
        return self.emitter.make(cls, ts=ts, line=self.line, **fields)

    def _record(self, record: Mapping[str, Any]) -> Iterator[Event]:
        rtype = record.get("type")
        payload = record.get("payload")
        if isinstance(rtype, str) and isinstance(payload, dict):
            ts = parse_ts(record.get("timestamp"))
            if rtype == "response_item":
                self.last_compaction = None
                yield from self._response_item(payload, ts)
            elif rtype == "event_msg":
                yield from self._event_msg(payload, ts)
            elif rtype == "turn_context":
                self.last_compaction = None
                yield from self._turn_context(payload, ts)
            elif rtype == "session_meta":
                yield from self._session_meta(payload, ts)
            elif rtype == "compacted":
                yield from self._compaction("compacted", payload, ts)
            else:
                self.stats.skip(f"codex: record type {rtype}")
        elif "record_type" in record:
            self.stats.skip("codex: legacy state record")
        elif isinstance(rtype, str):
            # legacy layout: a bare ResponseItem, normally without a timestamp of its own
            self.last_compaction = None
            yield from self._response_item(record, parse_ts(record.get("timestamp")))
        elif isinstance(record.get("id"), str) and "timestamp" in record:
            yield from self._session_meta(record, parse_ts(record.get("timestamp")), legacy=True)
        else:
            self.stats.skip("codex: record of unknown shape")

    def _state_update(self, ts: datetime | None, **values: Any) -> Iterator[Event]:
        changed = False
        for key, value in values.items():
            if value is not None and self.state[key] != value:
                self.state[key] = value
                changed = True
        if changed:
            yield self._make(
                SessionInfo,
                ts,
                cwd=self.state["cwd"],
                model=self.state["model"],
                approval_policy=self.state["approval_policy"],
                sandbox=self.state["sandbox"],
                network_access=self.state["network_access"],
            )

    # ------------------------------------------------------------------ session records

    def _session_meta(
        self, meta: Mapping[str, Any], ts: datetime | None, legacy: bool = False
    ) -> Iterator[Event]:
        sid = meta.get("id") if isinstance(meta.get("id"), str) else None
        ts = ts or parse_ts(meta.get("timestamp"))
        extra = {
            key: meta[key]
            for key in (
                "originator",
                "source",
                "model_provider",
                "thread_source",
                "forked_from_id",
                "parent_thread_id",
            )
            if meta.get(key) is not None
        }
        if self.emitter is None and sid and self.session_id is None:
            self.session_id = sid
        elif sid and sid != self.session_id:
            # a header of another thread (fork parent, resumed or sub-agent thread): note it only
            yield self._make(SessionInfo, ts, extra={"related_session_id": sid, **extra})
            return
        if legacy:
            extra["layout"] = "legacy"
        git = as_dict(meta.get("git"))
        cwd = meta.get("cwd") if isinstance(meta.get("cwd"), str) else None
        model = meta.get("model") if isinstance(meta.get("model"), str) else None
        self.state["cwd"] = cwd or self.state["cwd"]
        self.state["model"] = model or self.state["model"]
        yield self._make(
            SessionInfo,
            ts,
            cwd=cwd,
            model=model,
            git_branch=git.get("branch") if isinstance(git.get("branch"), str) else None,
            git_commit=git.get("commit_hash") if isinstance(git.get("commit_hash"), str) else None,
            repository_url=git.get("repository_url")
            if isinstance(git.get("repository_url"), str)
            else None,
            agent_version=meta.get("cli_version")
            if isinstance(meta.get("cli_version"), str)
            else None,
            extra=extra,
        )

    def _turn_context(self, ctx: Mapping[str, Any], ts: datetime | None) -> Iterator[Event]:
        yield from self._state_update(
            ts,
            cwd=ctx.get("cwd") if isinstance(ctx.get("cwd"), str) else None,
            model=ctx.get("model")
            if isinstance(ctx.get("model"), str) and ctx.get("model")
            else None,
            approval_policy=policy_name(ctx.get("approval_policy")),
            sandbox=policy_name(ctx.get("sandbox_policy")),
            network_access=network_from_policy(
                ctx.get("sandbox_policy"), ctx.get("permission_profile")
            ),
        )

    # ------------------------------------------------------------------ response items

    def _response_item(self, item: Mapping[str, Any], ts: datetime | None) -> Iterator[Event]:
        itype = item.get("type")
        if itype == "message":
            yield from self._message(item, ts)
        elif itype == "reasoning":
            yield from self._reasoning(item, ts)
        elif itype in ("function_call", "custom_tool_call"):
            yield self._function_call(item, ts)
        elif itype in ("function_call_output", "custom_tool_call_output"):
            info = parse_output(item.get("output"))
            changes = patch_success_changes(info.text) if info.ok is not False else ()
            yield from self._result(ts, item.get("call_id"), info, changes)
        elif itype == "local_shell_call":
            action = as_dict(item.get("action"))
            shape = call_shape(
                "local_shell",
                {
                    "command": action.get("command"),
                    "workdir": action.get("working_directory", action.get("workdir")),
                },
            )
            yield self._tool_call(
                ts, item.get("call_id") or item.get("id"), "local_shell", action, shape
            )
        elif itype == "web_search_call":
            action = as_dict(item.get("action"))
            args: Mapping[str, Any] = {
                k: action[k]
                for k in ("type", "query", "queries", "url", "pattern")
                if action.get(k) is not None
            }
            call_id = item.get("id") if isinstance(item.get("id"), str) else None
            yield self._make(ToolCall, ts, call_id=call_id, name="web_search", args=args)
        elif itype == "ghost_snapshot":
            ghost = as_dict(item.get("ghost_commit"))
            commit = ghost.get("id") if isinstance(ghost.get("id"), str) else None
            if commit is None:
                self.stats.skip("codex: ghost_snapshot without commit id")
                return
            parent = (
                {"ghost_parent": ghost["parent"]} if isinstance(ghost.get("parent"), str) else {}
            )
            yield self._make(SessionInfo, ts, snapshot_commit=commit, extra=parent)
        elif itype == "tool_search_call":
            args = as_dict(item.get("arguments")) or json_args(item.get("arguments"))
            yield self._tool_call(ts, item.get("call_id"), "tool_search", args, CallShape())
        elif itype == "tool_search_output":
            names = [as_dict(t).get("name") for t in item.get("tools") or [] if isinstance(t, dict)]
            info = OutputInfo(
                text=", ".join(str(n) for n in names if n),
                ok=item.get("status") == "completed" or None,
            )
            yield from self._result(ts, item.get("call_id"), info)
        elif itype == "agent_message":
            # a message between Codex agents (2026 multi-agent): context, not the user's intent
            text = content_text(item.get("content"))
            if text:
                yield self._make(Message, ts, role="system", text=text, injected="meta")
            else:
                self.stats.skip("codex: agent_message without text")
        else:
            self.stats.skip(f"codex: response_item {itype}")

    def _message(self, item: Mapping[str, Any], ts: datetime | None) -> Iterator[Event]:
        role = item.get("role")
        content = item.get("content")
        texts = (
            [content]
            if isinstance(content, str)
            else [content_text(c) for c in content or [] if isinstance(c, dict)]
        )
        texts = [t for t in texts if t.strip()]
        if not texts or role not in ("user", "assistant", "developer", "system"):
            self.stats.skip("codex: message without text")
            return
        groups: list[tuple[str | None, list[str]]] = []
        for text in texts:
            kind = (
                injected_kind(text)
                if role == "user"
                else ("instructions" if role != "assistant" else None)
            )
            if kind == "environment-context":
                env = environment_context(text)
                yield from self._state_update(
                    ts,
                    cwd=env.get("cwd"),
                    approval_policy=env.get("approval_policy"),
                    sandbox=env.get("sandbox_mode"),
                    network_access=env.get("network_access"),
                )
            if groups and groups[-1][0] == kind:
                groups[-1][1].append(text)
            else:
                groups.append((kind, [text]))
        out_role = "system" if role in ("developer", "system") else str(role)
        for kind, parts in groups:
            yield self._make(Message, ts, role=out_role, text="\n".join(parts), injected=kind)

    def _reasoning(self, item: Mapping[str, Any], ts: datetime | None) -> Iterator[Event]:
        texts = [content_text(s) for s in item.get("summary") or [] if isinstance(s, dict)]
        texts = [t for t in texts if t.strip()]
        if not texts:  # raw reasoning is only there when the provider returns it
            texts = [
                t
                for t in (content_text(c) for c in item.get("content") or [] if isinstance(c, dict))
                if t.strip()
            ]
        if not texts:
            self.stats.skip("codex: reasoning without readable text (encrypted)")
            return
        yield self._make(Message, ts, role="assistant", text="\n".join(texts), reasoning=True)

    def _function_call(self, item: Mapping[str, Any], ts: datetime | None) -> ToolCall:
        name = str(item["name"]) if isinstance(item.get("name"), str) else "unknown"
        if item.get("type") == "custom_tool_call":
            raw = item.get("input")
            parsed = json_args(raw)
            # freeform tools (apply_patch) take raw text; keep it whole under "input"
            args = (
                parsed if name != "apply_patch" and "raw" not in parsed else {"input": as_str(raw)}
            )
        else:
            args = json_args(item.get("arguments"))
        return self._tool_call(ts, item.get("call_id"), name, args, call_shape(name, args))

    def _tool_call(
        self,
        ts: datetime | None,
        call_id: Any,
        name: str,
        args: Mapping[str, Any],
        shape: CallShape,
    ) -> ToolCall:
        cid = call_id if isinstance(call_id, str) and call_id else None
        if cid is not None:
            self.calls[cid] = _Call(name)
            self.calls.move_to_end(cid)
            while len(self.calls) > MAX_TRACKED_CALLS:
                self.calls.popitem(last=False)
        return self._make(
            ToolCall,
            ts,
            call_id=cid,
            name=name,
            args=args,
            command=shape.command,
            changes=shape.changes,
            cwd=shape.cwd,
        )

    def _result(
        self,
        ts: datetime | None,
        call_id: Any,
        info: OutputInfo,
        changes: tuple[FileChange, ...] = (),
        name: str | None = None,
    ) -> Iterator[Event]:
        cid = call_id if isinstance(call_id, str) and call_id else None
        call = self.calls.get(cid) if cid else None
        # Codex can report one call both as an event and as an output item; keep the first,
        # unless only the later one tells the outcome (a unified exec still running at first)
        if call is not None and call.has_result and (call.outcome_known or info.exit_code is None):
            self.stats.skip("codex: duplicate tool result")
            return
        if call is not None:
            call.has_result = True
            call.outcome_known = (
                call.outcome_known or info.exit_code is not None or info.ok is not None
            )
        yield self._make(
            ToolResult,
            ts,
            call_id=cid,
            name=name or (call.name if call else None),
            ok=info.ok,
            exit_code=info.exit_code,
            output=excerpt(info.text),
            output_digest=digest(info.text) if info.text else None,
            changes=changes,
        )

    # ------------------------------------------------------------------ event messages

    def _event_msg(self, event: Mapping[str, Any], ts: datetime | None) -> Iterator[Event]:
        etype = event.get("type")
        if etype == "token_count":
            yield from self._token_count(event, ts)
        elif etype in _DUPLICATE_EVENTS:
            self.stats.skip(f"codex: event_msg {etype} (repeats a response_item)")
        elif etype == "context_compacted":
            yield from self._compaction("context_compacted", event, ts)
        elif etype == "patch_apply_end":
            yield from self._patch_apply_end(event, ts)
        elif etype == "exec_command_end":
            yield from self._exec_command_end(event, ts)
        elif etype == "mcp_tool_call_end":
            yield from self._mcp_tool_call_end(event, ts)
        elif etype == "turn_aborted":
            reason = as_str(event.get("reason"))
            yield self._make(ErrorEvent, ts, category="turn_aborted", message=reason)
        elif etype in ("error", "stream_error"):
            message = as_str(event.get("message"))
            category = error_category(event.get("codex_error_info"), message)
            yield self._make(ErrorEvent, ts, category=category, message=message)
        elif etype == "task_complete" and isinstance(event.get("error"), dict):
            error = as_dict(event.get("error"))
            message = as_str(error.get("message"))
            category = error_category(error.get("codex_error_info"), message)
            yield self._make(ErrorEvent, ts, category=category, message=message)
        else:
            if etype == "task_started" and opt_int(event.get("model_context_window")):
                self.context_window = opt_int(event.get("model_context_window"))
            self.stats.skip(f"codex: event_msg {etype}")

    def _token_count(self, event: Mapping[str, Any], ts: datetime | None) -> Iterator[Event]:
        info = event.get("info")
        if not isinstance(info, dict):
            self.stats.skip("codex: token_count without usage (rate limits only)")
            return
        total = usage_vector(info.get("total_token_usage"))
        if total is not None and total == self.prev_total:
            self.stats.skip("codex: token_count repeating the previous total")
            return
        last = usage_vector(info.get("last_token_usage"))
        if last is None and total is not None:
            prev = self.prev_total or (0,) * len(total)
            last = tuple(max(a - b, 0) for a, b in zip(total, prev, strict=True))
        if total is not None:
            self.prev_total = total
        window = opt_int(info.get("model_context_window"))
        self.context_window = window or self.context_window
        if last is None:
            self.stats.skip("codex: token_count without usage (rate limits only)")
            return
        usage = usage_from_vector(last)
        if usage.empty:
            self.stats.skip("codex: token_count with zero usage")
            return
        self.last_prompt = usage.prompt_tokens
        model = info.get("model") if isinstance(info.get("model"), str) else self.state["model"]
        yield self._make(
            ModelCall,
            ts,
            model=model,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            cache_write_tokens=usage.cache_write_tokens,
            reasoning_tokens=usage.reasoning_tokens,
            context_window=self.context_window,
        )

    def _compaction(
        self, kind: str, payload: Mapping[str, Any], ts: datetime | None
    ) -> Iterator[Event]:
        # Codex writes `compacted` and then the `context_compacted` event for one compaction
        if self.last_compaction is not None and self.last_compaction != kind:
            self.last_compaction = None
            self.stats.skip("codex: second record of one compaction")
        else:
            self.last_compaction = kind
            yield self._make(Compaction, ts, pre_tokens=self.last_prompt)
        summary = payload.get("message") if kind == "compacted" else None
        if isinstance(summary, str) and summary.strip():
            yield self._make(Message, ts, role="user", text=summary, injected="compaction-summary")

    def _patch_apply_end(self, event: Mapping[str, Any], ts: datetime | None) -> Iterator[Event]:
        changes = patch_event_changes(event.get("changes"))
        call_id = event.get("call_id")
        if not (isinstance(call_id, str) and call_id in self.calls):
            args = {"files": [c.path for c in changes]}
            yield self._tool_call(ts, call_id, "apply_patch", args, CallShape(changes=changes))
        success = event.get("success")
        ok = success if isinstance(success, bool) else None
        text = "\n".join(t for t in (as_str(event.get("stdout")), as_str(event.get("stderr"))) if t)
        yield from self._result(ts, call_id, OutputInfo(text=text, ok=ok), changes if ok else ())

    def _exec_command_end(self, event: Mapping[str, Any], ts: datetime | None) -> Iterator[Event]:
        call_id = event.get("call_id")
        if not (isinstance(call_id, str) and call_id in self.calls):
            argv = event.get("command")
            command = (
                argv_to_command(argv)
                if isinstance(argv, list) and argv
                else (argv if isinstance(argv, str) else None)
            )
            cwd = event.get("cwd") if isinstance(event.get("cwd"), str) else None
            # `!cmd` typed in the TUI runs as source user_shell: the human's command, not the agent's
            name = "user_shell" if event.get("source") == "user_shell" else "exec_command"
            args = {"command": argv, "cwd": cwd}
            yield self._tool_call(ts, call_id, name, args, CallShape(command=command, cwd=cwd))
        exit_code = opt_int(event.get("exit_code"))
        text = next(
            (
                event[k]
                for k in ("aggregated_output", "formatted_output", "stdout")
                if isinstance(event.get(k), str) and event[k]
            ),
            "",
        )
        ok = exit_code == 0 if exit_code is not None else None
        yield from self._result(ts, call_id, OutputInfo(text=text, exit_code=exit_code, ok=ok))

    def _mcp_tool_call_end(self, event: Mapping[str, Any], ts: datetime | None) -> Iterator[Event]:
        invocation = as_dict(event.get("invocation"))
        server, tool = invocation.get("server"), invocation.get("tool")
        name = f"{server}__{tool}" if server and tool else str(tool or server or "mcp")
        call_id = event.get("call_id")
        if not (isinstance(call_id, str) and call_id in self.calls):
            args = json_args(invocation.get("arguments"))
            yield self._tool_call(ts, call_id, name, args, CallShape())
        result = as_dict(event.get("result"))
        if "Err" in result:
            info = OutputInfo(text=as_str(result.get("Err")), ok=False)
        else:
            body = as_dict(result.get("Ok")) or result
            info = OutputInfo(
                text=content_text(body.get("content")), ok=body.get("isError") is not True
            )
        yield from self._result(ts, call_id, info, name=name)
