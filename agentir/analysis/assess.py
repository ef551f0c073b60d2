"""Assess a trace: read it, fold each session, return one Assessment per session."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from agentir.analysis.fold import Observer, SessionFold
from agentir.model import Assessment
from agentir.traces import open_trace
from agentir.traces.base import ReadStats

ObserverFactory = Callable[[], Sequence[Observer]]


@dataclass(frozen=True)
class TraceAssessment:
    """The sessions of one trace file and what reading it skipped."""

    path: Path
    format: str
    sessions: tuple[Assessment, ...]
    stats: ReadStats


def assess_trace(
    path: Path | str,
    fmt: str | None = None,
    observers: ObserverFactory | None = None,
) -> TraceAssessment:
    """Read `path` once and assess every session in it (a format error raises TraceError)."""
    stream = open_trace(path, fmt)
    folds: dict[str, SessionFold] = {}
    for event in stream.events():
        fold = folds.get(event.session_id)
        if fold is None:
            fold = SessionFold(
                event.session_id,
                event.agent,
                stream.format,
                str(stream.path),
                observers() if observers else (),
            )
            folds[event.session_id] = fold
        fold.feed(event)
    stats = stream.stats
    reasons = dict(stats.reasons)
    sessions = []
    for i, fold in enumerate(folds.values()):
        # file-level skips are reported once, on the first session
        skipped = stats.total_skipped if i == 0 else 0
        sessions.append(fold.finish(skipped, reasons if i == 0 else {}))
    return TraceAssessment(stream.path, stream.format, tuple(sessions), stats)
