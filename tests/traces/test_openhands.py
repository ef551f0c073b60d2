"""OpenHands readers: real samples (counts taken from the raw files) and hand-written fixtures."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest

from agentir.errors import AgentirError
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
from agentir.traces import detect, iter_trace_files, probe
from agentir.traces.base import Probe, ReadStats, TraceReader
from agentir.traces.openhands import (
    OpenHandsEvalReader,
    OpenHandsEventsDirReader,
    OpenHandsTrajectoryReader,
    OpenHandsV1EventsDirReader,
    OpenHandsV1Reader,
)
from tests.conftest import DATA, SHARED_TRACES, shared_trace
from tests.traces.support import of

FIXTURES = DATA / "openhands"
READERS: tuple[type[TraceReader], ...] = (
    OpenHandsTrajectoryReader,
    OpenHandsEvalReader,
    OpenHandsEventsDirReader,
    OpenHandsV1Reader,
    OpenHandsV1EventsDirReader,
)
SESSION_DIR = FIXTURES / "sessions" / "sess-42"
V1_DIR = FIXTURES / "v1-conversations" / "conv-7"


def read(path: Path, reader: type[TraceReader]) -> tuple[list[Event], ReadStats]:
    # the reader itself (after its own sniff), so other readers in progress cannot interfere
    pr = Probe(path=path, head=b"", first_record=None) if path.is_dir() else probe(path)
    assert reader.sniff(pr)
    stats = ReadStats()
    return list(reader().read(path, stats)), stats


def by_session(events: list[Event]) -> dict[str, list[Event]]:
    sessions: dict[str, list[Event]] = {}
    for event in events:
        sessions.setdefault(event.session_id, []).append(event)
    return sessions


def tokens(events: list[Event]) -> tuple[int, int, int, int]:
    calls = of(events, ModelCall)
    return (
        sum(c.input_tokens for c in calls),
        sum(c.output_tokens for c in calls),
        sum(c.cache_read_tokens for c in calls),
        sum(c.cache_write_tokens for c in calls),
    )


def results_of(events: list[Event], name: str) -> list[ToolResult]:
    return [r for r in of(events, ToolResult) if r.name == name]


# --------------------------------------------------------------------------- real samples
# Expected values were counted from the raw JSON with a throwaway script: actions and
# observations by type, distinct model_response ids and their usage (prompt minus cached
# minus cache creation), run exit codes, edit observations starting with "ERROR", error
# observations, and the diff headers of test_result.git_patch.


def test_basic_trajectory_creates_a_file() -> None:
    path = shared_trace("openhands/basic.json")
    assert detect(path).format == "openhands"
    events, stats = read(path, OpenHandsTrajectoryReader)
    assert stats.total_skipped == 0
    assert {e.session_id for e in events} == {"basic"} and {e.agent for e in events} == {
        "openhands"
    }
    task = of(events, Message)[0]
    assert task.role == "user" and task.text.startswith("Please create a simple 2048 game")
    # naive local time in the file, read as UTC
    assert task.ts == datetime(2025, 1, 27, 22, 44, 56, 900854, tzinfo=timezone.utc)
    assert [c.name for c in of(events, ToolCall)] == ["edit", "finish"]
    # the edit has no `command`: it is taken from translated_ipython_code ('create')
    edit = of(events, ToolCall)[0]
    assert edit.call_id == "toolu_017nBp7UfiGqyrA7j77HgtFP"
    assert edit.changes == (FileChange("/workspace/game_2048.py", FileOp.CREATE),)
    (result,) = of(events, ToolResult)
    assert result.ok is True and result.call_id == edit.call_id
    assert result.changes == (
        FileChange("/workspace/game_2048.py", FileOp.CREATE, added=116, removed=0),
    )
    assert len(of(events, ModelCall)) == 2  # two distinct model_response ids
    assert tokens(events) == (10, 1312, 3482, 4640)
    assert {c.model for c in of(events, ModelCall)} == {"claude-3-5-sonnet-20241022"}


def test_wrong_initial_state_run_exit_code() -> None:
    path = shared_trace("openhands/wrong_initial_state.json")
    assert detect(path).format == "openhands"
    events, _ = read(path, OpenHandsTrajectoryReader)
    assert Counter(c.name for c in of(events, ToolCall)) == {"read": 2, "run": 1, "finish": 1}
    (run,) = [c for c in of(events, ToolCall) if c.name == "run"]
    assert run.command == "mv /workspace/game_2048.py /workspace/2048.py"
    (ran,) = results_of(events, "run")
    assert (ran.call_id, ran.exit_code, ran.ok) == (run.call_id, 0, True)
    assert [r.ok for r in of(events, ToolResult)] == [True, True, True]
    assert [s.cwd for s in of(events, SessionInfo)] == ["/workspace"]
    assert len(of(events, ModelCall)) == 4 and tokens(events) == (22, 358, 10879, 3927)
    assert of(events, ErrorEvent) == []


EVAL = {
    # instance: (tool calls by name, non-zero exit codes, failed edits, failed reads, responses, prompt, completion)
    "ponylang__ponyc-4595": (
        {"run": 13, "read": 6, "edit": 2, "think": 1, "finish": 1},
        [127, 2, 2, 127, 127],
        1,
        0,
        23,
        565158,
        2558,
    ),
    "ponylang__ponyc-4593": (
        {"run": 12, "read": 9, "edit": 11, "finish": 1},
        [2, 1],
        10,
        1,
        33,
        410169,
        5156,
    ),
    "ponylang__ponyc-4588": (
        {"run": 24, "read": 8, "think": 1, "edit": 16},
        [1, 2, 2, 2, 2, 2, 1, 100, 2, 1, 1, 100],
        12,
        0,
        49,
        938015,
        5627,
    ),
}


def test_eval_output_is_three_sessions() -> None:
    path = shared_trace("openhands/output.jsonl")
    assert detect(path).format == "openhands-eval"
    events, stats = read(path, OpenHandsEvalReader)
    assert stats.records == 3 and stats.total_skipped == 0
    sessions = by_session(events)
    assert list(sessions) == list(EVAL)
    for sid, (names, exits, bad_edits, bad_reads, responses, prompt, completion) in EVAL.items():
        evs = sessions[sid]
        assert [e.seq for e in evs] == list(range(len(evs)))
        assert Counter(c.name for c in of(evs, ToolCall)) == names, sid
        assert [r.exit_code for r in results_of(evs, "run") if r.exit_code != 0] == exits, sid
        assert all(r.ok is (r.exit_code == 0) for r in results_of(evs, "run"))
        assert sum(r.ok is False for r in results_of(evs, "edit")) == bad_edits, sid
        assert sum(r.ok is False for r in results_of(evs, "read")) == bad_reads, sid
        assert len(of(evs, ModelCall)) == responses, sid
        # no cached tokens in these runs: input is the whole prompt; equals metrics totals
        assert tokens(evs) == (prompt, completion, 0, 0), sid
        info = of(evs, SessionInfo)
        assert info[0].model == "openai/openrouter-llama-4-maverick"
        assert info[0].repository_url == "ponylang/ponyc"
        assert info[1].allowed_tools == ("execute_bash", "think", "finish", "str_replace_editor")
        assert info[2].cwd == "/workspace/ponylang__ponyc__0.1"


def test_eval_output_details_per_instance() -> None:
    events, _ = read(shared_trace("openhands/output.jsonl"), OpenHandsEvalReader)
    sessions = by_session(events)
    first = sessions["ponylang__ponyc-4595"]
    assert of(first, SessionInfo)[0].git_commit == "f8a2feebba3aea298bde89d445ad35ca48602ca7"
    system, task = of(first, Message)[:2]
    assert (system.role, system.injected) == ("system", "instructions")
    assert task.role == "user" and task.text.startswith("<uploaded_files>")  # the instruction
    assert [c.command for c in of(first, ToolCall) if c.command][:3] == [
        "ls -l /workspace/ponylang__ponyc__0.1",
        "ls -l /workspace/ponylang__ponyc__0.1/src",
        "ls -l /workspace/ponylang__ponyc__0.1/src/libponyc",
    ]
    (patch,) = results_of(first, "git_patch")
    assert [c.path for c in patch.changes] == ["src/libponyc/ast/parser.c"]
    assert of(first, ErrorEvent) == []
    # the "Parameter 'command' is expected..." error observation has no open action
    second = sessions["ponylang__ponyc-4593"]
    (invalid,) = of(second, ErrorEvent)
    assert invalid.category == "agent_error" and invalid.message.startswith("Parameter 'command'")
    assert [c.path for c in results_of(second, "git_patch")[0].changes] == [
        "packages/cli/command_parser.pony"
    ]
    # the 3rd instance hit the iteration limit
    third = sessions["ponylang__ponyc-4588"]
    errors = of(third, ErrorEvent)
    assert [e.category for e in errors] == ["agent_error", "max_iterations"]
    assert errors[-1].message.startswith("RuntimeError: Agent reached maximum iteration")
    confirmed = {c.path for r in results_of(third, "edit") if r.ok for c in r.changes}
    assert confirmed == {"/workspace/ponylang__ponyc__0.1/src/libponyc/expr/match.c"}


def test_v1_events_jsonl() -> None:
    path = shared_trace("openhands/events.jsonl")
    assert detect(path).format == "openhands-v1"
    events, stats = read(path, OpenHandsV1Reader)
    assert stats.records == 10 and stats.total_skipped == 0
    calls = of(events, ToolCall)
    assert [c.name for c in calls] == ["terminal", "terminal"]
    assert all(
        c.command and c.command.startswith('SESSION_URL="${AUTOMATION_SESSION_URL') for c in calls
    )
    results = of(events, ToolResult)
    assert [(r.ok, r.exit_code) for r in results] == [(False, None), (False, None), (False, 1)]
    # the 2nd observation answers an action that is not in the file: it keeps the raw id
    assert results[1].call_id == "chatcmpl-tool-9051d3d10f914188"
    assert [r.call_id for r in results[::2]] == [c.call_id for c in calls]
    # 4 growing `stats` totals; cumulative, so the calls add up to the last totals
    assert len(of(events, ModelCall)) == 4
    assert tokens(events) == (107458 - 68193, 1347, 68193, 0)
    assert [s.cwd for s in of(events, SessionInfo)] == ["/workspace/project"]
    assert all(e.ts is not None for e in events)


def _shared_files() -> list[Path]:
    if not SHARED_TRACES.is_dir():
        return []
    return sorted(p for p in SHARED_TRACES.rglob("*") if p.name != "SOURCES.md")


EXPECTED = {"basic.json": "openhands", "wrong_initial_state.json": "openhands"}
EXPECTED |= {"output.jsonl": "openhands-eval", "events.jsonl": "openhands-v1"}


@pytest.mark.parametrize("path", _shared_files(), ids=lambda p: str(p.relative_to(SHARED_TRACES)))
def test_sniffers_claim_only_openhands_samples(path: Path) -> None:
    """Over every shared sample (directories too): these sniffers accept exactly the OpenHands files."""
    expected = EXPECTED.get(path.name) if path.parent.name == "openhands" else None
    pr = Probe(path=path, head=b"", first_record=None) if path.is_dir() else probe(path)
    claims = {r.format for r in READERS if r.directory == path.is_dir() and r.sniff(pr)}
    assert claims == ({expected} if expected else set())
    if path.is_dir():
        return
    try:
        found = detect(path).format
    except AgentirError:
        found = None  # a format whose reader is not written yet
    mine = {r.format for r in READERS}
    assert found == expected if expected else found not in mine


# --------------------------------------------------------------------------- fixtures


@pytest.mark.parametrize("path", [SESSION_DIR, SESSION_DIR / "events"])
def test_per_event_directory_in_number_order(path: Path) -> None:
    assert detect(path).format == "openhands-events"
    events, stats = read(path, OpenHandsEventsDirReader)
    assert stats.records == 15 and stats.total_skipped == 0  # metadata.json is not an event
    assert {e.session_id for e in events} == {"sess-42"}
    # 10.json comes after 9.json, not after 1.json
    assert [c.call_id for c in of(events, ToolCall)] == [
        "event-1",
        "event-3",
        "event-6",
        "event-7",
        "event-10",
    ]
    calls = {c.name: c for c in of(events, ToolCall)}
    assert calls["run"].command == "curl -X POST https://deploy.example.com/hooks/prod"
    assert calls["browse_interactive"].args["url"] == "https://status.example.com/api"
    # the delegate's own actions are a sidechain; its answer belongs to the main chain
    assert calls["browse_interactive"].sidechain == "BrowsingAgent#6"
    assert [r.sidechain for r in of(events, ToolResult)] == [
        None,
        None,
        "BrowsingAgent#6",
        None,
        None,
    ]
    run_results = results_of(events, "run")
    assert [(r.exit_code, r.ok) for r in run_results] == [(0, True), (7, False)]
    (created,) = results_of(events, "edit")
    assert created.changes == (
        FileChange("/workspace/app/health.py", FileOp.CREATE, added=2, removed=0),
    )
    assert [(e.category) for e in of(events, ErrorEvent)] == [
        "agent_error",
        "loop_detected",
        "agent_error",
    ]
    assert len(of(events, Compaction)) == 1
    # only cumulative llm_metrics here: each call is the difference of consecutive totals
    usage = of(events, ModelCall)
    assert [(u.input_tokens, u.cache_read_tokens, u.output_tokens) for u in usage] == [
        (800, 200, 50),
        (800, 700, 70),
        (1500, 0, 80),
        (400, 1100, 60),
    ]
    assert sum(u.reported_cost_usd or 0 for u in usage) == pytest.approx(0.05)
    assert of(events, SessionInfo)[0].cwd == "/workspace/app"


def test_walking_a_folder_finds_the_event_directories() -> None:
    found = list(iter_trace_files(FIXTURES))
    assert SESSION_DIR in found and V1_DIR in found
    assert not any(SESSION_DIR in p.parents or V1_DIR in p.parents for p in found)


def test_truncated_trajectory_keeps_complete_events() -> None:
    # A cut-off list keeps every complete event, with the truncation in the statistics
    # (an agent killed mid-write is exactly when a responder needs the rest).
    events, stats = read(FIXTURES / "truncated_trajectory.json", OpenHandsTrajectoryReader)
    assert stats.truncated_tail and any(
        r.startswith("truncated JSON document") for r in stats.reasons
    )
    assert [c.command for c in of(events, ToolCall)] == [
        "ls",
        "curl -X POST https://deploy.example.com/hooks/prod",
    ]
    assert len(of(events, ToolResult)) == 1  # the deploy's observation was cut off


def test_wrong_shapes_are_skipped_and_counted() -> None:
    events, stats = read(FIXTURES / "wrong_shapes.json", OpenHandsTrajectoryReader)
    assert stats.reasons == Counter(
        {
            "OpenHands event is not an object": 2,
            "OpenHands 'run' observation without its action": 1,
            "unknown OpenHands action 'mystery_action'": 1,
            "OpenHands 'mystery_observation' observation without its action": 1,
        }
    )
    calls = of(events, ToolCall)
    assert [(c.name, c.command) for c in calls] == [
        ("run", "ls"),
        ("run", None),
        ("edit", None),
        ("run", None),
    ]
    assert calls[3].ts is None  # "not a time"
    last = of(events, ToolResult)[-1]
    assert (last.exit_code, last.ok) == (3, False)  # "3" as a string still counts


def test_eval_oldest_form_and_cumulative_metrics() -> None:
    path = FIXTURES / "eval_output.jsonl"
    assert detect(path).format == "openhands-eval"
    events, stats = read(path, OpenHandsEvalReader)
    assert stats.truncated_tail and stats.records == 3
    sessions = by_session(events)
    assert list(sessions) == ["acme__tools-7", "acme__tools-8"]
    old = sessions["acme__tools-7"]
    assert (
        of(old, Message)[0].text == "Add a LICENSE file"
    )  # instruction, as history has no user message
    assert [(r.exit_code, r.ok) for r in results_of(old, "run")] == [(0, True), (128, False)]
    assert [c.command for c in of(old, ToolCall)] == ["touch LICENSE", "git push origin fix"]
    (total,) = of(old, ModelCall)
    assert (total.calls, total.reported_cost_usd) == (2, 0.12)  # only final metrics: one total
    assert results_of(old, "git_patch")[0].changes == (
        FileChange("LICENSE", FileOp.CREATE, added=1, removed=0),
    )
    assert [e.category for e in of(old, ErrorEvent)] == ["context_window"]
    new = sessions["acme__tools-8"]
    info = of(new, SessionInfo)[0]
    assert (info.git_commit, info.repository_url, info.model) == (
        "abc1234",
        "acme/tools",
        "anthropic/claude-3-5-sonnet",
    )
    usage = of(new, ModelCall)
    assert [(u.input_tokens, u.cache_read_tokens, u.output_tokens) for u in usage] == [
        (100, 0, 10),
        (110, 40, 20),
    ]
    assert [e.category for e in of(new, ErrorEvent)] == ["loop_detected"]


def test_v1_jsonl_with_file_editor() -> None:
    path = FIXTURES / "v1_file_editor.jsonl"
    assert detect(path).format == "openhands-v1"
    events, stats = read(path, OpenHandsV1Reader)
    assert (
        stats.truncated_tail
        and stats.reasons["unknown OpenHands V1 event kind 'SomeFutureEvent'"] == 1
    )
    assert of(events, SessionInfo)[0].allowed_tools == ("terminal", "file_editor")
    calls = of(events, ToolCall)
    assert [(c.name, c.args.get("command")) for c in calls] == [
        ("file_editor", "create"),
        ("file_editor", "view"),
        ("file_editor", "str_replace"),
        ("terminal", "python /ws/hello.py"),
        ("browser_navigate", None),
    ]
    assert (
        calls[0].changes == (FileChange("/ws/hello.py", FileOp.CREATE),) and calls[1].changes == ()
    )
    assert calls[3].command == "python /ws/hello.py"
    assert calls[4].args == {"url": "https://example.com"}  # from tool_call.arguments
    results = of(events, ToolResult)
    assert [(r.ok, r.exit_code) for r in results] == [
        (True, None),
        (True, None),
        (False, None),
        (True, 0),
        (False, None),
    ]
    assert results[0].changes == (FileChange("/ws/hello.py", FileOp.CREATE),)
    assert results[2].changes == ()  # the failed str_replace changed nothing
    assert "not found" in results[4].output  # AgentErrorEvent answers its call
    usage = of(events, ModelCall)
    assert [(u.input_tokens, u.cache_read_tokens, u.output_tokens) for u in usage] == [
        (1000, 0, 100),
        (700, 800, 80),
    ]
    assert [e.message for e in of(events, ErrorEvent)] == ["execution status error"]


def test_v1_conversation_directory() -> None:
    assert detect(V1_DIR).format == "openhands-v1-events"
    events, stats = read(V1_DIR, OpenHandsV1EventsDirReader)
    assert stats.records == 4 and stats.total_skipped == 0
    assert {e.session_id for e in events} == {"3f0346d2-conv-7"}  # base_state.json id
    assert of(events, SessionInfo)[0].model == "litellm_proxy/claude-opus-4-5"
    (call,) = of(events, ToolCall)
    assert call.command == "rm -rf /ws/.cache"
    assert of(events, ToolResult)[0].exit_code == 0
    assert isinstance(events[-1], Compaction)  # event-00010 is last


def test_per_event_directory_with_a_cut_off_last_file(tmp_path: Path) -> None:
    events_dir = tmp_path / "s1" / "events"
    events_dir.mkdir(parents=True)
    first = {
        "id": 0,
        "timestamp": "2025-01-01T00:00:00",
        "source": "user",
        "action": "message",
        "args": {"content": "hi"},
    }
    (events_dir / "0.json").write_text(json.dumps(first))
    (events_dir / "1.json").write_text(
        '{"id": 1, "source": "agent", "action": "run", "args": {"comm'
    )
    events, stats = read(tmp_path / "s1", OpenHandsEventsDirReader)
    assert stats.truncated_tail and [type(e) for e in events] == [Message]
