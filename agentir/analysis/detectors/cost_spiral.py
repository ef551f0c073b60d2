"""Cost: the session budget crossed (citing the seq where it was crossed), and a cost spiral
(the median cost of the last `window` model calls is `factor` times the earlier average per
call, no new file changed meanwhile, and the window cost at least `min_usd`)."""

from __future__ import annotations

from collections import deque
from statistics import median

from agentir.analysis.detectors.common import Detector, seq_list
from agentir.analysis.detectors.loops import progress_epoch
from agentir.analysis.fold import Derived, SessionFold
from agentir.model import Event, ModelCall
from agentir.policy import Policy


def _usd(value: float) -> str:
    return f"${value:,.2f}"


class CostDetector(Detector):
    """Budget (USD and tokens) and accelerating spend without progress."""

    name = "cost"

    def __init__(self, policy: Policy) -> None:
        super().__init__(policy)
        self.usd_crossed: tuple[int, str, float] | None = None
        self.tokens_crossed: tuple[int, str, int] | None = None
        self.prev_cost: float | None = 0.0
        self.recent: deque[tuple[float, int, int]] = deque(maxlen=policy.cost_spiral.window)
        self.before_sum = 0.0
        self.before_n = 0
        self.spiral: int | None = None

    def feed(self, event: Event, derived: Derived, fold: SessionFold) -> None:
        """Track cumulative spend after each model call."""
        if not isinstance(event, ModelCall):
            return
        budget = self.policy.budget
        cost = derived.cost_usd
        over = budget.usd is not None and cost is not None and cost > budget.usd
        if over and self.usd_crossed is None:
            assert cost is not None
            self.usd_crossed = (event.seq, str(event.source), cost)
        if budget.tokens is not None and self.tokens_crossed is None:
            t = fold.tokens
            used = t["input"] + t["output"] + t["cache_write"]
            if used > budget.tokens:
                self.tokens_crossed = (event.seq, str(event.source), used)
        if cost is None or self.prev_cost is None:
            self.prev_cost = cost
            return
        step = cost - self.prev_cost
        self.prev_cost = cost
        if event.sidechain is None and event.calls == 1:
            self._spiral(step, event, fold)

    def _spiral(self, step: float, ev: ModelCall, fold: SessionFold) -> None:
        spiral = self.policy.cost_spiral
        if len(self.recent) == self.recent.maxlen:
            oldest = self.recent[0]
            self.before_sum += oldest[0]
            self.before_n += 1
        self.recent.append((step, ev.seq, progress_epoch(fold)))
        if self.spiral is not None or len(self.recent) < spiral.window:
            return
        if self.before_n < spiral.window:
            return  # too little history to call it an acceleration
        window_sum = sum(s for s, _, _ in self.recent)
        earlier = self.before_sum / self.before_n
        no_progress = self.recent[0][2] == self.recent[-1][2]
        typical = median(s for s, _, _ in self.recent)  # one huge cache write is not a spiral
        if no_progress and window_sum >= spiral.min_usd and typical > spiral.factor * earlier:
            seqs = [s for _, s, _ in self.recent]
            self.spiral = self.emit(
                "warning",
                f"cost per model call is accelerating with no new file changed: the last "
                f"{len(seqs)} calls cost {_usd(window_sum)} (typically {_usd(typical)} each, "
                f"{typical / max(earlier, 1e-9):.1f}x the earlier {_usd(earlier)}) "
                f"(seqs {seq_list(seqs)})",
                seqs,
                ev.source,
                rule="spiral",
                window_usd=round(window_sum, 4),
                earlier_usd_per_call=round(earlier, 4),
            )

    def final(self, fold: SessionFold) -> None:
        """Budget findings, citing where the limit was crossed."""
        budget = self.policy.budget
        if self.usd_crossed is not None and budget.usd is not None:
            seq, source, at = self.usd_crossed
            total = fold.cost_so_far or at
            self.emit(
                "high",
                f"spent {_usd(total)}, over the {_usd(budget.usd)} budget; crossed at seq {seq} "
                f"({_usd(at)})",
                [seq],
                source,
                rule="budget_usd",
                budget=budget.usd,
                spent=round(total, 4),
            )
        if self.tokens_crossed is not None and budget.tokens is not None:
            seq, source, at = self.tokens_crossed
            t = fold.tokens
            total = t["input"] + t["output"] + t["cache_write"]
            self.emit(
                "high",
                f"used {total:,} tokens (input + output + cache writes), over the "
                f"{budget.tokens:,} budget; crossed at seq {seq}",
                [seq],
                source,
                rule="budget_tokens",
                budget=budget.tokens,
                used=total,
            )
