"""Loops: the same call again and again without progress, short cycles (A-B-A-B ping-pong, or
fix / test / undo / test flip-flops of up to four calls), and talk without action.

Progress resets a call's count: a result that differs from the call's previous result (times,
ids and addresses in the output are ignored), or a file changed for the first time in the
session; for a call that succeeds, any file change by another call since its last run (an
edit, then the same passing test, is verification, not a loop). Polling (sleep, `gh run watch`, `kubectl get -w`, BashOutput, `git status`, …) gets
the higher `polling_calls` threshold. A streak that ends in success withdraws its warning: a
retry that worked is not a loop. Memory: one small record per distinct call (LRU-capped) and a
window of the last few steps per agent.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field

from agentir.analysis.detectors.common import (
    Detector,
    call_key,
    call_text,
    chain,
    is_failure,
    is_polling,
    quote,
    seq_list,
    signature,
)
from agentir.analysis.fold import Derived, SessionFold
from agentir.model import Event, Message, ToolCall, ToolResult
from agentir.policy import Policy

MAX_KEYS = 512
MAX_CHAINS = 64
MAX_PERIOD = 4  # cycles of up to four calls (fix, test, undo, test) are recognised


def progress_epoch(fold: SessionFold) -> int:
    """Grows whenever the session touches a file it never touched before."""
    return len(fold.files) + fold.files.omitted


@dataclass
class _Key:
    count: int
    sig: str
    epoch: int  # files the session had touched when this call was last judged
    source: str = ""  # where the first of the repeated calls is
    changed: int = 0  # file changes seen by then, this call's own included
    seqs: list[int] = field(default_factory=list)
    finding: int | None = None
    level: str | None = None
    polling: bool | None = None


@dataclass
class _Chain:
    keys: OrderedDict[str, _Key] = field(default_factory=OrderedDict)
    steps: deque[tuple[str, str, int, int, str]] = field(
        default_factory=deque
    )  # key, sig, epoch, seq, source
    alt_pair: frozenset[str] | None = None  # the calls of the cycle being reported
    alt_len: int = 0
    alt_finding: int | None = None
    talk: int = 0
    talk_seqs: list[int] = field(default_factory=list)
    talk_finding: int | None = None


class LoopDetector(Detector):
    """Identical calls, the same error, alternation, and messages with no tool call."""

    name = "loop"

    def __init__(self, policy: Policy) -> None:
        super().__init__(policy)
        self.chains: OrderedDict[str, _Chain] = OrderedDict()
        self.acted = False  # some formats record no tool calls at all: then talk is not judged
        self.changes = 0  # successful file changes so far

    def _chain(self, event: Event) -> _Chain:
        key = chain(event)
        state = self.chains.get(key)
        if state is None:
            cycles = max(2, self.policy.loops.alternating_window // 2)
            state = _Chain(
                steps=deque(maxlen=max(self.policy.loops.alternating_window, MAX_PERIOD * cycles))
            )
            self.chains[key] = state
            if len(self.chains) > MAX_CHAINS:
                self.chains.popitem(last=False)
        return state

    def feed(self, event: Event, derived: Derived, fold: SessionFold) -> None:
        """Judge each completed call, and count messages between tool calls."""
        if isinstance(event, Message):
            self._message(event)
            return
        call = derived.call
        if call is None and isinstance(event, ToolCall) and event.call_id is None:
            call = event  # settled at once: there will be no result
        if isinstance(event, ToolCall):
            self.acted = True
            self._chain(event).talk = 0
        before = self.changes
        self.changes += len(derived.changes_done)
        if call is None:
            return
        st = self._step(call, event if isinstance(event, ToolResult) else None, fold, before)
        st.changed = self.changes  # the call's own change is not progress for its next run

    # ------------------------------------------------------------------ talk without action

    def _message(self, ev: Message) -> None:
        if ev.reasoning or ev.injected is not None or not self.acted:
            return
        state = self._chain(ev)
        if ev.role == "user":
            state.talk, state.talk_seqs, state.talk_finding = 0, [], None
            return
        if ev.role != "assistant":
            return
        if state.talk == 0:
            state.talk_seqs, state.talk_finding = [], None
        state.talk += 1
        if len(state.talk_seqs) < 30:
            state.talk_seqs.append(ev.seq)
        n = self.policy.loops.messages_without_tools
        if state.talk == n:
            state.talk_finding = self.emit(
                "warning",
                f"the agent wrote {n} messages in a row without calling a tool or hearing "
                f"from the user (seqs {seq_list(state.talk_seqs)})",
                state.talk_seqs,
                ev.source,
                pattern="messages_without_tools",
                count=n,
            )
        elif state.talk == n * self.policy.loops.stuck_factor and state.talk > n:
            self.update(
                state.talk_finding,
                "high",
                f"the agent wrote {state.talk} messages in a row without calling a tool or "
                f"hearing from the user: it is talking, not acting (seqs {seq_list(state.talk_seqs)})",
                state.talk_seqs,
                count=state.talk,
            )

    # ------------------------------------------------------------------ repeated calls

    def _step(self, call: ToolCall, res: ToolResult | None, fold: SessionFold, before: int) -> _Key:
        state = self._chain(call)
        key, sig, epoch = call_key(call), signature(res), progress_epoch(fold)
        failed = is_failure(res, call)
        self._alternation(state, key, sig, epoch, call)
        st = state.keys.get(key)
        # Progress for a failing call is a new file (edits that leave the error as it was are
        # flailing); for a call that works, any change since (an edit, then the same passing
        # test, is ordinary verification).
        same = st is not None and st.sig == sig and st.epoch == epoch
        if same and not failed and st is not None and st.changed != before:
            same = False
        if same and st is not None:
            st.count += 1
            state.keys.move_to_end(key)
        else:
            if st is not None and st.finding is not None and failed is False and st.epoch == epoch:
                self._retried(st, call)  # the same call, nothing else changed, and now it worked
            st = _Key(1, sig, epoch, str(call.source))
            state.keys[key] = st
            if len(state.keys) > MAX_KEYS:
                state.keys.popitem(last=False)
        st.sig, st.epoch = sig, epoch
        if len(st.seqs) < 30:
            st.seqs.append(call.seq)
        self._judge(state, key, st, call, failed)
        return st

    def _judge(
        self, state: _Chain, key: str, st: _Key, call: ToolCall, failed: bool | None
    ) -> None:
        loops = self.policy.loops
        if failed:
            warn, stuck = loops.same_error, loops.same_error * loops.stuck_factor
            fires = st.count >= warn
        else:
            warn, stuck = (
                loops.identical_calls + 1,
                (loops.identical_calls * loops.stuck_factor) + 1,
            )
            fires = st.count >= warn
        if not fires:
            return
        if st.polling is None:
            st.polling = is_polling(call)
        if st.polling:
            warn, stuck = loops.polling_calls + 1, loops.polling_calls * loops.stuck_factor + 1
            if st.count < warn:
                return
        if state.alt_pair is not None and key in state.alt_pair:
            return  # the alternation finding already covers this call
        level = "high" if st.count >= stuck else "warning"
        what = quote(call_text(call))
        if failed:
            pattern = "same_error"
            message = f"`{what}` failed the same way {st.count} times"
        else:
            pattern = "identical_calls"
            message = f"`{what}` ran {st.count} times with the same result"
        message += f" and no new file changed (seqs {seq_list(st.seqs)})"
        if level == "high":
            message += ": the agent is stuck"
        if st.finding is None:
            st.finding = self.emit(
                level,
                message,
                st.seqs,
                st.source,
                pattern=pattern,
                count=st.count,
                tool=call.name,
            )
        else:
            self.update(st.finding, level, message, st.seqs, count=st.count)
        st.level = level

    def _retried(self, st: _Key, call: ToolCall) -> None:
        """The call finally succeeded: a warning was a retry, a stuck level stays as a warning."""
        if st.level == "warning":
            self.withdraw(st.finding)
        elif st.level == "high":
            self.update(
                st.finding,
                "warning",
                None,
                note=f"then succeeded at seq {call.seq} after {st.count} attempts",
            )

    def _alternation(self, state: _Chain, key: str, sig: str, epoch: int, call: ToolCall) -> None:
        """A cycle of 2 to 4 calls repeating with the same results and no new file."""
        window = self.policy.loops.alternating_window
        cycles = max(2, window // 2)  # the default window of 6 is A-B three times
        state.steps.append((key, sig, epoch, call.seq, str(call.source)))
        steps = list(state.steps)
        period = next(
            (p for p in range(2, MAX_PERIOD + 1) if _repeats(steps, p, cycles, epoch)), None
        )
        if period is None:
            if state.alt_pair is not None:
                state.alt_pair, state.alt_len, state.alt_finding = None, 0, None
            return
        span = steps[-period * cycles :]
        members = frozenset(s[0] for s in span[:period])
        seqs = [s[3] for s in span]
        what = "two calls" if period == 2 else f"a cycle of {period} calls"
        if state.alt_pair != members:
            state.alt_pair, state.alt_len = members, len(span)
            state.alt_finding = self.emit(
                "warning",
                f"the agent alternates between {what} with the same results and no new file "
                f"changed: `{quote(call_text(call), 60)}` and another call, {len(span)} steps "
                f"(seqs {seq_list(seqs)})",
                seqs,
                span[0][4],
                pattern="alternating",
                count=len(span),
                period=period,
            )
            return
        state.alt_len += 1
        finding = self.found.get(state.alt_finding) if state.alt_finding is not None else None
        all_seqs = list(dict.fromkeys([*(finding.seqs if finding else ()), *seqs]))
        stuck = state.alt_len >= period * cycles * self.policy.loops.stuck_factor
        self.update(
            state.alt_finding,
            "high" if stuck else None,
            (
                f"the agent alternates between {what} with the same results and no new "
                f"file changed for {state.alt_len} steps: it is stuck (seqs {seq_list(all_seqs)})"
            )
            if stuck
            else None,
            all_seqs,
            count=state.alt_len,
        )


def _repeats(
    steps: list[tuple[str, str, int, int, str]], period: int, cycles: int, epoch: int
) -> bool:
    """The last `period * cycles` steps repeat one cycle of `period` distinct-enough calls."""
    n = period * cycles
    if len(steps) < n:
        return False
    span = steps[-n:]
    head = [s[:2] for s in span[:period]]
    if len({k for k, _ in head}) < 2 and len(set(head)) < period:
        return False  # one call repeating is the identical-call rule's business
    if any(
        len(set(head[:q])) == len(head[:q]) and head == head[:q] * (period // q)
        for q in range(1, period)
        if period % q == 0
    ):
        return False  # a shorter cycle: reported with its own period
    return all(span[i][:2] == head[i % period] for i in range(n)) and all(
        s[2] == epoch for s in span
    )
