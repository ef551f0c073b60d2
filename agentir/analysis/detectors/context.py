"""Context growth: tokens per call rising fast over a window, the context close to the model's
limit, compactions, and context-window errors (the agent ran out of room)."""

from __future__ import annotations

from collections import OrderedDict, deque

from agentir.analysis.detectors.common import OUT_OF_ROOM, Detector, chain, quote, seq_list
from agentir.analysis.fold import Derived, SessionFold
from agentir.model import Compaction, ErrorEvent, Event, ModelCall
from agentir.policy import Policy

MAX_CHAINS = 64


class ContextDetector(Detector):
    """Fast context growth, near-limit calls, compactions and context-window errors."""

    name = "context"

    def __init__(self, policy: Policy) -> None:
        super().__init__(policy)
        self.windows: OrderedDict[str, deque[tuple[int, int]]] = OrderedDict()
        self.fastest: tuple[float, list[int], int, int, str] | None = None  # rate, seqs, from, to
        self.episodes = 0
        self.growing: set[str] = set()
        self.near: tuple[int, int, int, str] | None = None  # seq, tokens, window, source
        self.compactions: list[int] = []  # the first 30 seqs
        self.n_compactions = 0
        self.n_errors = 0
        self.compaction_source = ""
        self.errors: list[int] = []
        self.error_text = ""
        self.error_source = ""

    def feed(self, event: Event, derived: Derived, fold: SessionFold) -> None:
        """Follow the context size per agent."""
        if isinstance(event, ModelCall) and event.calls == 1:
            self._call(event)
        elif isinstance(event, Compaction):
            self.windows.pop(chain(event), None)
            self.growing.discard(chain(event))
            if not self.compactions:
                self.compaction_source = str(event.source)
            self.n_compactions += 1
            if len(self.compactions) < 30:
                self.compactions.append(event.seq)
        elif isinstance(event, ErrorEvent):
            text = f"{event.category} {event.message}".lower()
            if event.category == "context_window" or any(k in text for k in OUT_OF_ROOM):
                if not self.errors:
                    self.error_source = str(event.source)
                self.n_errors += 1
                if len(self.errors) < 30:
                    self.errors.append(event.seq)
                self.error_text = event.message

    def _call(self, ev: ModelCall) -> None:
        tokens = ev.context_tokens
        settings = self.policy.context
        if (
            ev.context_window
            and tokens >= settings.near_limit * ev.context_window
            and self.near is None
        ):
            self.near = (ev.seq, tokens, ev.context_window, str(ev.source))
        key = chain(ev)
        window = self.windows.get(key)
        if window is None:
            window = deque(maxlen=settings.growth_window)
            self.windows[key] = window
            if len(self.windows) > MAX_CHAINS:
                self.windows.popitem(last=False)
        window.append((ev.seq, tokens))
        if len(window) < settings.growth_window:
            return
        rate = (window[-1][1] - window[0][1]) / (len(window) - 1)
        if rate < settings.growth_tokens_per_call:
            if rate < settings.growth_tokens_per_call / 2:
                self.growing.discard(key)
            return
        if key not in self.growing:
            self.growing.add(key)
            self.episodes += 1
        if self.fastest is None or rate > self.fastest[0]:
            self.fastest = (
                rate,
                [s for s, _ in window],
                window[0][1],
                window[-1][1],
                str(ev.source),
            )

    def final(self, fold: SessionFold) -> None:
        """Findings for growth, the limit, compactions and errors."""
        settings = self.policy.context
        if self.fastest is not None:
            rate, seqs, start, end, source = self.fastest
            episodes = f"; {self.episodes} such stretches" if self.episodes > 1 else ""
            self.emit(
                "warning",
                f"context grew from {start:,} to {end:,} tokens over {len(seqs)} model calls "
                f"({rate:,.0f} per call, limit {settings.growth_tokens_per_call:,}){episodes} "
                f"(seqs {seq_list(seqs)})",
                seqs,
                source,
                rule="growth",
                tokens_per_call=round(rate),
            )
        if self.near is not None:
            seq, tokens, limit, source = self.near
            self.emit(
                "warning",
                f"context reached {tokens:,} of the model's {limit:,} tokens at seq {seq} "
                f"({tokens / limit:.0%})",
                [seq],
                source,
                rule="near_limit",
            )
        if self.compactions:
            n = self.n_compactions
            severity = "warning" if n >= settings.compactions_warning else "info"
            self.emit(
                severity,
                f"context was compacted {n} time(s) (seqs {seq_list(self.compactions)}); "
                "earlier instructions may have been lost in the summaries",
                self.compactions,
                self.compaction_source,
                rule="compactions",
                count=n,
            )
        if self.errors:
            self.emit(
                "high",
                f"the agent ran out of context window {self.n_errors} time(s) "
                f"(seqs {seq_list(self.errors)}): {quote(self.error_text, 100)}",
                self.errors,
                self.error_source,
                rule="context_window_error",
                count=self.n_errors,
            )
