"""OpenAI Codex CLI traces: rollout JSONL (current and legacy layouts) and `codex exec --json`.

The readers only detect the formats; `codex_rollout` and `codex_exec` turn records into events.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from agentir.model import Event
from agentir.traces.base import Probe, ReadStats, TraceReader
from agentir.traces.codex_exec import ExecParser
from agentir.traces.codex_rollout import ROLLOUT_TYPES, RolloutParser

_ENVELOPE_HEAD = re.compile(
    rb'^\{"timestamp":"[^"]*","type":"(?:session_meta|turn_context)","payload":\{'
)
_LEGACY_HEADER_KEYS = ("instructions", "git", "cli_version", "originator")
# keys of other formats' first records that a legacy Codex header never has
_NOT_LEGACY_KEYS = ("type", "payload", "sessionId", "action", "observation", "source", "kind")


def _is_legacy_header(record: Mapping[str, Any], head: bytes) -> bool:
    if any(key in record for key in _NOT_LEGACY_KEYS):
        return False
    if not (isinstance(record.get("id"), str) and isinstance(record.get("timestamp"), str)):
        return False
    return any(key in record for key in _LEGACY_HEADER_KEYS) or b'"record_type"' in head


class CodexReader(TraceReader):
    """Codex CLI rollout JSONL, current `{timestamp,type,payload}` lines or the legacy bare layout."""

    format: ClassVar[str] = "codex"
    agent: ClassVar[str] = "codex"
    priority: ClassVar[int] = 12

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        """Line 1 is a RolloutLine envelope, or a legacy bare session header."""
        record = probe.first_record
        if record is None:
            # line 1 itself cut or corrupt: the envelope is still plain in the head
            return bool(_ENVELOPE_HEAD.search(probe.head))
        if not isinstance(record, dict):
            return False
        if record.get("type") in ROLLOUT_TYPES and isinstance(record.get("payload"), dict):
            return True
        return _is_legacy_header(record, probe.head)

    def read(self, path: Path, stats: ReadStats) -> Iterator[Event]:
        """Yield the rollout's events in file order."""
        return RolloutParser(path, stats, self.agent).events()


class CodexExecReader(TraceReader):
    """`codex exec --json` stdout: thread / turn / item events, as captured in CI logs."""

    format: ClassVar[str] = "codex-exec"
    agent: ClassVar[str] = "codex"
    priority: ClassVar[int] = 13

    @classmethod
    def sniff(cls, probe: Probe) -> bool:
        """Line 1 is `{"type":"thread.started",...}`."""
        record = probe.first_record
        return isinstance(record, dict) and record.get("type") == "thread.started"

    def read(self, path: Path, stats: ReadStats) -> Iterator[Event]:
        """Yield the events of the exec run in order (the format has no timestamps)."""
        return ExecParser(path, stats, self.agent).events()
