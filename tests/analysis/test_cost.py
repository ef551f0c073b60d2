"""Prices and costs. The expected figures are ccusage 20.0.24's output on the same samples
(`ccusage claude session --offline --json` / `ccusage codex session --offline --json`)."""

from __future__ import annotations

import pytest

from agentir.analysis.assess import assess_trace
from agentir.analysis.cost import call_cost, pricing
from agentir.model import ModelCall, Source
from tests.conftest import shared_trace


def call(model: str, **tokens: int) -> ModelCall:
    return ModelCall(
        seq=0, ts=None, source=Source("t"), session_id="s", agent="a", model=model, **tokens
    )


def test_table_records_source_and_date() -> None:
    table = pricing()
    assert "ccusage" in table.source and table.retrieved
    assert table.lookup("claude-sonnet-4-20250514") is not None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("claude-sonnet-4-20250514", "claude-sonnet-4-20250514"),
        ("anthropic/claude-sonnet-4-20250514", "claude-sonnet-4-20250514"),
        ("claude-sonnet-4-5", "claude-sonnet-4-5-20250929"),
        ("gpt-5.1-codex", "gpt-5.1-codex"),
        ("GPT-5.1-CODEX", "gpt-5.1-codex"),
    ],
)
def test_lookup_variants(name: str, expected: str) -> None:
    price = pricing().lookup(name)
    assert price is not None and price.model == expected


@pytest.mark.parametrize("name", ["<synthetic>", "my-local-llama", "", None, "claude-unknown-9"])
def test_unknown_models_have_no_price(name: str | None) -> None:
    assert pricing().lookup(name) is None


def test_simple_call_cost() -> None:
    price = pricing().lookup("claude-sonnet-4-20250514")
    assert price is not None
    got = call_cost(
        call("x", input_tokens=100_000, output_tokens=100_000, cache_read_tokens=100_000), price
    )
    assert got == pytest.approx(0.3 + 1.5 + 0.03)


def test_long_context_tiers() -> None:
    sonnet = pricing().lookup("claude-sonnet-4-20250514")
    assert sonnet is not None  # per type: only the input above 200k at the higher rate
    assert call_cost(call("x", input_tokens=300_000), sonnet) == pytest.approx(1.2)
    gemini = pricing().lookup("gemini-2.5-pro")
    assert gemini is not None  # whole prompt: every token at the higher rate
    assert call_cost(
        call("x", input_tokens=150_000, cache_read_tokens=150_000, output_tokens=100_000), gemini
    ) == pytest.approx(1.9125)


def test_one_hour_cache_writes_cost_twice_the_input_rate() -> None:
    sonnet = pricing().lookup("claude-sonnet-4-20250514")
    assert sonnet is not None
    got = call_cost(call("x", cache_write_tokens=100_000, cache_write_1h_tokens=100_000), sonnet)
    assert got == pytest.approx(0.6)


@pytest.mark.parametrize(
    ("relative", "tokens", "cost"),
    [
        (
            "claude-code/5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl",
            (129, 3629, 324259, 47747),
            0.33115094999999994,
        ),
        (
            "claude-code/1af7fc5e-8455-4414-9ccd-011d40f70b2a.jsonl",
            (93, 953, 103219, 12698),
            0.09315720000000001,
        ),
        (
            "codex/rollout-2025-11-17T15-30-28-019a93b9-f380-7600-98ff-940e6b99603c.jsonl",
            (71933, 22305, 1027328, 0),
            0.44138225000000003,
        ),
        ("codex/synthetic-fixtures/small.jsonl", (12757, 81, 3584, 0), 0.00272028),
    ],
)
def test_matches_ccusage_to_the_cent(
    relative: str, tokens: tuple[int, int, int, int], cost: float
) -> None:
    result = assess_trace(shared_trace(relative))
    usage = result.sessions[0].usage
    assert (
        usage.input_tokens,
        usage.output_tokens,
        usage.cache_read_tokens,
        usage.cache_write_tokens,
    ) == tokens
    assert usage.cost_usd is not None
    assert round(usage.cost_usd, 2) == round(cost, 2)
    assert usage.cost_usd == pytest.approx(cost, abs=1e-6)
