"""Claude Code reader: real samples (counts taken from the raw files) and hand-written fixtures."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

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
from agentir.traces import claude_code, probe
from agentir.traces.base import Probe, ReadStats
from agentir.traces.claude_code import ClaudeCodeReader
from agentir.traces.claude_code_files import is_merged_subagent_file
from tests.conftest import DATA, shared_trace
from tests.traces.support import of

FIXTURES = DATA / "claude-code"
V21_SID = "3f1e2d4c-5b6a-4789-8abc-def012345678"
V21_MAIN = FIXTURES / "v2.1-subagents" / f"{V21_SID}.jsonl"
V21_AGENT = "a7f3c2e9d1b04f68"
V21_SUB = FIXTURES / "v2.1-subagents" / V21_SID / "subagents" / f"agent-{V21_AGENT}.jsonl"
V20_SID = "6b0c8e2a-9f14-4d3b-a2c5-71e0d9b8f346"
V20_DIR = FIXTURES / "v2.0-flat"
HEADLESS = FIXTURES / "headless" / "stream-json.jsonl"

SAMPLE_1AF = "claude-code/1af7fc5e-8455-4414-9ccd-011d40f70b2a.jsonl"
SAMPLE_5C0 = "claude-code/5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl"
SAMPLE_SMALL = "claude-code/synthetic-fixtures/small.jsonl"


def read(path: Path) -> tuple[list[Event], ReadStats]:
    # the reader itself, not the registry: other readers may be mid-way in the same tree
    assert ClaudeCodeReader.sniff(probe(path))
    stats = ReadStats()
    events = list(ClaudeCodeReader().read(path, stats))
    return events, stats


def token_totals(events: list[Event]) -> tuple[int, int, int, int]:
    calls = of(events, ModelCall)
    return (
        sum(c.input_tokens for c in calls),
        sum(c.output_tokens for c in calls),
        sum(c.cache_write_tokens for c in calls),
        sum(c.cache_read_tokens for c in calls),
    )


def assert_seq_ok(events: list[Event]) -> None:
    by_session: dict[str, list[int]] = {}
    for e in events:
        by_session.setdefault(e.session_id, []).append(e.seq)
    for seqs in by_session.values():
        assert seqs == list(range(len(seqs)))


# --------------------------------------------------------------------------- real samples


def test_sample_1af7_init_run() -> None:
    events, stats = read(shared_trace(SAMPLE_1AF))
    assert_seq_ok(events)
    assert {e.session_id for e in events} == {"1af7fc5e-8455-4414-9ccd-011d40f70b2a"}
    calls = Counter(c.name for c in of(events, ToolCall))
    assert calls == {"Glob": 6, "TodoWrite": 3, "Bash": 2, "Write": 1}
    # 7 distinct message.id over 12 assistant lines
    assert len(of(events, ModelCall)) == 7
    assert len({c.message_id for c in of(events, ModelCall)}) == 7
    assert token_totals(events) == (93, 953, 12698, 103219)  # = ccusage 20.0.24
    failed = [r for r in of(events, ToolResult) if r.ok is False]
    assert [(r.call_id, r.name) for r in failed] == [("toolu_01LM7vfs6eMdhHJokVajzJA1", "Write")]
    assert "haven't granted it yet" in failed[0].output
    assert all(r.ok for r in of(events, ToolResult) if r is not failed[0])
    # the Write was only intended: the call names the file, no result confirms it
    write = next(c for c in of(events, ToolCall) if c.name == "Write")
    assert write.changes == (FileChange("/path/to/Demo/CLAUDE.md", FileOp.WRITE),)
    assert not any(r.changes for r in of(events, ToolResult))
    bash = [c.command for c in of(events, ToolCall) if c.name == "Bash"]
    assert bash[1] == "ls -la"
    # /init: a slash command, then its injected expansion; no typed prompt at all
    users = [m for m in of(events, Message) if m.role == "user"]
    assert [m.injected for m in users] == ["command", "meta"]
    assert not any(e.sidechain for e in events)
    info = of(events, SessionInfo)[-1]
    assert (info.cwd, info.git_branch, info.agent_version) == ("/path/to/Demo", None, "1.0.98")
    assert info.model == "claude-sonnet-4-20250514"
    assert stats.records == 29 and stats.total_skipped == 0


def test_sample_5c03_orchestrator_with_inline_sidechains() -> None:
    events, stats = read(shared_trace(SAMPLE_5C0))
    assert_seq_ok(events)
    assert stats.records == 53 and stats.total_skipped == 0
    calls = of(events, ToolCall)
    assert Counter(c.name for c in calls) == {
        "TodoWrite": 5,
        "Glob": 3,
        "Task": 3,
        "Read": 3,
        "Bash": 5,
        "Edit": 1,
        "MultiEdit": 1,
    }
    assert len(of(events, ModelCall)) == 20  # distinct message.id, sidechains included
    # max per usage field over the lines of one id (summing the lines would give more,
    # taking each id's first line gives 2498 output tokens)
    assert token_totals(events) == (129, 3629, 47747, 324259)  # = ccusage 20.0.24
    split = next(c for c in of(events, ModelCall) if c.message_id == "msg_014fJ8dncc8t7mNss9o1poH3")
    assert split.output_tokens == 302  # lines say 25, 25, 302
    assert split.source.line == 6  # placed at its first line, before its three tool calls
    failed = {r.call_id: r.name for r in of(events, ToolResult) if r.ok is False}
    assert failed == {
        "toolu_018t5jce2ZNoGr2ADsHGQife": "Task",  # InputValidationError (no prompt)
        "toolu_01KDiLyJT1VsszVhG4d3p6jV": "Bash",  # lsd: No such file
        "toolu_019ctBEHhLKehUi4xPDkYwvc": "Edit",  # File has not been read yet
    }
    # the failed Edit confirms nothing; the MultiEdit result confirms its structured patch
    confirmed = [(r.name, r.changes) for r in of(events, ToolResult) if r.changes]
    assert confirmed == [
        ("MultiEdit", (FileChange("/path/to/Demo/CLAUDE.md", FileOp.EDIT, added=64, removed=36),))
    ]


def test_sample_5c03_sidechains_linked_to_their_task() -> None:
    events, _ = read(shared_trace(SAMPLE_5C0))
    first, second = "toolu_014YF9TXhDRR7BnpasNJ7gjC", "toolu_01LKfUwrsnof18CpWZQcJH44"
    side = [e for e in events if e.sidechain]
    assert {e.sidechain for e in side} == {first, second}
    # the 22 isSidechain lines are 16-22 and 26-40; every event from them is marked
    assert {e.source.line for e in side if e.sidechain == first} == set(range(16, 23))
    assert {e.source.line for e in side if e.sidechain == second} == set(range(26, 41))
    assert not [e for e in events if e.sidechain is None and (16 <= e.source.line <= 22)]
    tools = {
        k: Counter(c.name for c in of(side, ToolCall) if c.sidechain == k) for k in (first, second)
    }
    assert tools == {first: {"Glob": 1, "Read": 1}, second: {"Bash": 5, "Read": 1}}
    per_chain = Counter(c.sidechain for c in of(events, ModelCall))
    assert per_chain == {None: 10, first: 3, second: 7}
    # the subagent's prompt was written by the parent model, not typed by the person
    prompts = [m for m in of(side, Message) if m.role == "user"]
    assert [m.injected for m in prompts] == ["subagent-prompt", "subagent-prompt"]
    main_user = [m for m in of(events, Message) if m.role == "user" and m.sidechain is None]
    assert main_user[0].injected == "command"
    assert "<command-args>@CLAUDE.md" in main_user[0].text
    assert main_user[1].injected == "meta"


def test_synthetic_small_reads_and_counts_unknown_records() -> None:
    events, stats = read(shared_trace(SAMPLE_SMALL))
    assert_seq_ok(events)
    assert stats.records == 89 and stats.malformed == 0 and not stats.truncated_tail
    # per type, from the raw file: everything that is neither conversation nor used metadata
    for reason, count in {
        "record type attachment": 38 - 4,  # 4 are queued_command prompts, read as messages
        "record type worktree-state": 2,
        "record type progress": 1,
        "record type queue-operation": 1,
        "record type file-history-snapshot": 1,
        "record type last-prompt": 1,
        "record type started": 1,
        "record type relocated": 1,
        "record type bridge-session": 1,
        "record type atis-latch": 1,
        "record type frame-link": 1,
        "system turn_duration": 1,
        "system session_start": 1,
        "system stop_hook_summary": 1,
    }.items():
        assert stats.reasons[reason] == count, reason
    assert stats.skipped == 56 - 4
    queued = [
        m.source.line
        for m in of(events, Message)
        if m.role == "user" and m.source.line in (39, 43, 45, 59)
    ]
    assert queued == [39, 43, 45, 59]
    # placeholders never crash and never become values
    assert any(e.ts is None for e in events)
    assert all(e.session_id != "[trimmed for fixture]" for e in events)
    assert len(of(events, Compaction)) == 2
    assert of(events, Compaction)[0].pre_tokens == 120000
    titles = [i.title for i in of(events, SessionInfo) if i.title]
    assert titles[-1] == "Stage0 small fixture"  # a custom title is not replaced by ai-title
    assert "rate_limit" in {e.category for e in of(events, ErrorEvent)}  # system error, 429


# --------------------------------------------------------------------------- 2.1.x fixture


def test_v21_main_with_subagent_file_merged_by_time() -> None:
    events, stats = read(V21_MAIN)
    assert_seq_ok(events)
    assert {e.session_id for e in events} == {V21_SID}
    kinds = [(type(e).__name__, e.sidechain) for e in events]
    agent_call = next(
        i for i, e in enumerate(events) if isinstance(e, ToolCall) and e.name == "Agent"
    )
    agent_result = next(
        i for i, e in enumerate(events) if isinstance(e, ToolResult) and e.name == "Agent"
    )
    between = kinds[agent_call + 1 : agent_result]
    assert between and all(side == V21_AGENT for _, side in between)
    assert not [k for k in kinds[agent_result:] if k[1] is not None]
    side = [e for e in events if e.sidechain == V21_AGENT]
    assert {e.source.path for e in side} == {str(V21_SUB)}
    assert {e.source.path for e in events if not e.sidechain} == {str(V21_MAIN)}
    # 5 responses in the main file, 2 in the subagent; the replayed msg_A is not counted again
    assert [c.message_id for c in of(events, ModelCall)] == [
        "msg_A", "msg_S1", "msg_S2", "msg_B", "msg_C", "msg_D", "msg_E",
    ]  # fmt: skip
    assert token_totals(events) == (44, 520, 4420, 7720)
    assert of(events, ModelCall)[0].cache_write_1h_tokens == 2000
    assert stats.reasons["replayed message"] == 1
    assert {c.model for c in of(side, ModelCall)} == {"claude-haiku-4-5-20251001"}
    # the subagent's model does not change the session's model
    assert {i.model for i in of(events, SessionInfo)} == {None, "claude-opus-4-5-20251101"}


def test_v21_tool_results_errors_and_changes() -> None:
    events, _ = read(V21_MAIN)
    results = {r.call_id: r for r in of(events, ToolResult)}
    bash = results["toolu_bash1"]
    assert (bash.ok, bash.exit_code, bash.name) == (False, 2, "Bash")
    assert next(c for c in of(events, ToolCall) if c.name == "Bash").command == "make build"
    failed_write, good_write = results["toolu_write1"], results["toolu_write2"]
    assert failed_write.ok is False and failed_write.changes == ()
    assert good_write.ok is True
    assert good_write.changes == (
        FileChange("/work/shop/app/health.py", FileOp.CREATE, added=2, removed=0),
    )
    edit = results["toolu_edit1"]
    assert edit.changes == (
        FileChange("/work/shop/app/routes.py", FileOp.EDIT, added=1, removed=1),
    )
    writes = [c for c in of(events, ToolCall) if c.name == "Write"]
    assert [c.changes for c in writes] == [
        (FileChange("/work/shop/app/health.py", FileOp.WRITE),)
    ] * 2
    assert results["toolu_agent1"].output.startswith("Routes are registered")


def test_v21_errors_compaction_and_injected_text() -> None:
    events, _ = read(V21_MAIN)
    errors = [(e.category, e.message) for e in of(events, ErrorEvent)]
    assert errors == [
        ("api_error", "Overloaded (retry 1/10)"),
        ("api_error", "Overloaded (retry 2/10)"),
        ("rate_limit", "API Error: Rate limit reached for requests"),
    ]
    assert not [c for c in of(events, ModelCall) if c.model == "<synthetic>"]
    (compaction,) = of(events, Compaction)
    assert (compaction.trigger, compaction.pre_tokens) == ("manual", 48211)
    users = [m.injected for m in of(events, Message) if m.role == "user"]
    assert users == [
        None, "subagent-prompt", "command", "compaction-summary", "system-reminder", None,
    ]  # fmt: skip
    real = [m for m in of(events, Message) if m.role == "user" and m.injected is None]
    assert real[0].text.startswith("Add a /health endpoint")
    assert real[1].text == "Now register the route in app/routes.py."
    thinking = [m for m in of(events, Message) if m.reasoning]
    assert [m.text for m in thinking] == ["I should find the routes first."]


def test_v21_session_info_only_on_change() -> None:
    events, _ = read(V21_MAIN)
    infos = of(events, SessionInfo)
    # first prompt, first model, custom title, permission-mode record: nothing else changes
    assert len(infos) == 4
    assert infos[0].permission_mode == "acceptEdits" and infos[0].model is None
    assert infos[1].model == "claude-opus-4-5-20251101"
    assert infos[2].title == "health endpoint"
    last = infos[-1]
    assert (last.cwd, last.git_branch, last.agent_version) == (
        "/work/shop",
        "feature/health",
        "2.1.45",
    )
    assert last.permission_mode == "bypassPermissions"


def test_v21_truncated_tail_and_malformed_line_are_counted() -> None:
    events, stats = read(V21_MAIN)
    assert stats.malformed == 1 and stats.truncated_tail
    assert stats.reasons["malformed JSON line"] == 1
    assert stats.reasons["truncated last line"] == 1
    # reading went on past the bad line 10 to line 26, the last one that yields events
    # (27 is an attachment, 28 the cut line)
    assert max(e.source.line for e in events if e.source.path == str(V21_MAIN)) == 26
    assert stats.records == 28 + 5
    assert stats.skipped == 4  # file-history-snapshot, progress, attachment, replayed msg_A


def test_subagent_file_alone_is_its_own_session() -> None:
    events, _ = read(V21_SUB)
    assert {e.session_id for e in events} == {V21_SID}
    assert {e.sidechain for e in events} == {V21_AGENT}
    calls = [c.message_id for c in of(events, ModelCall)]
    # alone, nothing was claimed before: the copy of msg_A is the only one it has
    assert calls == ["msg_S1", "msg_A", "msg_S2"]


# --------------------------------------------------------------------------- 2.0.x and headless


def test_v20_flat_agent_files_of_the_same_session_only() -> None:
    events, _ = read(V20_DIR / f"{V20_SID}.jsonl")
    assert_seq_ok(events)
    assert {e.sidechain for e in events} == {None, "5d2e9a1b"}
    assert "msg_o1" not in {c.message_id for c in of(events, ModelCall)}
    pytest_run = next(r for r in of(events, ToolResult) if r.call_id == "toolu_pytest")
    assert (pytest_run.ok, pytest_run.exit_code, pytest_run.sidechain) == (False, 1, "5d2e9a1b")
    order = [e.source.path.rsplit("/", 1)[-1] for e in events if isinstance(e, ModelCall)]
    assert order == [
        f"{V20_SID}.jsonl",
        "agent-5d2e9a1b.jsonl",
        "agent-5d2e9a1b.jsonl",
        f"{V20_SID}.jsonl",
    ]


def test_headless_stream_json() -> None:
    events, stats = read(HEADLESS)
    assert {e.session_id for e in events} == {"9d1c5e7a-2b3f-4c8d-9e0f-1a2b3c4d5e6f"}
    info = of(events, SessionInfo)[0]
    assert info.permission_mode == "bypassPermissions" and info.cwd == "/srv/app"
    assert info.allowed_tools == ("Task", "Bash", "Read", "Edit")
    assert info.agent_version == "2.0.14"
    assert of(events, SessionInfo)[-1].extra["reported_cost_usd"] == 0.0412
    assert len(of(events, ModelCall)) == 3
    assert next(c for c in of(events, ToolCall) if c.name == "Bash").command == (
        "kubectl apply -f deploy.yaml"
    )
    assert [m.sidechain for m in of(events, ModelCall)] == [None, None, "toolu_h_task"]
    (error,) = of(events, ErrorEvent)
    assert error.category == "max_iterations"
    assert stats.total_skipped == 0


# --------------------------------------------------------------------------- detection


def test_sniff_accepts_claude_code_and_rejects_others(tmp_path: Path) -> None:
    for path in (V21_MAIN, V20_DIR / f"{V20_SID}.jsonl", HEADLESS):
        assert ClaudeCodeReader.sniff(probe(path))
    lead = tmp_path / "summary-first.jsonl"
    lead.write_text(
        '{"type":"summary","summary":"Fix login","leafUuid":"x"}\n'
        '{"type":"file-history-snapshot","messageId":"m","snapshot":{}}\n'
        + json.dumps(
            {
                "type": "user",
                "sessionId": "s1",
                "uuid": "u",
                "parentUuid": None,
                "message": {"role": "user", "content": "hi"},
            }
        )
        + "\n"
    )
    assert ClaudeCodeReader.sniff(probe(lead))
    gemini = tmp_path / "gemini.jsonl"
    gemini.write_text(
        '{"sessionId":"s","projectHash":"h","startTime":"2026-01-01T00:00:00Z","type":"user"}\n'
    )
    codex = tmp_path / "codex.jsonl"
    codex.write_text(
        '{"timestamp":"2026-01-01T00:00:00Z","type":"session_meta","payload":{"id":"x"}}\n'
    )
    other = tmp_path / "other.jsonl"
    other.write_text('{"type":"user","text":"no session id here"}\n')
    for path in (gemini, codex, other):
        assert not ClaudeCodeReader.sniff(probe(path))


# --------------------------------------------------------------------------- bounded state


def _line(**rec: object) -> str:
    return json.dumps(rec) + "\n"


def _open_response_file(path: Path) -> Path:
    """A response split around 30 subagent records: its last line carries the final usage."""

    def assistant(out: int, block: dict) -> str:
        message = {"id": "msg_X", "model": "m", "content": [block],
                   "usage": {"input_tokens": 1, "output_tokens": out}}  # fmt: skip
        return _line(
            type="assistant", sessionId="s", message=message, timestamp="2026-01-01T00:00:00Z"
        )

    lines = [assistant(10, {"type": "text", "text": "start"})]
    lines += [
        _line(
            type="user",
            sessionId="s",
            isSidechain=True,
            agentId="sub",
            message={"role": "user", "content": f"side {i}"},
        )
        for i in range(30)
    ]
    lines.append(assistant(50, {"type": "text", "text": "end"}))
    path.write_text("".join(lines))
    return path


def test_split_response_takes_max_usage(tmp_path: Path) -> None:
    events, _ = read(_open_response_file(tmp_path / "s.jsonl"))
    (call,) = of(events, ModelCall)
    assert call.output_tokens == 50 and call.seq == 1  # after SessionInfo, before its text
    assert [m.text for m in of(events, Message) if m.role == "assistant"] == ["start", "end"]


def test_buffer_limit_flushes_early_without_double_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(claude_code, "MAX_PENDING", 5)
    events, _ = read(_open_response_file(tmp_path / "s.jsonl"))
    (call,) = of(events, ModelCall)  # the late line is not a second call
    assert call.output_tokens == 10  # flushed before its last line arrived
    assert [m.text for m in of(events, Message) if m.role == "assistant"] == ["start", "end"]


def test_several_sessions_in_one_file(tmp_path: Path) -> None:
    path = tmp_path / "two.jsonl"
    path.write_text(
        "".join(
            _line(type="user", sessionId=sid, cwd="/r", message={"role": "user", "content": text})
            for sid, text in (("a", "one"), ("b", "two"), ("a", "three"))
        )
    )
    events, _ = read(path)
    assert_seq_ok(events)
    texts = {sid: [m.text for m in of(events, Message) if m.session_id == sid] for sid in "ab"}
    assert texts == {"a": ["one", "three"], "b": ["two"]}


def test_replay_of_an_emitted_response_in_a_sidechain_is_skipped(tmp_path: Path) -> None:
    def assistant(mid: str, out: int, **extra: object) -> str:
        message = {"id": mid, "model": "m", "content": [{"type": "text", "text": mid}]}
        message["usage"] = {"input_tokens": 1, "output_tokens": out}
        return _line(type="assistant", sessionId="s", message=message, **extra)

    path = tmp_path / "replay.jsonl"
    path.write_text(
        assistant("msg_1", 10)
        + assistant("msg_2", 20)
        + assistant("msg_3", 30)
        + assistant("msg_1", 99, isSidechain=True, agentId="btw", requestId="req_other")
        + assistant("msg_4", 5, isSidechain=True, agentId="btw")
    )
    events, stats = read(path)
    calls = [(c.message_id, c.output_tokens, c.sidechain) for c in of(events, ModelCall)]
    assert calls == [
        ("msg_1", 10, None),
        ("msg_2", 20, None),
        ("msg_3", 30, None),
        ("msg_4", 5, "btw"),
    ]
    assert [m.text for m in of(events, Message)] == ["msg_1", "msg_2", "msg_3", "msg_4"]
    assert stats.reasons["replayed message"] == 1


def test_sniff_first_line_longer_than_the_head(tmp_path: Path) -> None:
    big = {"parentUuid": None, "isSidechain": False, "userType": "external", "sessionId": "s"}
    big |= {"type": "user", "message": {"role": "user", "content": "x" * 100_000}}
    path = tmp_path / "big-first-line.jsonl"
    path.write_text(json.dumps(big) + "\n")
    assert ClaudeCodeReader.sniff(probe(path))  # the registry parses the whole first line
    cut = Probe(path=path, head=path.read_bytes()[:65536], first_record=None)
    assert ClaudeCodeReader.sniff(cut)  # and without it, the envelope keys still tell


def test_queued_prompts_typed_while_the_agent_worked(tmp_path: Path) -> None:
    def queued(prompt: object, kind: str | None) -> str:
        attachment: dict = {"type": "queued_command", "prompt": prompt, "commandMode": "prompt"}
        if kind:
            attachment["origin"] = {"kind": kind}
        return _line(type="attachment", sessionId="s", attachment=attachment)

    path = tmp_path / "queued.jsonl"
    path.write_text(
        queued("stop, do not push", "human")
        + queued([{"type": "image"}, {"type": "text", "text": "see screenshot"}], None)
        + queued("background task finished", "task-notification")
        + _line(type="attachment", sessionId="s", attachment={"type": "todo_reminder"})
    )
    events, stats = read(path)
    assert [(m.text, m.injected) for m in of(events, Message)] == [
        ("stop, do not push", None),
        ("see screenshot", None),
        ("background task finished", "meta"),
    ]
    assert stats.reasons["record type attachment"] == 1


def test_which_subagent_files_a_directory_walk_should_skip() -> None:
    assert is_merged_subagent_file(V21_SUB)
    assert is_merged_subagent_file(V20_DIR / "agent-5d2e9a1b.jsonl")
    assert not is_merged_subagent_file(V20_DIR / "agent-0c0ffee0.jsonl")  # its parent is absent
    assert not is_merged_subagent_file(V21_MAIN)
