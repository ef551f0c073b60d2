"""Search many sessions for look-alikes of an incident, in worker processes like `scan`.

One task per trace file; a worker assesses the file with the detectors and a
`ChangeCollector`, compares each session with the incident's pattern (handed to the worker
once, at start) and returns only the matches, so what crosses the process boundary stays
small. A file that cannot be read is an error row, never the end of the search.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from agentir.analysis.fold import Observer
from agentir.analysis.scan import ScanError, available_cpus, collect, run_files
from agentir.analysis.similar_changes import ChangeCollector
from agentir.analysis.similar_match import (
    IncidentPattern,
    Match,
    SessionChanges,
    finding_sig,
    match_session,
)
from agentir.errors import TraceError, UnknownFormatError
from agentir.model import Assessment
from agentir.policy import Policy

_TRACE_LIKE = (".jsonl", ".traj", ".ndjson")


@dataclass
class SessionSearch:
    """What the session search read and found."""

    matches: list[Match] = field(default_factory=list)
    files: int = 0
    sessions: int = 0
    own: int = 0  # the incident's own sessions met (and left out)
    not_traces: int = 0
    errors: list[ScanError] = field(default_factory=list)
    jobs: int = 1
    seconds: float = 0.0


# (matches, sessions read, own sessions skipped, error, not a trace)
Outcome = tuple[list[Match], int, int, ScanError | None, bool]
Progress = Callable[[int, int, str], None]

_WORKER: tuple[Policy, IncidentPattern] | None = None


def _init_worker(policy: Policy, pattern: IncidentPattern) -> None:
    global _WORKER
    _WORKER = (policy, pattern)


def is_own(session_id: str, own: Sequence[str]) -> bool:
    """The incident's own session (same id, or a prefix of at least 6 characters)."""
    return any(
        session_id == o or (len(o) >= 6 and session_id.startswith(o))
        or (len(session_id) >= 6 and o.startswith(session_id))
        for o in own
    )  # fmt: skip


def assess_with_changes(
    path: Path | str, policy: Policy, fmt: str | None = None
) -> list[tuple[Assessment, ChangeCollector]]:
    """Assess a trace with the detectors and a ChangeCollector per session (in fold order)."""
    from agentir.analysis.assess import assess_trace
    from agentir.analysis.detectors import default_observers

    collectors: list[ChangeCollector] = []

    def factory() -> list[Observer]:
        collector = ChangeCollector()
        collectors.append(collector)
        return [*default_observers(policy), collector]

    ta = assess_trace(path, fmt, factory)
    # folds are made in the order sessions first appear, which is the order of ta.sessions
    return list(zip(ta.sessions, collectors, strict=False))


def session_changes(a: Assessment, collector: ChangeCollector) -> SessionChanges:
    """The compact form of one assessed session that matching needs."""
    s = a.session
    sigs = [sig for f in a.findings if (sig := finding_sig(f)) is not None]
    return SessionChanges(
        session_id=s.id,
        trace_path=s.trace_path,
        agent=s.agent,
        cwd=s.cwd,
        started_at=s.started_at,
        findings=sigs,
        files={t.path: t.seqs or (t.first_seq,) for t in a.files if t.done},
        functions={(c.path, c.name): c.seq for c in collector.changed.values()},
    )


def search_file(
    path: Path, policy: Policy | None = None, pattern: IncidentPattern | None = None
) -> Outcome:
    """Compare every session of one file with the incident; failures become errors."""
    if _WORKER is not None:
        policy, pattern = policy or _WORKER[0], pattern or _WORKER[1]
    if pattern is None:
        raise ValueError("search_file needs the incident's pattern")
    policy = policy or Policy()
    try:
        pairs = assess_with_changes(path, policy)
    except UnknownFormatError as exc:
        if path.suffix.lower() in _TRACE_LIKE:
            return [], 0, 0, ScanError(str(path), exc.message, "unknown_format"), False
        return [], 0, 0, None, True
    except TraceError as exc:
        return [], 0, 0, ScanError(str(path), exc.message), False
    except Exception as exc:  # a reader or detector bug must not end the search
        error = ScanError(str(path), f"internal error: {type(exc).__name__}: {exc}", "internal")
        return [], 0, 0, error, False
    matches: list[Match] = []
    own = 0
    for a, collector in pairs:
        if is_own(a.session.id, pattern.sessions):
            own += 1
            continue
        found = match_session(pattern, session_changes(a, collector))
        if found is not None:
            matches.append(found)
    return matches, len(pairs) - own, own, None, False


def search_sessions(
    pattern: IncidentPattern,
    paths: Sequence[Path],
    *,
    since: datetime | None = None,
    jobs: int | None = None,
    policy: Policy | None = None,
    skip: Sequence[Path] = (),
    progress: Progress | None = None,
) -> SessionSearch:
    """Every trace under `paths` (but `skip`), compared with the incident in `jobs` processes."""
    started = time.perf_counter()
    policy = policy or Policy()
    files, errors = collect(paths, since)
    skipped = {p.resolve() for p in skip}
    files = [f for f in files if f.resolve() not in skipped and not _inside(f, skipped)]
    workers = max(1, min(jobs or available_cpus(), len(files) or 1))
    result = SessionSearch(errors=errors, files=len(files), jobs=workers)
    run_files(
        files, workers, search_file, _init_worker, (policy, pattern),
        crashed=lambda error: ([], 0, 0, error, False),
        add=lambda outcome: _add(result, outcome),
        progress=progress,
    )  # fmt: skip
    result.errors.sort(key=lambda e: e.path)
    result.seconds = time.perf_counter() - started
    return result


def _inside(path: Path, folders: set[Path]) -> bool:
    resolved = path.resolve()
    return any(folder in resolved.parents for folder in folders)


def _add(result: SessionSearch, outcome: Outcome) -> None:
    matches, sessions, own, error, not_trace = outcome
    result.matches.extend(matches)
    result.sessions += sessions
    result.own += own
    if error is not None:
        result.errors.append(error)
    if not_trace:
        result.not_traces += 1
