"""Cost: the budget crossed (and where), and a spiral of accelerating spend without progress."""

from __future__ import annotations

from agentir.policy import Budget, Policy
from tests.analysis.detectors.session import Session, found


def _calls(s: Session, n: int, usd: float) -> list[int]:
    seqs = []
    for _ in range(n):
        s.model(reported_cost_usd=usd, input_tokens=1000, output_tokens=100)
        seqs.append(s.events[-1].seq)
    return seqs


def test_budget_crossed_cites_the_crossing_seq() -> None:
    s = Session()
    seqs = _calls(s, 12, 1.0)  # $1 per call; the 11th call takes it over $10
    (f,) = found(s.run(), "cost", rule="budget_usd")
    assert f.severity == "high" and list(f.seqs) == [seqs[10]]
    assert "spent $12.00, over the $10.00 budget" in f.message and f"seq {seqs[10]}" in f.message


def test_a_budget_not_crossed_is_silent() -> None:
    s = Session()
    _calls(s, 10, 1.0)  # exactly $10: not over
    assert not found(s.run(), "cost")


def test_token_budget() -> None:
    s = Session()
    seqs = _calls(s, 5, 0.01)  # 1,100 tokens a call
    policy = Policy(budget=Budget(usd=None, tokens=3000))
    (f,) = found(s.run(policy), "cost", rule="budget_tokens")
    assert list(f.seqs) == [seqs[2]] and "5,500 tokens" in f.message


def test_spiral_of_spend_without_new_files() -> None:
    s = Session()
    for i in range(6):
        _calls(s, 1, 0.05)
        s.write(f"/repo/src/m{i}.py")
    _calls(s, 6, 0.05)
    spiral = _calls(s, 6, 0.40)  # 8x the earlier cost per call, $2.40 in all, nothing new changed
    (f,) = found(s.run(), "cost", rule="spiral")
    # it fires once the window's median passes 2.5x the earlier average: at the third costly call
    assert f.severity == "warning" and len(f.seqs) == 6 and list(f.seqs[-3:]) == spiral[:3]
    assert "no new file changed" in f.message


def test_expensive_calls_that_keep_changing_new_files_are_not_a_spiral() -> None:
    s = Session()
    _calls(s, 12, 0.05)
    for i in range(6):
        _calls(s, 1, 0.40)
        s.write(f"/repo/src/new{i}.py")
    assert not found(s.run(), "cost", rule="spiral")


def test_one_expensive_call_is_not_a_spiral() -> None:
    s = Session()
    _calls(s, 12, 0.05)
    _calls(s, 1, 3.00)  # one big cache write
    _calls(s, 5, 0.05)
    assert not found(s.run(), "cost", rule="spiral")


def test_a_cheap_acceleration_is_below_the_floor() -> None:
    s = Session()
    _calls(s, 12, 0.001)
    _calls(s, 6, 0.01)  # 10x, but $0.06 in all
    assert not found(s.run(), "cost")
