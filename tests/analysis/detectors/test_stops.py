"""Harness error events (iteration limits, exit statuses, loop detectors) become findings."""

from __future__ import annotations

from agentir.model import ErrorEvent
from tests.analysis.detectors.session import Session, found


def test_stops_and_their_severity() -> None:
    s = Session()
    s.add(ErrorEvent, category="max_iterations", message="Agent reached maximum iteration")
    s.add(ErrorEvent, category="loop_detected", message="agent stuck in loop")
    s.add(ErrorEvent, category="exit_status", message="exit_cost")
    s.add(ErrorEvent, category="reflection_limit", message="Only 3 reflections allowed")
    s.add(ErrorEvent, category="rate_limit", message="429")
    s.add(ErrorEvent, category="rate_limit", message="429 again")
    got = {f.data["category"]: f for f in found(s.run(), "stopped")}
    assert got["max_iterations"].severity == "warning"
    assert got["loop_detected"].severity == "high"
    assert got["exit_status"].severity == "warning" and "cost budget" in got["exit_status"].message
    assert got["reflection_limit"].severity == "warning"
    assert got["rate_limit"].severity == "info" and got["rate_limit"].data["count"] == 2


def test_a_submitted_session_has_no_stop() -> None:
    s = Session()
    s.bash("ls", output="a")
    assert not found(s.run(), "stopped")


def test_counts_are_exact_beyond_the_kept_seqs() -> None:
    s = Session()
    for _ in range(40):
        s.add(ErrorEvent, category="api_error", message="529 overloaded")
    (f,) = found(s.run(), "stopped")
    assert f.data["count"] == 40 and len(f.seqs) == 30 and f.message.startswith("40 api error")
