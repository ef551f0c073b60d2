"""The review's pass over a trace: citations for every step, the decision-point window, and the
second pass that only runs (and only reads up to a step) when a finding comes first."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

import pytest

from agentir.analysis.fold import Derived, SessionFold
from agentir.model import Event, Finding, Source, ToolCall
from agentir.review import collect as collect_module
from agentir.review.collect import WINDOW, SourceIndex, collect, window_before
from tests.review.scenario import json_lines, seeded_trace


@pytest.fixture
def trace(tmp_path: Path) -> Path:
    return seeded_trace(tmp_path)


def test_source_index_round_trips_lines_pointers_and_times() -> None:
    index = SourceIndex()
    t = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    index.add(0, Source("/a/t.jsonl", 1), t)
    index.add(1, Source("/a/sub.jsonl", 7), None)
    index.add(2, Source("/a/doc.json", None, "/steps/3"), t)
    index.add(2, Source("/a/other.json", 99), t)  # a repeated seq keeps its first source
    index.add(5, Source("/a/t.jsonl", 40), t)  # out of order: kept aside
    assert index.source(0) == "/a/t.jsonl:1" and index.time(0) == t
    assert index.source(1) == "/a/sub.jsonl:7" and index.time(1) is None
    assert index.source(2) == "/a/doc.json#/steps/3"
    assert index.source(5) == "/a/t.jsonl:40"
    assert index.source(3) is None and index.time(42) is None
    assert len(index) == 4


def test_every_cited_step_points_at_the_raw_record(trace: Path) -> None:
    (ev,) = collect(trace)
    records = json_lines(trace)
    for effect in ev.assessment.effects:
        line = int(ev.cite(effect.seq).rsplit(":", 1)[1])
        assert line == int(effect.source.rsplit(":", 1)[1])
    push = next(e for e in ev.assessment.effects if e.kind == "git_push")
    line = int(ev.cite(push.seq).rsplit(":", 1)[1])
    blocks = records[line - 1]["message"]["content"]
    assert any(b.get("input", {}).get("command") == "git push --force origin main" for b in blocks)
    for command in ev.assessment.commands:
        cited = records[int(ev.cite(command.seq).rsplit(":", 1)[1]) - 1]
        assert any(
            b.get("input", {}).get("command") == command.command
            for b in cited["message"]["content"]
            if isinstance(b, dict)
        )


def test_decision_point_is_the_first_high_risk_effect_with_the_messages_before(
    trace: Path,
) -> None:
    (ev,) = collect(trace)
    decision = ev.decision
    assert decision is not None and decision.via == "effect"
    records = json_lines(trace)
    # the raw trace: the first high-risk step is the tool result that printed .env (line 9)
    assert decision.source.endswith(":9") and "GITHUB_TOKEN" in str(records[8]["toolUseResult"])
    roles = [m.role for m in decision.messages]
    assert roles == ["user", "assistant", "assistant", "assistant"]
    assert decision.messages[-1].text.startswith("Maybe the test database is misconfigured")
    assert all(m.seq < decision.seq for m in decision.messages)
    assert decision.ts == datetime(2025, 9, 7, 10, 0, 53, tzinfo=timezone.utc)


class EarlyAlarm:
    """A real detector (the Observer protocol): a high finding on the second tool call."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def feed(self, event: Event, derived: Derived, fold: SessionFold) -> None:
        if isinstance(event, ToolCall):
            self.calls.append(event.seq)

    def finish(self, fold: SessionFold) -> Iterable[Finding]:
        return [Finding("early", "high", "second call", (self.calls[1], self.calls[3]))]


def test_an_earlier_finding_moves_the_decision_point_with_a_bounded_second_pass(
    trace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stops: list[int] = []
    real = collect_module.window_before

    def spy(path: object, fmt: object, session: str, stop: int) -> object:
        stops.append(stop)
        return real(path, fmt, session, stop)  # type: ignore[arg-type]

    monkeypatch.setattr(collect_module, "window_before", spy)
    (ev,) = collect(trace, detectors=lambda: [EarlyAlarm()])
    assert ev.decision is not None and ev.decision.via == "finding"
    assert ev.decision.seq == 9 and stops == [9]  # the Edit call, read up to there only
    assert ev.decision.what == "early: second call"
    assert [m.seq for m in ev.decision.messages] == [1, 4, 8]


def test_no_second_pass_when_the_effect_comes_first(
    trace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: object) -> None:
        raise AssertionError("second pass not needed")

    monkeypatch.setattr(collect_module, "window_before", refuse)
    (ev,) = collect(trace)
    assert ev.decision is not None and ev.decision.via == "effect"


def test_the_window_keeps_only_the_last_messages(tmp_path: Path) -> None:
    lines = []
    for i in range(40):
        record = {
            "type": "user", "sessionId": "s1", "uuid": f"u{i}", "cwd": "/w",
            "timestamp": f"2025-01-01T00:00:{i:02d}Z",
            "message": {"role": "user", "content": f"message {i}"},
        }  # fmt: skip
        lines.append(json.dumps(record))
    path = tmp_path / "s1.jsonl"
    path.write_text("\n".join(lines) + "\n")
    window = window_before(path, None, "s1", 30)
    assert len(window) == WINDOW
    assert [m.seq for m in window] == list(range(30 - WINDOW, 30))  # the steps just before 30
    first = int(window[0].text.split()[1])
    assert [m.text for m in window] == [f"message {i}" for i in range(first, first + WINDOW)]
