"""SWE-agent and mini-swe-agent readers: real samples (counts taken from the raw files) and fixtures."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from agentir.errors import AgentirError, TraceError
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
from agentir.traces import detect, probe
from agentir.traces.base import ReadStats, TraceReader
from agentir.traces.swe_agent import MiniSweAgentReader, SweAgentReader
from tests.conftest import DATA, SHARED_TRACES, shared_trace
from tests.traces.support import of

FIXTURES = DATA / "swe-agent"
MINE = {"swe-agent", "mini-swe-agent"}


def read(path: Path, reader: type[TraceReader] = SweAgentReader) -> tuple[list[Event], ReadStats]:
    # the reader itself (after its own sniff), so other readers in progress cannot interfere
    assert reader.sniff(probe(path))
    stats = ReadStats()
    return list(reader().read(path, stats)), stats


def failed(events: list[Event]) -> list[ToolResult]:
    return [r for r in of(events, ToolResult) if r.ok is False]


def check_pairs(events: list[Event]) -> None:
    """Every result answers the call just before it, and call ids are unique."""
    calls = of(events, ToolCall)
    assert len({c.call_id for c in calls}) == len(calls)
    names = {c.call_id: c.name for c in calls}
    for result in of(events, ToolResult):
        if result.call_id is not None:
            assert names[result.call_id] == result.name
    assert [e.seq for e in events] == list(range(len(events)))


# --------------------------------------------------------------------------- real samples
# Expected values were counted from the raw JSON with a throwaway script: trajectory length,
# history tool_calls, the first word of each action, observations holding "Traceback (most
# recent", "syntax error(s)" or "command not found", info.model_stats and the diff headers
# of info.submission.


@pytest.mark.parametrize(
    "name",
    [
        "6e44b9__sweagenttestrepo-1c2844.traj",
        "i_got_id_demo.traj",
        "marshmallow-code__marshmallow-1867.traj",
        "pydicom__pydicom-1458.traj",
    ],
)
def test_samples_are_detected_as_swe_agent_without_timestamps(name: str) -> None:
    path = shared_trace(f"swe-agent/{name}")
    assert detect(path).format == "swe-agent"
    events, stats = read(path)
    assert stats.total_skipped == 0 and not stats.truncated_tail
    assert all(e.ts is None for e in events)
    assert {e.session_id for e in events} == {name.removesuffix(".traj")}
    assert {e.agent for e in events} == {"swe-agent"}
    check_pairs(events)


def test_newer_layout_with_function_calls() -> None:
    events, _ = read(shared_trace("swe-agent/6e44b9__sweagenttestrepo-1c2844.traj"))
    info = of(events, SessionInfo)[0]
    assert (info.cwd, info.model) == ("/SWE-agent__test-repo", "gpt-4o")
    task = of(events, Message)[0]
    assert task.role == "user" and "SyntaxError: invalid syntax" in task.text
    calls = of(events, ToolCall)
    assert [c.name for c in calls] == ["find_file", "open", "edit", "bash", "submit"]
    # names and ids come from history tool_calls; the submit step is not in the history
    assert calls[0].call_id == "call_fJuazlMUN5fQDQ73G6XSpYpx" and calls[4].call_id == "step-4"
    assert calls[1].args == {"path": "/SWE-agent__test-repo/tests/missing_colon.py"}
    assert [c.command for c in calls if c.command] == [
        "python3 /SWE-agent__test-repo/tests/missing_colon.py"
    ]
    assert calls[2].changes == (
        FileChange("/SWE-agent__test-repo/tests/missing_colon.py", FileOp.EDIT),
    )
    assert failed(events) == []
    (usage,) = of(events, ModelCall)
    assert (usage.calls, usage.input_tokens, usage.output_tokens) == (5, 7141, 243)
    assert usage.reported_cost_usd == pytest.approx(0.01952)
    submission = [r for r in of(events, ToolResult) if r.name == "submission"]
    assert submission[0].call_id is None and submission[0].ok is True
    assert submission[0].changes == (
        FileChange("tests/missing_colon.py", FileOp.EDIT, added=1, removed=1),
    )
    assert of(events, ErrorEvent) == []


def test_ctf_demo_has_eighteen_curl_commands() -> None:
    events, _ = read(shared_trace("swe-agent/i_got_id_demo.traj"))
    names = Counter(c.name for c in of(events, ToolCall))
    assert names == {"bash": 18, "create": 1, "edit": 1, "submit": 1}
    commands = [c.command for c in of(events, ToolCall) if c.command]
    assert len(commands) == 18 and all(c.startswith("curl ") for c in commands)
    assert commands[0] == "curl http://web.chal.csaw.io:8000"
    # older layout: state is a JSON string; the windowed edit targets the open file
    edit = next(c for c in of(events, ToolCall) if c.name == "edit")
    workdir = "/__Users__talora__LLM_CTF_Dataset_Dev__2016__CSAW-Quals__web__I-Got-Id"
    assert edit.changes == (FileChange(f"{workdir}/printenv.pl", FileOp.EDIT),)
    assert of(events, SessionInfo)[0].cwd == workdir
    assert of(events, ModelCall) == []  # a replayed demonstration: every model stat is zero
    submission = [r for r in of(events, ToolResult) if r.name == "submission"]
    assert "FLAG{" in submission[0].output and submission[0].changes == ()


def test_marshmallow_function_calling_history_with_reused_ids() -> None:
    events, _ = read(shared_trace("swe-agent/marshmallow-code__marshmallow-1867.traj"))
    calls = of(events, ToolCall)
    assert len(calls) == 11  # the 11 tool_calls of the history
    assert Counter(c.name for c in calls) == {
        "create": 1,
        "insert": 1,
        "bash": 4,
        "find_file": 1,
        "open": 1,
        "edit": 2,
        "submit": 1,
    }
    assert [c.command for c in calls if c.command] == [
        "python reproduce.py",
        "ls -F",
        "python reproduce.py",
        "rm reproduce.py",
    ]
    # the history reuses call_5iDdbOYybq7L19vqXmR0DPaU for four calls: each still gets its own id
    assert calls[2].call_id == "call_5iDdbOYybq7L19vqXmR0DPaU" and calls[3].call_id == "step-3"
    # step 6 is the edit rejected for a syntax error; file views that merely show
    # `raise ValueError` (steps 5 and 7) are not failures
    (bad,) = failed(events)
    assert bad.name == "edit" and "syntax error(s)" in bad.output
    fields = "/testbed/src/marshmallow/fields.py"
    assert [c.changes for c in calls if c.changes] == [
        (FileChange("reproduce.py", FileOp.CREATE),),
        (FileChange("/testbed/reproduce.py", FileOp.EDIT),),
        (FileChange(fields, FileOp.EDIT),),
        (FileChange(fields, FileOp.EDIT),),
    ]
    (usage,) = of(events, ModelCall)
    assert (usage.calls, usage.input_tokens, usage.output_tokens) == (11, 0, 0)
    submission = of(events, ToolResult)[-1]
    assert submission.changes == (
        FileChange("src/marshmallow/fields.py", FileOp.EDIT, added=2, removed=1),
    )


def test_pydicom_older_layout_errors_and_totals() -> None:
    events, _ = read(shared_trace("swe-agent/pydicom__pydicom-1458.traj"))
    task = of(events, Message)[0]
    assert task.text.startswith("We're currently solving the following issue")  # not the demo
    calls = of(events, ToolCall)
    assert Counter(c.name for c in calls) == {
        "create": 1,
        "edit": 5,
        "bash": 3,
        "find_file": 1,
        "open": 1,
        "submit": 1,
    }
    handler = "/pydicom__pydicom/pydicom/pixel_data_handlers/numpy_handler.py"
    edits = [c.changes[0].path for c in calls if c.name == "edit"]
    assert edits == ["/pydicom__pydicom/reproduce_bug.py"] + [handler] * 4
    # one Traceback (step 2) and three edits with syntax errors (steps 5-7)
    bad = failed(events)
    assert [r.name for r in bad] == ["bash", "edit", "edit", "edit"]
    assert "Traceback" in bad[0].output
    (usage,) = of(events, ModelCall)
    assert (usage.calls, usage.input_tokens, usage.output_tokens) == (12, 122612, 1369)
    assert usage.reported_cost_usd == pytest.approx(1.26719) and usage.model is None
    assert of(events, ToolResult)[-1].changes == (
        FileChange("pydicom/pixel_data_handlers/numpy_handler.py", FileOp.EDIT, added=3, removed=2),
    )


def _shared_files() -> list[Path]:
    if not SHARED_TRACES.is_dir():
        return []
    return sorted(p for p in SHARED_TRACES.rglob("*") if p.is_file() and p.name != "SOURCES.md")


@pytest.mark.parametrize("path", _shared_files(), ids=lambda p: p.name)
def test_sniffers_claim_only_swe_agent_samples(path: Path) -> None:
    """Over every shared sample: these sniffers accept the SWE-agent files and nothing else."""
    expected = {"swe-agent"} if path.parent.name == "swe-agent" else set()
    pr = probe(path)
    assert {r.format for r in (SweAgentReader, MiniSweAgentReader) if r.sniff(pr)} == expected
    try:
        found = detect(path).format
    except AgentirError:
        found = None  # a format whose reader is not written yet
    assert (found in MINE) == bool(expected)


# --------------------------------------------------------------------------- fixtures


def test_truncated_document_keeps_the_complete_steps() -> None:
    # The agent rewrites the .traj after each step; a kill mid-write cuts the document.
    # Salvaging the complete steps serves the responder better than refusing the file.
    events, stats = read(FIXTURES / "truncated.traj")
    assert stats.truncated_tail and stats.total_skipped == 1
    assert any(reason.startswith("truncated JSON document") for reason in stats.reasons)
    assert [c.name for c in of(events, ToolCall)] == ["create", "edit"]
    assert of(events, ToolCall)[1].changes == (FileChange("/repo/fix.py", FileOp.EDIT),)
    assert of(events, ModelCall) == [] and of(events, ErrorEvent) == []  # info was cut off


def test_truncated_before_any_complete_step_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.traj"
    path.write_text('{"environment": "main", "trajectory": [{"action": "ls", "observ')
    with pytest.raises(TraceError, match="cannot be salvaged"):
        list(SweAgentReader().read(path, ReadStats()))


def test_wrong_shapes_inside_the_envelope_are_skipped_and_counted() -> None:
    events, stats = read(FIXTURES / "wrong_shapes.traj")
    assert stats.reasons == Counter(
        {
            "'history' is not a JSON list": 1,
            "trajectory step is not an object": 1,
            "trajectory step without an action": 1,
            "'info.model_stats' is not an object": 1,
        }
    )
    calls = of(events, ToolCall)
    assert [c.command for c in calls] == ["ls -la", None, "pytest -q"]
    assert calls[1].changes == (FileChange("/repo/a.py", FileOp.EDIT),)
    assert [r.ok for r in of(events, ToolResult)] == [True, True, False]  # command not found
    assert of(events, Message) == []  # a thought that is not text is ignored
    (error,) = of(events, ErrorEvent)
    assert (error.category, error.message) == ("exit_status", "exit_cost")


@pytest.mark.parametrize(
    ("status", "finding"),
    [
        ("submitted", None),
        ("submitted (exit_cost)", "submitted (exit_cost)"),
        ("exit_context", "exit_context"),
        ("exit_format", "exit_format"),
    ],
)
def test_exit_status_other_than_submitted_is_an_error(
    tmp_path: Path, status: str, finding: str | None
) -> None:
    path = tmp_path / "run.traj"
    doc = {
        "trajectory": [{"action": "submit", "observation": "", "state": {}}],
        "info": {"exit_status": status},
    }
    path.write_text(json.dumps(doc))
    events, _ = read(path)
    assert [e.message for e in of(events, ErrorEvent)] == ([finding] if finding else [])


def test_history_only_demonstration() -> None:
    events, _ = read(FIXTURES / "history_only.traj")
    assert (
        of(events, Message)[0].text == "ISSUE: greet() prints the wrong name."
    )  # demo and system skipped
    calls = of(events, ToolCall)
    assert [(c.call_id, c.name) for c in calls] == [
        ("call_1", "open"),
        ("call_2", "edit"),
        ("call_3", "bash"),
    ]
    # the edit targets the file the previous observation reports as open
    assert calls[1].changes == (FileChange("/repo/src/greet.py", FileOp.EDIT),)
    assert calls[2].command == "python -m pytest"
    assert [r.ok for r in of(events, ToolResult)] == [True, True, False]
    check_pairs(events)


def test_oversized_document_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("agentir.traces.whole_json.MAX_DOCUMENT_BYTES", 100)
    with pytest.raises(TraceError, match=r"MB.*refuses") as info:
        list(SweAgentReader().read(FIXTURES / "wrong_shapes.traj", ReadStats()))
    assert info.value.hint and "jq" in info.value.hint


def test_large_document_is_sniffed_from_its_head(tmp_path: Path) -> None:
    path = tmp_path / "big.traj"
    step = {
        "action": "cat big.log",
        "observation": "x" * (9 * 1024 * 1024),
        "thought": "",
        "state": {},
    }
    path.write_text(json.dumps({"environment": "main", "trajectory": [step], "info": {}}, indent=2))
    assert SweAgentReader.sniff(probe(path)) and not MiniSweAgentReader.sniff(probe(path))


# --------------------------------------------------------------------------- mini-swe-agent


def test_mini_v1_bash_blocks_return_codes_and_per_call_usage() -> None:
    path = FIXTURES / "mini_v1.traj.json"
    assert detect(path).format == "mini-swe-agent"
    events, stats = read(path, MiniSweAgentReader)
    assert stats.total_skipped == 0
    assert {e.session_id for e in events} == {"mini_v1"} and {e.agent for e in events} == {
        "mini-swe-agent"
    }
    info = of(events, SessionInfo)[0]
    assert (info.cwd, info.model, info.agent_version) == (
        "/work/calc",
        "anthropic/claude-sonnet-4-5",
        "1.9.0",
    )
    assert of(events, Message)[0].text.startswith("Please solve this issue")
    calls = of(events, ToolCall)
    assert [c.command for c in calls] == [
        "cat calc.py",
        "sed -i 's/a - b/a + b/' calc.py && printf 'from calc import add\\nassert add(1, 2) == 3\\n' "
        "> test_calc.py && python test_calc.py",
        "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT && git add -A && git diff --cached",
    ]  # the message with two blocks ran nothing
    results = [r for r in of(events, ToolResult) if r.name == "bash"]
    assert [(r.exit_code, r.ok) for r in results] == [(0, True), (1, False), (None, None)]
    assert [m.injected for m in of(events, Message) if m.role == "user"] == [None, "meta"]
    usage = of(events, ModelCall)  # per call from extra.response.usage, not the total
    assert [(u.input_tokens, u.cache_read_tokens, u.output_tokens) for u in usage] == [
        (200, 1000, 40),
        (200, 1200, 90),
        (100, 1400, 30),
    ]
    assert of(events, ToolResult)[-1].changes == (
        FileChange("calc.py", FileOp.EDIT, added=1, removed=1),
        FileChange("test_calc.py", FileOp.CREATE, added=2, removed=0),
    )
    assert of(events, ErrorEvent) == []  # "Submitted" is a normal end
    check_pairs(events)


def test_mini_v2_tool_calls_timeout_and_limits() -> None:
    events, _ = read(FIXTURES / "mini_v2_toolcalls.traj.json", MiniSweAgentReader)
    calls = of(events, ToolCall)
    assert [c.command for c in calls] == ["./deploy.sh --dry-run", "git status", "./deploy.sh"]
    results = {r.call_id: r for r in of(events, ToolResult)}
    assert (results["msg-2-1"].exit_code, results["msg-2-1"].ok) == (
        0,
        True,
    )  # paired by tool_call_id
    assert results["msg-2"].ok is False and "timed out" in results["msg-2"].output
    assert (results["msg-5"].exit_code, results["msg-5"].ok) == (2, False)
    assert calls[0].ts is not None and calls[0].ts.isoformat() == "2026-01-01T00:00:00+00:00"
    (usage,) = of(events, ModelCall)
    assert (usage.calls, usage.reported_cost_usd) == (2, 0.5)
    (error,) = of(events, ErrorEvent)
    assert (error.category, error.message) == ("exit_status", "LimitsExceeded")


def test_mini_bare_message_list() -> None:
    path = FIXTURES / "mini_bare_list.json"
    assert detect(path).format == "mini-swe-agent"
    events, _ = read(path, MiniSweAgentReader)
    (call,) = of(events, ToolCall)
    assert call.command == "sed -i 's/teh/the/' README.md"
    assert of(events, ToolResult)[0].exit_code == 0


def test_plain_chat_list_is_not_mini(tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    path.write_text(
        json.dumps([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}])
    )
    assert not MiniSweAgentReader.sniff(probe(path)) and not SweAgentReader.sniff(probe(path))
