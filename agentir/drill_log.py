"""The drill log (`$AGENTIR_HOME/drills/log.jsonl`) and what is overdue.

One JSON line per finished drill run, appended under a file lock: when, which scenario, how it
went (score, gaps) and where its report is. `drill_status` joins the log with the scenario
library: the last run of each scenario and of the kill-switch drill, and which are overdue
(never run, or last run longer ago than the cadence, 90 days unless agentir.yaml says otherwise).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from agentir.config import agentir_home

LOG_NAME = "log.jsonl"


def drills_dir(home: Path | None = None) -> Path:
    """`$AGENTIR_HOME/drills/`: the log and, by default, each run's report folder."""
    return (home or agentir_home()) / "drills"


def append_run(entry: Mapping[str, Any], home: Path | None = None) -> Path:
    """Add one finished run to the log (one line, written whole under a lock)."""
    from agentir.incidents.locking import file_lock

    folder = drills_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOG_NAME
    line = json.dumps(dict(entry), sort_keys=True, default=str) + "\n"
    with file_lock(folder / ".log.lock"):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
    return path


def read_log(home: Path | None = None) -> tuple[list[dict[str, Any]], int]:
    """Every readable entry of the log, oldest first, and how many lines were unreadable."""
    path = drills_dir(home) / LOG_NAME
    if not path.is_file():
        return [], 0
    entries: list[dict[str, Any]] = []
    bad = 0
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                bad += 1
                continue
            if isinstance(entry, dict) and isinstance(entry.get("scenario"), str) and _when(entry):
                entries.append(entry)
            else:
                bad += 1
    entries.sort(key=lambda e: _when(e) or datetime.min.replace(tzinfo=timezone.utc))
    return entries, bad


def _when(entry: Mapping[str, Any]) -> datetime | None:
    value = entry.get("finished_at") or entry.get("started_at")
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class ScenarioStatus:
    """One scenario's drill history."""

    id: str
    title: str
    severity: str
    kill_switch: bool
    runs: int
    last_run: datetime | None
    last_score: int | None
    last_gaps: int | None
    last_report: str | None
    days_since: int | None
    overdue: bool
    in_library: bool = True

    def to_data(self) -> dict[str, Any]:
        """Plain data for --json."""
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity,
            "kill_switch": self.kill_switch,
            "runs": self.runs,
            "last_run": self.last_run.isoformat(timespec="seconds").replace("+00:00", "Z")
            if self.last_run
            else None,
            "days_since": self.days_since,
            "overdue": self.overdue,
            "last_score": self.last_score,
            "last_gaps": self.last_gaps,
            "last_report": self.last_report,
            "in_library": self.in_library,
        }


def drill_status(
    library: Mapping[str, Any], entries: Iterable[Mapping[str, Any]], *, cadence_days: int,
    now: datetime | None = None,
) -> list[ScenarioStatus]:  # fmt: skip
    """Per scenario (the library's, then any logged one no longer in it): last run, overdue."""
    now = now or datetime.now(timezone.utc)
    latest: dict[str, Mapping[str, Any]] = {}
    counts: dict[str, int] = {}
    for entry in entries:
        sid = str(entry["scenario"])
        latest[sid] = entry
        counts[sid] = counts.get(sid, 0) + 1
    out: list[ScenarioStatus] = []
    ids = list(library) + [s for s in latest if s not in library]
    for sid in ids:
        scenario = library.get(sid)
        last = latest.get(sid)
        when = _when(last) if last else None
        days = (now - when).days if when else None
        out.append(
            ScenarioStatus(
                id=sid,
                title=scenario.title if scenario else str((last or {}).get("title", "")),
                severity=scenario.severity if scenario else str((last or {}).get("severity", "")),
                kill_switch=bool(
                    scenario.kill_switch if scenario else (last or {}).get("kill_switch")
                ),
                runs=counts.get(sid, 0),
                last_run=when,
                last_score=_int((last or {}).get("score")),
                last_gaps=_int((last or {}).get("gaps")),
                last_report=(last or {}).get("report"),
                days_since=days,
                overdue=scenario is not None
                and (when is None or now - when > timedelta(days=cadence_days)),
                in_library=scenario is not None,
            )
        )
    return out


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
