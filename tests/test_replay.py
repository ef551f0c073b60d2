"""The replay core: steps from events, paired results, gaps, subagent nesting, finding marks."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from agentir.cli.replay_keys import KEYMAP, move
from agentir.errors import UsageError
from agentir.model import Finding
from agentir.render.replay_text import gap_text, plain_lines
from agentir.replay import (
    build_steps,
    load_replay,
    replay_data,
    select_session,
    start_index,
)
from agentir.traces import open_trace
from tests.conftest import DATA, shared_trace

SESSION = DATA / "replay" / "session.jsonl"
SID = "7d3c2b1a-0f9e-4d8c-b7a6-958473625140"


def hostile_trace(tmp_path: Path) -> tuple[Path, str, str]:
    """The hostile fixture with two fake credentials built now (never stored in the repo)."""
    key = "sk-proj-" + secrets.token_hex(16)
    token = "ghp_" + secrets.token_hex(18)
    text = (DATA / "replay" / "hostile.template.jsonl").read_text(encoding="utf-8")
    path = tmp_path / "hostile.jsonl"
    path.write_text(text.replace("@@KEY@@", key).replace("@@TOKEN@@", token), encoding="utf-8")
    return path, key, token


def test_steps_of_the_fixture_session() -> None:
    """Messages, reasoning and tool calls become steps; model calls and metadata do not."""
    replay = load_replay(SESSION, observers=None)
    kinds = [(s.kind, s.role or (s.tool.name if s.tool else None)) for s in replay.steps]
    assert kinds == [
        ("message", "user"),
        ("reasoning", "assistant"),
        ("message", "assistant"),
        ("tool_call", "Bash"),
        ("tool_call", "Task"),
        ("message", "user"),
        ("tool_call", "Bash"),
        ("message", "assistant"),
        ("tool_call", "Edit"),
        ("tool_call", "Bash"),
        ("message", "assistant"),
    ]
    assert [s.index for s in replay.steps] == list(range(11))
    assert replay.sessions == (SID,) and replay.format == "claude-code"
    assert not replay.findings and replay.detectors is False


def test_results_are_paired_with_their_calls() -> None:
    """Each call carries its result: ok / error, output, how long it took."""
    steps = load_replay(SESSION, observers=None).steps
    build, push = steps[3].tool, steps[9].tool
    assert build is not None and push is not None
    assert build.command == "rm -rf build/ && npm run build"
    assert build.result is not None and build.result.ok is True
    assert build.result.output == "built in 3.2s" and build.result.duration_seconds == 4.0
    assert push.command == "git push --force origin main"
    failing = steps[6].tool
    assert failing is not None and failing.result is not None and failing.result.ok is False
    assert "FAIL orders.test.js" in failing.result.output
    assert steps[8].tool is not None and steps[8].tool.args["new_string"] == "if (qty > 10)"


def test_time_gaps() -> None:
    """The gap is measured from the previous step; the 5-minute pause shows as such."""
    steps = load_replay(SESSION, observers=None).steps
    assert steps[0].gap_seconds is None
    assert steps[1].gap_seconds == 2.0
    assert steps[8].gap_seconds == 301.0  # 10:00:42 -> 10:05:43
    assert gap_text(steps[8].gap_seconds) == "+5m 01s"
    assert gap_text(0.25) == "+0.2s" and gap_text(42) == "+42s" and gap_text(3720) == "+1h 02m"
    assert gap_text(None) == "-"


def test_subagent_work_is_nested_under_the_task_call() -> None:
    """Sidechain steps (agentId, not a call id) nest under the Task call still waiting."""
    steps = load_replay(SESSION, observers=None).steps
    task = steps[4]
    nested = [s for s in steps if s.depth == 1]
    assert [s.index for s in nested] == [5, 6, 7]
    assert {s.parent_step for s in nested} == {task.index}
    assert {s.sidechain for s in nested} == {"a5c9e1f3"}
    assert all(s.depth == 0 and s.parent_step is None for s in steps if s.sidechain is None)


def test_subagents_of_the_real_sample_nest_under_their_task_calls() -> None:
    """Claude Code 1.0.x inlines subagents; each nests under the Task call that started it."""
    path = shared_trace("claude-code/5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl")
    # counted from the raw file: tool_use blocks on isSidechain lines, and Task calls
    side_tools, tasks = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        content = (rec.get("message") or {}).get("content")
        for block in content if isinstance(content, list) else []:
            if block.get("type") == "tool_use":
                (side_tools if rec.get("isSidechain") else tasks).append(
                    (block["id"], block["name"])
                )
    tasks = [t for t in tasks if t[1] == "Task"]
    steps = load_replay(path, observers=None).steps
    nested_tools = [s.tool.call_id for s in steps if s.depth == 1 and s.tool is not None]
    assert nested_tools == [i for i, _ in side_tools] and len(nested_tools) == 8
    by_id = {s.tool.call_id: s for s in steps if s.tool is not None}
    for step in steps:
        if step.depth:
            parent = steps[step.parent_step]  # type: ignore[index]
            assert parent.tool is not None and parent.tool.name == "Task"
            assert parent.tool.call_id == step.sidechain
    # the failed Task (no prompt) started nothing; the other two started one subagent each
    started = {s.parent_step for s in steps if s.depth}
    assert started == {by_id[i].index for i, _ in tasks[1:]} and len(tasks) == 3


def test_findings_are_marked_at_their_steps() -> None:
    """A result's seq marks its call; a model call's seq the next step; numbers follow steps."""
    events = list(open_trace(SESSION).events())
    seq_of = {(type(e).__name__, getattr(e, "call_id", None)): e.seq for e in events}
    push_result = seq_of[("ToolResult", "toolu_p1")]
    model_call = next(e.seq for e in events if type(e).__name__ == "ModelCall")
    findings = {
        SID: [
            Finding("force-push", "critical", "forced push to main", (push_result,)),
            Finding("destructive", "high", "rm -rf", (seq_of[("ToolCall", "toolu_b1")],)),
            Finding("usage", "info", "first model call", (model_call,)),
            Finding("gone", "warning", "cites nothing replayable", (10_000,)),
        ]
    }
    steps, marked, order, n = build_steps(events, findings)
    assert n == len(events) and order == [SID]
    assert [(f.number, f.detector, f.step) for f in marked] == [
        (1, "usage", 1),  # the model call comes right before the reasoning step
        (2, "destructive", 3),
        (3, "force-push", 9),
        (4, "gone", 10),  # nothing at or after seq 10000: the last step
    ]
    assert steps[9].findings == (3,) and steps[3].findings == (2,) and steps[0].findings == ()


def test_start_index_from_and_finding(tmp_path: Path) -> None:
    """--from SEQ starts at the first step at or after SEQ; --finding N at its step."""
    replay = load_replay(SESSION, observers=None)
    assert start_index(replay, None, None) == 0
    assert start_index(replay, 18, None) == 8
    assert start_index(replay, 17, None) == 8  # seq 17 is the model call before the Edit
    with pytest.raises(UsageError, match="no step at or after seq 99"):
        start_index(replay, 99, None)
    with pytest.raises(UsageError, match="no findings"):
        start_index(replay, None, 1)
    with pytest.raises(UsageError, match="cannot be used together"):
        start_index(replay, 1, 1)
    events = list(open_trace(SESSION).events())
    _, marked, _, _ = build_steps(events, {SID: [Finding("x", "high", "m", (21,))]})
    from dataclasses import replace

    with_findings = replace(replay, findings=tuple(marked))
    assert start_index(with_findings, None, 1) == 9
    with pytest.raises(UsageError, match="out of range"):
        start_index(with_findings, None, 2)


def test_sessions_and_selection() -> None:
    """A file with several sessions replays them in order; --session picks one by prefix."""
    path = shared_trace("openhands/output.jsonl")
    raw_ids = [json.loads(x)["instance_id"] for x in path.read_text().splitlines() if x.strip()]
    replay = load_replay(path, observers=None)
    assert list(replay.sessions) == raw_ids
    one = select_session(replay, "ponylang__ponyc-4593")
    assert one.sessions == ("ponylang__ponyc-4593",)
    assert [s.index for s in one.steps] == list(range(len(one.steps)))
    assert {s.session_id for s in one.steps} == {"ponylang__ponyc-4593"}
    with pytest.raises(UsageError, match="3 sessions"):
        select_session(replay, "ponylang")


def test_secrets_never_reach_steps_text_or_json(tmp_path: Path) -> None:
    """Messages, arguments, commands and outputs are redacted in the replay data itself."""
    path, key, token = hostile_trace(tmp_path)
    replay = load_replay(path, observers=None)
    blob = json.dumps(replay_data(replay)) + "\n".join(plain_lines(replay))
    assert key not in blob and token not in blob
    assert blob.count("[REDACTED:") >= 4
    assert "<script>alert(1)</script>" in blob  # kept as text: escaping is each view's job


def test_keys_move_between_steps_and_findings() -> None:
    """The key map and the pure move function behind the interactive view."""
    assert KEYMAP["\x1b[C"] == KEYMAP["l"] == KEYMAP[" "] == KEYMAP["n"] == KEYMAP["\n"] == "next"
    assert KEYMAP["\x1b[D"] == KEYMAP["h"] == KEYMAP["p"] == KEYMAP["b"] == "prev"
    assert (KEYMAP["f"], KEYMAP["F"], KEYMAP["g"], KEYMAP["G"]) == (
        "next_finding",
        "prev_finding",
        "first",
        "last",
    )
    assert KEYMAP["q"] == "quit" and KEYMAP["?"] == "help"
    assert move("next", 3, 10, []) == (4, None)
    assert move("next", 9, 10, []) == (9, "last step")
    assert move("prev", 0, 10, []) == (0, "first step")
    assert move("last", 2, 10, []) == (9, None) and move("first", 7, 10, []) == (0, None)
    assert move("next_finding", 2, 10, [5, 8]) == (5, None)
    assert move("next_finding", 5, 10, [5, 8]) == (8, None)
    assert move("next_finding", 8, 10, [5, 8]) == (8, "no later finding")
    assert move("prev_finding", 8, 10, [5, 8]) == (5, None)
    assert move("prev_finding", 5, 10, [5, 8]) == (5, "no earlier finding")
    assert move("next_finding", 0, 10, []) == (0, "no findings in this replay")


def test_a_failing_detector_does_not_cost_the_replay() -> None:
    """A detector that raises leaves the replay whole, without findings, and says why."""

    class Broken:
        def feed(self, *args: object) -> None:
            raise RuntimeError("detector bug")

        def finish(self, *args: object) -> list[Finding]:
            return []

    replay = load_replay(SESSION, observers=lambda: [Broken()])
    assert len(replay.steps) == 11 and replay.findings == ()
    assert replay.detectors is False
    assert replay.detector_error == "RuntimeError: detector bug"
    assert replay_data(replay)["detector_error"] == "RuntimeError: detector bug"
