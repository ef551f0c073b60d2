"""Scan many traces at once: find them, assess each in a worker process, rank the sessions.

One task per file; a worker returns compact per-session summaries (not whole assessments),
so what crosses the process boundary stays small. A file that cannot be read is an error
row, never the end of the scan.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

from agentir.errors import TraceError, UnknownFormatError
from agentir.model import Assessment, Finding
from agentir.policy import Policy

_SEV_ORDER = {"SEV1": 0, "SEV2": 1, "SEV3": 2, None: 3}
_FINDING_ORDER = {"critical": 3, "high": 2, "warning": 1, "info": 0}
_RISK_ORDER = {"critical": 3, "high": 2, "medium": 1, "low": 0}
_SINCE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_TRACE_LIKE = (".jsonl", ".traj", ".ndjson")  # unknown content here is a damaged trace

R = TypeVar("R")


@dataclass(frozen=True)
class SessionSummary:
    """What the scan table and JSON need about one session."""

    trace_path: str
    session_id: str
    agent: str
    format: str
    severity: str | None
    reasons: tuple[str, ...]
    findings: int  # warning and above
    by_severity: dict[str, int]
    top_finding: dict[str, Any] | None
    effects: int
    top_effects: tuple[str, ...]
    cost_usd: float | None
    tool_calls: int
    tool_errors: int
    files: int
    started_at: datetime | None
    ended_at: datetime | None
    cwd: str | None
    task: str | None


@dataclass(frozen=True)
class ScanError:
    """A file that could not be assessed, and why."""

    path: str
    error: str
    code: str = "unreadable_trace"


@dataclass
class ScanResult:
    """Every session found, ranked, and every file that failed."""

    sessions: list[SessionSummary] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    scanned_files: int = 0
    not_traces: int = 0
    roots: list[str] = field(default_factory=list)
    since: datetime | None = None
    jobs: int = 1
    seconds: float = 0.0


def default_roots(home: Path | None = None) -> list[Path]:
    """The agents' own log folders that exist on this machine."""
    home = home or Path.home()
    claude = Path(os.environ["CLAUDE_CONFIG_DIR"]) if os.environ.get("CLAUDE_CONFIG_DIR") else None
    codex = Path(os.environ["CODEX_HOME"]) if os.environ.get("CODEX_HOME") else home / ".codex"
    candidates = [
        (claude or home / ".claude") / "projects",
        home / ".config" / "claude" / "projects",
        codex / "sessions",
        home / ".gemini" / "tmp",
        home / ".openhands" / "sessions",
        home / ".openhands" / "conversations",
    ]
    return [p for p in dict.fromkeys(candidates) if p.is_dir()]


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`2d`, `12h`, `30m`, `1w` before now, or an ISO date / time (UTC when no zone)."""
    now = now or datetime.now(timezone.utc)
    match = _SINCE.match(text)
    if match:
        amount, unit = float(match.group(1)), match.group(2).lower()
        return now - timedelta(**{_UNITS[unit]: amount})
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def collect(
    paths: Sequence[Path], since: datetime | None = None
) -> tuple[list[Path], list[ScanError]]:
    """Every candidate trace under `paths` (modified at or after `since`), and missing paths."""
    from agentir.traces import detect, iter_trace_files

    found: dict[Path, None] = {}
    errors: list[ScanError] = []
    cutoff = since.timestamp() if since else None
    for root in paths:
        root = root.expanduser()
        if not root.exists():
            errors.append(ScanError(str(root), "no such file or directory", "not_found"))
            continue
        candidates: Iterable[Path]
        if root.is_dir():
            try:  # a per-event directory is itself one trace
                detect(root)
                candidates = [root]
            except TraceError:
                candidates = iter_trace_files(root)
        else:
            candidates = [root]
        for path in candidates:
            if cutoff is None or _mtime(path) >= cutoff:
                found.setdefault(path, None)
    return list(found), errors


def summarise(a: Assessment) -> SessionSummary:
    """The compact summary of one assessed session."""
    counts: dict[str, int] = {}
    for f in a.findings:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    top: Finding | None = max(
        a.findings,
        key=lambda f: (_FINDING_ORDER.get(f.severity, 0), -len(a.findings)),
        default=None,
    )
    effects = sorted(a.effects, key=lambda e: (-_RISK_ORDER.get(e.risk.value, 0), e.seq))
    s = a.session
    return SessionSummary(
        trace_path=s.trace_path,
        session_id=s.id,
        agent=s.agent,
        format=s.format,
        severity=a.severity.suggested,
        reasons=tuple(a.severity.reasons[:3]),
        findings=sum(n for sev, n in counts.items() if sev != "info"),
        by_severity=counts,
        top_finding=(
            {
                "detector": top.detector,
                "severity": top.severity,
                "message": top.message,
                "seqs": list(top.seqs[:10]),
            }
            if top is not None
            else None
        ),
        effects=len(a.effects),
        top_effects=tuple(f"{e.risk.value} {e.kind} {e.target}"[:120] for e in effects[:3]),
        cost_usd=a.usage.cost_usd,
        tool_calls=a.counts.tool_calls,
        tool_errors=a.counts.tool_errors,
        files=a.counts.files,
        started_at=s.started_at,
        ended_at=s.ended_at,
        cwd=s.cwd,
        task=(s.task[:200] if s.task else None),
    )


FileOutcome = tuple[list[SessionSummary], ScanError | None, bool]  # sessions, error, not a trace

_WORKER_POLICY: Policy | None = None


def _init_worker(policy: Policy) -> None:
    global _WORKER_POLICY
    _WORKER_POLICY = policy


def scan_file(path: Path, policy: Policy | None = None) -> FileOutcome:
    """Assess one file; every failure becomes an error, never an exception."""
    from agentir.analysis.assess import assess_trace
    from agentir.analysis.detectors import observer_factory

    policy = policy or _WORKER_POLICY or Policy()
    try:
        ta = assess_trace(path, None, observer_factory(policy))
    except UnknownFormatError as exc:
        if path.suffix.lower() in _TRACE_LIKE:
            return [], ScanError(str(path), exc.message, "unknown_format"), False
        return [], None, True
    except TraceError as exc:
        return [], ScanError(str(path), exc.message), False
    except Exception as exc:  # a reader or detector bug must not end the scan
        return (
            [],
            ScanError(str(path), f"internal error: {type(exc).__name__}: {exc}", "internal"),
            False,
        )
    if not ta.sessions:
        return [], ScanError(str(path), "no session events in this file", "empty_trace"), False
    return [summarise(a) for a in ta.sessions], None, False


def rank_key(s: SessionSummary) -> tuple[Any, ...]:
    """Most severe first, then most findings, effects and cost; ties in a stable order."""
    worst = max((_FINDING_ORDER.get(k, 0) for k in s.by_severity), default=-1)
    return (
        _SEV_ORDER.get(s.severity, 3),
        -worst,
        -s.findings,
        -s.effects,
        -(s.cost_usd or 0.0),
        s.trace_path,
        s.session_id,
    )


Progress = Callable[[int, int, str], None]


def scan(
    paths: Sequence[Path],
    *,
    since: datetime | None = None,
    jobs: int | None = None,
    policy: Policy | None = None,
    progress: Progress | None = None,
) -> ScanResult:
    """Find every trace under `paths`, assess them in `jobs` processes, rank the sessions."""
    started = time.perf_counter()
    policy = policy or Policy()
    files, errors = collect(paths, since)
    workers = max(1, min(jobs or available_cpus(), len(files) or 1))
    result = ScanResult(errors=errors, roots=[str(p) for p in paths], since=since, jobs=workers)
    run_files(
        files, workers, scan_file, _init_worker, (policy,),
        crashed=lambda error: ([], error, False),
        add=lambda outcome: _add(result, outcome),
        progress=progress,
    )  # fmt: skip
    result.scanned_files = len(files)
    result.sessions.sort(key=rank_key)
    result.errors.sort(key=lambda e: e.path)
    result.seconds = time.perf_counter() - started
    return result


def run_files(
    files: Sequence[Path],
    workers: int,
    task: Callable[..., R],
    init: Callable[..., None],
    initargs: tuple[Any, ...],
    *,
    crashed: Callable[[ScanError], R],
    add: Callable[[R], None],
    progress: Progress | None = None,
) -> None:
    """`task(path, *initargs)` for every file, here when `workers` is 1; else in a pool of
    processes that each run `init(*initargs)` once (the arguments cross over once) and then
    `task(path)` per file. `add` takes each outcome as it comes; `crashed` makes one of the
    error of a worker that died."""
    done = 0
    if workers == 1:
        for path in files:
            done += 1
            add(task(path, *initargs))
            if progress:
                progress(done, len(files), str(path))
        return
    _warm()  # forked workers inherit what the parent imported and loaded
    with ProcessPoolExecutor(workers, initializer=init, initargs=initargs) as pool:
        futures: dict[Future[R], Path] = {pool.submit(task, p): p for p in files}
        try:
            for future in as_completed(futures):
                done += 1
                path = futures[future]
                try:
                    outcome = future.result()
                except Exception as exc:  # the worker died (out of memory, killed): report, go on
                    message = f"worker failed: {type(exc).__name__}: {exc}"
                    outcome = crashed(ScanError(str(path), message, "internal"))
                add(outcome)
                if progress:
                    progress(done, len(files), str(path))
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _warm() -> None:
    """Import the readers and detectors and load the price table once, before forking."""
    from agentir.analysis import assess, detectors  # noqa: F401
    from agentir.analysis.cost import pricing
    from agentir.traces import readers

    readers()
    pricing()


def _add(result: ScanResult, outcome: FileOutcome) -> None:
    sessions, error, not_trace = outcome
    result.sessions.extend(sessions)
    if error is not None:
        result.errors.append(error)
    if not_trace:
        result.not_traces += 1


def available_cpus() -> int:
    """CPUs this process may use (the affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1
