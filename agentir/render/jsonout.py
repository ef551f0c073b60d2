"""The JSON envelope every `--json` command prints: one document on stdout, nothing else."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import orjson

SCHEMA_VERSION = 1


def to_jsonable(value: Any) -> Any:
    """Plain JSON values from dataclasses, enums, datetimes (ISO-8601 UTC), paths and tuples."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [to_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    return str(value)


def envelope(
    command: str,
    data: Any,
    *,
    exit_code: int = 0,
    errors: Sequence[Mapping[str, str]] | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """The documented envelope: schema, command, status, exit_code, data, errors."""
    return {
        "agentir_schema": SCHEMA_VERSION,
        "command": command,
        "status": status or ("ok" if exit_code in (0, 4) else "error"),
        "exit_code": exit_code,
        "data": to_jsonable(data),
        "errors": list(errors or []),
    }


def dumps(document: Any) -> str:
    """Serialise with stable key order, two-space indent, UTF-8 kept readable."""
    return orjson.dumps(
        to_jsonable(document), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
    ).decode()


def assessment_data(a: Any, *, curve: bool = False) -> dict[str, Any]:
    """The documented `assess` data for one session (keys pinned by a test)."""
    s = a.session
    data: dict[str, Any] = {
        "session": {
            "id": s.id,
            "agent": s.agent,
            "format": s.format,
            "trace_path": s.trace_path,
            "cwd": s.cwd,
            "git_branch": s.git_branch,
            "git_commit": s.git_commit,
            "repository_url": s.repository_url,
            "started_at": s.started_at,
            "ended_at": s.ended_at,
            "duration_seconds": s.duration_seconds,
            "models": list(s.models),
            "agent_version": s.agent_version,
            "task": s.task,
            "authorization": {
                "permission_mode": s.permission_mode,
                "sandbox": s.sandbox,
                "approval_policy": s.approval_policy,
                "network_access": s.network_access,
            },
            "snapshot_commits": list(s.snapshot_commits),
        },
        "counts": a.counts,
        "files": [
            {
                "path": f.path,
                "ops": f.ops,
                "via": f.via,
                "first_seq": f.first_seq,
                "seqs": f.seqs,
                "done": f.done,
                "inside_cwd": f.inside_cwd,
            }
            for f in a.files
        ],
        "commands": [
            {
                "command": c.command,
                "exit_code": c.exit_code,
                "seq": c.seq,
                "ok": c.ok,
                "tool": c.tool,
            }
            for c in a.commands
        ],
        "failures": a.failures,
        "usage": a.usage,
        "effects": [
            {
                "kind": e.kind,
                "target": e.target,
                "risk": e.risk,
                "seq": e.seq,
                "detail": e.detail,
                "source": e.source,
                "succeeded": e.succeeded,
                "count": e.count,
            }
            for e in a.effects
        ],
        "findings": [
            {
                "detector": f.detector,
                "severity": f.severity,
                "message": f.message,
                "seqs": f.seqs,
                "data": f.data,
            }
            for f in a.findings
        ],
        "severity": {"suggested": a.severity.suggested, "reasons": a.severity.reasons},
        "timeline": a.timeline,
        "omitted": a.omitted,
        "skip_reasons": a.skip_reasons,
        "commit_refs": a.commit_refs,
    }
    if curve:
        data["curve"] = a.curve
    out: dict[str, Any] = to_jsonable(data)
    return out
