"""Assess a file or a whole directory of traces, collecting per-file errors instead of failing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from agentir.analysis.assess import ObserverFactory, TraceAssessment, assess_trace
from agentir.errors import TraceError, UnknownFormatError
from agentir.model import Assessment
from agentir.traces import iter_trace_files

Row = tuple[str, Assessment | None, str | None]  # (trace path, assessment, error)


@dataclass
class BatchResult:
    """Every session found, files that failed, and how many files were not traces."""

    rows: list[Row] = field(default_factory=list)
    directory: bool = False
    not_traces: int = 0
    read_notes: list[str] = field(default_factory=list)


def read_notes(ta: TraceAssessment) -> list[str]:
    """Responder-facing notes on what reading a trace skipped."""
    notes: list[str] = []
    st = ta.stats
    if st.truncated_tail:
        notes.append(
            f"{ta.path}: the last line is cut off (the agent was probably killed mid-write)"
        )
    if st.malformed:
        notes.append(f"{ta.path}: {st.malformed} malformed line(s) skipped")
    if st.oversized:
        notes.append(f"{ta.path}: {st.oversized} line(s) over the size limit skipped")
    return notes


def assess_path(
    path: Path, fmt: str | None = None, observers: ObserverFactory | None = None
) -> BatchResult:
    """Assess one trace (errors raise) or every trace under a directory (errors are rows)."""
    result = BatchResult()
    path = path.expanduser()
    if path.is_dir():
        from agentir.traces import detect

        try:  # the directory itself may be one trace (one event per file)
            reader = detect(path, fmt)
        except TraceError:
            reader = None
        if reader is None:
            result.directory = True
            for candidate in iter_trace_files(path):
                _add(result, candidate, fmt, observers, tolerant=True)
            return result
    _add(result, path, fmt, observers, tolerant=False)
    return result


def _add(
    result: BatchResult,
    path: Path,
    fmt: str | None,
    observers: ObserverFactory | None,
    *,
    tolerant: bool,
) -> None:
    try:
        ta = assess_trace(path, fmt, observers)
    except UnknownFormatError:
        if not tolerant:
            raise
        result.not_traces += 1
        return
    except TraceError as exc:
        if not tolerant:
            raise
        result.rows.append((str(path), None, exc.message))
        return
    result.read_notes.extend(read_notes(ta))
    for a in ta.sessions:
        result.rows.append((str(path), a, None))
    if not ta.sessions and not tolerant:
        raise TraceError(
            f"{path} holds no session events", hint="the file may be a stub or hold only metadata"
        )
