"""Codex rollout and `codex exec --json` readers, on the real sample, the synthetic fixture and
hand-written fixtures. Expected figures for the shared samples were counted from the raw JSON
with throwaway scripts (see the comments), not taken from the reader's output."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

import pytest

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
from agentir.traces import codex_rollout, detect, open_trace, probe
from agentir.traces.base import ReadStats
from agentir.traces.codex import CodexExecReader, CodexReader
from agentir.traces.codex_items import argv_to_command, injected_kind, parse_output, policy_name
from tests.conftest import DATA, shared_trace
from tests.traces.support import of

REAL = "codex/rollout-2025-11-17T15-30-28-019a93b9-f380-7600-98ff-940e6b99603c.jsonl"
SMALL = "codex/synthetic-fixtures/small.jsonl"
FIXTURES = DATA / "codex"

T = TypeVar("T", bound=Event)


def read(
    path: Path, reader: type[CodexReader] | type[CodexExecReader] = CodexReader
) -> tuple[list[Event], ReadStats]:
    assert reader.sniff(probe(path))
    stats = ReadStats()
    events = list(reader().read(path, stats))
    return events, stats


def prompts(events: Sequence[Event]) -> list[Message]:
    return [
        m
        for m in of(events, Message)
        if m.role == "user" and m.injected is None and not m.reasoning
    ]


def token_sums(events: Sequence[Event]) -> tuple[int, int, int, int]:
    calls = of(events, ModelCall)
    return (
        sum(c.input_tokens for c in calls),
        sum(c.cache_read_tokens for c in calls),
        sum(c.output_tokens for c in calls),
        sum(c.reasoning_tokens for c in calls),
    )


# --------------------------------------------------------------------------- real sample


@pytest.fixture(scope="module")
def real() -> tuple[list[Event], ReadStats]:
    return read(shared_trace(REAL))


def test_registry_detects_codex_formats() -> None:
    assert detect(shared_trace(REAL)) is CodexReader
    assert detect(shared_trace(SMALL)) is CodexReader
    for name in ("legacy", "unified_exec", "content_items", "damaged"):
        assert detect(FIXTURES / f"{name}.jsonl") is CodexReader
    assert detect(FIXTURES / "exec.jsonl") is CodexExecReader
    stream = open_trace(FIXTURES / "legacy.jsonl", "codex")
    assert stream.format == "codex" and len(list(stream.events())) == 13


def test_real_sample_session(real: tuple[list[Event], ReadStats]) -> None:
    events, _ = real
    assert {e.session_id for e in events} == {"019a93b9-f380-7600-98ff-940e6b99603c"}
    assert {e.agent for e in events} == {"codex"}
    infos = of(events, SessionInfo)
    first = infos[0]
    assert first.cwd == "/home/user/projects/temp/chatbot-ui"
    assert first.git_branch == "main"
    assert first.git_commit == "0f022a043b3f8ca67224e1c56d5b85e28a81b910"
    assert first.repository_url == "git@github.com:AcidicSoil/chatbot-ui.git"
    assert first.agent_version == "0.58.0"
    assert first.extra["originator"] == "codex_cli_rs"
    assert first.ts == datetime(2025, 11, 17, 21, 30, 28, 664000, tzinfo=timezone.utc)
    # 40 identical turn_context lines: the authorization model is reported, not repeated 40 times
    latest = {
        f: next(getattr(i, f) for i in reversed(infos) if getattr(i, f) is not None)
        for f in ("sandbox", "approval_policy", "model", "network_access")
    }
    assert latest == {
        "sandbox": "danger-full-access",
        "approval_policy": "never",
        "model": "gpt-5.1-codex",
        "network_access": True,
    }
    assert sum(1 for i in infos if i.model is not None) == 1
    assert [i.snapshot_commit for i in infos if i.snapshot_commit] == [
        "a01966ef5b7bfb4af9f1a34be1a3c85da2bb0c13"
    ]


def test_real_sample_tool_calls(real: tuple[list[Event], ReadStats]) -> None:
    events, _ = real
    calls = of(events, ToolCall)
    shell = [c for c in calls if c.name == "shell"]
    # raw count: 37 function_call name=shell (all ["bash","-lc",X]) and 2 update_plan
    assert len(shell) == 37
    assert all(c.command for c in shell)
    assert len([c for c in calls if c.name == "update_plan"]) == 2
    assert len(calls) == 39
    assert shell[0].command == "ls" and shell[0].cwd == "/home/user/projects/temp/chatbot-ui"
    # raw: lines 269 and 276 run `apply_patch <<'PATCH'` through bash
    patches = [c for c in shell if "apply_patch <<" in (c.command or "")]
    assert len(patches) == 2
    path = "components/chat/chat-helpers/index.ts"
    assert all(
        c.changes and c.changes[0].path == path and c.changes[0].op is FileOp.EDIT for c in patches
    )
    # the first patch adds 10 lines and removes 5 (counted in the raw heredoc)
    assert (patches[0].changes[0].added, patches[0].changes[0].removed) == (10, 5)


def test_real_sample_results(real: tuple[list[Event], ReadStats]) -> None:
    events, _ = real
    calls = {c.call_id: c for c in of(events, ToolCall)}
    results = of(events, ToolResult)
    assert len(results) == 39 and {r.call_id for r in results} == set(calls)
    assert all(r.name == calls[r.call_id].name for r in results)
    # raw: metadata.exit_code is 2, 2, 1 for `ls lib/ai`, `rg … src`, `rg -n "OLLAMA" -n`
    failed = [r for r in results if r.exit_code not in (None, 0)]
    assert [r.exit_code for r in failed] == [2, 2, 1]
    assert all(r.ok is False for r in failed)
    assert next(calls[r.call_id].command for r in failed) == "ls lib/ai"
    assert sum(1 for r in results if r.exit_code == 0 and r.ok) == 34  # 37 shell - 3 failed
    confirmed = [r for r in results if r.changes]
    assert len(confirmed) == 2
    assert confirmed[0].changes == (
        FileChange("components/chat/chat-helpers/index.ts", FileOp.EDIT),
    )
    plan_results = [r for r in results if r.name == "update_plan"]
    assert [r.output for r in plan_results] == ["Plan updated", "Plan updated"] and plan_results[
        0
    ].ok is None


def test_real_sample_one_real_prompt(real: tuple[list[Event], ReadStats]) -> None:
    events, _ = real
    real_prompts = prompts(events)
    assert len(real_prompts) == 1
    assert real_prompts[0].text.startswith("finish up the users work by rigging up the chatbot-ui")
    injected = [m for m in of(events, Message) if m.injected]
    assert [m.injected for m in injected] == ["environment-context"]
    # 38 reasoning items, one of them with an empty summary (encrypted only)
    assert len([m for m in of(events, Message) if m.reasoning]) == 37


def test_real_sample_tokens_match_ccusage(real: tuple[list[Event], ReadStats]) -> None:
    events, stats = real
    # ccusage 20.0.24 `codex session --offline --json`: 71933 / 1027328 / 22305 / 19520
    assert token_sums(events) == (71933, 1027328, 22305, 19520)
    # cross-check against the last cumulative total in the raw file
    final = None
    for line in shared_trace(REAL).read_text(encoding="utf-8").splitlines():
        payload = json.loads(line)["payload"]
        if payload.get("type") == "token_count" and payload.get("info"):
            final = payload["info"]["total_token_usage"]
    assert final is not None
    expected = (
        final["input_tokens"] - final["cached_input_tokens"],
        final["cached_input_tokens"],
        final["output_tokens"],
        final["reasoning_output_tokens"],
    )
    assert token_sums(events) == expected
    calls = of(events, ModelCall)
    # 79 token_count events: 1 with info null, 39 repeating the previous total, 39 calls
    assert len(calls) == 39
    assert stats.reasons["codex: token_count repeating the previous total"] == 39
    assert stats.reasons["codex: token_count without usage (rate limits only)"] == 1
    assert {c.model for c in calls} == {"gpt-5.1-codex"} and {c.context_window for c in calls} == {
        258400
    }


def test_real_sample_order_and_sources(real: tuple[list[Event], ReadStats]) -> None:
    events, stats = real
    assert [e.seq for e in events] == list(range(len(events)))
    assert all(e.ts is not None for e in events)
    lines = [e.source.line or 0 for e in events]
    assert lines == sorted(lines) and lines[0] == 1
    assert stats.records == 279 and stats.malformed == 0 and not stats.truncated_tail


# --------------------------------------------------------------------------- synthetic small.jsonl


@pytest.fixture(scope="module")
def small() -> tuple[list[Event], ReadStats]:
    return read(shared_trace(SMALL))


def test_small_reads_and_counts_unknown_records(small: tuple[list[Event], ReadStats]) -> None:
    events, stats = small
    assert stats.records == 118 and stats.malformed == 0
    assert stats.reasons["codex: record type world_state"] == 5
    assert stats.reasons["codex: event_msg guardian_assessment"] == 4
    assert any(r.startswith("codex: event_msg collab_") for r in stats.reasons)
    assert {e.session_id for e in events} == {"019fc8be-3658-7ca3-9e29-000000000000"}
    first = of(events, SessionInfo)[0]
    assert (first.cwd, first.git_branch, first.agent_version) == ("/tmp/repo", "main", "0.146.0")
    ctx = of(events, SessionInfo)[1]
    assert (ctx.model, ctx.sandbox, ctx.approval_policy, ctx.network_access) == (
        "gpt-5.6-luna",
        "workspace-write",
        "never",
        False,
    )


def test_small_tools(small: tuple[list[Event], ReadStats]) -> None:
    events, _ = small
    calls = {c.call_id: c for c in of(events, ToolCall) if c.call_id}
    results = {r.call_id: r for r in of(events, ToolResult) if r.call_id}
    # custom_tool_call "shell" with a JSON input, answered by a content-item array
    assert calls["call-1"].command == "ls"
    assert results["call-1"].output == "a.txt\nb.txt\n"
    # function_call_output given as one content-item object
    assert results["call-2"].output == "a.txt\n"
    # patch_apply_end with no preceding call: the change is still recorded and confirmed
    change = FileChange("/tmp/repo/a.txt", FileOp.EDIT)
    assert calls["call-6"].name == "apply_patch" and calls["call-6"].changes == (change,)
    assert results["call-6"].ok is True and results["call-6"].changes == (change,)
    # mcp_tool_call_end: Ok result, then an Err one later in the file
    assert calls["call-5"].name == "example__example_tool" and calls["call-5"].args == {
        "title": "example"
    }
    assert results["call-5"].ok is True
    assert any(r.ok is False and "__" in (r.name or "") for r in of(events, ToolResult))
    searches = [c for c in of(events, ToolCall) if c.name == "web_search"]
    assert len(searches) == 1 and searches[0].args["query"] == "example"


def test_small_tokens_match_ccusage(small: tuple[list[Event], ReadStats]) -> None:
    events, stats = small
    calls = of(events, ModelCall)
    # ccusage: input 12757, cache_read 3584, output 81, reasoning 63, model gpt-5.6-luna
    assert token_sums(events) == (12757, 3584, 81, 63)
    assert [c.model for c in calls] == ["gpt-5.6-luna"] and calls[0].context_window == 258400
    assert stats.reasons["codex: token_count with zero usage"] == 1


def test_small_compactions_errors_and_prompt(small: tuple[list[Event], ReadStats]) -> None:
    events, _ = small
    # raw: 6 `compacted` lines and 1 `context_compacted`, never adjacent, so 7 compactions
    assert len(of(events, Compaction)) == 7
    errors = of(events, ErrorEvent)
    assert ("turn_aborted", "interrupted") in [(e.category, e.message) for e in errors]
    assert (
        sum(1 for e in errors if e.category == "api_error") == 2
    )  # `error` and task_complete.error
    assert [m.text for m in prompts(events)] == ["List the files"]
    ghosts = [i.snapshot_commit for i in of(events, SessionInfo) if i.snapshot_commit]
    assert ghosts == ["[trimmed for fixture]"]


def test_small_placeholder_timestamps_are_none(small: tuple[list[Event], ReadStats]) -> None:
    events, _ = small
    # raw: lines 27-118 carry "[trimmed for fixture]" instead of a timestamp
    for event in events:
        assert (event.ts is None) == ((event.source.line or 0) >= 27), event


# --------------------------------------------------------------------------- hand-written fixtures


def test_legacy_rollout() -> None:
    events, stats = read(FIXTURES / "legacy.jsonl")
    assert {e.session_id for e in events} == {"5973b6c0-94b8-487b-a530-2aeb6098ae0e"}
    assert stats.reasons["codex: legacy state record"] == 4
    head = events[0]
    assert isinstance(head, SessionInfo)
    assert head.ts == datetime(2025, 8, 20, 13, 20, 47, 60000, tzinfo=timezone.utc)
    assert (head.git_branch, head.git_commit) == ("fix/login", "1" * 40)
    assert all(e.ts is None for e in events[1:])
    env = next(i for i in of(events, SessionInfo) if i.sandbox)
    assert (env.cwd, env.sandbox, env.approval_policy, env.network_access) == (
        "/work/app",
        "workspace-write",
        "on-request",
        False,
    )
    assert [m.injected for m in of(events, Message) if m.role == "user"] == [
        "instructions",
        "environment-context",
        None,
    ]
    calls = of(events, ToolCall)
    assert next(c.command for c in calls) == "cat app.py"
    patch_call = calls[1]
    assert patch_call.changes == (
        FileChange("notes/todo.md", FileOp.CREATE, added=1, removed=0),
        FileChange("app.py", FileOp.EDIT, added=1, removed=1),
    )
    results = of(events, ToolResult)
    assert results[1].changes == (
        FileChange("notes/todo.md", FileOp.CREATE),
        FileChange("app.py", FileOp.EDIT),
    )
    assert (results[2].exit_code, results[2].ok) == (1, False)
    assert calls[2].command == "python -m pytest -q"


def test_unified_exec_session() -> None:
    events, stats = read(FIXTURES / "unified_exec.jsonl")
    calls = {c.call_id: c for c in of(events, ToolCall)}
    results = of(events, ToolResult)
    by_id: dict[str | None, list[ToolResult]] = {}
    for r in results:
        by_id.setdefault(r.call_id, []).append(r)
    assert (calls["call_m1"].command, calls["call_m1"].cwd) == ("make migrate", "/srv/api/db")
    failed = by_id["call_m1"][0]
    assert (failed.exit_code, failed.ok) == (1, False)
    assert failed.output.startswith('migrate: relation "users" already exists')
    assert by_id["call_m2"][0].exit_code == 0 and by_id["call_m2"][0].output.startswith(" ?column?")
    # exec_command_end then function_call_output for one call: reported once
    assert len(by_id["call_m3"]) == 1 and calls["call_m3"].command == "git status --short"
    assert stats.reasons["codex: duplicate tool result"] == 1
    # a command the human typed (`!ls db`) is kept, and marked as theirs
    assert calls["call_u1"].name == "user_shell" and calls["call_u1"].command == "ls db"
    # long-running exec: first "still running", then the end event with the real exit code
    assert [(r.exit_code, r.ok) for r in by_id["call_m4"]] == [(None, None), (130, False)]
    assert calls["call_m5"].name == "write_stdin" and calls["call_m5"].command is None
    # only cumulative totals: per-call usage from their differences, the repeat skipped;
    # ccusage 20.0.24 on this fixture: input 10480, cache read 17920, output 380, reasoning 160
    assert [c.input_tokens for c in of(events, ModelCall)] == [9000, 540, 940]
    assert token_sums(events) == (28400 - 17920, 17920, 380, 160)
    system = [m for m in of(events, Message) if m.role == "system"]
    assert [m.injected for m in system] == ["instructions"]
    user = [m for m in of(events, Message) if m.role == "user"]
    assert [m.injected for m in user] == ["instructions", None]
    assert [e.category for e in of(events, ErrorEvent)] == ["api_error", "context_window"]
    ctx = next(i for i in of(events, SessionInfo) if i.model)
    assert (ctx.sandbox, ctx.network_access, ctx.approval_policy) == (
        "workspace-write",
        False,
        "on-request",
    )


def test_content_items_patches_and_compaction() -> None:
    events, stats = read(FIXTURES / "content_items.jsonl")
    calls = {c.call_id: c for c in of(events, ToolCall)}
    results = {r.call_id: r for r in of(events, ToolResult)}
    assert calls["c1"].command == "ls -la 'src dir'"
    assert results["c1"].output == "a.py\nold.py\n"
    assert (results["c2"].name, results["c2"].ok) == ("docs__fetch_page", False)
    assert calls["c3"].changes == (
        FileChange("src/new.py", FileOp.CREATE, added=1, removed=0),
        FileChange("src/a.py", FileOp.RENAME, dest="src/b.py", added=1, removed=1),
        FileChange("src/old.py", FileOp.DELETE, added=0, removed=0),
    )
    # patch_apply_end came first; the custom_tool_call_output repeating it is dropped
    assert len([r for r in of(events, ToolResult) if r.call_id == "c3"]) == 1
    assert results["c3"].ok is True
    assert results["c3"].changes == (
        FileChange("/home/dev/site/src/new.py", FileOp.CREATE, added=1, removed=0),
        FileChange(
            "/home/dev/site/src/a.py",
            FileOp.RENAME,
            dest="/home/dev/site/src/b.py",
            added=1,
            removed=1,
        ),
        FileChange("/home/dev/site/src/old.py", FileOp.DELETE, added=0, removed=1),
    )
    assert results["c4"].output == "" and results["c4"].ok is None
    (call,) = of(events, ModelCall)
    # Codex input includes cache reads and writes; ccusage 20.0.24 also gives 8000 / 30000 / 2000
    assert (call.input_tokens, call.cache_read_tokens, call.cache_write_tokens) == (
        8000,
        30000,
        2000,
    )
    assert call.context_tokens == 40000
    (compaction,) = of(events, Compaction)
    assert compaction.pre_tokens == 40000
    assert stats.reasons["codex: second record of one compaction"] == 1
    summary = [m for m in of(events, Message) if m.injected == "compaction-summary"]
    assert [m.text for m in summary] == ["Summary: moved a.py to b.py, docs site was down."]
    assert [m.text for m in prompts(events)] == ["tidy src and check the docs site"]
    search = next(c for c in of(events, ToolCall) if c.name == "web_search")
    assert search.args == {"type": "open_page", "url": "https://status.example.invalid/"}
    assert of(events, ErrorEvent)[0].category == "turn_aborted"


def test_damaged_file_is_read_past_bad_lines() -> None:
    events, stats = read(FIXTURES / "damaged.jsonl")
    assert stats.malformed == 1 and stats.truncated_tail
    assert stats.reasons["codex: record type world_state"] == 1
    assert stats.total_skipped == 3
    # the line after the malformed one is still read
    (call,) = of(events, ToolCall)
    assert (call.command, call.source.line) == ("rm -rf build", 4)
    (result,) = of(events, ToolResult)
    assert (result.exit_code, result.ok, result.output) == (0, True, "")
    assert [e.seq for e in events] == list(range(len(events)))


def test_codex_exec_json() -> None:
    events, stats = read(FIXTURES / "exec.jsonl", CodexExecReader)
    assert {e.session_id for e in events} == {"019e0000-1234-7000-8000-00000000e8ec"}
    assert all(e.ts is None for e in events)
    calls = of(events, ToolCall)
    assert [c.name for c in calls] == ["exec_command", "apply_patch", "github__create_issue"]
    assert calls[0].command == "bash -lc 'npm run build'"
    assert [c.op for c in calls[1].changes] == [FileOp.EDIT, FileOp.CREATE]
    results = of(events, ToolResult)
    assert [(r.exit_code, r.ok) for r in results] == [(2, False), (None, True), (None, True)]
    assert results[2].output == "created #12"
    (usage,) = of(events, ModelCall)
    assert (usage.input_tokens, usage.cache_read_tokens, usage.output_tokens) == (315, 24448, 122)
    assert [m.reasoning for m in of(events, Message)] == [True, False]
    assert [e.message for e in of(events, ErrorEvent)] == ["stream disconnected before completion"]
    assert stats.skipped == 2


def test_codex_readers_do_not_claim_other_formats(tmp_path: Path) -> None:
    claude = tmp_path / "claude.jsonl"
    claude.write_text(
        json.dumps({"type": "user", "sessionId": "s", "uuid": "u", "message": {}}) + "\n"
    )
    openhands = tmp_path / "events.json"
    openhands.write_text(
        json.dumps(
            {"id": 1, "timestamp": "2025-01-01T00:00:00", "source": "agent", "action": "run"}
        )
    )
    for path in (claude, openhands):
        pr = probe(path)
        assert not CodexReader.sniff(pr) and not CodexExecReader.sniff(pr)


def test_rollout_with_corrupt_first_line_is_still_detected(tmp_path: Path) -> None:
    lines = (FIXTURES / "unified_exec.jsonl").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "cut.jsonl"
    path.write_text("\n".join([lines[0][:150], *lines[1:]]) + "\n", encoding="utf-8")
    assert CodexReader.sniff(probe(path))
    events, stats = read(path)
    assert stats.malformed == 1
    assert [m.text for m in prompts(events)] == ["run the migrations and tell me what fails"]


def test_call_tracking_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codex_rollout, "MAX_TRACKED_CALLS", 8)
    lines = []
    for n in range(50):
        args = json.dumps({"command": ["bash", "-lc", f"echo {n}"]})
        lines.append(
            {
                "timestamp": "2026-01-01T00:00:00Z",
                "type": "response_item",
                "payload": {
                    "type": "function_call",
                    "name": "shell",
                    "arguments": args,
                    "call_id": f"c{n}",
                },
            }
        )
    path = tmp_path / "many.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    rollout = codex_rollout.RolloutParser(path, ReadStats())
    assert len(list(rollout.events())) == 50
    assert len(rollout.calls) == 8 and "c49" in rollout.calls


# --------------------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["bash", "-lc", "ls -la"], "ls -la"),
        (["/bin/zsh", "-c", "echo hi"], "echo hi"),
        (["rg", "-n", "two words"], "rg -n 'two words'"),
        (["ls"], "ls"),
    ],
)
def test_argv_to_command(argv: list[str], command: str) -> None:
    assert argv_to_command(argv) == command


@pytest.mark.parametrize(
    ("output", "text", "exit_code", "ok"),
    [
        ('{"output":"x\\n","metadata":{"exit_code":3}}', "x\n", 3, False),
        ("Exit code: 0\nWall time: 0 seconds\nOutput:\nok\n", "ok\n", 0, True),
        ("err: tool timed out", "err: tool timed out", None, False),
        ({"content": "done", "success": True}, "done", None, True),
        (
            [{"type": "input_text", "text": "a"}, {"type": "input_text", "text": "b"}],
            "a\nb",
            None,
            None,
        ),
        ('{"result": 1}', '{"result": 1}', None, None),  # a tool's own JSON stays as printed
        ("Plan updated", "Plan updated", None, None),
    ],
)
def test_parse_output(output: object, text: str, exit_code: int | None, ok: bool | None) -> None:
    info = parse_output(output)
    assert (info.text, info.exit_code, info.ok) == (text, exit_code, ok)


def test_injected_kind() -> None:
    assert injected_kind("<environment_context>\n<cwd>/x</cwd>") == "environment-context"
    assert injected_kind("  <user_instructions>be brief</user_instructions>") == "instructions"
    assert injected_kind("# AGENTS.md instructions for /x\n\n<INSTRUCTIONS>") == "instructions"
    assert injected_kind("<user_shell_command>ls</user_shell_command>") == "command"
    assert injected_kind("<turn_aborted>interrupted</turn_aborted>") == "meta"
    assert injected_kind("please fix <environment_context> parsing") is None


def test_policy_name() -> None:
    assert policy_name({"mode": "danger-full-access"}) == "danger-full-access"
    assert policy_name({"type": "workspace-write", "network_access": True}) == "workspace-write"
    assert policy_name("never") == "never"
    assert policy_name({"granular": {"sandbox": True}}) == "granular"
    assert policy_name(None) is None
