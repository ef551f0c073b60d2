"""Token counts in the LiteLLM / OpenAI usage shape, per call or from cumulative totals.

LiteLLM's `prompt_tokens` already includes cached prompt tokens (and, for Anthropic models,
the tokens written to the cache), while `ModelCall.input_tokens` must exclude both.
OpenHands and mini-swe-agent record this shape; OpenHands also keeps running totals
(`llm_metrics`, V1 `stats`) from which per-call values are differences.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agentir.traces.base import as_dict, as_int, opt_float


@dataclass(frozen=True)
class Tokens:
    """One call's tokens, split the way `ModelCall` counts them."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total(self) -> int:
        """Every token counted, for telling an empty delta from a real call."""
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_read_tokens
            + self.cache_write_tokens
        )


def uncached_input(prompt: int, cache_read: int, cache_write: int) -> int:
    """Prompt tokens that were neither read from nor written to the cache."""
    if prompt >= cache_read + cache_write:
        return prompt - cache_read - cache_write
    # Some providers leave cache writes out of prompt_tokens; never go negative.
    return prompt - cache_read if prompt >= cache_read else prompt


def from_usage(usage: Mapping[str, Any]) -> Tokens:
    """Tokens of one response's `usage` object (LiteLLM / OpenAI shape)."""
    prompt = as_int(usage.get("prompt_tokens"))
    details = as_dict(usage.get("prompt_tokens_details"))
    cache_read = as_int(details.get("cached_tokens")) or as_int(
        usage.get("cache_read_input_tokens")
    )
    cache_write = as_int(usage.get("cache_creation_input_tokens"))
    reasoning = as_int(as_dict(usage.get("completion_tokens_details")).get("reasoning_tokens"))
    return Tokens(
        input_tokens=uncached_input(prompt, cache_read, cache_write),
        output_tokens=as_int(usage.get("completion_tokens")),
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        reasoning_tokens=reasoning,
    )


_FIELDS = (
    "prompt_tokens",
    "completion_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)


class Cumulative:
    """Turns running totals (OpenHands `accumulated_token_usage` and cost) into per-call deltas."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[tuple[int, ...], float]] = {}

    def delta(
        self, key: str, totals: Mapping[str, Any], cost: Any = None
    ) -> tuple[Tokens, float | None]:
        """What was added since the last totals seen under `key`; a reset restarts the baseline."""
        now = tuple(as_int(totals.get(f)) for f in _FIELDS)
        now_cost = opt_float(cost)
        if now_cost is None:
            now_cost = 0.0
        before, before_cost = self._last.get(key, ((0,) * len(_FIELDS), 0.0))
        self._last[key] = (now, now_cost)
        if any(n < b for n, b in zip(now, before, strict=True)):
            before, before_cost = (0,) * len(_FIELDS), 0.0  # totals went down: a new counter
        prompt, completion, read, write, reasoning = (
            n - b for n, b in zip(now, before, strict=True)
        )
        spent = now_cost - before_cost
        tokens = Tokens(
            input_tokens=uncached_input(prompt, read, write),
            output_tokens=completion,
            cache_read_tokens=read,
            cache_write_tokens=write,
            reasoning_tokens=reasoning,
        )
        return tokens, (spent if spent > 0 else None)
