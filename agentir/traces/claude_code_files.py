"""Which files make up one Claude Code session, and their records merged in time order.

2.0.x writes each subagent to `agent-<id>.jsonl` beside the main file (its records carry the
parent's sessionId); 2.1.x writes `<session>/subagents/**/agent-<id>.jsonl`. Both are read
with the main file, merged by timestamp so a subagent's work sits where it happened.
"""

from __future__ import annotations

import heapq
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentir.traces.base import HEAD_BYTES, ReadStats, iter_json_lines, loads, parse_ts

HEAD_LINES = 30  # lines looked at when sniffing or peeking at a file's head


def clean(value: Any) -> str | None:
    """A usable string, or None for absent, empty and placeholder ("[trimmed …]") values."""
    if not isinstance(value, str) or not value.strip():
        return None
    if value.startswith("[") and value.endswith("]"):
        return None
    return value


def head_records(path: Path) -> Iterator[dict[str, Any]]:
    """The JSON objects among the first lines of a file (a cut or bad line is ignored)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError:
        return
    yield from records_in(head.decode("utf-8", errors="replace"))


def records_in(text: str) -> Iterator[dict[str, Any]]:
    """The JSON objects among the first HEAD_LINES lines of a text."""
    for line in text.splitlines()[:HEAD_LINES]:
        if not line.strip():
            continue
        try:
            rec = loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict):
            yield rec


def session_key(rec: dict[str, Any]) -> str | None:
    """The session id of a record (camelCase in session files, snake_case headless)."""
    return clean(rec.get("sessionId")) or clean(rec.get("session_id"))


_SESSION_ID = re.compile(rb'"sessionId"\s*:\s*"([^"]+)"')


def _peek_session(path: Path) -> str | None:
    """The first sessionId in a file, cheaply: a project folder may hold thousands of agents."""
    try:
        with path.open("rb") as fh:
            start = fh.read(4096)
    except OSError:
        return None
    match = _SESSION_ID.search(start)
    if match:
        return match.group(1).decode("utf-8", errors="replace")
    return next(filter(None, map(session_key, head_records(path))), None)


# --------------------------------------------------------------------------- subagent files


@dataclass
class Sub:
    """A subagent transcript read along with its parent session."""

    path: Path
    agent_id: str
    start: float  # epoch seconds of its first timestamp (+inf when none)
    order: int
    chains: set[str] = field(default_factory=set)


END = object()  # marks the end of a subagent file in the merged stream


def subagent_files(path: Path, session: str) -> list[Sub]:
    """Subagent transcripts of the session in `path`: 2.1.x nested and 2.0.x flat layouts."""
    found: list[Path] = []
    for folder in dict.fromkeys((path.parent / path.stem, path.parent / session)):
        sub_dir = folder / "subagents"
        if sub_dir.is_dir():
            found.extend(sorted(sub_dir.rglob("agent-*.jsonl")))
    for flat in sorted(path.parent.glob("agent-*.jsonl")):
        # 2.0.x keeps every session's agents in the project folder; keep only ours
        if flat != path and _peek_session(flat) == session:
            found.append(flat)
    subs: list[Sub] = []
    for order, file in enumerate(dict.fromkeys(found), start=1):
        agent_id, start = None, None
        for rec in head_records(file):
            agent_id = agent_id or clean(rec.get("agentId"))
            start = start or parse_ts(rec.get("timestamp"))
        subs.append(
            Sub(
                path=file,
                agent_id=agent_id or file.stem.removeprefix("agent-"),
                start=start.timestamp() if start else float("inf"),
                order=order,
            )
        )
    return subs


def merged(main: Path, subs: list[Sub], stats: ReadStats) -> Iterator[tuple[Sub | None, int, Any]]:
    """Records of the main file and its subagent files, merged by timestamp.

    Each file keeps its own line order; a record without a timestamp sorts with the last
    timestamp of its file. A subagent file is opened only when the merge reaches its first
    timestamp, so open files are bounded by how many subagents ran at the same time.
    """
    if not subs:  # the common case needs no timestamps here
        for lineno, rec in iter_json_lines(main, stats):
            yield None, lineno, rec
        return
    pending = deque(sorted(subs, key=lambda s: (s.start, s.order)))
    streams: dict[int, tuple[Sub | None, Iterator[tuple[int, Any]]]] = {
        0: (None, iter_json_lines(main, stats))
    }
    keys: dict[int, float] = {0: float("-inf")}
    heads: dict[int, tuple[int, Any]] = {}
    heap: list[tuple[float, int]] = []
    ended: list[Sub] = []

    def pull(order: int) -> None:
        sub, it = streams[order]
        nxt = next(it, None)
        if nxt is None:
            del streams[order]
            if sub is not None:
                ended.append(sub)
            return
        rec = nxt[1]
        ts = parse_ts(rec.get("timestamp")) if isinstance(rec, dict) else None
        if ts is not None:
            keys[order] = ts.timestamp()
        heads[order] = nxt
        heapq.heappush(heap, (keys[order], order))

    pull(0)
    while heap or pending:
        while pending and (not heap or pending[0].start <= heap[0][0]):
            sub = pending.popleft()
            streams[sub.order] = (sub, iter_json_lines(sub.path, stats))
            keys[sub.order] = sub.start
            pull(sub.order)
        while ended:
            yield ended.pop(), 0, END
        if not heap:
            continue
        _, order = heapq.heappop(heap)
        lineno, rec = heads.pop(order)
        yield streams[order][0], lineno, rec
        pull(order)
        while ended:
            yield ended.pop(), 0, END


def is_merged_subagent_file(path: Path) -> bool:
    """True for a subagent transcript that reading its parent session's file already covers.

    For directory walks: such a file read on its own would count its work a second time.
    """
    if not path.name.startswith("agent-") or path.suffix != ".jsonl":
        return False
    if "subagents" in path.parent.parts:  # 2.1.x: <project>/<session>/subagents/**/agent-*
        for folder in path.parents:
            if path.is_relative_to(folder / "subagents"):
                return (folder.parent / f"{folder.name}.jsonl").is_file()
        return False
    session = _peek_session(path)  # 2.0.x: agent-*.jsonl beside <session>.jsonl
    return bool(session) and (path.parent / f"{session}.jsonl").is_file()
