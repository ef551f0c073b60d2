"""Claude Code transcript records for the guard and watch tests, shaped like the real ones
(`../shared/traces/claude-code/`): assistant records carrying `message.id`, `usage` and
`tool_use` blocks, user records carrying `tool_result` blocks and `toolUseResult`."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

MODEL = "claude-sonnet-4-5-20250929"  # priced in agentir/data/pricing.json


class Transcript:
    """Builds the records of one session, in order; `write` / `append` put them in a file."""

    def __init__(self, session: str, cwd: str | Path, path: Path | None = None) -> None:
        self.session = session
        self.cwd = str(cwd)
        self.path = path
        self.counter = itertools.count(1)
        self.parent: str | None = None
        self.second = 0

    def _base(self, kind: str) -> dict[str, Any]:
        n = next(self.counter)
        uuid = f"00000000-0000-4000-8000-{n:012d}"
        self.second += 1
        rec = {
            "parentUuid": self.parent,
            "isSidechain": False,
            "userType": "external",
            "cwd": self.cwd,
            "sessionId": self.session,
            "version": "2.0.14",
            "gitBranch": "main",
            "type": kind,
            "uuid": uuid,
            "timestamp": f"2026-01-05T10:{self.second // 60 % 60:02d}:{self.second % 60:02d}.000Z",
        }
        self.parent = uuid
        return rec

    def prompt(self, text: str) -> dict[str, Any]:
        """A user prompt."""
        rec = self._base("user")
        rec["message"] = {"role": "user", "content": text}
        return rec

    def call(
        self,
        name: str,
        args: dict[str, Any],
        *,
        usage: dict[str, int] | None = None,
        message_id: str | None = None,
    ) -> tuple[dict[str, Any], str]:
        """An assistant record with one tool_use block, and the tool_use id."""
        n = next(self.counter)
        call_id = f"toolu_{n:024d}"
        rec = self._base("assistant")
        rec["message"] = {
            "id": message_id or f"msg_{n:024d}",
            "type": "message",
            "role": "assistant",
            "model": MODEL,
            "content": [{"type": "tool_use", "id": call_id, "name": name, "input": args}],
            "stop_reason": "tool_use",
            "usage": usage
            or {
                "input_tokens": 4,
                "cache_creation_input_tokens": 200,
                "cache_read_input_tokens": 10_000,
                "output_tokens": 50,
            },
        }
        rec["requestId"] = f"req_{n:024d}"
        return rec, call_id

    def result(self, call_id: str, text: str, *, error: bool = False) -> dict[str, Any]:
        """The user record holding a tool's result."""
        rec = self._base("user")
        block: dict[str, Any] = {"tool_use_id": call_id, "type": "tool_result", "content": text}
        if error:
            block["is_error"] = True
        rec["message"] = {"role": "user", "content": [block]}
        rec["toolUseResult"] = f"Error: {text}" if error else {"stdout": text, "stderr": ""}
        return rec

    def step(
        self, name: str, args: dict[str, Any], output: str, *, error: bool = False, **kw: Any
    ) -> list[dict[str, Any]]:
        """A call and its result."""
        call, call_id = self.call(name, args, **kw)
        return [call, self.result(call_id, output, error=error)]

    def write(self, records: list[dict[str, Any]]) -> Path:
        """Replace the file with these records."""
        assert self.path is not None
        self.path.write_text("".join(json.dumps(r) + "\n" for r in records))
        return self.path

    def append(self, records: list[dict[str, Any]]) -> Path:
        """Append records to the file."""
        assert self.path is not None
        with self.path.open("a") as fh:
            fh.write("".join(json.dumps(r) + "\n" for r in records))
        return self.path
