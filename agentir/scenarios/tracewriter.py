"""Write small, valid Claude Code and Codex CLI traces from abstract agent actions.

A scenario describes what the agent did (messages, shell commands, file writes and edits,
reads) with times and token usage; a writer turns that into the records the real agent writes,
in the shapes `agentir.traces` reads (see reference/trace-formats.md, sections 1 and 2).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

AGENTS = ("claude-code", "codex")
DEFAULT_MODELS = {"claude-code": "claude-sonnet-4-20250514", "codex": "gpt-5-codex"}


@dataclass(frozen=True)
class Usage:
    """Tokens of one model call (cache reads are most of an agent's context)."""

    input: int = 12
    output: int = 180
    cache_read: int = 20_000
    cache_write: int = 800

    def scaled(self, factor: float) -> Usage:
        """The same call, `factor` times bigger (a retry that re-sends more context)."""
        return Usage(
            int(self.input * factor),
            int(self.output * factor),
            int(self.cache_read * factor),
            int(self.cache_write * factor),
        )


@dataclass(frozen=True)
class Action:
    """One tool call and its result: shell | write | edit | read."""

    kind: str
    target: str  # the command, or the absolute file path
    output: str = ""
    ok: bool = True
    exit_code: int | None = None
    content: str = ""  # write: the new content
    old: str = ""  # edit
    new: str = ""  # edit
    created: bool = False  # write: the file did not exist before


class TraceWriter(Protocol):
    """What a scenario needs from a trace format."""

    def user(self, text: str, at: datetime) -> None:
        """The task prompt (or a later message typed by the user)."""

    def say(self, text: str, at: datetime, usage: Usage) -> None:
        """An assistant message without a tool call."""

    def act(self, action: Action, at: datetime, usage: Usage, say: str | None = None) -> None:
        """One model call that makes one tool call, and the tool's result."""

    def dump(self, path: Path) -> Path:
        """Write the trace file."""


def stamp(at: datetime) -> str:
    """`2025-09-03T00:47:19.293Z`, as both agents write their time stamps."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _write_lines(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(json.dumps(line) + "\n")
    return path


class ClaudeCodeWriter:
    """Claude Code session JSONL (`~/.claude/projects/<cwd>/<session>.jsonl`)."""

    def __init__(
        self,
        session_id: str,
        cwd: str,
        *,
        model: str = DEFAULT_MODELS["claude-code"],
        branch: str = "main",
        permission_mode: str | None = None,
        version: str = "2.0.14",
    ) -> None:
        self.session_id = session_id
        self.cwd = cwd
        self.model = model
        self.branch = branch
        self.permission_mode = permission_mode
        self.version = version
        self.lines: list[dict[str, Any]] = []
        self._parent: str | None = None
        self._n = 0

    def _base(self, kind: str, at: datetime) -> dict[str, Any]:
        self._n += 1
        uuid = f"00000000-0000-4000-8000-{self._n:012d}"
        record: dict[str, Any] = {
            "parentUuid": self._parent,
            "isSidechain": False,
            "userType": "external",
            "cwd": self.cwd,
            "sessionId": self.session_id,
            "version": self.version,
            "gitBranch": self.branch,
            "type": kind,
            "uuid": uuid,
            "timestamp": stamp(at),
        }
        if self.permission_mode and kind == "user":
            record["permissionMode"] = self.permission_mode
        self._parent = uuid
        return record

    def user(self, text: str, at: datetime) -> None:
        """The task prompt."""
        rec = self._base("user", at)
        rec["message"] = {"role": "user", "content": text}
        self.lines.append(rec)

    def _assistant(self, content: list[dict[str, Any]], at: datetime, usage: Usage) -> None:
        rec = self._base("assistant", at)
        rec["requestId"] = f"req_scn{self._n:06d}"
        tool = any(block["type"] == "tool_use" for block in content)
        rec["message"] = {
            "id": f"msg_scn{self._n:06d}",
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": content,
            "stop_reason": "tool_use" if tool else "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": usage.input,
                "cache_creation_input_tokens": usage.cache_write,
                "cache_read_input_tokens": usage.cache_read,
                "output_tokens": usage.output,
            },
        }
        self.lines.append(rec)

    def say(self, text: str, at: datetime, usage: Usage) -> None:
        """An assistant message."""
        self._assistant([{"type": "text", "text": text}], at, usage)

    def act(self, action: Action, at: datetime, usage: Usage, say: str | None = None) -> None:
        """A tool_use block and its tool_result."""
        call_id = f"toolu_scn{self._n + 1:06d}"
        name, args = self._call(action)
        content: list[dict[str, Any]] = []
        if say:
            content.append({"type": "text", "text": say})
        content.append({"type": "tool_use", "id": call_id, "name": name, "input": args})
        self._assistant(content, at, usage)
        rec = self._base("user", at.replace(microsecond=min(at.microsecond + 500_000, 999_000)))
        text = self._result_text(action)
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": call_id, "content": text}
        if not action.ok:
            block["is_error"] = True
        rec["message"] = {"role": "user", "content": [block]}
        rec["toolUseResult"] = self._tool_use_result(action, text)
        self.lines.append(rec)

    @staticmethod
    def _call(action: Action) -> tuple[str, dict[str, Any]]:
        if action.kind == "shell":
            return "Bash", {"command": action.target}
        if action.kind == "write":
            return "Write", {"file_path": action.target, "content": action.content}
        if action.kind == "edit":
            return "Edit", {
                "file_path": action.target,
                "old_string": action.old,
                "new_string": action.new,
            }
        return "Read", {"file_path": action.target}

    @staticmethod
    def _result_text(action: Action) -> str:
        if action.output or action.kind in ("shell", "read"):
            if action.kind == "shell" and action.exit_code not in (None, 0):
                return f"Exit code {action.exit_code}\n{action.output}".rstrip("\n")
            return action.output
        if not action.ok:
            return "<tool_use_error>String to replace not found in file.</tool_use_error>"
        if action.kind == "write":
            verb = "created" if action.created else "updated"
            return f"File {verb} successfully at: {action.target}"
        return f"The file {action.target} has been updated."

    @staticmethod
    def _tool_use_result(action: Action, text: str) -> Any:
        if not action.ok:
            return "Error: " + text
        if action.kind == "shell":
            return {"stdout": action.output, "stderr": "", "interrupted": False, "isImage": False}
        if action.kind == "write":
            return {
                "type": "create" if action.created else "update",
                "filePath": action.target,
                "content": action.content,
            }
        if action.kind == "edit":
            return {"filePath": action.target, "oldString": action.old, "newString": action.new}
        return {"type": "text", "file": {"filePath": action.target, "content": action.output}}

    def dump(self, path: Path) -> Path:
        """Write the JSONL file."""
        return _write_lines(path, self.lines)


class CodexWriter:
    """Codex CLI rollout JSONL (`~/.codex/sessions/YYYY/MM/DD/rollout-...-<id>.jsonl`)."""

    def __init__(
        self,
        session_id: str,
        cwd: str,
        *,
        model: str = DEFAULT_MODELS["codex"],
        branch: str = "main",
        approval_policy: str = "on-request",
        sandbox: str = "workspace-write",
        start: datetime,
    ) -> None:
        self.cwd = cwd
        self.model = model
        self.lines: list[dict[str, Any]] = []
        self._n = 0
        self._total = [0, 0, 0, 0]  # input (incl. cached), cached, output, reasoning
        meta = {
            "id": session_id,
            "timestamp": stamp(start),
            "cwd": cwd,
            "originator": "codex_cli_rs",
            "cli_version": "0.98.0",
            "source": "cli",
            "model_provider": "openai",
            "git": {"branch": branch},
        }
        self._line(start, "session_meta", meta)
        context = {
            "cwd": cwd,
            "approval_policy": approval_policy,
            "sandbox_policy": {"type": sandbox, "network_access": False},
            "model": model,
        }
        self._line(start, "turn_context", context)

    def _line(self, at: datetime, kind: str, payload: dict[str, Any]) -> None:
        self.lines.append({"timestamp": stamp(at), "type": kind, "payload": payload})

    def user(self, text: str, at: datetime) -> None:
        """The task prompt."""
        content = [{"type": "input_text", "text": text}]
        self._line(at, "response_item", {"type": "message", "role": "user", "content": content})

    def _tokens(self, at: datetime, usage: Usage) -> None:
        # Codex counts cached tokens inside input_tokens; cache writes are not reported.
        prompt = usage.input + usage.cache_read + usage.cache_write
        last = {
            "input_tokens": prompt,
            "cached_input_tokens": usage.cache_read,
            "output_tokens": usage.output,
            "reasoning_output_tokens": 0,
            "total_tokens": prompt + usage.output,
        }
        self._total = [
            self._total[0] + prompt,
            self._total[1] + usage.cache_read,
            self._total[2] + usage.output,
            0,
        ]
        total = {
            "input_tokens": self._total[0],
            "cached_input_tokens": self._total[1],
            "output_tokens": self._total[2],
            "reasoning_output_tokens": 0,
            "total_tokens": self._total[0] + self._total[2],
        }
        info = {
            "total_token_usage": total,
            "last_token_usage": last,
            "model_context_window": 272_000,
        }
        self._line(at, "event_msg", {"type": "token_count", "info": info})

    def say(self, text: str, at: datetime, usage: Usage) -> None:
        """An assistant message."""
        content = [{"type": "output_text", "text": text}]
        item = {"type": "message", "role": "assistant", "content": content}
        self._line(at, "response_item", item)
        self._tokens(at, usage)

    def act(self, action: Action, at: datetime, usage: Usage, say: str | None = None) -> None:
        """A function call (shell) or custom tool call (apply_patch) and its output."""
        if say:
            content = [{"type": "output_text", "text": say}]
            self._line(
                at, "response_item", {"type": "message", "role": "assistant", "content": content}
            )
        self._n += 1
        call_id = f"call_scn{self._n:04d}"
        if action.kind in ("write", "edit"):
            self._patch(action, call_id, at)
        else:
            command = action.target if action.kind == "shell" else f"cat {action.target}"
            args = {"command": ["bash", "-lc", command], "workdir": self.cwd}
            call = {
                "type": "function_call",
                "name": "shell",
                "arguments": json.dumps(args),
                "call_id": call_id,
            }
            self._line(at, "response_item", call)
            code = action.exit_code if action.exit_code is not None else (0 if action.ok else 1)
            output = {
                "output": action.output,
                "metadata": {"exit_code": code, "duration_seconds": 0.4},
            }
            self._line(
                at,
                "response_item",
                {"type": "function_call_output", "call_id": call_id, "output": json.dumps(output)},
            )
        self._tokens(at, usage)

    def _patch(self, action: Action, call_id: str, at: datetime) -> None:
        path = action.target
        if action.kind == "write" and action.created:
            body = [f"*** Add File: {path}", *(f"+{line}" for line in action.content.splitlines())]
            letter = "A"
        elif action.kind == "write":
            body = [f"*** Delete File: {path}", f"*** Add File: {path}"]
            body += [f"+{line}" for line in action.content.splitlines()]
            letter = "M"
        else:
            body = [f"*** Update File: {path}", "@@"]
            body += [f"-{line}" for line in action.old.splitlines()]
            body += [f"+{line}" for line in action.new.splitlines()]
            letter = "M"
        patch = "\n".join(["*** Begin Patch", *body, "*** End Patch"])
        self._line(
            at,
            "response_item",
            {
                "type": "custom_tool_call",
                "status": "completed",
                "call_id": call_id,
                "name": "apply_patch",
                "input": patch,
            },
        )
        if action.ok:
            text = f"Success. Updated the following files:\n{letter} {path}\n"
            code = 0
        else:
            text = f"Failed to find expected lines in {path}"
            code = 1
        output = {"output": text, "metadata": {"exit_code": code, "duration_seconds": 0.0}}
        self._line(
            at,
            "response_item",
            {"type": "custom_tool_call_output", "call_id": call_id, "output": json.dumps(output)},
        )

    def dump(self, path: Path) -> Path:
        """Write the rollout file."""
        return _write_lines(path, self.lines)


def trace_file_name(agent: str, session_id: str, start: datetime) -> str:
    """The file name the agent itself would use."""
    if agent == "codex":
        return f"rollout-{start.strftime('%Y-%m-%dT%H-%M-%S')}-{session_id}.jsonl"
    return f"{session_id}.jsonl"
