"""Prices per model (agentir/data/pricing.json) and the cost of each model call.

The table records its source and date. A model it does not know costs `None` with a note,
never a guess; a cost the trace itself reports (Aider, SWE-agent, Langfuse) is used as is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from agentir.model import ModelCall
from agentir.resources import data_file

_M = 1_000_000
_DATE_SUFFIX = re.compile(r"(?:[-@]\d{8}|-\d{4}-\d{2}-\d{2}|-latest|@latest)$")
_PROVIDER = re.compile(
    r"^(?:anthropic|openai|google|gemini|vertex_ai|bedrock|azure|openrouter|models)[/.:]"
)


@dataclass(frozen=True, slots=True)
class LongContext:
    """Higher rates above a prompt size (how they apply depends on `mode`)."""

    mode: str  # per_type_excess | whole_prompt
    threshold: int
    rates: dict[str, float]


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens for one model."""

    model: str
    input: float
    output: float
    cache_read: float
    cache_write: float
    cache_write_1h: float | None = None
    long_context: LongContext | None = None


@dataclass(frozen=True, slots=True)
class PricingTable:
    """The loaded price list with its provenance."""

    source: str
    retrieved: str
    prices: dict[str, Price]

    def lookup(self, model: str | None) -> Price | None:
        """The price of `model`, trying the name without provider prefix and date suffix."""
        if not model:
            return None
        candidates = [model, model.lower()]
        bare = _PROVIDER.sub("", model.lower())
        candidates += [bare, _DATE_SUFFIX.sub("", bare)]
        for name in candidates:
            if name in self.prices:
                return self.prices[name]
        undated = _DATE_SUFFIX.sub("", bare)
        for known, price in self.prices.items():
            if _DATE_SUFFIX.sub("", known) == undated:
                return price
        return None


def _price(name: str, raw: dict[str, Any]) -> Price:
    lc = raw.get("long_context")
    long_context = None
    if isinstance(lc, dict):
        rates = {
            k: float(v)
            for k, v in lc.items()
            if k in ("input", "output", "cache_read", "cache_write")
        }
        long_context = LongContext(
            str(lc.get("mode", "per_type_excess")), int(lc.get("threshold_tokens", 200_000)), rates
        )
    return Price(
        model=name,
        input=float(raw["input"]),
        output=float(raw["output"]),
        cache_read=float(raw.get("cache_read", 0.0)),
        cache_write=float(raw.get("cache_write", 0.0)),
        cache_write_1h=float(raw["cache_write_1h"]) if "cache_write_1h" in raw else None,
        long_context=long_context,
    )


@cache
def pricing() -> PricingTable:
    """The shipped pricing table."""
    doc = json.loads(data_file("pricing.json").read_text(encoding="utf-8"))
    prices = {name: _price(name, raw) for name, raw in doc["models"].items()}
    return PricingTable(source=doc["source"], retrieved=doc["retrieved"], prices=prices)


def _tiered(tokens: int, base: float, high: float | None, threshold: int) -> float:
    if high is None or tokens <= threshold:
        return tokens * base
    return threshold * base + (tokens - threshold) * high


def call_cost(call: ModelCall, price: Price) -> float:
    """USD cost of one model call at `price` (long-context tiers and 1-hour cache writes)."""
    write_1h = min(call.cache_write_tokens, call.cache_write_1h_tokens)
    write_5m = call.cache_write_tokens - write_1h
    rate_1h = price.cache_write_1h if price.cache_write_1h is not None else 2 * price.input
    counts = {
        "input": call.input_tokens,
        "output": call.output_tokens,
        "cache_read": call.cache_read_tokens,
        "cache_write": write_5m,
    }
    base = {
        "input": price.input,
        "output": price.output,
        "cache_read": price.cache_read,
        "cache_write": price.cache_write,
    }
    lc = price.long_context
    total = write_1h * rate_1h
    if lc is None or call.calls > 1:  # session totals cannot be tiered per call
        total += sum(counts[k] * base[k] for k in counts)
    elif lc.mode == "whole_prompt":
        big = call.input_tokens + call.cache_read_tokens > lc.threshold
        total += sum(counts[k] * (lc.rates.get(k, base[k]) if big else base[k]) for k in counts)
    else:
        total += sum(_tiered(counts[k], base[k], lc.rates.get(k), lc.threshold) for k in counts)
    return total / _M
