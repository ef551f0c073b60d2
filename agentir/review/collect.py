"""Read a trace for a review: the assess pass, plus what a review cites that assess drops.

A `ReviewObserver` rides along the one assess pass: it keeps the source (file and line) and
time of every event in compact arrays (a few bytes per event, so any step can be cited), and
a small window of the latest messages, frozen at the first high-risk effect (the decision
point). Detector findings are only known at the end of the pass; when one of them points at an
earlier step, a second pass reads only up to that step. Memory stays bounded either way.
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from agentir.analysis.assess import assess_trace
from agentir.analysis.fold import Derived, Observer, SessionFold
from agentir.analysis.text import clean
from agentir.guardrails import finding_family
from agentir.model import Assessment, Effect, Event, EventKind, Finding, Message, Risk, Source
from agentir.traces import open_trace

WINDOW = 6  # messages kept before the decision point
MESSAGE_CHARS = 1_200
HARMFUL_RISKS = (Risk.HIGH, Risk.CRITICAL)
HARMFUL_FINDINGS = ("high", "critical")
_MAX_ODD = 10_000
_ACTION_KINDS = (EventKind.TOOL_CALL, EventKind.TOOL_RESULT)


@dataclass(frozen=True)
class WindowMessage:
    """A message shown as context at the decision point (text redacted and bounded)."""

    seq: int
    ts: datetime | None
    role: str
    text: str
    source: str
    sidechain: str | None = None
    reasoning: bool = False


@dataclass(frozen=True)
class DecisionPoint:
    """The first harmful step and the messages just before it."""

    seq: int
    ts: datetime | None
    source: str
    what: str
    via: str  # "effect" or "finding"
    messages: tuple[WindowMessage, ...] = ()


class SourceIndex:
    """seq -> (source, time) for every event of one session, in compact arrays."""

    def __init__(self) -> None:
        self._paths: list[str] = []
        self._path_ids: dict[str, int] = {}
        self._pid = array("I")
        self._line = array("q")
        self._ts = array("d")
        self._action = array("b")  # 1 for tool calls and results: the steps that act
        self._pointers: dict[int, str] = {}  # document formats (already held in memory)
        self._odd: dict[int, tuple[str, datetime | None]] = {}
        self._first: int | None = None

    def add(
        self, seq: int, source: Source, ts: datetime | None, kind: EventKind | None = None
    ) -> None:
        """Remember where event `seq` came from."""
        if self._first is None:
            self._first = seq
        position = seq - self._first
        if position != len(self._line):
            if position < len(self._line) or len(self._odd) >= _MAX_ODD:
                return  # a repeated seq keeps its first source
            self._odd[seq] = (str(source), ts)
            return
        pid = self._path_ids.get(source.path)
        if pid is None:
            pid = self._path_ids[source.path] = len(self._paths)
            self._paths.append(source.path)
        self._pid.append(pid)
        self._line.append(source.line if source.line is not None else -1)
        self._ts.append(ts.timestamp() if ts is not None else math.nan)
        self._action.append(1 if kind in _ACTION_KINDS else 0)
        if source.line is None and source.pointer is not None:
            self._pointers[position] = source.pointer

    def _position(self, seq: int) -> int | None:
        if self._first is None:
            return None
        position = seq - self._first
        return position if 0 <= position < len(self._line) else None

    def source(self, seq: int) -> str | None:
        """`path:line` (or `path#pointer`) of event `seq`, None when unknown."""
        position = self._position(seq)
        if position is None:
            odd = self._odd.get(seq)
            return odd[0] if odd else None
        line = self._line[position]
        return str(
            Source(
                self._paths[self._pid[position]],
                line if line >= 0 else None,
                self._pointers.get(position),
            )
        )

    def time(self, seq: int) -> datetime | None:
        """The time of event `seq`, None when the format has none."""
        position = self._position(seq)
        if position is None:
            odd = self._odd.get(seq)
            return odd[1] if odd else None
        value = self._ts[position]
        return None if math.isnan(value) else datetime.fromtimestamp(value, timezone.utc)

    def is_action(self, seq: int) -> bool:
        """True when step `seq` is a tool call or a tool result."""
        position = self._position(seq)
        return position is not None and bool(self._action[position])

    def __len__(self) -> int:
        return len(self._line) + len(self._odd)


def _window_message(event: Message) -> WindowMessage:
    return WindowMessage(
        seq=event.seq,
        ts=event.ts,
        role=event.role,
        text=clean(event.text.strip(), MESSAGE_CHARS),
        source=str(event.source),
        sidechain=event.sidechain,
        reasoning=event.reasoning,
    )


def _is_context(event: Event) -> bool:
    """A message that tells why the agent acted: the user's own words or the assistant's."""
    if not isinstance(event, Message) or not event.text.strip():
        return False
    return event.role == "assistant" or (event.role == "user" and event.injected is None)


def describe_effect(effect: Effect) -> str:
    """One line naming an effect: kind, target, risk."""
    return f"{effect.kind} {effect.target} ({effect.risk.value} risk)"


class ReviewObserver:
    """Watches the assess pass: sources and times per step, and the decision-point window."""

    def __init__(self) -> None:
        self.index = SourceIndex()
        self.window: deque[WindowMessage] = deque(maxlen=WINDOW)
        self.decision: DecisionPoint | None = None
        self.session_id: str | None = None

    def feed(self, event: Event, derived: Derived, fold: SessionFold) -> None:
        """Observe one event."""
        self.index.add(event.seq, event.source, event.ts, event.kind)
        if self.decision is None:
            harmful = [e for e in derived.effects if e.risk in HARMFUL_RISKS]
            if harmful:
                worst = max(harmful, key=lambda e: e.risk.rank)
                self.decision = DecisionPoint(
                    event.seq,
                    event.ts,
                    str(event.source),
                    describe_effect(worst),
                    "effect",
                    tuple(self.window),
                )
                self.window.clear()  # frozen: nothing more to keep
        if self.decision is None and _is_context(event):
            assert isinstance(event, Message)
            self.window.append(_window_message(event))

    def finish(self, fold: SessionFold) -> Iterable[Finding]:
        """No findings of its own."""
        self.session_id = fold.session_id
        return ()


@dataclass(frozen=True)
class SessionEvidence:
    """One session of a trace as a review needs it."""

    trace: str
    format: str
    assessment: Assessment
    index: SourceIndex
    decision: DecisionPoint | None

    def cite(self, seq: int | None) -> str | None:
        """The source of step `seq` (file:line), None when unknown."""
        return None if seq is None else self.index.source(seq)


ObserverFactory = Callable[[], Sequence[Observer]]


def collect(
    path: Path | str, fmt: str | None = None, detectors: ObserverFactory | None = None
) -> list[SessionEvidence]:
    """Assess `path` once with the review observer; resolve each session's decision point."""
    made: list[ReviewObserver] = []

    def observers() -> Sequence[Observer]:
        mine = ReviewObserver()
        made.append(mine)
        return [*(detectors() if detectors else ()), mine]

    result = assess_trace(path, fmt, observers)
    by_session = {o.session_id: o for o in made if o.session_id is not None}
    out: list[SessionEvidence] = []
    for assessment in result.sessions:
        observer = by_session.get(assessment.session.id) or ReviewObserver()
        decision = _resolve(result.path, result.format, assessment, observer)
        out.append(
            SessionEvidence(str(result.path), result.format, assessment, observer.index, decision)
        )
    return out


def first_harmful_finding(
    assessment: Assessment, index: SourceIndex | None = None
) -> tuple[int, Finding] | None:
    """The earliest action (tool call or result) a high or critical finding cites, with that
    finding. A finding about the session's mode cites its metadata too: that is not the act."""
    best: tuple[int, Finding] | None = None
    for finding in assessment.findings:
        if finding_family(finding.detector) == "claims":
            continue  # a claim of success judges the work afterwards; it is not the act
        if finding.severity in HARMFUL_FINDINGS and finding.seqs:
            acts = [s for s in finding.seqs if index is None or index.is_action(s)]
            seq = min(acts or finding.seqs)
            if best is None or seq < best[0]:
                best = (seq, finding)
    return best


def _resolve(
    path: Path, fmt: str, assessment: Assessment, observer: ReviewObserver
) -> DecisionPoint | None:
    decision = observer.decision
    earliest = first_harmful_finding(assessment, observer.index)
    if earliest is None or (decision is not None and decision.seq <= earliest[0]):
        return decision
    seq, finding = earliest
    messages = window_before(path, fmt, assessment.session.id, seq)
    return DecisionPoint(
        seq,
        observer.index.time(seq),
        observer.index.source(seq) or "",
        f"{finding.detector}: {clean(finding.message, 300)}",
        "finding",
        messages,
    )


def window_before(
    path: Path | str, fmt: str | None, session_id: str, stop_seq: int
) -> tuple[WindowMessage, ...]:
    """A second pass that stops at `stop_seq`: the last few messages of the session before it."""
    window: deque[WindowMessage] = deque(maxlen=WINDOW)
    stream = open_trace(path, fmt)
    events: Any = stream.events()
    try:
        for event in events:
            if event.session_id != session_id:
                continue
            if event.seq >= stop_seq:
                break
            if _is_context(event):
                window.append(_window_message(event))
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()
    return tuple(window)
