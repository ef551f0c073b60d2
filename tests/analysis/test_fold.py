"""The one-pass fold from events to an assessment, on hand-built events."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from agentir.analysis import fold as foldmod
from agentir.analysis.fold import SessionFold
from agentir.model import (
    ErrorEvent,
    Event,
    FileChange,
    FileOp,
    Message,
    ModelCall,
    Risk,
    SessionInfo,
    Source,
    ToolCall,
    ToolResult,
)
from agentir.traces.base import Emitter

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
TOKEN = "ghp_" + "Z" * 36


class Builder:
    def __init__(self) -> None:
        self.em = Emitter("trace.jsonl", "claude-code", "S1")
        self.events: list[Event] = []

    def add(self, cls: type, **fields: Any) -> Event:
        ev = self.em.make(
            cls, ts=T0 + timedelta(seconds=self.em.next_seq), line=self.em.next_seq + 1, **fields
        )
        self.events.append(ev)
        return ev

    def bash(
        self,
        command: str,
        ok: bool | None,
        exit_code: int | None = None,
        output: str = "",
        call_id: str | None = None,
    ) -> None:
        cid = call_id or f"c{self.em.next_seq}"
        self.add(ToolCall, call_id=cid, name="Bash", args={"command": command}, command=command)
        self.add(ToolResult, call_id=cid, ok=ok, exit_code=exit_code, output=output)

    def run(self) -> Any:
        f = SessionFold("S1", "claude-code", "claude-code", "trace.jsonl")
        for ev in self.events:
            f.feed(ev)
        return f.finish()


def test_files_from_tools_and_shell_only_count_when_successful() -> None:
    b = Builder()
    b.add(SessionInfo, cwd="/repo", git_branch="main", permission_mode="bypassPermissions")
    b.add(Message, role="user", text="fix the login bug in src/auth.py")
    b.add(
        ToolCall,
        call_id="w1",
        name="Write",
        args={"file_path": "/repo/src/auth.py"},
        changes=(FileChange("/repo/src/auth.py", FileOp.WRITE),),
    )
    b.add(ToolResult, call_id="w1", ok=True)
    b.add(
        ToolCall,
        call_id="w2",
        name="Write",
        args={"file_path": "/repo/src/fail.py"},
        changes=(FileChange("/repo/src/fail.py", FileOp.WRITE),),
    )
    b.add(
        ToolResult,
        call_id="w2",
        ok=False,
        output="<tool_use_error>File has not been read yet</tool_use_error>",
    )
    b.bash("rm -f old.txt && mv a.py b.py", ok=True, exit_code=0)
    b.bash("rm /etc/passwd", ok=False, exit_code=1, output="rm: permission denied")
    a = b.run()
    files = {f.path: f for f in a.files}
    assert files["src/auth.py"].done and files["src/auth.py"].ops == (FileOp.WRITE,)
    assert not files["src/fail.py"].done
    assert files["old.txt"].ops == (FileOp.DELETE,) and files["old.txt"].via == ("rm",)
    assert files["a.py"].ops == (FileOp.RENAME,) and files["b.py"].ops == (FileOp.RENAME,)
    assert not files["/etc/passwd"].done and not files["/etc/passwd"].inside_cwd
    assert a.session.task == "fix the login bug in src/auth.py"
    assert a.session.permission_mode == "bypassPermissions"
    assert a.counts.tool_calls == 4 and a.counts.tool_errors == 2
    assert [(c.command, c.exit_code, c.ok) for c in a.commands] == [
        ("rm -f old.txt && mv a.py b.py", 0, True),
        ("rm /etc/passwd", 1, False),
    ]
    assert [f.seq for f in a.failures] == [4, 8]


def test_secrets_are_redacted_and_reported_once() -> None:
    b = Builder()
    b.bash(f"git push https://x:{TOKEN}@github.com/o/r main", ok=True, exit_code=0)
    b.bash(f"echo {TOKEN}", ok=True, exit_code=0, output=TOKEN)
    a = b.run()
    assert TOKEN not in repr(a)
    secrets = [e for e in a.effects if e.kind == "secret_exposure"]
    assert len(secrets) == 1 and secrets[0].risk is Risk.CRITICAL and secrets[0].seq == 0
    assert any(e.kind == "git_push" for e in a.effects)
    assert a.severity.suggested == "SEV1"


def test_effects_fold_and_failures_are_marked() -> None:
    b = Builder()
    for _ in range(3):
        b.bash("curl https://api.example.com/x", ok=True, exit_code=0)
    b.bash("git push --force origin main", ok=False, exit_code=1, output="rejected")
    a = b.run()
    by_kind = {e.kind: e for e in a.effects}
    assert by_kind["network"].count == 3 and by_kind["network"].succeeded is True
    assert by_kind["git_push"].succeeded is False and by_kind["git_push"].risk is Risk.CRITICAL


def test_commit_hashes_printed_by_git_commit_are_collected() -> None:
    b = Builder()
    b.bash("git commit -am wip", ok=True, exit_code=0, output="[main 1a2b3c4] wip\n 1 file changed")
    b.bash(
        "git commit -m init", ok=True, exit_code=0, output="[feature (root-commit) deadbeef1] init"
    )
    assert b.run().commit_refs == ("1a2b3c4", "deadbeef1")


def test_unpaired_calls_are_settled_at_the_end() -> None:
    b = Builder()
    b.add(ToolCall, call_id="x", name="Bash", args={}, command="rm gone.txt")
    a = b.run()
    assert a.commands[0].exit_code is None and a.commands[0].ok is None
    assert not a.files[0].done  # no result: only attempted


def test_usage_and_unknown_models() -> None:
    b = Builder()
    b.add(ModelCall, model="claude-sonnet-4-20250514", input_tokens=100_000, output_tokens=100_000)
    b.add(ModelCall, model="mystery-model", input_tokens=10)
    a = b.run()
    assert a.usage.cost_usd == pytest.approx(1.8)
    assert a.usage.cost_note and "mystery-model" in a.usage.cost_note
    only_unknown = Builder()
    only_unknown.add(ModelCall, model="mystery-model", input_tokens=10)
    u = only_unknown.run().usage
    assert u.cost_usd is None and "no price known" in (u.cost_note or "")


def test_lists_are_capped_and_the_rest_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(foldmod, "MAX_COMMANDS", 5)
    b = Builder()
    for i in range(12):
        b.bash(f"echo {i}", ok=True, exit_code=0)
    a = b.run()
    assert len(a.commands) == 5 and a.counts.commands == 12 and a.omitted["commands"] == 7


def test_control_characters_never_reach_the_assessment() -> None:
    b = Builder()
    b.bash("echo \x1b[31mred\x1b[0m\x07", ok=True, exit_code=0)
    b.add(ErrorEvent, category="api_error", message="boom\x1b]0;title\x07")
    a = b.run()
    assert "\x1b" not in repr(a.commands) and "\x07" not in repr(a.timeline)


def test_source_is_kept_for_evidence() -> None:
    b = Builder()
    b.bash("curl https://x.example", ok=True, exit_code=0)
    a = b.run()
    assert a.effects[0].source == str(Source("trace.jsonl", 1))


def test_a_later_result_for_the_same_call_updates_the_exit_code() -> None:
    b = Builder()
    b.add(ToolCall, call_id="e1", name="exec_command", args={}, command="make test")
    b.add(ToolResult, call_id="e1", ok=None, output="Process running with session ID 3")
    b.add(ToolResult, call_id="e1", ok=False, exit_code=2, output="make: *** [test] Error 2")
    a = b.run()
    assert [(c.command, c.exit_code, c.ok) for c in a.commands] == [("make test", 2, False)]
    assert a.counts.tool_errors == 1 and a.failures[0].seq == 0
