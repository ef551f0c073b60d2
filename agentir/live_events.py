"""Turn the new lines of a live trace into events, format by format.

Claude Code (`ClaudeCodeParser`), Codex rollouts (`RolloutParser`) and `codex exec --json`
(`ExecParser`) take one record at a time, so each new line costs one parse. Any other
format is read again from the start when the file has grown, and only the events beyond
those already seen are passed on (correct for every reader, at the price of a re-read per
change). The format is detected once the file has content, unless it was given.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentir.model import Event
from agentir.traces.base import ReadStats, loads

LINE_FORMATS = ("claude-code", "codex", "codex-exec")

MAX_UNDETECTED = 200
RecordHandler = Callable[[Any, int], list[Event]]


class LiveEvents:
    """Events from new lines of one trace file (see the module docstring)."""

    def __init__(self, path: Path, fmt: str | None = None) -> None:
        self.path = path
        self.format = fmt
        self.stats = ReadStats()
        self.handler: RecordHandler | None = None
        self.seen = 0  # events passed on so far (for formats re-read from the start)
        self.pending: list[tuple[int, bytes]] = []  # lines read before the format was known

    def detect(self) -> str | None:
        """The trace's format, once the file has enough content to tell (None: not yet)."""
        if self.format is None:
            from agentir.errors import TraceError
            from agentir.traces import detect

            try:
                self.format = detect(self.path).format
            except TraceError:
                return None  # empty, or not recognisable yet: try again on the next poll
        return self.format

    def reset(self) -> None:
        """The file was rotated or truncated: start a new parser (its numbering restarts)."""
        self.handler = None
        self.seen = 0
        self.pending = []

    def _handler(self) -> RecordHandler | None:
        if self.handler is None and self.format in LINE_FORMATS:
            if self.format == "claude-code":
                from agentir.traces.claude_code import ClaudeCodeParser

                self.handler = ClaudeCodeParser(self.path, self.stats).feed
            elif self.format == "codex":
                from agentir.traces.codex_rollout import RolloutParser

                self.handler = RolloutParser(self.path, self.stats).feed
            else:
                from agentir.traces.codex_exec import ExecParser

                self.handler = ExecParser(self.path, self.stats).feed
        return self.handler

    def feed(self, lines: list[tuple[int, bytes]]) -> list[Event]:
        """The events of new complete lines (re-reading formats ignore `lines` themselves).

        Lines that arrive before the format is known are held (up to MAX_UNDETECTED, then
        UnknownFormatError is raised: the file is not a trace agentir can follow).
        """
        self.pending.extend(lines)
        if self.detect() is None:
            if len(self.pending) > MAX_UNDETECTED:
                from agentir.errors import UnknownFormatError

                raise UnknownFormatError(
                    f"{self.path} is not a trace format agentir knows",
                    hint="force one with --format",
                )
            return []
        lines, self.pending = self.pending, []
        handler = self._handler()
        if handler is None:
            return self._reread() if lines else []
        out: list[Event] = []
        for lineno, raw in lines:
            self.stats.records += 1
            try:
                record = loads(raw)
            except ValueError:
                self.stats.malformed += 1
                continue
            out.extend(handler(record, lineno))
        return out

    def _reread(self) -> list[Event]:
        from agentir.traces import detect

        stats = ReadStats()
        reader = detect(self.path, self.format)
        try:
            events = list(reader().read(self.path, stats))
        except Exception:  # a document still being written: wait for the next change
            return []
        new = events[self.seen :]
        self.seen = len(events)
        self.stats = stats
        return new
