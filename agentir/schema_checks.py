"""What the runbook, scenario and answers checkers share: errors with file, line and key path.

The checkers work on a parsed `YamlDoc` (plain data plus the line of each key), so this module
needs no YAML library; `agentir.runbooks` and `agentir.drills` do the parsing.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from agentir.config import YamlDoc
from agentir.errors import ConfigError

_DURATION = re.compile(r"^(?:(\d+)([smhdw]))+$")
_DURATION_PART = re.compile(r"(\d+)([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class SchemaError:
    """One problem in a runbook, scenario or answers file."""

    file: str
    line: int
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """' (did you mean X?)' when a close known name exists."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def describe(value: Any) -> str:
    """A short description of a YAML value for "expected X, got Y" messages."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"text {value!r}" if value else "empty text"
    return f"{type(value).__name__} {value!r}"


def parse_duration(text: str) -> timedelta:
    """'15m', '1h', '48h', '2d', '1h30m' -> timedelta; ValueError for anything else."""
    value = str(text).strip()
    if not _DURATION.match(value):
        raise ValueError(f"{text!r} is not a duration (use 15m, 1h, 2d)")
    seconds = sum(int(n) * _UNITS[unit] for n, unit in _DURATION_PART.findall(value))
    return timedelta(seconds=seconds)


def invalid_yaml(path: Path, exc: ConfigError) -> SchemaError:
    """The error of a file `load_yaml` could not parse, at the line the parser stopped."""
    cause = exc.__cause__
    mark = getattr(cause, "problem_mark", None)
    line = mark.line + 1 if mark is not None else 1
    problem = getattr(cause, "problem", None) or exc.message
    context, start = getattr(cause, "context", None), getattr(cause, "context_mark", None)
    if context and start is not None and start.line + 1 != line:
        problem += f" ({context} started on line {start.line + 1})"
    return SchemaError(str(path), line, "", f"invalid YAML: {problem}")


class SchemaChecker:
    """Collects the errors of one document; the checks every schema uses."""

    # Runbooks accept an optional text left blank (`description: ""`); scenarios do not.
    blank_optional_text: ClassVar[bool] = False

    def __init__(self, doc: YamlDoc) -> None:
        self.doc = doc
        self.errors: list[SchemaError] = []

    def err(self, path: KeyPath, message: str) -> None:
        """Record an error at the line of `path` (or of its nearest known parent)."""
        line = self.doc.line_of(*path) or 1
        dotted = ".".join(str(k) for k in path)
        self.errors.append(SchemaError(str(self.doc.path), line, dotted, message))

    def mapping(self, value: Any, path: KeyPath, allowed: Iterable[str]) -> dict[str, Any] | None:
        """`value` when it is a mapping (its unknown keys reported), else None."""
        if not isinstance(value, dict):
            self.err(path, f"expected a mapping, got {describe(value)}")
            return None
        allowed = tuple(allowed)
        for key in value:
            if str(key) not in allowed:
                tip = did_you_mean(str(key), allowed)
                self.err((*path, str(key)), f"unknown key{tip}; allowed: {', '.join(allowed)}")
        return value

    def text(
        self, data: Mapping[str, Any], key: str, path: KeyPath, *, required: bool
    ) -> str | None:
        """The text under `key`, or None (reported when required, or not text)."""
        if key not in data or data[key] is None:
            if required:
                self.err(path, f"missing required key {key!r}")
            return None
        value = data[key]
        blank = isinstance(value, str) and not value.strip()
        if not isinstance(value, str) or (blank and (required or not self.blank_optional_text)):
            self.err((*path, key), f"expected non-empty text, got {describe(value)}")
            return None
        return value

    def flag(self, data: Mapping[str, Any], key: str, path: KeyPath) -> bool:
        """The true / false under `key` (false when absent or not a boolean)."""
        value = data.get(key, False)
        if not isinstance(value, bool):
            self.err((*path, key), f"expected true or false, got {describe(value)}")
            return False
        return value
