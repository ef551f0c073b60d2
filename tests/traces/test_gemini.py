"""Gemini CLI reader: the two real sessions (counts taken from the raw files), fixtures, bad input.

Raw counts were taken with jq, e.g. for the JSONL sample
`jq -s '[.[] | select(.type=="gemini")] | group_by(.id) | map(last)'` (the last copy of
each upserted id) summed over `.tokens.*` and `.toolCalls[].name`.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from agentir.errors import TraceError
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
from agentir.traces import probe
from agentir.traces.base import ReadStats
from agentir.traces.gemini import GeminiReader
from tests.conftest import DATA, shared_trace
from tests.traces.support import of

FIXTURES = DATA / "gemini"
REWIND = FIXTURES / "session-2026-05-01T09-00-5e0c1f4a.jsonl"
PARENT = "7d3c2b1a-0f9e-4d8c-b7a6-5e4d3c2b1a09"
SUBAGENT = FIXTURES / PARENT / "2f8e6d4c-1a3b-4c5d-9e8f-0a1b2c3d4e5f.jsonl"
SAMPLE_JSONL = "gemini-cli/test_conversation_gemini.jsonl"
SAMPLE_JSON = "gemini-cli/test_conversation_gemini.json"


def read(path: Path) -> tuple[list[Event], ReadStats]:
    assert GeminiReader.sniff(probe(path))
    stats = ReadStats()
    return list(GeminiReader().read(path, stats)), stats


def tokens(events: list[Event]) -> tuple[int, int, int, int]:
    calls = of(events, ModelCall)
    return (
        sum(c.input_tokens for c in calls),
        sum(c.cache_read_tokens for c in calls),
        sum(c.output_tokens for c in calls),
        sum(c.reasoning_tokens for c in calls),
    )


def test_real_jsonl_session_with_upserts() -> None:
    events, stats = read(shared_trace(SAMPLE_JSONL))
    assert stats.total_skipped == 0
    assert stats.reasons["message re-appended (upsert: last copy kept)"] == 5
    assert {e.session_id for e in events} == {"0ab84937-9fe7-4284-986a-33c832af0b6a"}
    assert {e.agent for e in events} == {"gemini-cli"}
    calls = of(events, ToolCall)
    assert Counter(c.name for c in calls) == {
        "read_file": 7,
        "write_file": 1,
        "replace": 1,
        "update_topic": 3,
    }
    assert len({c.call_id for c in calls}) == 12  # the 5 upserted ids are counted once
    assert all(r.ok for r in of(events, ToolResult)) and len(of(events, ToolResult)) == 12
    assert len(of(events, ModelCall)) == 6
    # 11 distinct message ids: 6 gemini, 3 user, 2 info
    assert len([m for m in of(events, Message) if m.role == "user"]) == 3
    # raw: input 202586 (cached included), cached 48951, output 2152, thoughts 2141
    assert tokens(events) == (202586 - 48951, 48951, 2152 + 2141, 2141)
    write = next(c for c in calls if c.name == "write_file")
    assert write.changes == (FileChange(path="GEMINI.md", op=FileOp.WRITE),)  # isNewFile false
    replace = next(c for c in calls if c.name == "replace")
    assert replace.changes == (FileChange(path="GEMINI.md", op=FileOp.EDIT),)
    info = events[0]
    assert isinstance(info, SessionInfo)
    assert info.cwd == "/home/wei/repo/discordbot"  # the diff's absolute path minus file_path
    assert info.model == "gemini-3-flash-preview"
    nudges = [m for m in of(events, Message) if m.injected == "meta"]
    assert [m.text for m in nudges] == ["System: Please continue."]
    assert [e.category for e in of(events, ErrorEvent)] == ["turn_aborted"]  # Request cancelled.


def test_real_legacy_session() -> None:
    events, stats = read(shared_trace(SAMPLE_JSON))
    assert stats.total_skipped == 0
    assert {e.session_id for e in events} == {"2d9ea14f-1e4e-44f6-8bf5-7a7819cb1cd9"}
    assert of(events, ToolCall) == []
    assert len(of(events, ModelCall)) == 13  # 14 messages: 13 gemini, 1 user
    assert len([m for m in of(events, Message) if m.role == "user"]) == 1
    assert tokens(events) == (176179 - 121305, 121305, 851 + 1546, 1546)
    assert events[1].source.pointer == "/messages/0"


def test_rewind_upsert_and_tool_outcomes() -> None:
    events, stats = read(REWIND)
    assert stats.total_skipped == 0
    users = [m.text for m in of(events, Message) if m.role == "user"]
    # u2 and g3 come after the $rewindTo target and are dropped with it
    assert users == [
        "The staging deploy fails, fix deploy.sh",
        "Source scripts/env.sh at the top of deploy.sh instead",
    ]
    calls = of(events, ToolCall)
    assert [c.call_id for c in calls] == ["c1", "c2", "c4", "c5", "c6"]
    assert [c.command for c in calls if c.command] == ["./deploy.sh --dry-run"] * 2
    assert calls[0].cwd == "/work/app"
    assert calls[1].changes == (FileChange(path="scripts/env.sh", op=FileOp.CREATE),)
    assert calls[2].changes == (FileChange(path="deploy.sh", op=FileOp.EDIT),)
    results = {r.call_id: r for r in of(events, ToolResult)}
    assert (results["c1"].ok, results["c1"].exit_code) == (False, 1)  # status success, Exit Code 1
    assert (results["c5"].ok, results["c5"].exit_code) == (True, 0)
    assert results["c6"].ok is False and results["c6"].output == "Tool call cancelled by user."
    assert results["c2"].changes == (
        FileChange(path="scripts/env.sh", op=FileOp.CREATE, added=1, removed=0),
    )
    models = of(events, ModelCall)
    assert [m.message_id for m in models] == ["g1", "g2", "g4"]  # g4 upserted: once
    assert models[1].input_tokens == 5600 - 4096 and models[1].cache_read_tokens == 4096
    assert models[0].output_tokens == 120 + 50 and models[0].reasoning_tokens == 50
    assert [e.category for e in of(events, ErrorEvent)] == ["rate_limit", "turn_aborted"]
    info = events[0]
    assert isinstance(info, SessionInfo)
    assert info.title == "Fix staging deploy env"  # from a later $set
    assert info.cwd == "/work/app"
    reasoning = [m for m in of(events, Message) if m.reasoning]
    assert reasoning[0].text.startswith("Reproducing: Run the script")
    assert all(e.source.line for e in events)


def test_subagent_session_is_a_sidechain_of_its_parent() -> None:
    events, _ = read(SUBAGENT)
    assert {e.session_id for e in events} == {PARENT}
    assert {e.sidechain for e in events} == {"2f8e6d4c-1a3b-4c5d-9e8f-0a1b2c3d4e5f"}
    assert [c.name for c in of(events, ToolCall)] == ["grep_search"]


# --------------------------------------------------------------------------- bad input


def test_truncated_jsonl_keeps_the_complete_lines(tmp_path: Path) -> None:
    raw = REWIND.read_bytes()
    path = tmp_path / "cut.jsonl"
    path.write_bytes(raw[: raw.index(b'{"id":"g2"') + 40])
    events, stats = read(path)
    assert stats.truncated_tail is True
    assert [c.call_id for c in of(events, ToolCall)] == ["c1"]


def test_truncated_legacy_document_is_salvaged(tmp_path: Path) -> None:
    raw = shared_trace(SAMPLE_JSON).read_bytes()
    path = tmp_path / "cut.json"
    path.write_bytes(raw[: len(raw) // 2])
    events, stats = read(path)
    assert stats.truncated_tail is True
    assert 1 <= len(of(events, ModelCall)) < 13


def test_unsalvageable_legacy_document(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{\n  "sessionId": "x",\n  "projectHash": "y",\n  "messages": [}\n')
    with pytest.raises(TraceError, match="not valid JSON"):
        list(GeminiReader().read(path, ReadStats()))


def test_wrong_shapes_and_missing_fields(tmp_path: Path) -> None:
    lines = [
        {"sessionId": "s", "projectHash": "p"},
        "junk",
        {"$set": "not an object"},
        {"$rewindTo": "never-seen"},
        {"id": "m1", "type": "gemini", "tokens": "lots", "toolCalls": "none", "thoughts": [3]},
        {
            "id": "m2",
            "type": "gemini",
            "toolCalls": [None, {"args": "not json", "result": {"x": 1}}],
        },
        {"id": "m3", "type": "user", "content": None},
        {"id": "m4", "type": "brand_new_type", "content": "?"},
        {"something": "else"},
    ]
    path = tmp_path / "shapes.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    events, stats = read(path)
    assert stats.skipped == 6
    (call,) = of(events, ToolCall)
    assert call.name == "unknown" and dict(call.args) == {"raw": "not json"}
    (result,) = of(events, ToolResult)
    assert result.ok is None and result.output == ""
    assert len(of(events, ModelCall)) == 2 and of(events, ModelCall)[0].input_tokens == 0


def test_legacy_with_wrong_messages(tmp_path: Path) -> None:
    path = tmp_path / "legacy.json"
    path.write_text(json.dumps({"sessionId": "s", "projectHash": "p", "messages": {"a": 1}}))
    events, stats = read(path)
    assert [type(e).__name__ for e in events] == ["SessionInfo"] and stats.skipped == 1


def test_real_sessions_are_detected_as_gemini(shared_traces: Path) -> None:
    from agentir.traces import detect

    for sample in (SAMPLE_JSONL, SAMPLE_JSON):
        assert detect(shared_traces / sample) is GeminiReader
    assert detect(REWIND) is GeminiReader and detect(SUBAGENT) is GeminiReader


def test_gemini_sniff_claims_no_other_file(shared_traces: Path) -> None:
    from tests.traces.test_otel import _foreign_files

    foreign = _foreign_files(shared_traces, ("gemini-cli", "gemini"))
    assert len(foreign) >= 18
    assert [p for p in foreign if GeminiReader.sniff(probe(p))] == []
