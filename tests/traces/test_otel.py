"""OTLP/JSON reader: a hand-written GenAI trace (two layouts), agent log events, bad input.

The fixture `coding-agent.otlp.json[l]` was written from the OTel GenAI semantic
conventions (trace-formats.md §5.1/5.2): an `invoke_agent` root, six `chat` spans with
usage and opt-in message content, four `execute_tool` spans (a failing `pytest`, a file
write, a `curl` to a webhook, a `task` that runs a `reviewer` sub-agent). The JSON
document writes int64 values as strings, the JSONL file (one export batch per line, child
spans before their parents as a batch exporter writes them) as numbers.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timezone
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
from agentir.traces.otel import OtelReader, any_value, attributes
from tests.conftest import DATA
from tests.traces.support import of

FIXTURES = DATA / "otel"
DOC = FIXTURES / "coding-agent.otlp.json"
JSONL = FIXTURES / "coding-agent.otlp.jsonl"
LOGS = FIXTURES / "claude-code-logs.otlp.json"
CONV = "conv-7f3a2c"
CURL = (
    "curl -sS -X POST https://hooks.slack.example.com/services/T000/B000/XXXX "
    '-d \'{"text":"CI fixed"}\''
)


def read(path: Path) -> tuple[list[Event], ReadStats]:
    # the reader itself, not the registry: other readers may be mid-way in the same tree
    assert OtelReader.sniff(probe(path))
    stats = ReadStats()
    return list(OtelReader().read(path, stats)), stats


def read_raw(path: Path) -> tuple[list[Event], ReadStats]:
    stats = ReadStats()
    return list(OtelReader().read(path, stats)), stats


@pytest.mark.parametrize(
    "path", [DOC, JSONL], ids=["document-int64-strings", "jsonl-int64-numbers"]
)
def test_hand_written_trace_is_read_correctly(path: Path) -> None:
    events, stats = read(path)
    assert stats.total_skipped == 0
    assert [e.seq for e in events] == list(range(len(events)))
    assert {e.session_id for e in events} == {CONV}
    assert {e.agent for e in events} == {"acme-coder"}

    info = of(events, SessionInfo)
    assert len(info) == 1 and events[0] is info[0]
    assert info[0].model == "claude-sonnet-4-5-20250929"
    assert info[0].agent_version == "0.9.1"

    calls = of(events, ToolCall)
    assert Counter(c.name for c in calls) == {"bash": 2, "write_file": 1, "task": 1}
    assert [c.call_id for c in calls] == ["toolu_01", "toolu_02", "toolu_03", "toolu_04"]
    assert [c.command for c in calls if c.command] == ["pytest -q tests/test_api.py", CURL]
    assert calls[1].changes == (FileChange(path="src/api.py", op=FileOp.WRITE),)

    results = {r.call_id: r for r in of(events, ToolResult)}
    assert len(results) == 4
    assert results["toolu_01"].ok is False and results["toolu_01"].exit_code == 1
    assert "assert 500 == 404" in results["toolu_01"].output
    assert results["toolu_02"].ok is True and results["toolu_03"].ok is True
    assert results["toolu_04"].output.startswith("LGTM")

    models = of(events, ModelCall)
    assert len(models) == 6
    # input_tokens includes the cache in the conventions; ModelCall's excludes it
    assert sum(m.input_tokens for m in models) == 100 + 600 + 400 + 200 + 800 + 200
    assert sum(m.output_tokens for m in models) == 120 + 340 + 90 + 40 + 60 + 25
    assert sum(m.cache_read_tokens for m in models) == 1800 + 2300 + 2900 + 3300 + 3400
    assert sum(m.cache_write_tokens for m in models) == 500
    assert models[0].message_id == "msg_0002"

    # the reviewer runs under the task tool: a sub-agent, so its events are a sidechain
    side = [e for e in events if e.sidechain]
    assert {e.sidechain for e in side} == {"agent-rev-1"}
    assert [type(e).__name__ for e in side] == ["Message", "ModelCall", "Message"]
    assert of(side, ModelCall)[0].model == "claude-haiku-4-5-20251001"

    messages = of(events, Message)
    users = [m.text for m in messages if m.role == "user" and not m.sidechain]
    assert users == ["The CI job is red: fix the failing test in tests/test_api.py"]
    system = [m for m in messages if m.role == "system"]
    assert len(system) == 1 and system[0].injected == "instructions"  # said once, not per call
    assert messages[-1].text.startswith("Fixed the missing-user case")

    # span start time is the event time; the source points at the raw span
    first_call = calls[0]
    assert first_call.ts == datetime(2026, 3, 2, 14, 0, 3, 100000, tzinfo=timezone.utc)
    assert first_call.source.pointer is not None
    assert first_call.source.pointer.startswith("/resourceSpans/0/scopeSpans/0/spans/")
    assert (first_call.source.line is None) == (path == DOC)


def test_both_layouts_give_the_same_timeline() -> None:
    doc, _ = read(DOC)
    jsonl, _ = read(JSONL)

    def shape(events: list[Event]) -> list[tuple]:
        return [
            (type(e).__name__, e.ts, getattr(e, "name", None), getattr(e, "call_id", None))
            for e in events
            if not isinstance(e, SessionInfo)
        ]

    assert shape(doc) == shape(jsonl)


def test_events_are_in_start_time_order_within_the_document() -> None:
    events, _ = read(DOC)
    calls = of(events, ToolCall) + of(events, ModelCall)
    by_seq = sorted(calls, key=lambda e: e.seq)
    assert [e.ts for e in by_seq] == sorted(e.ts for e in by_seq)


def test_a_list_of_documents_is_one_trace(tmp_path: Path) -> None:
    lines = JSONL.read_text().splitlines()
    path = tmp_path / "batches.json"
    path.write_text("[" + ",".join(lines) + "]")
    events, stats = read(path)
    assert len(of(events, ToolCall)) == 4 and stats.total_skipped == 0
    assert of(events, ToolCall)[0].source.pointer.startswith("/0/resourceSpans/")


def test_claude_code_log_events() -> None:
    events, stats = read(LOGS)
    assert {e.agent for e in events} == {"claude-code"}
    assert {e.session_id for e in events} == {"sess-cc-1"}
    assert of(events, Message)[0].text == "clean the build dir and fix make"
    (call,) = of(events, ModelCall)
    assert (call.input_tokens, call.output_tokens) == (12, 230)  # Claude's input excludes cache
    assert (call.cache_read_tokens, call.cache_write_tokens) == (15000, 800)
    assert call.reported_cost_usd == pytest.approx(0.0123)
    bash, edit = of(events, ToolCall)
    assert bash.command == "rm -rf build" and bash.call_id == "toolu_9"
    assert edit.changes == (FileChange(path="/repo/Makefile", op=FileOp.EDIT),)
    failed, ok = of(events, ToolResult)
    assert failed.ok is False and failed.exit_code == 1 and "Permission denied" in failed.output
    assert ok.ok is True
    (error,) = of(events, ErrorEvent)
    assert error.category == "rate_limit"
    assert stats.skipped == 1 and stats.reasons["log event not used: tool_decision"] == 1


def _envelope(spans: list[dict]) -> dict:
    return {"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {}, "spans": spans}]}]}


def _attr(key: str, value: str) -> dict:
    return {"key": key, "value": {"stringValue": value}}


def test_tool_call_parts_count_only_when_no_tool_span_records_them(tmp_path: Path) -> None:
    # content-only instrumentation: chat spans, no execute_tool spans
    out1 = [
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": "c1",
                    "name": "shell",
                    "arguments": {"command": "ls -la"},
                },
                {
                    "type": "tool_call",
                    "id": "c2",
                    "name": "edit_file",
                    "arguments": {"path": "a.py"},
                },
            ],
        }
    ]
    in2 = [
        {"role": "user", "parts": [{"type": "text", "content": "list files"}]},
        {"role": "assistant", "parts": out1[0]["parts"]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "result": "a.py"}]},
    ]
    spans = [
        {"traceId": "t1", "spanId": "s1", "name": "chat m", "startTimeUnixNano": "1000000000000000000",
         "attributes": [_attr("gen_ai.operation.name", "chat"),
                        _attr("gen_ai.input.messages", json.dumps(in2[:1])),
                        _attr("gen_ai.output.messages", json.dumps(out1))]},
        {"traceId": "t1", "spanId": "s2", "name": "chat m", "startTimeUnixNano": "1000000001000000000",
         "attributes": [_attr("gen_ai.operation.name", "chat"),
                        _attr("gen_ai.input.messages", json.dumps(in2))]},
    ]  # fmt: skip
    path = tmp_path / "parts.json"
    path.write_text(json.dumps(_envelope(spans)))
    events, _ = read(path)
    calls = of(events, ToolCall)
    assert [(c.name, c.call_id) for c in calls] == [("shell", "c1"), ("edit_file", "c2")]
    assert calls[0].command == "ls -la"
    assert calls[1].changes == (FileChange(path="a.py", op=FileOp.EDIT),)
    (result,) = of(events, ToolResult)
    assert (result.call_id, result.output, result.ok) == ("c1", "a.py", None)
    assert {e.session_id for e in events} == {"t1"}  # no conversation id: the trace id


def test_status_and_value_variants(tmp_path: Path) -> None:
    span = {
        "traceId": "t2", "spanId": "s1", "name": "execute_tool run_shell_command",
        "startTimeUnixNano": 1700000000000000000, "endTimeUnixNano": "1700000001000000000",
        "status": {"code": "STATUS_CODE_ERROR", "message": "killed"},
        "attributes": [
            _attr("gen_ai.operation.name", "execute_tool"),
            _attr("gen_ai.tool.name", "run_shell_command"),
            {"key": "gen_ai.tool.call.arguments",
             "value": {"kvlistValue": {"values": [{"key": "command", "value": {"stringValue": "make deploy"}}]}}},
            {"key": "retries", "value": {"intValue": "not-a-number"}},
            {"key": "weights", "value": {"arrayValue": {"values": [{"doubleValue": "0.5"}, {"boolValue": True}]}}},
        ],
    }  # fmt: skip
    path = tmp_path / "status.json"
    path.write_text(json.dumps(_envelope([span])))
    events, _ = read(path)
    (call,) = of(events, ToolCall)
    assert call.command == "make deploy"
    (result,) = of(events, ToolResult)
    assert result.ok is False and result.output == "killed"
    assert result.ts == datetime(2023, 11, 14, 22, 13, 21, tzinfo=timezone.utc)
    assert call.ts == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)


def test_any_value_decoding() -> None:
    assert any_value({"intValue": "1234"}) == 1234
    assert any_value({"intValue": 7}) == 7
    assert any_value({"doubleValue": 0.5}) == 0.5
    assert any_value({"boolValue": True}) is True
    assert any_value({"arrayValue": {"values": [{"stringValue": "a"}, {"intValue": "2"}]}}) == [
        "a",
        2,
    ]
    assert any_value(
        {"kvlistValue": {"values": [{"key": "k", "value": {"stringValue": "v"}}]}}
    ) == {"k": "v"}
    assert any_value({"unknownValue": 1}) is None
    assert attributes(
        [{"key": "a"}, "junk", {"value": {}}, {"key": "b", "value": {"stringValue": "x"}}]
    ) == {
        "a": None,
        "b": "x",
    }
    deep: dict = {"stringValue": "leaf"}
    for _ in range(500):
        deep = {"arrayValue": {"values": [deep]}}
    any_value(deep)  # deep nesting is cut off, never a RecursionError


# --------------------------------------------------------------------------- bad input


def test_truncated_document_is_salvaged(tmp_path: Path) -> None:
    raw = DOC.read_bytes()
    cut = raw.index(b'"a1b2c3d4e5f60006"')  # inside span 0006, after 0007 (export order)
    path = tmp_path / "cut.json"
    path.write_bytes(raw[:cut])
    events, stats = read(path)
    assert stats.truncated_tail is True
    calls = of(events, ToolCall)
    assert [c.call_id for c in calls] == ["toolu_01", "toolu_02", "toolu_03"]  # complete spans kept
    assert len(of(events, ModelCall)) == 2  # chat spans 0002 and 0004; 0006 was cut


def test_truncated_jsonl_last_line(tmp_path: Path) -> None:
    raw = JSONL.read_bytes()
    path = tmp_path / "cut.jsonl"
    path.write_bytes(raw[: len(raw) - 300])
    events, stats = read(path)
    assert stats.truncated_tail is True
    assert [c.call_id for c in of(events, ToolCall)] == ["toolu_01", "toolu_02", "toolu_03"]


def test_unsalvageable_document_raises_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"resourceSpans": [}, {]]')
    with pytest.raises(TraceError, match="not valid JSON"):
        read(path)


@pytest.mark.parametrize(
    ("document", "skipped", "kinds"),
    [
        ({"resourceSpans": {"not": "a list"}}, 1, []),
        ({"resourceSpans": ["junk", {"scopeSpans": "junk"}, {"resource": None, "scopeSpans": [None]}]},
         3, []),
        ({"resourceSpans": [{"scopeSpans": [{"spans": "not a list"}]}]}, 1, []),
        ({"resourceSpans": [{"scopeSpans": [{"spans": [None, 3, {}]}]}, "junk"]}, 3, []),
        (_envelope([{"name": "chat", "attributes": "oops", "status": "bad", "startTimeUnixNano": "x"}]),
         0, []),
        (_envelope([{"name": 5, "attributes": [_attr("gen_ai.operation.name", "execute_tool")]}]),
         0, ["ToolCall", "ToolResult"]),
        (_envelope([{"attributes": [_attr("gen_ai.operation.name", "chat"),
                                    _attr("gen_ai.input.messages", "{not json"),
                                    _attr("gen_ai.output.messages", '[{"role": 3, "parts": "x"}]'),
                                    {"key": "gen_ai.usage.input_tokens", "value": {"intValue": None}}]}]),
         0, ["ModelCall"]),
        ({"resourceLogs": [{"scopeLogs": [{"logRecords": [None, {"attributes": None}, {"body": 3}]}]}]},
         3, []),
        ({"resourceMetrics": []}, 1, []),
        ([1, "two", {"resourceSpans": []}], 2, []),
    ],
)  # fmt: skip
def test_wrong_shapes_inside_the_envelope_are_skipped_and_counted(
    tmp_path: Path, document: object, skipped: int, kinds: list[str]
) -> None:
    path = tmp_path / "shapes.json"
    path.write_text(json.dumps(document))
    events, stats = read_raw(path)
    assert stats.skipped == skipped
    assert [type(e).__name__ for e in events if not isinstance(e, SessionInfo)] == kinds
    assert all(e.session_id and e.agent for e in events)


def test_missing_fields_give_a_minimal_tool_call(tmp_path: Path) -> None:
    path = tmp_path / "minimal.json"
    span = {"attributes": [_attr("gen_ai.operation.name", "execute_tool")]}
    path.write_text(json.dumps(_envelope([span])))
    events, _ = read(path)
    (call,) = of(events, ToolCall)
    assert call.name == "unknown" and call.ts is None and call.session_id == "otel"


# --------------------------------------------------------------------------- detection


def _foreign_files(shared: Path, own: tuple[str, ...]) -> list[Path]:
    """Every shared sample and local test file whose folder is not one of `own`."""
    found = []
    for root in (shared, DATA):
        for path in sorted(root.rglob("*")):
            top = path.relative_to(root).parts[0]
            if path.is_file() and path.name != "SOURCES.md" and top not in own:
                found.append(path)
    return found


def test_otel_sniff_claims_no_other_file(shared_traces: Path) -> None:
    foreign = _foreign_files(shared_traces, ("otel",))  # Langfuse exports included
    assert len(foreign) >= 18  # claude-code, codex, swe-agent, openhands, langfuse, gemini, aider
    claimed = [p for p in foreign if OtelReader.sniff(probe(p))]
    assert claimed == []


def test_fixtures_are_detected_as_otel() -> None:
    from agentir.traces import detect

    for path in (DOC, JSONL, LOGS):
        assert detect(path) is OtelReader
