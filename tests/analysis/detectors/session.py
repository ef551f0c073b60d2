"""A small builder of one session's events, run through the fold with every detector."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from agentir.analysis.detectors import default_observers
from agentir.analysis.fold import SessionFold
from agentir.model import (
    Assessment,
    Event,
    FileChange,
    FileOp,
    Finding,
    Message,
    ModelCall,
    SessionInfo,
    ToolCall,
    ToolResult,
)
from agentir.policy import Policy
from agentir.traces.base import Emitter, digest

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)


class Session:
    """Events of one Claude-Code-like session, with helpers for the common steps."""

    def __init__(self, cwd: str | None = "/repo", task: str | None = "fix the bug") -> None:
        self.em = Emitter("session.jsonl", "claude-code", "S1")
        self.events: list[Event] = []
        if cwd is not None:
            self.add(SessionInfo, cwd=cwd, git_branch="feature/x")
        if task is not None:
            self.user(task)

    def add(self, cls: type, **fields: Any) -> Any:
        seq = self.em.next_seq
        ev = self.em.make(cls, ts=T0 + timedelta(seconds=seq), line=seq + 1, **fields)
        self.events.append(ev)
        return ev

    def user(self, text: str) -> None:
        self.add(Message, role="user", text=text)

    def say(self, text: str, **fields: Any) -> None:
        self.add(Message, role="assistant", text=text, **fields)

    def model(self, **fields: Any) -> None:
        fields.setdefault("model", "claude-sonnet-4-20250514")
        self.add(ModelCall, **fields)

    def bash(
        self,
        command: str,
        ok: bool | None = True,
        exit_code: int | None = None,
        output: str = "",
        **call: Any,
    ) -> int:
        """A shell call and its result; returns the call's seq."""
        cid = f"c{self.em.next_seq}"
        ev = self.add(
            ToolCall, call_id=cid, name="Bash", args={"command": command}, command=command, **call
        )
        if exit_code is None and ok is not None:
            exit_code = 0 if ok else 1
        self.add(
            ToolResult,
            call_id=cid,
            ok=ok,
            exit_code=exit_code,
            output=output,
            output_digest=digest(output),
        )
        return int(ev.seq)

    def tool(
        self,
        name: str,
        args: dict[str, Any],
        ok: bool | None = True,
        output: str = "ok",
        **call: Any,
    ) -> int:
        cid = f"c{self.em.next_seq}"
        ev = self.add(ToolCall, call_id=cid, name=name, args=args, **call)
        self.add(ToolResult, call_id=cid, ok=ok, output=output, output_digest=digest(output))
        return int(ev.seq)

    def write(self, path: str, ok: bool = True) -> int:
        return self.tool(
            "Write",
            {"file_path": path, "content": "x"},
            ok=ok,
            changes=(FileChange(path, FileOp.WRITE),),
        )

    def edit(self, path: str, old: str = "a", new: str = "b", ok: bool = True) -> int:
        return self.tool(
            "Edit",
            {"file_path": path, "old_string": old, "new_string": new},
            ok=ok,
            changes=(FileChange(path, FileOp.EDIT),),
        )

    def run(self, policy: Policy | None = None) -> Assessment:
        fold = SessionFold(
            "S1", "claude-code", "claude-code", "session.jsonl", default_observers(policy)
        )
        for ev in self.events:
            fold.feed(ev)
        return fold.finish()


def found(a: Assessment, detector: str, **data: Any) -> list[Finding]:
    """The findings of one detector whose data match `data`."""
    return [
        f
        for f in a.findings
        if f.detector == detector and all(f.data.get(k) == v for k, v in data.items())
    ]
