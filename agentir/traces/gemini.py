"""Gemini CLI session files (trace-formats.md §7): JSONL sessions and legacy single-JSON ones.

JSONL: line 1 is the session metadata, then message records, `{"$set": {…}}` metadata
updates and `{"$rewindTo": "<id>"}` (drop that message and everything after it).
Records are upserted by `id`: the CLI appends a message again when its tool results or
tokens arrive, so the last copy wins while the first position is kept. Because a later
line can still replace or rewind any earlier message, nothing can be emitted before the
end of the file: the reader keeps one record per message id (memory grows with the
number of messages in the session, not with the raw file, which is acceptable for one
interactive session) and emits everything at EOF.

Legacy: one JSON object `{sessionId, projectHash, startTime, lastUpdated, messages[]}`.

Tokens: Gemini's `input` (promptTokenCount) includes `cached`, and `thoughts` are billed
apart from `output` (in the sample, total = input + output + thoughts). So
input_tokens = input - cached + tool, cache_read_tokens = cached,
output_tokens = output + thoughts and reasoning_tokens = thoughts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from agentir.analysis.tools import changes_of_tool, exit_code_in, shell_command_of
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
    MAX_LINE_BYTES,
    Emitter,
    Probe,
    ReadStats,
    TraceReader,
    as_dict,
    as_int,
    as_str,
    digest,
    excerpt,
    iter_json_lines,
    json_args,
    loads,
    parse_ts,
)
from agentir.traces.otel import first_key
from agentir.traces.whole_json import load_document

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_STATUS_OK = {"success": True, "error": False, "cancelled": False, "canceled": False}

Item = tuple[dict[str, Any], int | None, str]  # record, line, JSON pointer


class GeminiReader(TraceReader):
    """Gemini CLI `session-*.jsonl` and legacy `session-*.json` chat recordings."""

    format = "gemini-cli"
    agent = "gemini-cli"
    priority = 40

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        """Session metadata first: `sessionId` and `projectHash`, no record `type`."""
        record = probe.first_record
        if isinstance(record, dict):
            return "sessionId" in record and "projectHash" in record and "type" not in record
        return first_key(probe.head) == "sessionId" and b'"projectHash"' in probe.head

    def read(self, path: Path, stats: ReadStats) -> Iterator[Event]:
        """Events of the session, emitted once the whole file is known (see module doc)."""
        first = _first_line(path)
        jsonl = isinstance(first, dict) and "messages" not in first
        meta, items = _read_jsonl(path, stats) if jsonl else _read_legacy(path, stats)
        yield from _emit(path, meta, items, stats, jsonl)


def _first_line(path: Path) -> Any:
    with path.open("rb") as fh:
        line = b""
        while not line.strip():
            line = fh.readline(MAX_LINE_BYTES)
            if not line:
                return None
    try:
        return loads(line.strip())
    except ValueError:
        return None


def _read_jsonl(path: Path, stats: ReadStats) -> tuple[dict[str, Any], list[Item]]:
    meta: dict[str, Any] = {}
    records: dict[str, tuple[dict[str, Any], int]] = {}  # insertion order = first seen
    for lineno, value in iter_json_lines(path, stats):
        if not isinstance(value, dict):
            stats.skip("Gemini line is not an object")
        elif "$set" in value:
            if isinstance(value["$set"], dict):
                meta.update(value["$set"])
            else:
                stats.skip("$set without an object")
        elif "$rewindTo" in value:
            target = value["$rewindTo"]
            if isinstance(target, str) and target in records:
                keys = list(records)
                for key in keys[keys.index(target) :]:
                    del records[key]
            else:
                stats.skip("$rewindTo an unknown message id")
        elif "type" in value and isinstance(value.get("id"), (str, int)):
            key = str(value["id"])
            if key in records:
                stats.reasons["message re-appended (upsert: last copy kept)"] += 1
            records[key] = (value, lineno)  # an existing key keeps its first position
        elif "sessionId" in value and not meta.get("sessionId"):
            meta.update(value)
        else:
            stats.skip("unknown Gemini record")
    return meta, [(rec, line, "") for rec, line in records.values()]


def _read_legacy(path: Path, stats: ReadStats) -> tuple[dict[str, Any], list[Item]]:
    document = load_document(path, stats, "Gemini CLI session", max_depth=None)
    if not isinstance(document, dict):
        stats.skip("Gemini session is not an object")
        return {}, []
    meta = {k: v for k, v in document.items() if k != "messages"}
    messages = document.get("messages")
    if not isinstance(messages, list):
        if messages is not None:
            stats.skip("messages is not a list")
        return meta, []
    records: dict[str, Item] = {}
    for i, message in enumerate(messages):
        stats.records += 1
        if not isinstance(message, dict):
            stats.skip("message is not an object")
            continue
        key = str(message.get("id", f"#{i}"))
        records[key] = (message, None, f"/messages/{i}")
    return meta, list(records.values())


def _emit(
    path: Path, meta: Mapping[str, Any], items: list[Item], stats: ReadStats, jsonl: bool
) -> Iterator[Event]:
    sid = _str(meta.get("sessionId")) or path.stem
    subagent = meta.get("kind") == "subagent"
    parent = _str(meta.get("parentSessionId"))
    if subagent and not parent and _UUID.match(path.parent.name):
        parent = path.parent.name  # chats/<parentSessionId>/<sessionId>.jsonl
    em = Emitter(path, GeminiReader.agent, (parent or sid) if subagent else sid)
    chain = sid if subagent else None
    extra = {k: meta[k] for k in ("projectHash", "kind", "lastUpdated", "summary") if k in meta}
    yield em.make(
        SessionInfo,
        ts=parse_ts(meta.get("startTime")),
        line=1 if jsonl else None,
        pointer=None if jsonl else "/",
        sidechain=chain,
        cwd=_cwd(meta, items),
        model=next((m for m in (_str(r.get("model")) for r, _, _ in items) if m), None),
        title=_str(meta.get("summary")),
        extra=extra,
    )
    for record, line, pointer in items:
        yield from _record(em, record, line, pointer, chain, stats)


def _record(
    em: Emitter,
    rec: Mapping[str, Any],
    line: int | None,
    pointer: str,
    chain: str | None,
    stats: ReadStats,
) -> Iterator[Event]:
    ts = parse_ts(rec.get("timestamp"))
    kind = rec.get("type")
    text = _content_text(rec.get("content"))

    def make(cls: type[Any], suffix: str = "", **fields: Any) -> Any:
        at = fields.pop("ts", ts)
        return em.make(
            cls, ts=at, line=line, pointer=(pointer + suffix) or None, sidechain=chain, **fields
        )

    if kind == "user":
        if text:
            injected = "meta" if text.startswith("System: ") else None  # the CLI's own nudges
            yield make(Message, role="user", text=excerpt(text), injected=injected)
    elif kind == "gemini":
        for k, thought in enumerate(rec.get("thoughts") or []):
            if isinstance(thought, dict):
                words = ": ".join(
                    _str(thought.get(f)) or "" for f in ("subject", "description")
                ).strip(": ")
                if words:
                    yield make(Message, f"/thoughts/{k}", ts=parse_ts(thought.get("timestamp")) or ts,
                               role="assistant", text=excerpt(words), reasoning=True)  # fmt: skip
        yield make(ModelCall, **_tokens(rec))
        if text:
            yield make(Message, role="assistant", text=excerpt(text))
        calls = rec.get("toolCalls")
        for k, call in enumerate(calls if isinstance(calls, list) else []):
            if isinstance(call, dict):
                yield from _tool(make, call, f"/toolCalls/{k}", ts)
            else:
                stats.skip("tool call is not an object")
    elif kind in ("info", "warning"):
        if text.startswith("Request cancelled"):  # the user pressed Esc / Ctrl-C mid-turn
            yield make(ErrorEvent, category="turn_aborted", message=text)
        elif text:
            yield make(Message, role="system", text=excerpt(text))
    elif kind == "error":
        lowered = text.lower()
        category = "rate_limit" if "429" in lowered or "quota" in lowered else "api_error"
        yield make(ErrorEvent, category=category, message=excerpt(text))
    else:
        stats.skip(f"Gemini message type {kind!r}")


def _tokens(rec: Mapping[str, Any]) -> dict[str, Any]:
    tokens = as_dict(rec.get("tokens"))
    cached = as_int(tokens.get("cached"))
    thoughts = as_int(tokens.get("thoughts"))
    return {
        "model": _str(rec.get("model")),
        "message_id": _str(rec.get("id")),
        "input_tokens": max(as_int(tokens.get("input")) - cached, 0) + as_int(tokens.get("tool")),
        "output_tokens": as_int(tokens.get("output")) + thoughts,
        "cache_read_tokens": cached,
        "reasoning_tokens": thoughts,
    }


def _tool(make: Any, call: Mapping[str, Any], suffix: str, ts: Any) -> Iterator[Event]:
    name = _str(call.get("name")) or "unknown"
    call_id = _str(call.get("id"))
    args = json_args(call.get("args"))
    display = call.get("resultDisplay")
    changes = changes_of_tool(name, args)
    if changes and isinstance(display, dict) and display.get("isNewFile") is True:
        changes = tuple(FileChange(path=c.path, op=FileOp.CREATE) for c in changes)
    command = shell_command_of(name, args)
    workdir = args.get("directory")
    yield make(ToolCall, suffix, call_id=call_id, name=name, args=args, command=command,
               changes=changes, cwd=workdir if isinstance(workdir, str) and workdir else None)  # fmt: skip
    ok = _STATUS_OK.get(str(call.get("status", "")).lower())
    output, error = _response(call.get("result"))
    if error:
        ok = False
        output = output or error
    if not output and isinstance(display, str):
        output = display
    exit_code = exit_code_in(output) if command else None
    if exit_code:
        ok = False
    confirmed: tuple[FileChange, ...] = ()
    if ok and changes and isinstance(display, dict) and display.get("fileDiff"):
        stat = as_dict(display.get("diffStat"))
        confirmed = tuple(
            FileChange(path=c.path, op=c.op, added=_opt(stat.get("model_added_lines")),
                       removed=_opt(stat.get("model_removed_lines")))
            for c in changes
        )  # fmt: skip
    yield make(ToolResult, suffix, ts=parse_ts(call.get("timestamp")) or ts, call_id=call_id,
               name=name, ok=ok, exit_code=exit_code, output=excerpt(output),
               output_digest=digest(output) if output else None, changes=confirmed)  # fmt: skip


def _response(result: Any) -> tuple[str, str]:
    """(output, error) from `[{functionResponse: {response: {output | error}}}]`."""
    outputs: list[str] = []
    errors: list[str] = []
    for part in result if isinstance(result, list) else []:
        response = (
            part.get("functionResponse", {}).get("response") if isinstance(part, dict) else None
        )
        if isinstance(response, dict):
            if response.get("output") is not None:
                outputs.append(as_str(response["output"]))
            if response.get("error") is not None:
                errors.append(as_str(response["error"]))
    return "\n".join(outputs), "\n".join(errors)


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        content = [content]
    if isinstance(content, list):
        return "\n".join(
            p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
        )
    return ""


def _cwd(meta: Mapping[str, Any], items: list[Item]) -> str | None:
    """The project directory: an absolute diff path minus the relative path the tool was given."""
    for record, _, _ in items:
        for call in record.get("toolCalls") or []:
            if not isinstance(call, dict) or not isinstance(call.get("resultDisplay"), dict):
                continue
            absolute = _str(call["resultDisplay"].get("filePath"))
            given = _str(json_args(call.get("args")).get("file_path"))
            if absolute and given and not given.startswith("/") and absolute.endswith("/" + given):
                return absolute[: -len(given) - 1] or "/"
    dirs = meta.get("directories")
    if isinstance(dirs, list) and dirs and isinstance(dirs[0], str):
        return dirs[0]
    return None


def _opt(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
