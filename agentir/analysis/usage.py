"""Token and cost accounting for one session, and the cost/context curve for the review chart."""

from __future__ import annotations

from agentir.analysis import cost as costmod
from agentir.model import CurvePoint, ModelCall, Usage

CURVE_POINTS = 2_000


class UsageLedger:
    """Sums model calls as they arrive; bounded memory (the curve is down-sampled)."""

    def __init__(self) -> None:
        self.calls = 0
        self.tokens = dict(input=0, output=0, cache_read=0, cache_write=0, reasoning=0)
        self.by_model: dict[str, dict[str, float]] = {}
        self.cost = 0.0  # priced from the table
        self.reported_cost = 0.0  # stated by the trace itself
        self.unpriced: dict[str, int] = {}  # model -> calls with no known price
        self.peak_context = 0
        self.last_context = 0
        self.curve: list[CurvePoint] = []
        self._stride = 1
        self._seen = 0

    @property
    def cost_so_far(self) -> float | None:
        """Cumulative cost, None while every call so far was unpriced."""
        if self.calls and not self.cost and not self.reported_cost and self.unpriced:
            return None
        return self.cost + self.reported_cost

    def add(self, ev: ModelCall) -> None:
        """Count one model call (or the session totals a format gives instead)."""
        self.calls += ev.calls
        t = self.tokens
        t["input"] += ev.input_tokens
        t["output"] += ev.output_tokens
        t["cache_read"] += ev.cache_read_tokens
        t["cache_write"] += ev.cache_write_tokens
        t["reasoning"] += ev.reasoning_tokens
        model = ev.model or "(unknown model)"
        row = self.by_model.setdefault(
            model,
            dict(
                input_tokens=0,
                output_tokens=0,
                cache_read_tokens=0,
                cache_write_tokens=0,
                calls=0,
                cost_usd=0.0,
            ),
        )
        row["input_tokens"] += ev.input_tokens
        row["output_tokens"] += ev.output_tokens
        row["cache_read_tokens"] += ev.cache_read_tokens
        row["cache_write_tokens"] += ev.cache_write_tokens
        row["calls"] += ev.calls
        if ev.reported_cost_usd is not None:
            self.reported_cost += ev.reported_cost_usd
            row["cost_usd"] += ev.reported_cost_usd
        else:
            price = costmod.pricing().lookup(ev.model)
            if price is None:
                self.unpriced[model] = self.unpriced.get(model, 0) + ev.calls
            else:
                c = costmod.call_cost(ev, price)
                self.cost += c
                row["cost_usd"] += c
        if ev.calls == 1:
            self.last_context = ev.context_tokens
            self.peak_context = max(self.peak_context, ev.context_tokens)
        self._point(ev)

    def _point(self, ev: ModelCall) -> None:
        self._seen += 1
        if (self._seen - 1) % self._stride:
            return
        self.curve.append(
            CurvePoint(ev.seq, ev.ts, self.cost_so_far, self.last_context, self.tokens["output"])
        )
        if len(self.curve) >= CURVE_POINTS:  # keep every other point, sample half as often
            self.curve = self.curve[::2]
            self._stride *= 2

    def usage(self) -> Usage:
        """Token totals and cost, with a note when the cost is unknown or partial."""
        t = self.tokens
        note = None
        cost: float | None = self.cost + self.reported_cost
        if self.unpriced:
            names = ", ".join(sorted(self.unpriced))
            if not self.cost and not self.reported_cost:
                cost = None
                note = f"no price known for {names}; cost not estimated"
            else:
                missing = sum(self.unpriced.values())
                note = f"partial: no price known for {names} ({missing} calls not counted)"
        elif self.calls == 0:
            cost = None
            note = "the trace records no model usage"
        return Usage(
            input_tokens=t["input"],
            output_tokens=t["output"],
            cache_read_tokens=t["cache_read"],
            cache_write_tokens=t["cache_write"],
            reasoning_tokens=t["reasoning"],
            model_calls=self.calls,
            cost_usd=round(cost, 6) if cost is not None else None,
            cost_note=note,
            by_model={k: dict(v) for k, v in self.by_model.items()},
            peak_context_tokens=self.peak_context,
        )
