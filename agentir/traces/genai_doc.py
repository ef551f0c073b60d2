"""Loading one-document JSON traces (OTLP/JSON, Langfuse, legacy Gemini), salvaging cut-off ones.

An agent killed mid-write leaves a truncated document. Rather than lose the session,
the longest prefix that ends on a complete value, at any depth (OTLP spans sit six
levels down), is closed and parsed, and the read statistics say so. A file that still
does not parse raises `TraceError` with one clear line: an empty assessment of an
incident trace would be worse than an error.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from agentir.errors import TraceError
from agentir.traces.base import ReadStats, file_size, loads

MAX_DOCUMENT_BYTES = 512 * 1024 * 1024

# A whole string (escapes included), a string cut by the end of the file, or a structural
# character: enough to track nesting without a full parser.
_TOKEN = re.compile(
    r'(?P<str>"(?:[^"\\]|\\.)*")|(?P<cut>"(?:[^"\\]|\\.)*\\?\Z)|[{}\[\],]', re.DOTALL
)
_CLOSERS = {"{": "}", "[": "]"}


def repair_truncated(text: str) -> Any | None:
    """Parse the longest complete prefix of a cut-off JSON document; None when nothing fits."""
    stack: list[str] = []
    best: tuple[int, str] | None = None  # (cut position, closers to append)
    for match in _TOKEN.finditer(text):
        if match.group("cut") is not None:
            break  # the write stopped inside a string
        if match.group("str") is not None:
            continue
        token = match.group()
        if token in "{[":
            stack.append(token)
            best = (match.end(), _closing(stack))
        elif token in "}]":
            if not stack or _CLOSERS[stack[-1]] != token:
                return None  # broken, not cut off: a repair would only invent structure
            stack.pop()
            best = (match.end(), _closing(stack))
        elif stack:  # a comma: everything before it inside this container is complete
            best = (match.start(), _closing(stack))
    if best is None or not stack:
        return None  # nothing left open: the document is not truncated but malformed
    candidate = text[: best[0]].rstrip().rstrip(",") + best[1]
    try:
        return loads(candidate)
    except ValueError:
        return None


def _closing(stack: list[str]) -> str:
    return "".join(_CLOSERS[c] for c in reversed(stack))


def load_document(path: Path, stats: ReadStats, what: str) -> Any:
    """The whole file as one JSON value; a truncated document is salvaged and counted."""
    size = file_size(path)
    if size > MAX_DOCUMENT_BYTES:
        raise TraceError(
            f"{path} is {size / 1e6:,.0f} MB; a {what} is read whole and agentir refuses "
            f"files over {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB",
            hint="extract the part you need first (e.g. with jq) or pass a smaller trace",
        )
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise TraceError(f"cannot read {path}: {exc.strerror or exc}") from exc
    stats.records += 1
    try:
        return loads(text)
    except ValueError as exc:
        error = str(exc)
    salvaged = repair_truncated(text)
    if salvaged is None:
        raise TraceError(
            f"{path} is not valid JSON and cannot be salvaged as a cut-off {what} ({error})",
            hint="check that this is the agent's own file, not a partial copy or another format",
        )
    stats.truncated_tail = True
    stats.reasons[f"truncated {what} (kept the complete part)"] += 1
    return salvaged
