"""The skeleton of a line-oriented parser that reads a whole file or takes one record at a time.

A subclass turns one JSON object into events (`_record`); this class feeds it every line of
the file (`events`) or a single record from a live tail (`feed`), and skips and counts what
is not an object or does not have the shape the subclass expects.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from agentir.model import Event
from agentir.traces.base import ReadStats, iter_json_lines


class RecordParser(ABC):
    """One pass over one JSON-lines trace; `label` prefixes the skip reasons it counts."""

    label: ClassVar[str]

    def __init__(self, path: Path, stats: ReadStats, agent: str) -> None:
        self.path = path
        self.stats = stats
        self.agent = agent
        self.line = 0  # of the record being fed

    def events(self) -> Iterator[Event]:
        """Every event of the file, in order; bad records are counted, never raised."""
        for lineno, record in iter_json_lines(self.path, self.stats):
            yield from self.feed(record, lineno)

    def feed(self, record: Any, lineno: int) -> list[Event]:
        """The events of one parsed record (also for live tailing); never raises."""
        self.line = lineno
        if not isinstance(record, dict):
            self.stats.skip(f"{self.label}: line is not a JSON object")
            return []
        try:
            return list(self._record(record))
        except (TypeError, ValueError, KeyError, AttributeError):
            # a record of an unexpected shape must not end the read
            self.stats.skip(f"{self.label}: record of unexpected shape")
            return []

    @abstractmethod
    def _record(self, record: Mapping[str, Any]) -> Iterator[Event]:
        """The events of one JSON object."""
