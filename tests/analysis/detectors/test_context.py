"""Context growth, the model's limit, compactions and context-window errors."""

from __future__ import annotations

from agentir.model import Compaction, ErrorEvent
from tests.analysis.detectors.session import Session, found


def test_fast_growth_over_a_window() -> None:
    s = Session()
    for i in range(10):
        s.model(input_tokens=10, cache_read_tokens=20_000 + i * 18_000)
    (f,) = found(s.run(), "context", rule="growth")
    assert f.severity == "warning" and len(f.seqs) == 10
    assert "from 20,010 to 182,010 tokens over 10 model calls" in f.message


def test_slow_growth_and_compaction_resets() -> None:
    s = Session()
    for i in range(15):
        s.model(input_tokens=10, cache_read_tokens=20_000 + i * 5_000)
    assert not found(s.run(), "context", rule="growth")
    t = Session()
    for i in range(6):
        t.model(input_tokens=10, cache_read_tokens=20_000 + i * 30_000)
    t.add(Compaction, trigger="auto", pre_tokens=170_000)
    for i in range(6):
        t.model(input_tokens=10, cache_read_tokens=20_000 + i * 30_000)
    a = t.run()
    assert not found(a, "context", rule="growth")  # never 10 calls without a compaction
    (c,) = found(a, "context", rule="compactions")
    assert c.severity == "info" and c.data["count"] == 1


def test_many_compactions_warn() -> None:
    s = Session()
    for _ in range(3):
        s.add(Compaction, trigger="auto")
    (c,) = found(s.run(), "context", rule="compactions")
    assert c.severity == "warning"


def test_near_the_model_limit() -> None:
    s = Session()
    s.model(input_tokens=100_000, context_window=200_000)
    s.model(input_tokens=185_000, context_window=200_000)
    (f,) = found(s.run(), "context", rule="near_limit")
    assert f.seqs == (s.events[-1].seq,) and "(92%)" in f.message


def test_context_window_errors_are_high() -> None:
    s = Session()
    s.add(
        ErrorEvent,
        category="api_error",
        message="prompt is too long: 210000 tokens > 200000 maximum",
    )
    s.add(ErrorEvent, category="exit_status", message="exit_context")
    (f,) = found(s.run(), "context", rule="context_window_error")
    assert f.severity == "high" and f.data["count"] == 2
    assert not found(s.run(), "stopped")  # reported once, by the context detector


def test_counts_are_exact_beyond_the_kept_seqs() -> None:
    s = Session()
    for _ in range(45):
        s.add(Compaction, trigger="auto")
    (c,) = found(s.run(), "context", rule="compactions")
    assert c.data["count"] == 45 and len(c.seqs) == 30 and "45 time(s)" in c.message
