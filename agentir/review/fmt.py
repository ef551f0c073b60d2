"""Small formatters for the review context: times, durations, money, and machine paths shown
relative to aliases (so a review, and its golden file, does not depend on where files live)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

from agentir.analysis.text import clean
from agentir.incidents.records import format_duration


def when(value: datetime | None) -> str | None:
    """`2025-09-07 10:01:37 UTC`, or None."""
    if value is None:
        return None
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso(value: datetime | None) -> str | None:
    """ISO-8601 UTC with a Z, to the second, or None."""
    if value is None:
        return None
    moment = value.astimezone(timezone.utc).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def duration(seconds: float | None) -> str | None:
    """`2d 3h`, `1h 05m`, `4m 10s`, or None."""
    if seconds is None:
        return None
    return format_duration(timedelta(seconds=round(seconds)))


def between(start: datetime | None, end: datetime | None) -> float | None:
    """Seconds from start to end, None when either is unknown."""
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


def money(value: float | None) -> str:
    """`$1.23` (more digits under a cent), or `unknown`."""
    if value is None:
        return "unknown"
    return f"${value:,.2f}" if value >= 0.01 or value == 0 else f"${value:.4f}"


def tokens(value: int | None) -> str:
    """`68.5k`, `1.2M`, `950`."""
    if value is None:
        return "?"
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if value >= 1_000:
        return f"{value / 1_000:.1f}k"
    return str(value)


def text(value: object, limit: int = 500) -> str:
    """Untrusted text for the context: redacted, control characters removed, bounded."""
    return clean(str("" if value is None else value), limit)


class Display:
    """Shows machine paths through aliases: the longest matching prefix is replaced."""

    def __init__(self, aliases: Mapping[str, str] | None = None) -> None:
        pairs = [(str(k).rstrip("/"), v) for k, v in (aliases or {}).items() if str(k).strip("/")]
        self._aliases = sorted(pairs, key=lambda kv: -len(kv[0]))

    def path(self, value: str | None) -> str | None:
        """A path (or `path:line` citation) with its machine-specific prefix replaced."""
        if value is None:
            return None
        for prefix, alias in self._aliases:
            if value == prefix or value.startswith(prefix + "/") or value.startswith(prefix + ":"):
                return alias + value[len(prefix) :]
        return value

    def within(self, value: str) -> str:
        """Text that may mention machine paths anywhere (timeline details)."""
        for prefix, alias in self._aliases:
            value = value.replace(prefix, alias)
        return value
