"""Whole-document JSON formats: load with a size cap, salvage a cut-off document, sniff cheaply.

SWE-agent `.traj`, mini-swe-agent `.traj.json`, OpenHands trajectories, OTLP/JSON, Langfuse
exports and legacy Gemini sessions are one JSON value per file, rewritten by the agent as it
goes. A kill mid-write leaves a document whose end is missing; `load_document` then keeps
every element that was complete (and says so in the read statistics) rather than refusing
the whole trace: an empty assessment of an incident trace would be worse than an error.
"""

from __future__ import annotations

import re
from collections import deque
from pathlib import Path
from typing import Any

import orjson

from agentir.errors import TraceError
from agentir.traces.base import HEAD_BYTES, Probe, ReadStats, file_size, loads

MAX_DOCUMENT_BYTES = 512 * 1024 * 1024
SNIFF_PARSE_BYTES = 8 * 1024 * 1024  # sniffers parse whole documents up to this size
_SALVAGE_DEPTH = 3  # cut points are kept only at element boundaries this shallow
_SALVAGE_TRIES = 8

# A whole JSON string (escapes included), a bracket, or a lone quote (an unterminated string).
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[{}\[\]]|"', re.DOTALL)
_CLOSER = {ord("{"): b"}", ord("["): b"]"}


def load_document(
    path: Path, stats: ReadStats, what: str, *, max_depth: int | None = _SALVAGE_DEPTH
) -> Any:
    """Parse a whole-file JSON trace; salvage a truncated one; TraceError when unusable.

    `max_depth` bounds where a salvage may cut (a trajectory step sits at depth 1-3; OTLP
    spans sit six levels down, so span formats pass None: any depth).
    """
    size = file_size(path)
    if size > MAX_DOCUMENT_BYTES:
        raise TraceError(
            f"{path} is {size / 2**20:,.0f} MB; a {what} is read whole and agentir refuses "
            f"files over {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB",
            hint="extract the part you need first (e.g. with jq) or pass a smaller trace",
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TraceError(f"cannot read {path}: {exc.strerror or exc}") from exc
    stats.records += 1
    try:
        return loads(raw)
    except ValueError:
        pass
    salvaged = salvage_truncated(raw, max_depth)
    if salvaged is None:
        raise TraceError(
            f"{path} is not valid JSON and cannot be salvaged as a cut-off {what}",
            hint="check that this is the agent's own file, not a partial copy or another format",
        )
    stats.truncated_tail = True
    stats.reasons[f"truncated JSON document (kept {salvaged[1]:,} of {len(raw):,} bytes)"] += 1
    return salvaged[0]


def salvage_truncated(raw: bytes, max_depth: int | None = _SALVAGE_DEPTH) -> tuple[Any, int] | None:
    """The longest parseable prefix of a cut-off JSON document, closed, and its length.

    Only a document whose end is missing (containers still open at end of file) is
    salvaged; a document that is malformed elsewhere returns None. The cut is made right
    after the last complete element at a shallow depth (a trajectory step, an event).
    """
    stack = bytearray()
    cuts: deque[tuple[int, bytes]] = deque(maxlen=_SALVAGE_TRIES)
    for match in _TOKEN.finditer(raw):
        token = match.group()
        if token == b'"':
            break  # an unterminated string runs to the end of the file
        if token in (b"{", b"["):
            stack.append(token[0])
        elif token in (b"}", b"]"):
            if not stack:
                return None
            opener = stack.pop()
            if _CLOSER[opener] != token:
                return None
            if len(stack) >= 1 and (max_depth is None or len(stack) <= max_depth):
                closing = b"".join(_CLOSER[c] for c in reversed(stack))
                cuts.append((match.end(), closing))
    if not stack:
        return None  # nothing was left open: the document is broken, not cut off
    for end, closing in reversed(cuts):
        try:
            return orjson.loads(raw[:end] + closing), end
        except orjson.JSONDecodeError:
            continue
    return None


def sniff_document(probe: Probe) -> Any:
    """The probed file as one parsed JSON value for content checks, or None.

    Uses the first line when it is a whole JSON value, else parses the file when it is
    small (salvaging a cut-off end, so a truncated trace is still recognised).
    """
    if probe.first_record is not None:
        return probe.first_record
    if len(probe.head) < HEAD_BYTES:
        raw = probe.head
    elif file_size(probe.path) <= SNIFF_PARSE_BYTES:
        try:
            raw = probe.path.read_bytes()
        except OSError:
            return None
    else:
        return None
    try:
        return loads(raw)
    except ValueError:
        salvaged = salvage_truncated(raw)
        return salvaged[0] if salvaged else None


def head_starts_with(probe: Probe, char: str) -> bool:
    """True when the first non-blank character of the file is `char`."""
    text = probe.head.lstrip()
    if text.startswith(b"\xef\xbb\xbf"):
        text = text[3:].lstrip()
    return text[:1] == char.encode()


def tail_text(path: Path, size: int = 4096) -> str:
    """The last `size` bytes of a file, decoded leniently ("" when unreadable)."""
    try:
        with path.open("rb") as fh:
            fh.seek(max(0, file_size(path) - size))
            return fh.read(size).decode("utf-8", errors="replace")
    except OSError:
        return ""


def trace_stem(path: Path, suffixes: tuple[str, ...]) -> str:
    """The file name without the first matching trace suffix (`.traj.json`, `.traj`, ...)."""
    name = path.name
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return path.stem
