"""Validate a parsed policy mapping against the schema and build a `Policy` from it.

Every problem is recorded (never the first one only): unknown keys (with a suggestion),
wrong types, numbers out of range, globs and regexes that do not compile. Lists replace the
shipped list at their place; the entry `"@defaults"` inside a list stands for the shipped one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from agentir import policy as pol
from agentir.schema_checks import did_you_mean

Keys = tuple[str | int, ...]
Check = Callable[[Any, Keys, Any, Any], Any]  # (value, keys, where, default) -> value


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _int(minimum: int, *, nullable: bool = False) -> Check:
    def check(value: Any, keys: Keys, where: Any, default: Any) -> Any:
        if value is None and nullable:
            return None
        if not _is_int(value):
            where.error(keys, f"must be a whole number, got {value!r}")
            return default
        if value < minimum:
            where.error(keys, f"must be at least {minimum}, got {value}")
            return default
        return value

    return check


def _num(
    minimum: float, *, above: bool = False, maximum: float | None = None, nullable: bool = False
) -> Check:
    def check(value: Any, keys: Keys, where: Any, default: Any) -> Any:
        if value is None and nullable:
            return None
        if not _is_num(value):
            where.error(keys, f"must be a number, got {value!r}")
            return default
        low_ok = value > minimum if above else value >= minimum
        if not low_ok:
            where.error(keys, f"must be {'above' if above else 'at least'} {minimum}, got {value}")
            return default
        if maximum is not None and value > maximum:
            where.error(keys, f"must be at most {maximum}, got {value}")
            return default
        return float(value)

    return check


def _bool(value: Any, keys: Keys, where: Any, default: Any) -> Any:
    if not isinstance(value, bool):
        where.error(keys, f"must be true or false, got {value!r}")
        return default
    return value


def _items(
    value: Any, keys: Keys, where: Any, shipped: tuple[Any, ...]
) -> list[tuple[Keys, Any]] | None:
    """The entries of a list with their key paths; `@defaults` expands to `shipped`."""
    if not isinstance(value, list):
        where.error(keys, f"must be a list, got {type(value).__name__}")
        return None
    out: list[tuple[Keys, Any]] = []
    for i, item in enumerate(value):
        if item == pol.DEFAULTS_TOKEN:
            out.extend(((*keys, i), s) for s in shipped)
        else:
            out.append(((*keys, i), item))
    return out


def _names(shipped: tuple[str, ...]) -> Check:
    def check(value: Any, keys: Keys, where: Any, default: Any) -> Any:
        items = _items(value, keys, where, shipped)
        if items is None:
            return default
        good: list[str] = []
        for k, item in items:
            if not isinstance(item, str) or not item.strip():
                where.error(k, f"must be a non-empty string, got {item!r}")
            else:
                good.append(item.strip())
        return tuple(good)

    return check


def _globs(shipped: tuple[str, ...]) -> Check:
    def check(value: Any, keys: Keys, where: Any, default: Any) -> Any:
        items = _items(value, keys, where, shipped)
        if items is None:
            return default
        good: list[pol.PathPattern] = []
        for k, item in items:
            if not isinstance(item, str):
                where.error(k, f"must be a path glob (a string), got {item!r}")
                continue
            try:
                good.append(pol.compile_path(item))
            except (ValueError, re.error) as exc:
                where.error(k, f"bad path glob {item!r}: {exc}")
        return tuple(good)

    return check


def _rules(value: Any, keys: Keys, where: Any, default: Any) -> Any:
    shipped = tuple({"pattern": p, "reason": r} for p, r in pol.DEFAULT_FORBIDDEN_COMMANDS)
    items = _items(value, keys, where, shipped)
    if items is None:
        return default
    good: list[pol.CommandRule] = []
    for k, item in items:
        reason = "matches a forbidden command pattern"
        if isinstance(item, Mapping):
            extra = sorted(set(item) - {"pattern", "reason"})
            for name in extra:
                where.error((*k, name), f"unknown key {name!r} (use pattern and reason)")
            pattern = item.get("pattern")
            if isinstance(item.get("reason"), str) and item["reason"].strip():
                reason = item["reason"].strip()
            elif "reason" in item:
                where.error((*k, "reason"), "must be a non-empty string")
        else:
            pattern = item
        if not isinstance(pattern, str) or not pattern:
            where.error(k, f"must be a regex string or {{pattern, reason}}, got {pattern!r}")
            continue
        try:
            good.append(pol.CommandRule(pattern, reason, re.compile(pattern)))
        except re.error as exc:
            where.error(k, f"bad regex {pattern!r}: {exc}")
    return tuple(good)


def _pair(value: Any, keys: Keys, where: Any, default: Any) -> Any:
    ok = isinstance(value, list) and len(value) == 2 and all(_is_int(v) for v in value)
    if not ok:
        where.error(keys, f"must be [failures, calls], two whole numbers, got {value!r}")
        return default
    k, n = value
    if k < 1 or n < k:
        where.error(keys, f"needs 1 <= failures <= calls, got {value!r}")
        return default
    return (k, n)


def _triggers(value: Any, keys: Keys, where: Any, default: Any) -> Any:
    items = _items(value, keys, where, pol.KillSwitch().triggers)
    if items is None:
        return default
    good: list[str] = []
    for k, item in items:
        if item not in pol.KILL_SWITCH_TRIGGERS:
            hint = did_you_mean(str(item), list(pol.KILL_SWITCH_TRIGGERS))
            known = ", ".join(pol.KILL_SWITCH_TRIGGERS)
            where.error(k, f"unknown trigger {item!r}{hint} (one of: {known})")
        elif item not in good:
            good.append(item)
    return tuple(good)


def _severity(value: Any, keys: Keys, where: Any, default: Any) -> Any:
    if value not in pol.SEVERITY_LEVELS:
        where.error(keys, f"must be one of {', '.join(pol.SEVERITY_LEVELS)}, got {value!r}")
        return default
    return value


def _levels(value: Any, keys: Keys, where: Any, default: Any) -> Any:
    if not isinstance(value, Mapping):
        where.error(keys, f"must be a mapping of trigger to severity, got {value!r}")
        return default
    good: list[tuple[str, str]] = []
    for name, level in value.items():
        if name not in pol.KILL_SWITCH_TRIGGERS:
            hint = did_you_mean(str(name), list(pol.KILL_SWITCH_TRIGGERS))
            where.error((*keys, str(name)), f"unknown trigger{hint}")
        elif _severity(level, (*keys, name), where, None) is not None:
            good.append((name, level))
    return tuple(good)


_SCHEMA: dict[str, dict[str, Check]] = {
    "budget": {"usd": _num(0, nullable=True), "tokens": _int(0, nullable=True)},
    "paths": {
        "allowed_write": _globs(pol.DEFAULT_ALLOWED_WRITE),
        "forbidden": _globs(pol.DEFAULT_FORBIDDEN_PATHS),
        "sensitive": _globs(pol.DEFAULT_SENSITIVE_PATHS),
        "task_scope": _bool,
    },
    "tools": {"allowed": _names(()), "forbidden": _names(())},
    "commands": {"forbidden": _rules},
    "network": {"allowed_hosts": _names(pol.DEFAULT_ALLOWED_HOSTS), "include_reads": _bool},
    "authorization": {"risky_modes": _names(pol.DEFAULT_RISKY_MODES)},
    "loops": {
        "identical_calls": _int(1),
        "same_error": _int(1),
        "alternating_window": _int(4),
        "messages_without_tools": _int(1),
        "failures_consecutive": _int(1),
        "failures_window": _pair,
        "polling_calls": _int(1),
        "stuck_factor": _int(1),
    },
    "cost_spiral": {"window": _int(2), "factor": _num(1, above=True), "min_usd": _num(0)},
    "context": {
        "growth_window": _int(2),
        "growth_tokens_per_call": _int(1),
        "compactions_warning": _int(1),
        "near_limit": _num(0, above=True, maximum=1),
    },
    "kill_switch": {
        "triggers": _triggers,
        "min_severity": _severity,
        "levels": _levels,
        "budget_lookahead": _bool,
        "open_incident": _bool,
        "alert_on_block": _bool,
    },
}


def build(base: pol.Policy, data: Any, where: Any) -> pol.Policy:
    """`base` with every valid value of `data` applied; errors go to `where.error`."""
    if data is None:
        return base
    if not isinstance(data, Mapping):
        where.error((), f"the policy must be a mapping of sections, got {type(data).__name__}")
        return base
    changes: dict[str, Any] = {}
    for name, value in data.items():
        spec = _SCHEMA.get(name) if isinstance(name, str) else None
        if spec is None:
            where.error((str(name),), f"unknown section{did_you_mean(str(name), list(_SCHEMA))}")
            continue
        if value is None:
            continue
        if not isinstance(value, Mapping):
            where.error((name,), f"must be a mapping, got {type(value).__name__}")
            continue
        section = getattr(base, name)
        updates: dict[str, Any] = {}
        for key, item in value.items():
            check = spec.get(key) if isinstance(key, str) else None
            if check is None:
                hint = did_you_mean(str(key), list(spec))
                where.error((name, str(key)), f"unknown key{hint}")
                continue
            updates[key] = check(item, (name, key), where, getattr(section, key))
        changes[name] = replace(section, **updates)
    return replace(base, **changes)
