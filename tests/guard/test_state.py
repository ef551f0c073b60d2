"""The guard's state: each call reads only the new bytes, and what it keeps agrees with the
detectors it stands in for (usage deduplicated per response, loops judged the same way)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from agentir.analysis.detectors import default_observers
from agentir.analysis.detectors.loops import LoopDetector
from agentir.analysis.fold import SessionFold
from agentir.guard.live import LiveState
from agentir.guard.state import advance, load_state, prune, save_state, state_path
from agentir.model import Source, ToolCall
from agentir.policy import Policy
from agentir.traces.base import ReadStats
from agentir.traces.claude_code import ClaudeCodeReader
from tests.conftest import shared_trace
from tests.guard.hooks import hook_json, run_hook
from tests.guard.transcript import Transcript

SESSION = "0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9"
PYTEST = {"command": "python -m pytest -q"}


def test_the_second_hook_call_reads_only_the_new_bytes(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    t = Transcript(SESSION, project, tmp_path / "t.jsonl")
    t.write([t.prompt("go"), *t.step("Bash", dict(PYTEST), "ok")])
    assert t.path is not None
    stdin = hook_json("pretooluse_bash_ls.json", SESSION, t.path, project)
    size1 = t.path.stat().st_size
    assert run_hook(stdin, cwd=project).code == 0
    first = load_state(SESSION)
    assert (first.offset, first.last_read_bytes, first.reads) == (size1, size1, 1)

    t.append(t.step("Bash", {"command": "git status"}, "clean"))
    size2 = t.path.stat().st_size
    assert run_hook(stdin, cwd=project).code == 0
    second = load_state(SESSION)
    assert second.offset == size2
    assert second.last_read_bytes == size2 - size1  # only what was appended
    assert second.reads == 2 and second.live.next_seq > first.live.next_seq


def test_a_line_still_being_written_waits_for_its_newline(tmp_path: Path) -> None:
    t = Transcript(SESSION, tmp_path, tmp_path / "t.jsonl")
    t.write([t.prompt("go")])
    assert t.path is not None
    complete = t.path.stat().st_size
    call, call_id = t.call("Bash", dict(PYTEST))
    line = orjson.dumps(call) + b"\n"
    with t.path.open("ab") as fh:
        fh.write(line[:40])
    state = load_state(SESSION)
    advance(state, t.path)
    assert state.offset == complete and not state.live.calls
    with t.path.open("ab") as fh:
        fh.write(line[40:])
    advance(state, t.path)
    assert state.offset == complete + len(line) and call_id in state.live.calls


def test_a_replaced_or_truncated_transcript_is_read_again_from_the_start(tmp_path: Path) -> None:
    t = Transcript(SESSION, tmp_path, tmp_path / "t.jsonl")
    records = [
        t.prompt("go"),
        *t.step("Bash", dict(PYTEST), "ok"),
        *t.step("Bash", dict(PYTEST), "ok"),
    ]
    t.write(records)
    assert t.path is not None
    state = load_state(SESSION)
    advance(state, t.path)
    assert state.live.chains[""][next(iter(state.live.chains[""]))]["count"] == 2
    t.write(records[:1])  # truncated to its first line
    advance(state, t.path)
    assert state.offset == t.path.stat().st_size and not state.live.chains
    replacement = tmp_path / "other.jsonl"
    replacement.write_bytes(t.path.read_bytes() * 1)
    replacement.replace(t.path)  # same size, another inode
    before = state.reads
    advance(state, t.path)
    assert state.reads == before + 1 and state.last_read_bytes == t.path.stat().st_size


def test_a_corrupt_or_foreign_state_file_starts_over(tmp_path: Path) -> None:
    path = state_path(SESSION)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    assert load_state(SESSION).offset == 0
    path.write_text('{"version": 99, "offset": 1234}')
    assert load_state(SESSION).offset == 0
    state = load_state(SESSION)
    state.offset = 77
    save_state(state)
    assert load_state(SESSION).offset == 77
    assert state_path("../../etc/passwd").parent == path.parent  # ids are never paths


def test_old_state_files_are_pruned(tmp_path: Path) -> None:
    import os

    old = tmp_path / "old.json"
    old.write_text("{}")
    os.utime(old, (1, 1))
    fresh = tmp_path / "fresh.json"
    fresh.write_text("{}")
    assert prune(tmp_path) == 1
    assert not old.exists() and fresh.exists()


def test_a_response_split_over_two_hook_calls_is_counted_once_at_its_largest(
    tmp_path: Path,
) -> None:
    """Claude Code 1.0.x wrote growing usage on the lines of one response."""
    t = Transcript(SESSION, tmp_path, tmp_path / "t.jsonl")
    usage = {"input_tokens": 5, "cache_creation_input_tokens": 1000, "cache_read_input_tokens": 0}
    first, _ = t.call(
        "Bash", dict(PYTEST), usage={**usage, "output_tokens": 25}, message_id="msg_A"
    )
    second, _ = t.call(
        "Bash", {"command": "ls"}, usage={**usage, "output_tokens": 302}, message_id="msg_A"
    )
    t.write([t.prompt("go"), first])
    assert t.path is not None
    state = load_state(SESSION)
    advance(state, t.path)
    t.append([second])
    advance(state, t.path)
    whole = SessionFold(SESSION, "claude-code", "claude-code", str(t.path))
    for event in ClaudeCodeReader().read(t.path, ReadStats()):
        whole.feed(event)
    assert state.live.tokens["output_tokens"] == whole.tokens["output"] == 302
    assert state.live.tokens["cache_write_tokens"] == whole.tokens["cache_write"] == 1000
    assert state.live.spent_usd == pytest.approx(whole.cost_so_far)
    assert state.live.model_calls == whole.n["model_calls"] == 1


def test_spend_matches_the_fold_on_a_real_session() -> None:
    path = shared_trace("claude-code/5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl")
    live = LiveState()
    whole = SessionFold("s", "claude-code", "claude-code", str(path))
    from agentir.traces.base import iter_json_lines
    from agentir.traces.claude_code import ClaudeCodeParser

    parser = ClaudeCodeParser(path, ReadStats())
    for lineno, record in iter_json_lines(path, ReadStats()):
        for event in parser.feed(record, lineno):
            live.feed(event)
    for event in ClaudeCodeReader().read(path, ReadStats()):
        whole.feed(event)
    assert live.tokens["output_tokens"] == whole.tokens["output"]
    assert live.tokens["cache_read_tokens"] == whole.tokens["cache_read"]
    assert live.spent_usd == pytest.approx(whole.cost_so_far)


# --------------------------------------------------------------------------- loop agreement


def _steps(t: Transcript, root: Path) -> list[tuple[str, dict, str, bool]]:
    """A session that loops, makes progress, fails the same way, and polls."""
    edit = (
        "Edit",
        {"file_path": str(root / "a.py"), "old_string": "1", "new_string": "2"},
        "ok",
        False,
    )
    edit_b = (
        "Edit",
        {"file_path": str(root / "b.py"), "old_string": "1", "new_string": "2"},
        "ok",
        False,
    )
    test = ("Bash", {"command": "pytest -q"}, "1 failed", False)
    failing = ("Bash", {"command": "make build"}, "Error: missing header", True)
    poll = ("Bash", {"command": "sleep 5 && gh run view 42"}, "in_progress", False)
    return [
        *[test] * 5,
        edit,
        *[test] * 2,
        edit,  # the same file again: not a new file, but a change since the last run
        *[test] * 5,
        *[failing] * 4,
        edit_b,
        *[failing] * 3,
        *[poll] * 22,
    ]


def test_the_prediction_agrees_with_the_loop_detector(tmp_path: Path) -> None:
    """Before each call, the guard predicts whether the detector fires once the call returns
    the same result; feeding the same events to both proves they agree at every step."""
    policy = Policy()
    t = Transcript(SESSION, tmp_path, tmp_path / "t.jsonl")
    records = [t.prompt("fix it")]
    for name, args, output, error in _steps(t, tmp_path):
        records += t.step(name, args, output, error=error)
    t.write(records)
    assert t.path is not None
    events = list(ClaudeCodeReader().read(t.path, ReadStats()))
    fold = SessionFold(
        SESSION, "claude-code", "claude-code", str(t.path), default_observers(policy)
    )
    (loop,) = [o for o in fold.observers if isinstance(o, LoopDetector)]
    live = LiveState()
    predictions, fired = [], []
    for event in events:
        if isinstance(event, ToolCall):
            predictions.append(live.predict_loop(policy, event) is not None)
            before = {i for i, f in loop.found.items() if f.data.get("pattern") != "alternating"}
        fold.feed(event)
        live.feed(event)
        if not isinstance(event, ToolCall) and event.kind.value == "tool_result":
            now = {i: f for i, f in loop.found.items() if f.data.get("pattern") != "alternating"}
            changed = [f for i, f in now.items() if i not in before or f.data["count"] > 1]
            fired.append(any(f.seqs and f.seqs[-1] == event.seq - 1 for f in changed))
    assert predictions == fired
    assert sum(predictions) >= 6  # it does fire: the test loop, the same error, the polling


def test_prediction_ignores_a_call_that_never_ran() -> None:
    live = LiveState()
    call = ToolCall(
        seq=0, ts=None, source=Source("x"), session_id="s", agent="claude-code",
        call_id="c", name="Bash", args={"command": "ls"},
    )  # fmt: skip
    assert live.predict_loop(Policy(), call) is None


def test_subagent_records_keep_their_chain_across_hook_calls(tmp_path: Path) -> None:
    """Claude Code 1.0.x wrote subagent records inline, tied to their Task call only through
    `parentUuid` links and the prompt: the chain must survive a hook call boundary."""
    t = Transcript(SESSION, tmp_path, tmp_path / "t.jsonl")
    prompt = "Find every caller of parse()"
    task, task_id = t.call("Task", {"description": "search", "prompt": prompt})
    t.parent = None  # the subagent's thread starts afresh
    start = t.prompt(prompt)
    side = [start, *t.step("Bash", {"command": "grep -rn parse src"}, "a.py:1")]
    side += t.step("Bash", {"command": "grep -rn parse src"}, "a.py:1")
    for record in side:
        record["isSidechain"] = True
    records = [t.prompt("refactor parse"), task, *side]
    t.write(records[:3])  # the Task call and the subagent's first record
    assert t.path is not None
    split = load_state(SESSION)
    advance(split, t.path)
    t.write(records)
    advance(split, t.path)
    whole = load_state(SESSION + "-whole")
    advance(whole, t.path)
    assert list(split.live.chains) == list(whole.live.chains) == [task_id]
    (streak,) = split.live.chains[task_id].values()
    assert streak["count"] == 2
