"""Detector state stays bounded however long the session: distinct calls, retry episodes and
findings are capped (LRU of calls, a cap on findings with a count of the rest)."""

from __future__ import annotations

from agentir.analysis.detectors import default_observers
from agentir.analysis.detectors.common import MAX_FINDINGS
from agentir.analysis.detectors.loops import MAX_KEYS, LoopDetector
from agentir.analysis.fold import SessionFold
from agentir.model import SessionInfo, ToolCall, ToolResult
from agentir.traces.base import Emitter


def test_a_long_session_keeps_bounded_state() -> None:
    em = Emitter("long.jsonl", "claude-code", "L")
    observers = default_observers()
    fold = SessionFold("L", "claude-code", "claude-code", "long.jsonl", observers)
    fold.feed(em.make(SessionInfo, ts=None, cwd="/repo"))
    for i in range(6000):
        # a distinct read, then a call stuck for 4 rounds on the same result (a loop each time)
        for args in ({"file_path": f"/repo/f{i}.py"},) + ({"pattern": f"TODO{i}"},) * 4:
            cid = f"c{em.next_seq}"
            fold.feed(em.make(ToolCall, ts=None, call_id=cid, name="Grep", args=args))
            fold.feed(em.make(ToolResult, ts=None, call_id=cid, ok=True, output="no matches"))
    loop = next(o for o in observers if isinstance(o, LoopDetector))
    assert all(len(c.keys) <= MAX_KEYS for c in loop.chains.values())
    assert len(loop.found) == MAX_FINDINGS and loop.dropped == 6000 - MAX_FINDINGS
    a = fold.finish()
    loops = [f for f in a.findings if f.detector == "loop"]
    assert len(loops) == MAX_FINDINGS + 1  # the cap, and one note counting the rest
    (note,) = [f for f in loops if "omitted" in f.data]
    assert note.severity == "info" and note.data["omitted"] == 6000 - MAX_FINDINGS
