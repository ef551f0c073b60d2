"""The JSON envelope every `--json` command prints: one document on stdout, nothing else."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
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
    errors: list[Mapping[str, str]] | None = None,
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
