"""Langfuse export reader: the three real exports (counts taken from the raw files) and bad input.

Expected values were counted with jq over the raw files, e.g.
`jq '[.observations[] | select(.type=="TOOL") | .name]'` and
`jq '[.observations[] | select(.type=="GENERATION") | .usageDetails.input] | add'`.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from agentir.errors import TraceError
from agentir.model import Event, Message, ModelCall, SessionInfo, ToolCall, ToolResult
from agentir.traces import probe
from agentir.traces.base import ReadStats
from agentir.traces.langfuse import LangfuseReader
from tests.conftest import shared_trace
from tests.traces.support import of

PYDANTIC = "otel-genai/pydantic-ai-tools-2025-12-04.trace.json"
CLAUDE = "otel-genai/claude-agent-2025-12-22.trace.json"
OPENAI = "otel-genai/openai-agents-2025-09-30.trace.json"


def read(path: Path) -> tuple[list[Event], ReadStats]:
    assert LangfuseReader.sniff(probe(path))
    stats = ReadStats()
    return list(LangfuseReader().read(path, stats)), stats


def usage(events: list[Event]) -> tuple[int, int, float]:
    calls = of(events, ModelCall)
    cost = sum(c.reported_cost_usd or 0 for c in calls)
    return sum(c.input_tokens for c in calls), sum(c.output_tokens for c in calls), cost


@pytest.mark.parametrize(
    ("sample", "agent", "tools", "generations", "tokens", "cost", "session"),
    [
        (
            PYDANTIC,
            "pydantic-ai",
            {"get_pun_suggestion": 1, "get_dad_joke_suggestion": 1, "get_one_liner_suggestion": 1},
            4,
            (1315, 209),
            0.00032265,
            "7a38edd8123db47ad8dcb8aa4c5e3926",
        ),
        (
            CLAUDE,
            "claude-agent-sdk",
            {"mcp__weather__get_weather": 2},
            4,
            (34, 232),
            0.003582,
            "097f1d8982fa909b8cffb14a166ec272",
        ),
        (
            OPENAI,
            "openai-agents",
            {"get_weather": 1},
            2,
            (140, 44),
            0.000632,
            "fee618f96dc31e0ca38b2f7b26eb8b29",
        ),
    ],
)
def test_real_exports(
    sample: str,
    agent: str,
    tools: dict[str, int],
    generations: int,
    tokens: tuple[int, int],
    cost: float,
    session: str,
) -> None:
    events, stats = read(shared_trace(sample))
    assert stats.total_skipped == 0
    assert {e.agent for e in events} == {agent}
    assert {e.session_id for e in events} == {session}  # sessionId is null: the trace id
    assert isinstance(events[0], SessionInfo)
    assert Counter(c.name for c in of(events, ToolCall)) == tools
    results = of(events, ToolResult)
    assert len(results) == sum(tools.values()) and all(r.ok for r in results)
    assert len(of(events, ModelCall)) == generations
    input_tokens, output_tokens, total_cost = usage(events)
    assert (input_tokens, output_tokens) == tokens
    assert total_cost == pytest.approx(cost)
    assert [e.seq for e in events] == list(range(len(events)))
    assert all(e.source.pointer for e in events)


def test_claude_agent_tool_spans_take_the_call_ids_of_the_model_output() -> None:
    events, _ = read(shared_trace(CLAUDE))
    calls = of(events, ToolCall)
    # the TOOL observations carry no call id; the generations' tool_use blocks do
    assert [(c.call_id, dict(c.args)) for c in calls] == [
        ("toolu_01TKoqQLvY2UWuC49qnD48y7", {"city": "Berlin"}),
        ("toolu_01NtVat4vJLFfVd5TqdLHcA7", {"city": "New York"}),
    ]
    results = of(events, ToolResult)
    assert results[0].output == "Weather in Berlin: Cloudy, 59°F"
    users = [m.text for m in of(events, Message) if m.role == "user"]
    assert users == ["What's the weather like in Berlin and New York?"]  # trace input, said once
    info = events[0]
    assert isinstance(info, SessionInfo) and info.model == "claude-sonnet-4-5-20250929"
    # the agent's own session id is kept to find its native transcript
    assert info.extra["langsmith.metadata.session_id"] == "6fb9b4b8-dd4d-4d41-8d4f-c0c0799a6559"


def test_pydantic_tool_calls_and_structured_output() -> None:
    events, _ = read(shared_trace(PYDANTIC))
    calls = of(events, ToolCall)
    assert {c.call_id for c in calls} == {
        "call_X0OSgjUukT5inyEQvuZQnHrk",
        "call_WxZcCvSDhGT4RJHlcU01k10x",
        "call_aRaObiWKKt6GzgDkkUl3bu1Q",
    }
    assert all(dict(c.args) == {"topic": "programming"} for c in calls)
    texts = [m.text for m in of(events, Message) if m.role == "assistant"]
    # the evaluator's `final_result` output tool is its answer, not a tool call
    assert any(t.startswith('{"quality":"good"') for t in texts)
    users = [m.text for m in of(events, Message) if m.role == "user"]
    assert users[0].startswith("Select and call THREE")
    assert len(users) == 3


def test_openinference_attributes() -> None:
    events, _ = read(shared_trace(OPENAI))
    (call,) = of(events, ToolCall)
    assert (call.name, call.call_id, dict(call.args)) == (
        "get_weather",
        "call_Kud0j0DxWSmLzv9W5m6qVqXn",
        {"city": "Tokyo"},
    )
    assert [m.text for m in of(events, Message) if m.role == "user"] == [
        "What's the weather in Tokyo?"
    ]
    assert of(events, ModelCall)[0].model == "gpt-4.1-2025-04-14"


# --------------------------------------------------------------------------- bad input


def _write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(document))
    return path


def test_null_fields_and_wrong_shapes(tmp_path: Path) -> None:
    document = {
        "trace": {"id": None, "sessionId": None, "metadata": "{not json", "input": None},
        "observations": [
            None,
            "junk",
            {k: None for k in ("id", "type", "name", "startTime", "metadata", "usageDetails")},
            {"type": "TOOL", "name": None, "metadata": "[]", "input": 3, "output": None},
            {"type": "GENERATION", "usageDetails": {"input": "12", "output": None}, "metadata": {}},
            {"type": "TOOL", "name": "deploy", "level": "ERROR", "statusMessage": "403 Forbidden"},
            {"type": "EVENT", "name": "note"},
        ],
    }
    events, stats = read(_write(tmp_path, document))
    assert {e.session_id for e in events} == {"langfuse"}
    assert stats.skipped == 3  # two non-objects and the EVENT
    results = of(events, ToolResult)
    assert [r.ok for r in results] == [True, False]
    assert results[1].output == "403 Forbidden"
    assert of(events, ModelCall)[0].input_tokens == 12


def test_observations_not_a_list(tmp_path: Path) -> None:
    events, stats = read(
        _write(tmp_path, {"trace": {"id": "t", "input": "fix it"}, "observations": {}})
    )
    assert stats.skipped == 1
    assert [type(e).__name__ for e in events] == ["SessionInfo", "Message"]
    assert of(events, Message)[0].text == "fix it"


def test_truncated_export_is_salvaged(tmp_path: Path) -> None:
    raw = shared_trace(CLAUDE).read_bytes()
    path = tmp_path / "cut.json"
    path.write_bytes(raw[: int(len(raw) * 0.6)])
    stats = ReadStats()
    events = list(LangfuseReader().read(path, stats))
    assert stats.truncated_tail is True
    assert isinstance(events[0], SessionInfo) and events[0].session_id


def test_garbage_raises_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"trace": {"id": 1}, "observations": [}')
    with pytest.raises(TraceError, match="not valid JSON"):
        list(LangfuseReader().read(path, ReadStats()))


def test_a_list_of_exports_is_one_session_each(tmp_path: Path) -> None:
    one = json.loads(shared_trace(OPENAI).read_text())
    two = json.loads(shared_trace(CLAUDE).read_text())
    events, _ = read(_write(tmp_path, [one, two]))
    assert [e.session_id for e in of(events, SessionInfo)] == [
        "fee618f96dc31e0ca38b2f7b26eb8b29",
        "097f1d8982fa909b8cffb14a166ec272",
    ]
    assert len(of(events, ToolCall)) == 3


def test_real_exports_are_detected_as_langfuse(shared_traces: Path) -> None:
    from agentir.traces import detect

    for sample in (PYDANTIC, CLAUDE, OPENAI):
        assert detect(shared_traces / sample) is LangfuseReader


def test_langfuse_sniff_claims_no_other_file(shared_traces: Path) -> None:
    from tests.traces.test_otel import _foreign_files

    foreign = _foreign_files(shared_traces, ("otel-genai",))
    assert len(foreign) >= 18
    assert [p for p in foreign if LangfuseReader.sniff(probe(p))] == []
