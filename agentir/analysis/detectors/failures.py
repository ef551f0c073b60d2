"""Repeated failed tool calls: a run of consecutive failures, or many failures in a window.

`grep`/`rg`/`diff`/`test` exiting 1 is an answer, not a failure. A consecutive run that ends
in a success before reaching the stuck level is withdrawn (the agent found its way); a run
still open at the end of the session, or one that reached the stuck level, stays.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field

from agentir.analysis.detectors.common import Detector, call_text, chain, is_failure, quote
from agentir.analysis.detectors.common import seq_list as seqs_text
from agentir.analysis.fold import Derived, SessionFold
from agentir.model import Event, ToolCall, ToolResult
from agentir.policy import Policy

MAX_CHAINS = 64


@dataclass
class _Chain:
    run: int = 0
    run_seqs: list[int] = field(default_factory=list)
    run_tools: list[str] = field(default_factory=list)
    run_source: str = ""
    run_finding: int | None = None
    run_level: str | None = None
    window: deque[tuple[bool, int, str]] = field(default_factory=deque)
    window_open: bool = False
    window_finding: int | None = None
    window_seqs: list[int] = field(default_factory=list)
    window_episodes: int = 0


class FailureDetector(Detector):
    """Consecutive failed tool calls and failures crowding a window of recent calls."""

    name = "failures"

    def __init__(self, policy: Policy) -> None:
        super().__init__(policy)
        self.chains: OrderedDict[str, _Chain] = OrderedDict()

    def feed(self, event: Event, derived: Derived, fold: SessionFold) -> None:
        """Count each completed call's outcome."""
        if not isinstance(event, ToolResult) or derived.call is None:
            return
        failed = is_failure(event, derived.call)
        if failed is None:
            return
        key = chain(derived.call)
        state = self.chains.get(key)
        if state is None:
            state = _Chain(window=deque(maxlen=self.policy.loops.failures_window[1]))
            self.chains[key] = state
            if len(self.chains) > MAX_CHAINS:
                self.chains.popitem(last=False)
        self._consecutive(state, failed, derived.call, event)
        self._window(state, failed, derived.call)

    def _consecutive(self, st: _Chain, failed: bool, call: ToolCall, result: ToolResult) -> None:
        loops = self.policy.loops
        if not failed:
            if st.run_level == "warning":
                self.withdraw(st.run_finding)
            elif st.run_level == "high":
                self.update(st.run_finding, note=f"a call succeeded again at seq {call.seq}")
            st.run, st.run_seqs, st.run_tools = 0, [], []
            st.run_finding, st.run_level = None, None
            return
        st.run += 1
        if st.run == 1:
            st.run_source = str(call.source)
        if len(st.run_seqs) < 30:
            st.run_seqs.append(call.seq)
            st.run_tools.append(quote(call_text(call), 50))
        if st.run < loops.failures_consecutive:
            return
        level = "high" if st.run >= loops.failures_consecutive * loops.stuck_factor else "warning"
        message = (
            f"{st.run} tool calls failed in a row (seqs {seqs_text(st.run_seqs)}); "
            f"last: `{st.run_tools[-1]}`"
        )
        first_line = result.output.strip().splitlines()[0] if result.output.strip() else ""
        if first_line:
            message += f" → {quote(first_line, 80)}"
        if st.run_finding is None:
            st.run_finding = self.emit(
                level, message, st.run_seqs, st.run_source, pattern="consecutive", count=st.run
            )
        else:
            self.update(st.run_finding, level, message, st.run_seqs, count=st.run)
        st.run_level = level

    def _window(self, st: _Chain, failed: bool, call: ToolCall) -> None:
        k, n = self.policy.loops.failures_window
        st.window.append((failed, call.seq, str(call.source)))
        failures = [seq for bad, seq, _ in st.window if bad]
        if len(failures) < k:
            st.window_open = False
            return
        if st.window_open or st.run >= k:
            return  # already reported, or the consecutive run says the same
        st.window_open = True
        st.window_episodes += 1
        st.window_seqs = list(dict.fromkeys([*st.window_seqs, *failures]))[:30]
        episodes = f"; {st.window_episodes} such stretches" if st.window_episodes > 1 else ""
        message = (
            f"{len(failures)} of the last {len(st.window)} tool calls failed{episodes} "
            f"(seqs {seqs_text(st.window_seqs)})"
        )
        if st.window_finding is None:
            st.window_finding = self.emit(
                "warning",
                message,
                st.window_seqs,
                next(src for bad, _, src in st.window if bad),
                pattern="window",
                window=n,
            )
        else:
            self.update(st.window_finding, None, message, st.window_seqs)
