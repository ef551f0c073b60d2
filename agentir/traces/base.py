"""What every reader shares: the reader interface, read statistics, line iteration and helpers.

Readers stream: they read line by line (or one JSON document for document formats), keep
only bounded state, skip and count what they do not understand, and never raise on a bad
record. A truncated last line (the agent was killed mid-write) is expected and counted.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import orjson

from agentir.model import Event, Source

MAX_LINE_BYTES = 64 * 1024 * 1024  # a longer line is skipped and counted, never loaded
HEAD_BYTES = 64 * 1024
OUTPUT_EXCERPT_CHARS = 2000

E = TypeVar("E", bound=Event)


@dataclass
class ReadStats:
    """What a reader saw but could not use; reported as `counts.skipped_records`."""

    records: int = 0  # raw records read (lines or document items)
    skipped: int = 0  # records of unknown type or shape
    malformed: int = 0  # lines that are not valid JSON
    oversized: int = 0  # lines longer than MAX_LINE_BYTES
    truncated_tail: bool = False  # the last line was cut off mid-write
    reasons: Counter[str] = field(default_factory=Counter)

    def skip(self, reason: str) -> None:
        """Count one skipped record and why."""
        self.skipped += 1
        self.reasons[reason] += 1

    @property
    def total_skipped(self) -> int:
        """Every record not turned into events, whatever the reason."""
        return self.skipped + self.malformed + self.oversized + int(self.truncated_tail)


@dataclass
class Probe:
    """The start of a file, for content-based format detection."""

    path: Path
    head: bytes  # first HEAD_BYTES bytes
    first_record: Any  # first non-blank line parsed as JSON, or None

    @property
    def head_text(self) -> str:
        """The head decoded leniently."""
        return self.head.decode("utf-8", errors="replace")


class TraceReader(ABC):
    """One trace format. Subclasses set `format` and `agent` and implement sniff and read."""

    format: ClassVar[str]
    agent: ClassVar[str]
    # Lower runs first in detection; specific formats before generic ones.
    priority: ClassVar[int] = 50
    # True when the format is one directory (one event per file) rather than a file.
    directory: ClassVar[bool] = False

    @classmethod
    @abstractmethod
    def sniff(cls, probe: Probe) -> bool:
        """True when the probed content is this format."""

    @abstractmethod
    def read(self, path: Path, stats: ReadStats) -> Iterator[Event]:
        """Yield the events of every session in `path`, in trace order."""

    @classmethod
    def read_with_another(cls, path: Path) -> bool:
        """True when `path` is read as part of another trace file (directory walks skip it)."""
        return False


class Emitter:
    """Builds events for one session with consecutive `seq` numbers and a shared source path."""

    def __init__(self, path: Path | str, agent: str, session_id: str) -> None:
        self.path = str(path)
        self.agent = agent
        self.session_id = session_id
        self.next_seq = 0

    def make(
        self,
        cls: type[E],
        *,
        ts: datetime | None,
        line: int | None = None,
        pointer: str | None = None,
        sidechain: str | None = None,
        **fields: Any,
    ) -> E:
        """Create the next event of this session."""
        event = cls(
            seq=self.next_seq,
            ts=ts,
            source=Source(self.path, line, pointer),
            session_id=self.session_id,
            agent=self.agent,
            sidechain=sidechain,
            **fields,
        )
        self.next_seq += 1
        return event


# --------------------------------------------------------------------------- line iteration


def iter_raw_lines(path: Path, stats: ReadStats) -> Iterator[tuple[int, bytes]]:
    """Yield (line number, raw bytes with their line end) for every line, blank ones too.

    Lines longer than MAX_LINE_BYTES are skipped (counted) without being held in memory.
    """
    with path.open("rb") as fh:
        lineno = 0
        while True:
            raw = fh.readline(MAX_LINE_BYTES)
            if not raw:
                return
            lineno += 1
            if len(raw) == MAX_LINE_BYTES and not raw.endswith(b"\n"):
                stats.oversized += 1
                stats.reasons["line too long"] += 1
                while True:  # drain the rest of the oversized line
                    more = fh.readline(MAX_LINE_BYTES)
                    if not more or more.endswith(b"\n"):
                        break
                continue
            yield lineno, raw


def iter_lines(path: Path, stats: ReadStats) -> Iterator[tuple[int, bytes, bool]]:
    """Yield (line number, raw bytes, is_last_without_newline) for each non-blank line.

    Lines longer than MAX_LINE_BYTES are skipped (counted) without being held in memory.
    """
    for lineno, raw in iter_raw_lines(path, stats):
        stripped = raw.strip()
        if stripped:
            yield lineno, stripped, not raw.endswith(b"\n")


def loads(raw: bytes | str) -> Any:
    """Parse JSON; tolerate invalid UTF-8 by replacing bad bytes. Raises ValueError."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        if isinstance(raw, bytes):
            text = raw.decode("utf-8", errors="replace")
            return orjson.loads(text)
        raise


def iter_json_lines(path: Path, stats: ReadStats) -> Iterator[tuple[int, Any]]:
    """Yield (line number, parsed JSON) per line; bad lines are counted, a cut last line noted."""
    for lineno, raw, unterminated in iter_lines(path, stats):
        stats.records += 1
        try:
            value = loads(raw)
        except ValueError:
            if unterminated:
                stats.truncated_tail = True
                stats.reasons["truncated last line"] += 1
            else:
                stats.malformed += 1
                stats.reasons["malformed JSON line"] += 1
            continue
        yield lineno, value


# --------------------------------------------------------------------------- value helpers


_TS_FRACTION = re.compile(r"\.(\d+)")


def parse_ts(value: Any, *, naive_is_utc: bool = True) -> datetime | None:
    """Parse an ISO-8601 string or epoch number (s, ms, µs or ns) to an aware UTC datetime."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, (int, float)):
            number = float(value)
            for scale in (1.0, 1e3, 1e6, 1e9):  # seconds, ms, µs, ns
                if number / scale < 1e11:
                    return datetime.fromtimestamp(number / scale, tz=timezone.utc)
            return None
        if not isinstance(value, str) or not value or not value[0].isdigit():
            return None
        text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
        if " " in text and "T" not in text:
            text = text.replace(" ", "T", 1)
        # fromisoformat on 3.10 accepts at most 6 fractional digits
        text = _TS_FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
        parsed = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        return None
    if parsed.tzinfo is None:
        if not naive_is_utc:
            return None
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def as_int(value: Any) -> int:
    """An int from a JSON number or numeric string; 0 for anything else."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value))
        except ValueError:
            return 0
    return 0


def opt_int(value: Any) -> int | None:
    """Like as_int, but None when the value is absent or not numeric."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value.strip()))
        except ValueError:
            return None
    return None


def opt_float(value: Any) -> float | None:
    """A JSON number as a float; None for anything else (booleans and numeric strings too)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def as_dict(value: Any) -> Mapping[str, Any]:
    """The value if it is a JSON object, else an empty mapping."""
    return value if isinstance(value, dict) else {}


def as_str(value: Any) -> str:
    """A string for any JSON value (objects and lists serialised)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return str(value)


def excerpt(text: str, limit: int = OUTPUT_EXCERPT_CHARS) -> str:
    """Head and tail of a long text, with a marker saying how much was cut.

    Lines of the cut middle that hold a credential are kept (a few, shortened around the
    secret), so a key printed in the middle of a long `cat .env` is still found and
    reported; every output redacts it later.
    """
    if len(text) <= limit:
        return text
    half = limit // 2
    middle = text[half:-half]
    kept = _credential_lines(middle)
    if kept:
        note = (
            f"\n…[{len(middle)} characters cut; lines with credentials kept:]\n"
            + "\n".join(kept)
            + "\n…\n"
        )
    else:
        note = f"\n…[{len(middle)} characters cut]…\n"
    return f"{text[:half]}{note}{text[-half:]}"


def _credential_lines(text: str, most: int = 10, width: int = 400) -> list[str]:
    from agentir.analysis.secrets import find_secrets

    lines: list[str] = []
    for hit in find_secrets(text)[:most]:
        start = max(text.rfind("\n", 0, hit.start) + 1, hit.start - width // 2)
        end = text.find("\n", hit.end)
        end = min(len(text) if end < 0 else end, hit.end + width // 2)
        lines.append(text[start:end])
    return lines


def digest(text: str) -> str:
    """A short stable hash of a text (tells changing output from repeated output)."""
    return hashlib.blake2b(text.encode("utf-8", errors="replace"), digest_size=8).hexdigest()


def json_args(value: Any) -> Mapping[str, Any]:
    """Tool arguments given as an object or as a JSON string; {"raw": s} when not JSON."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                parsed = orjson.loads(text)
            except orjson.JSONDecodeError:
                return {"raw": value}
            if isinstance(parsed, dict):
                return parsed
        return {"raw": value} if value else {}
    if value is None:
        return {}
    return {"value": value}


def file_size(path: Path) -> int:
    """Size in bytes, 0 when it cannot be read."""
    try:
        return path.stat().st_size
    except OSError:
        return 0
