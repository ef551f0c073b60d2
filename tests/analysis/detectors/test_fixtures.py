"""Hand-written Claude Code and Codex traces (tests/data/detectors) through the real readers."""

from __future__ import annotations

from agentir.analysis.assess import assess_trace
from agentir.analysis.detectors import observer_factory
from agentir.model import Assessment
from tests.conftest import DATA

FIXTURES = DATA / "detectors"


def _one(name: str) -> Assessment:
    (a,) = assess_trace(FIXTURES / name, None, observer_factory()).sessions
    return a


def test_codex_stuck_on_a_failing_test_then_patching_outside_and_claiming_success() -> None:
    a = _one("codex_stuck_test.jsonl")
    by = {f.detector: f for f in a.findings}
    assert set(by) == {"loop", "scope", "hallucination"}
    loop = by["loop"]  # four runs of the same pytest, only the wall time differs
    assert loop.data["pattern"] == "same_error" and loop.data["count"] == 4
    assert "failed the same way 4 times" in loop.message and loop.seqs == (3, 5, 7, 9)
    assert by["scope"].data["rule"] == "outside"
    assert by["scope"].data["paths"] == ["/srv/shared/db/schema.sql"]
    assert by["hallucination"].severity == "high"
    assert a.severity.suggested == "SEV2"


def test_claude_polling_ci_and_a_retried_install_raise_nothing() -> None:
    a = _one("claude_polling.jsonl")
    assert a.counts.tool_calls == 10 and a.counts.tool_errors == 2
    assert a.findings == ()
    assert a.severity.suggested is None
