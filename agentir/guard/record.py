"""What a kill-switch trigger leaves behind, for guard and watch alike: a line in the block
log, an incident (opened, or the session's open one joined) whose first entry after opening
is the finding, and the alert."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from agentir.guard.rules import Trigger
from agentir.model import Finding

TRIGGER_ACTION = "killswitch.triggered"


def finding_data(finding: Finding) -> dict[str, Any]:
    """A finding as plain data (for logs, the timeline and the alert payload)."""
    return {
        "detector": finding.detector,
        "severity": finding.severity,
        "message": finding.message,
        "seqs": list(finding.seqs),
        "data": {k: v for k, v in finding.data.items() if _plain(v)},
    }


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool, list, dict, tuple))


def log_block(entry: Mapping[str, Any], folder: Path | None = None) -> Path:
    """Append one decision to `$AGENTIR_HOME/guard/blocks.jsonl` (one write per line)."""
    from agentir.guard.state import guard_dir

    path = (folder or guard_dir()) / "blocks.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    line = orjson.dumps(
        {"at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), **entry},
        default=str,
    )
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line + b"\n")
    finally:
        os.close(fd)
    return path


def record_trigger(
    store: Any,
    trigger: Trigger,
    *,
    session_id: str | None,
    trace: str | None,
    source: str,
    action: str,
    details: Mapping[str, Any] | None = None,
    actor: str | None = None,
) -> tuple[str, bool]:
    """Open an incident for the session (or join its open one) and record the finding.

    Returns (incident id, opened). On a new incident the finding is the first entry after
    `incident.opened`.
    """
    from agentir.analysis.severity import finding_level

    finding = trigger.finding
    existing = store.find_open_for_session(session_id) if session_id else None
    if existing is not None:
        ref, opened = existing.id, False
        if trace and str(Path(trace).resolve()) not in existing.traces:
            store.attach(ref, traces=[trace], actor=actor)
    else:
        level = finding_level(finding) or "SEV2"  # a kill-switch finding is an incident
        title = f"Kill switch ({source}): {finding.detector} — {finding.message}"
        incident = store.open(
            title[:200],
            level,
            sessions=[session_id] if session_id else [],
            traces=[trace] if trace else [],
            actor=actor,
            reason=f"agentir {source} {action} the agent: {finding.message}"[:2000],
        )
        ref, opened = str(incident.id), True
    store.append(
        ref,
        TRIGGER_ACTION,
        {
            "source": source,
            "action": action,
            "trigger": trigger.trigger,
            "finding": finding_data(finding),
            "session": session_id,
            "trace": trace,
            **dict(details or {}),
        },
        actor,
    )
    return ref, opened


def trigger_alert(
    store: Any,
    ref: str | None,
    trigger: Trigger,
    *,
    source: str,
    action: str,
    session_id: str | None,
    trace: str | None,
    text: str,
    config: Any = None,
    actor: str | None = None,
    start: Path | None = None,
) -> list[Any]:
    """Send the configured alerts for a trigger and record the outcome on the incident."""
    from agentir.alerts import Alert, incident_summary, notify

    incident = incident_summary(store.get(ref)) if store is not None and ref else None
    alert = Alert(
        text,
        source,
        action,
        finding=finding_data(trigger.finding),
        incident=incident,
        session=session_id,
        trace=trace,
    )
    return notify(alert, config=config, store=store, incident_id=ref, actor=actor, start=start)
