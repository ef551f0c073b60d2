"""Claude Code session JSONL (`~/.claude/projects/<dir>/<session>.jsonl`), every known version.

Also reads the headless `claude -p --output-format stream-json` stdout form, and the subagent
transcripts that 2.0.x (`agent-*.jsonl` beside the main file) and 2.1.x
(`<session>/subagents/**/agent-*.jsonl`) keep in separate files. Claude Code splits one API
response over several lines sharing `message.id`; each response becomes one `ModelCall`, placed
where its first line was, carrying the maximum of each usage field over its lines.
"""

from __future__ import annotations

import re
from collections import OrderedDict, deque
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
    FileOp,
    Message,
    ModelCall,
    SessionInfo,
    ToolCall,
    ToolResult,
)
from agentir.traces.base import (
    Emitter,
    Probe,
    ReadStats,
    TraceReader,
    as_dict,
    as_int,
    as_str,
    digest,
    excerpt,
    json_args,
    opt_int,
    parse_ts,
)
from agentir.traces.claude_code_files import (
    END,
    Sub,
    clean,
    head_records,
    is_merged_subagent_file,
    merged,
    records_in,
    session_key,
    subagent_files,
)

AGENT = "claude-code"
MAX_PENDING = 2000  # events held back while a response is still open; beyond it, flush early
LRU_SIZE = 20_000  # remembered message ids, tool names and sidechain uuids

RECORD_TYPES = frozenset(
    {
        "user", "assistant", "system", "summary", "file-history-snapshot", "queue-operation",
        "progress", "attachment", "permission-mode", "custom-title", "ai-title", "last-prompt",
        "worktree-state", "pr-link", "agent-name", "mode", "tag", "result",
    }
)  # fmt: skip
HEADLESS_TYPES = frozenset({"system", "user", "assistant", "result", "stream_event"})
EDIT_TOOLS = {
    "Write": ("file_path", FileOp.WRITE),
    "Edit": ("file_path", FileOp.EDIT),
    "MultiEdit": ("file_path", FileOp.EDIT),
    "NotebookEdit": ("notebook_path", FileOp.EDIT),  # delete-cell edits still edit the notebook
}
SUBAGENT_TOOLS = ("Task", "Agent")
COMMAND_MARKUP = (
    "<command-name>", "<command-message>", "<command-args>", "<local-command-stdout>",
    "<local-command-stderr>", "<local-command-caveat>", "<bash-input>", "<bash-stdout>",
    "<bash-stderr>",
)  # fmt: skip
EXIT_CODE = re.compile(r"^(?:Error: )?Exit code (-?\d+)\b")

Chain = tuple[str, str | None]  # (session id, sidechain id): the unit in which responses follow


class _Lru(OrderedDict[str, Any]):
    """A dict that forgets its oldest keys beyond `limit` (bounded reader state)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key: str, value: Any) -> None:
        """Insert or refresh a key."""
        self[key] = value
        self.move_to_end(key)
        if len(self) > self.limit:
            self.popitem(last=False)


# --------------------------------------------------------------------------- parsing


@dataclass
class _Ctx:
    """Where the record being handled belongs."""

    session: str
    ts: datetime | None
    path: str
    line: int
    sidechain: str | None

    @property
    def chain(self) -> Chain:
        return (self.session, self.sidechain)


@dataclass
class _Item:
    """An event waiting in the output queue (a ModelCall stays `open` until its response ends)."""

    cls: type[Event]
    ctx: _Ctx
    fields: dict[str, Any]
    open: bool = False
    key: str | None = None


class _Parser:
    """Turns records into events for one read; all state is bounded."""

    def __init__(self, stats: ReadStats, session: str) -> None:
        self.stats = stats
        self.root = session  # the session subagent files are attributed to
        self.current = session  # for records that carry no session id (summary, snapshots)
        self.queue: deque[_Item] = deque()
        self.emitters: dict[str, Emitter] = {}
        self.meta: dict[str, dict[str, Any]] = {}
        self.custom_title: set[str] = set()
        self.main_seen: set[str] = set()
        self.open: dict[Chain, _Item] = {}  # the response still being written, per chain
        self.calls: dict[str, _Item] = {}  # message key -> its ModelCall not yet emitted
        self.done = _Lru(LRU_SIZE)  # message key -> chain of ModelCalls already emitted
        self.tool_names = _Lru(LRU_SIZE)
        self.task_prompts = _Lru(256)  # digest(Task prompt) -> Task tool_use id
        self.uuid_chain = _Lru(LRU_SIZE)  # sidechain record uuid -> sidechain id

    # ----------------------------------------------------------------- queue

    def add(self, ctx: _Ctx, cls: type[Event], **fields: Any) -> _Item:
        item = _Item(cls, ctx, fields)
        self.queue.append(item)
        return item

    def close(self, chain: Chain) -> None:
        item = self.open.pop(chain, None)
        if item is not None:
            item.open = False

    def drain(self, final: bool = False) -> Iterator[Event]:
        if final:
            for item in self.open.values():
                item.open = False
            self.open.clear()
        while self.queue:
            head = self.queue[0]
            if head.open:
                if len(self.queue) <= MAX_PENDING:
                    return
                self.close(head.ctx.chain)  # bounded memory wins over a late usage update
                head.open = False
            self.queue.popleft()
            yield self.emit(head)

    def emit(self, item: _Item) -> Event:
        ctx = item.ctx
        if item.key is not None:
            self.calls.pop(item.key, None)
            self.done.put(item.key, ctx.chain)
        emitter = self.emitters.get(ctx.session)
        if emitter is None:
            emitter = self.emitters[ctx.session] = Emitter(ctx.path, AGENT, ctx.session)
        emitter.path = ctx.path  # subagent events cite their own file
        return emitter.make(
            item.cls, ts=ctx.ts, line=ctx.line, sidechain=ctx.sidechain, **item.fields
        )

    # ----------------------------------------------------------------- records

    def end_of(self, sub: Sub) -> None:
        for chain_id in sub.chains:
            self.close((self.root, chain_id))

    def handle(self, path: Path, lineno: int, rec: Any, sub: Sub | None) -> None:
        if not isinstance(rec, dict):
            self.stats.skip("not a JSON object")
            return
        rtype = rec.get("type")
        session = self._session(rec, sub)
        sidechain = self._sidechain(rec, sub, rtype)
        if sub is not None and sidechain is not None:
            sub.chains.add(sidechain)
        ctx = _Ctx(session, parse_ts(rec.get("timestamp")), str(path), lineno, sidechain)
        used = self._metadata(rec, rtype, ctx)
        if rtype == "user":
            self._user(rec, ctx)
        elif rtype == "assistant":
            self._assistant(rec, ctx)
        elif rtype == "system":
            self._system(rec, ctx)
        elif rtype == "result" and "session_id" in rec:
            self._result(rec, ctx)
        elif rtype == "attachment" and self._attachment(rec, ctx):
            pass
        elif not used:
            self.stats.skip(f"record type {rtype}" if isinstance(rtype, str) else "no type")

    def _session(self, rec: dict[str, Any], sub: Sub | None) -> str:
        if sub is not None:
            return self.root
        session = session_key(rec)
        if session is not None:
            self.current = session
        return self.current

    def _sidechain(self, rec: dict[str, Any], sub: Sub | None, rtype: Any) -> str | None:
        if sub is not None:
            return clean(rec.get("agentId")) or sub.agent_id
        parent_tool = clean(rec.get("parent_tool_use_id"))  # headless stream-json subagents
        if parent_tool is not None:
            return parent_tool
        if rec.get("isSidechain") is not True:
            return None
        chain = clean(rec.get("agentId"))
        if chain is None:
            parent = rec.get("parentUuid")
            chain = self.uuid_chain.get(parent) if isinstance(parent, str) else None
        if chain is None and rtype == "user":
            # ≤1.0.x inlines subagents without an id: link the first record to the Task
            # call whose prompt it repeats
            content = as_dict(rec.get("message")).get("content")
            if isinstance(content, str):
                chain = self.task_prompts.get(digest(content))
        chain = chain or "sidechain"
        uuid = clean(rec.get("uuid"))
        if uuid is not None:
            self.uuid_chain.put(uuid, chain)
        return chain

    def _metadata(self, rec: dict[str, Any], rtype: Any, ctx: _Ctx) -> bool:
        """Track session metadata; emit SessionInfo when it changes. True for metadata records."""
        if ctx.sidechain is None:
            self.main_seen.add(ctx.session)
        elif ctx.session in self.main_seen:
            return rtype in ("summary", "custom-title", "ai-title", "permission-mode")
        new: dict[str, Any] = {}
        if rtype in ("user", "assistant", "system", "permission-mode"):
            new["permission_mode"] = clean(rec.get("permissionMode"))
        if rtype in ("user", "assistant", "system"):
            new["cwd"] = clean(rec.get("cwd"))
            new["git_branch"] = clean(rec.get("gitBranch"))
            new["agent_version"] = clean(rec.get("version"))
        if rtype == "assistant":
            model = clean(as_dict(rec.get("message")).get("model"))
            new["model"] = model if model != "<synthetic>" else None
        elif rtype == "system" and rec.get("subtype") == "init":  # headless stream-json
            new["cwd"] = clean(rec.get("cwd"))
            new["model"] = clean(rec.get("model"))
            new["agent_version"] = clean(rec.get("claude_code_version"))
            tools = rec.get("tools")
            if isinstance(tools, list):
                new["allowed_tools"] = tuple(t for t in tools if isinstance(t, str))
        elif rtype == "result" and "session_id" in rec:
            cost = rec.get("total_cost_usd")
            extra = {
                "reported_cost_usd": cost if isinstance(cost, (int, float)) else None,
                "num_turns": opt_int(rec.get("num_turns")),
                "duration_ms": opt_int(rec.get("duration_ms")),
            }
            new["extra"] = {k: v for k, v in extra.items() if v is not None}
        elif rtype == "custom-title":
            new["title"] = clean(rec.get("customTitle"))
            if new["title"]:
                self.custom_title.add(ctx.session)
        elif rtype in ("summary", "ai-title") and ctx.session not in self.custom_title:
            new["title"] = clean(rec.get("summary" if rtype == "summary" else "aiTitle"))
        state = self.meta.setdefault(ctx.session, {})
        changed = {k: v for k, v in new.items() if v not in (None, {}) and state.get(k) != v}
        if changed:
            state.update(changed)
            self.add(ctx, SessionInfo, **state)
        return rtype in ("summary", "custom-title", "ai-title", "permission-mode")

    # ----------------------------------------------------------------- user

    def _user(self, rec: dict[str, Any], ctx: _Ctx) -> None:
        content = as_dict(rec.get("message")).get("content")
        if isinstance(content, str):
            blocks: list[Any] = [{"type": "text", "text": content}]
        elif isinstance(content, list):
            blocks = content
        else:
            self.stats.skip("user record without content")
            return
        results = [b for b in blocks if isinstance(b, dict) and b.get("type") == "tool_result"]
        if not results:
            self.close(ctx.chain)  # a new prompt: the previous response has ended
        tool_use_result = rec.get("toolUseResult", rec.get("tool_use_result"))
        emitted = False
        for block in blocks:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text":
                text = block.get("text")
                if isinstance(text, str) and text.strip():
                    injected = _injected(text, rec, ctx)
                    self.add(ctx, Message, role="user", text=text, injected=injected)
                    emitted = True
            elif block.get("type") == "tool_result":
                # toolUseResult describes the record's single result; with several it is ambiguous
                self._tool_result(block, tool_use_result if len(results) == 1 else None, ctx)
                emitted = True
        if clean(as_str(rec.get("error"))):
            self.add(ctx, ErrorEvent, **_error_fields(rec.get("error"), None, ""))
            emitted = True
        if not emitted:
            self.stats.skip("user record without text or tool result")

    def _attachment(self, rec: dict[str, Any], ctx: _Ctx) -> bool:
        """A prompt typed while the agent worked (2.x delivers it as an attachment)."""
        att = as_dict(rec.get("attachment"))
        if att.get("type") != "queued_command":
            return False
        prompt = att.get("prompt")
        if isinstance(prompt, list):
            parts = [as_dict(p).get("text") for p in prompt]
            prompt = "\n".join(p for p in parts if isinstance(p, str))
        if not isinstance(prompt, str) or not prompt.strip():
            return False
        origin = clean(as_dict(att.get("origin")).get("kind"))
        injected = _injected(prompt, rec, ctx)
        if injected is None and origin not in (None, "human", "user"):
            injected = "meta"  # queued by a background task or another agent, not a person
        self.add(ctx, Message, role="user", text=prompt, injected=injected)
        return True

    def _tool_result(self, block: dict[str, Any], tool_use_result: Any, ctx: _Ctx) -> None:
        call_id = clean(block.get("tool_use_id"))
        name = self.tool_names.get(call_id) if call_id else None
        text = _result_text(block)
        ok = not (
            block.get("is_error") is True
            or (isinstance(tool_use_result, str) and tool_use_result.startswith("Error"))
            or as_dict(tool_use_result).get("is_error") is True
            or text.lstrip().startswith("<tool_use_error>")
        )
        match = EXIT_CODE.match(text) or (
            EXIT_CODE.match(tool_use_result) if isinstance(tool_use_result, str) else None
        )
        changes = _confirmed_changes(tool_use_result, name) if ok else ()
        self.add(
            ctx,
            ToolResult,
            call_id=call_id,
            name=name,
            ok=ok,
            exit_code=int(match.group(1)) if match else None,
            output=excerpt(text),
            output_digest=digest(text),
            changes=changes,
        )
        if call_id is not None:
            # a finished Task / Agent call ends the subagent it spawned
            self.close((ctx.session, call_id))
            agent_id = clean(as_dict(tool_use_result).get("agentId"))
            if agent_id is not None:
                self.close((ctx.session, agent_id))

    # ----------------------------------------------------------------- assistant

    def _assistant(self, rec: dict[str, Any], ctx: _Ctx) -> None:
        message = as_dict(rec.get("message"))
        content = message.get("content")
        blocks = content if isinstance(content, list) else []
        if isinstance(content, str):
            blocks = [{"type": "text", "text": content}]
        model = clean(message.get("model"))
        if rec.get("isApiErrorMessage") is True or model == "<synthetic>":
            # a harness-made message standing for a failed API call, not a model response
            text = "\n".join(
                b["text"] for b in blocks if isinstance(b, dict) and isinstance(b.get("text"), str)
            )
            self.add(ctx, ErrorEvent, **_error_fields(rec.get("error"), rec, text))
            return
        if not self._model_call(rec, message, model, ctx):
            self.stats.skip("replayed message")
            return
        for block in blocks:
            if isinstance(block, dict):
                self._assistant_block(block, ctx)
        if clean(as_str(rec.get("error"))):
            self.add(ctx, ErrorEvent, **_error_fields(rec.get("error"), rec, ""))
        if rec.get("isAbortedMidStream") is True:
            detail = as_str(as_dict(rec.get("errorDetails")).get("code")) or "aborted mid-stream"
            self.add(ctx, ErrorEvent, category="turn_aborted", message=detail)

    def _model_call(
        self, rec: Mapping[str, Any], message: Mapping[str, Any], model: str | None, ctx: _Ctx
    ) -> bool:
        """Count the response once; False when the line replays another chain's response."""
        message_id = clean(message.get("id")) or clean(rec.get("requestId"))
        key = message_id or f"{ctx.path}:{ctx.line}"
        chain = ctx.chain
        owner = self.done.get(key)
        if owner is not None:
            return bool(owner == chain)  # a late line of an emitted response adds content only
        usage = _usage(as_dict(message.get("usage")))
        item = self.calls.get(key)
        if item is not None:
            if item.ctx.chain != chain:
                return False
            for name, value in usage.items():
                item.fields[name] = max(item.fields[name], value)
            item.fields["model"] = item.fields["model"] or model
            return True
        self.close(chain)
        item = self.add(ctx, ModelCall, model=model, message_id=message_id, **usage)
        item.open, item.key = True, key
        self.open[chain] = item
        self.calls[key] = item
        return True

    def _assistant_block(self, block: dict[str, Any], ctx: _Ctx) -> None:
        kind = block.get("type")
        if kind == "text" and isinstance(block.get("text"), str) and block["text"].strip():
            self.add(ctx, Message, role="assistant", text=block["text"])
        elif kind == "thinking" and isinstance(block.get("thinking"), str):
            if block["thinking"].strip():
                self.add(ctx, Message, role="assistant", text=block["thinking"], reasoning=True)
        elif kind in ("tool_use", "server_tool_use", "mcp_tool_use"):
            self._tool_use(block, ctx)
        elif isinstance(kind, str) and kind.endswith("_tool_result"):
            self._tool_result(block, None, ctx)  # server-side tool results (web search …)

    def _tool_use(self, block: dict[str, Any], ctx: _Ctx) -> None:
        name = block.get("name") if isinstance(block.get("name"), str) else "unknown"
        call_id = clean(block.get("id"))
        args = json_args(block.get("input"))
        command = args.get("command") if name in ("Bash", "bash") else None
        changes: tuple[FileChange, ...] = ()
        if name in EDIT_TOOLS:
            key, op = EDIT_TOOLS[name]
            if isinstance(args.get(key), str) and args[key]:
                changes = (FileChange(args[key], op),)
        if call_id is not None:
            self.tool_names.put(call_id, name)
            prompt = args.get("prompt")
            if name in SUBAGENT_TOOLS and isinstance(prompt, str):
                self.task_prompts.put(digest(prompt), call_id)
        self.add(
            ctx,
            ToolCall,
            call_id=call_id,
            name=name,
            args=args,
            command=command if isinstance(command, str) else None,
            changes=changes,
        )

    # ----------------------------------------------------------------- system / result

    def _system(self, rec: dict[str, Any], ctx: _Ctx) -> None:
        subtype = rec.get("subtype")
        if subtype == "compact_boundary":
            meta = as_dict(rec.get("compactMetadata"))
            trigger = clean(meta.get("trigger")) or clean(rec.get("trigger"))
            pre = opt_int(meta.get("preTokens"))
            self.add(ctx, Compaction, trigger=trigger, pre_tokens=pre)
        elif subtype in ("api_error", "error"):
            self.add(ctx, ErrorEvent, **_error_fields(rec.get("error"), rec, ""))
        elif subtype in ("api_refusal", "model_refusal_fallback"):
            text = clean(rec.get("apiRefusalExplanation")) or clean(rec.get("content"))
            self.add(ctx, ErrorEvent, category="refusal", message=text or str(subtype))
        elif subtype == "local_command" and clean(rec.get("content")):
            self.add(ctx, Message, role="system", text=rec["content"], injected="command")
        elif subtype != "init":  # init (headless) only carries metadata
            self.stats.skip(f"system {subtype}")

    def _result(self, rec: dict[str, Any], ctx: _Ctx) -> None:
        subtype = as_str(rec.get("subtype"))
        if rec.get("is_error") is True or subtype.startswith("error"):
            text = as_str(rec.get("result")) or subtype
            fields = _error_fields(None, rec, text)
            if subtype == "error_max_turns":
                fields["category"] = "max_iterations"
            elif fields["category"] == "api_error" and subtype.startswith("error"):
                fields["category"] = "exit_status"
            self.add(ctx, ErrorEvent, **fields)


# --------------------------------------------------------------------------- value helpers


def _injected(text: str, rec: dict[str, Any], ctx: _Ctx) -> str | None:
    """Why a user-role text is not the person's own instruction (None when it is)."""
    start = text.lstrip()
    if rec.get("isCompactSummary") is True or start.startswith(
        "This session is being continued from a previous conversation"
    ):
        return "compaction-summary"
    if rec.get("isMeta") is True or start.startswith("Caveat: The messages below were generated"):
        return "meta"
    if start.startswith(COMMAND_MARKUP):
        return "command"
    if start.startswith(("<system-reminder>", "<user-prompt-submit-hook>")):
        return "system-reminder"
    if start.startswith("[Request interrupted by user"):
        return "interrupt"
    if ctx.sidechain is not None:
        return "subagent-prompt"  # written by the parent agent, not by the person
    return None


def _usage(usage: Mapping[str, Any]) -> dict[str, int]:
    return {
        "input_tokens": as_int(usage.get("input_tokens")),
        "output_tokens": as_int(usage.get("output_tokens")),
        "cache_read_tokens": as_int(usage.get("cache_read_input_tokens")),
        "cache_write_tokens": as_int(usage.get("cache_creation_input_tokens")),
        "cache_write_1h_tokens": as_int(
            as_dict(usage.get("cache_creation")).get("ephemeral_1h_input_tokens")
        ),
    }


def _result_text(block: dict[str, Any]) -> str:
    content = block.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, dict) and part.get("type") == "image":
                parts.append("[image]")
        return "\n".join(parts)
    if content is None:
        return block["text"] if isinstance(block.get("text"), str) else ""
    return as_str(content)


def _confirmed_changes(result: Any, tool: str | None) -> tuple[FileChange, ...]:
    """File changes a successful tool result confirms (Write / Edit / MultiEdit shapes)."""
    if not isinstance(result, dict) or not clean(result.get("filePath")):
        return ()
    path = result["filePath"]
    kind = result.get("type")
    added = removed = None
    patch = result.get("structuredPatch")
    if isinstance(patch, list):
        lines = [
            ln for hunk in patch for ln in as_dict(hunk).get("lines") or [] if isinstance(ln, str)
        ]
        added = sum(1 for ln in lines if ln.startswith("+"))
        removed = sum(1 for ln in lines if ln.startswith("-"))
    if kind == "create":
        content = result.get("content")
        count = len(content.splitlines()) if isinstance(content, str) else added
        return (FileChange(path, FileOp.CREATE, added=count, removed=0),)
    if kind == "update":
        op = FileOp.WRITE if tool == "Write" else FileOp.EDIT
        return (FileChange(path, op, added=added, removed=removed),)
    if isinstance(patch, list):
        return (FileChange(path, FileOp.EDIT, added=added, removed=removed),)
    return ()


def _error_message(error: Any) -> str | None:
    """The innermost readable message of an error string or (nested) error object."""
    for _ in range(4):  # API errors nest as {"error": {"error": {"type", "message"}}}
        if isinstance(error, str):
            return clean(error)
        err = as_dict(error)
        inner = err.get("error")
        if isinstance(inner, (dict, str)) and clean(as_str(inner)):
            error = inner
            continue
        return clean(err.get("message")) or clean(err.get("formatted")) or clean(err.get("type"))
    return None


def _error_fields(error: Any, rec: dict[str, Any] | None, text: str) -> dict[str, Any]:
    """ErrorEvent fields from an `error` value (string or object), a record and its text."""
    status = opt_int(as_dict(error).get("status"))
    if status is None and rec is not None:
        status = opt_int(rec.get("apiErrorStatus"))
    message = text or _error_message(error) or (f"HTTP {status}" if status else "")
    marker = f"{as_str(error)} {message}".lower()
    if status == 429 or any(m in marker for m in ("rate_limit", "rate limit", "usage limit")):
        category = "rate_limit"
    elif any(m in marker for m in ("prompt is too long", "context window", "context_length")):
        category = "context_window"
    else:
        category = "api_error"
    if rec is not None and as_int(rec.get("maxRetries")):
        message = f"{message} (retry {as_int(rec.get('retryAttempt'))}/{rec['maxRetries']})"
    return {"category": category, "message": message.strip()}


# --------------------------------------------------------------------------- reader


class ClaudeCodeReader(TraceReader):
    """Claude Code session JSONL, headless stream-json, and subagent transcripts."""

    format = "claude-code"
    agent = AGENT
    priority = 10

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        """True when an early record is a Claude Code record with a session id."""
        first = [probe.first_record] if isinstance(probe.first_record, dict) else []
        for rec in [*first, *records_in(probe.head_text)]:
            if "projectHash" in rec:  # Gemini CLI sessions also carry sessionId
                return False
            rtype = rec.get("type")
            if isinstance(rec.get("sessionId"), str) and rtype in RECORD_TYPES:
                return True
            headless = rec.get("subtype") == "init" or "parent_tool_use_id" in rec or "uuid" in rec
            if isinstance(rec.get("session_id"), str) and rtype in HEADLESS_TYPES and headless:
                return True
            if rtype not in RECORD_TYPES:
                return False  # e.g. summary / file-history-snapshot may come before the first
        # a first line longer than the probed head: recognise the envelope by its keys
        head = probe.head_text[:4096]
        return all(f'"{key}":' in head for key in ("parentUuid", "isSidechain", "sessionId"))

    @classmethod
    def read_with_another(cls, path: Path) -> bool:
        """A subagent transcript is read with its parent session's file."""
        return is_merged_subagent_file(path)

    def read(self, path: Path, stats: ReadStats) -> Iterator[Event]:
        """Yield the events of every session in `path`, with its subagent files merged in."""
        session = next(filter(None, map(session_key, head_records(path))), None)
        session = session or path.stem
        # a subagent file given on its own is read as its own session
        subs = [] if path.name.startswith("agent-") else subagent_files(path, session)
        parser = _Parser(stats, session)
        for sub, lineno, rec in merged(path, subs, stats):
            if rec is END and sub is not None:
                parser.end_of(sub)
            else:
                parser.handle(sub.path if sub else path, lineno, rec, sub)
            yield from parser.drain()
        yield from parser.drain(final=True)


# --------------------------------------------------------------------------- live tailing

_USAGE_FIELDS = (
    "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
    "cache_write_1h_tokens",
)  # fmt: skip


class ClaudeCodeParser(_Parser):
    """Records fed one at a time become events (live tailing: `agentir guard` and `watch`).

    Unlike the file reader it flushes at every record boundary: a live consumer cannot wait
    for the next response to know one has ended. A later line of a response already emitted
    that reports more usage yields a `ModelCall` with `calls=0` holding only the increase,
    so usage totals keep the maximum per message id. Sequence numbers start at `first_seq`
    (a consumer that resumes from a saved offset continues its numbering).
    """

    def __init__(
        self, path: Path, stats: ReadStats, session: str | None = None, first_seq: int = 0
    ) -> None:
        super().__init__(stats, session or path.stem)
        self.path = path
        self.first_seq = first_seq
        self.usage_seen = _Lru(LRU_SIZE)  # message key -> usage of its emitted ModelCall

    def feed(self, rec: Any, lineno: int) -> list[Event]:
        """Handle one parsed record (`lineno` is its 1-based line); the events it completes."""
        self.handle(self.path, lineno, rec, None)
        return list(self.drain(final=True))

    def context(self, keep: int = 64) -> dict[str, Any]:
        """What a later parser needs to attribute records to subagents and name results
        (the latest `keep` entries; plain JSON data, for a consumer that stops and resumes)."""
        return {
            name: list(getattr(self, name).items())[-keep:]
            for name in ("uuid_chain", "task_prompts", "tool_names")
        }

    def restore(self, context: Any) -> None:
        """Take over the `context()` of an earlier parser of the same file."""
        if not isinstance(context, dict):
            return
        for name in ("uuid_chain", "task_prompts", "tool_names"):
            for item in context.get(name) or ():
                if isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str):
                    getattr(self, name).put(item[0], item[1])

    def emit(self, item: _Item) -> Event:
        if item.key is not None:
            self.usage_seen.put(item.key, {k: item.fields[k] for k in _USAGE_FIELDS})
        if item.ctx.session not in self.emitters:
            emitter = Emitter(item.ctx.path, AGENT, item.ctx.session)
            emitter.next_seq = self.first_seq
            self.emitters[item.ctx.session] = emitter
        return super().emit(item)

    def _model_call(
        self, rec: Mapping[str, Any], message: Mapping[str, Any], model: str | None, ctx: _Ctx
    ) -> bool:
        message_id = clean(message.get("id")) or clean(rec.get("requestId"))
        key = message_id or f"{ctx.path}:{ctx.line}"
        seen = self.usage_seen.get(key)
        if seen is not None and self.done.get(key) == ctx.chain:
            usage = _usage(dict(as_dict(message.get("usage"))))
            more = {k: max(0, usage[k] - seen[k]) for k in _USAGE_FIELDS}
            if any(more.values()):
                self.usage_seen.put(key, {k: max(usage[k], seen[k]) for k in _USAGE_FIELDS})
                self.add(ctx, ModelCall, model=model, message_id=message_id, calls=0, **more)
        return super()._model_call(rec, message, model, ctx)
