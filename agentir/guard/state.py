"""The guard's state per session: where it stopped reading the transcript, and what it knows.

`$AGENTIR_HOME/guard/<session>.json` holds (plain JSON, no pickle):

    {"version": 1, "session": "...", "transcript": "/abs/path.jsonl",
     "inode": 1234, "device": 2049, "offset": 81234, "line": 412,
     "reads": 37, "last_read_bytes": 1830, "live": {... LiveState.to_json() ...},
     "alerted": [...], "parser": {... ClaudeCodeParser.context() ...}}

Each hook call takes the session's lock, reads the transcript from `offset` to the last
complete line (a line still being written is left for the next call), feeds those records to
a fresh `ClaudeCodeParser` (numbering events from the saved `next_seq`, and attributing
subagent records as the previous call's parser left off) and the events to
the `LiveState`, and writes the state back (temp file + rename; no fsync: a lost state only
means one full re-read). A transcript that was replaced (another inode) or truncated (shorter
than the offset) is read again from the start with an empty state. A state file that cannot
be parsed, or of another version, is ignored the same way: re-reading is always correct.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from agentir.config import agentir_home
from agentir.guard.live import LiveState
from agentir.traces.base import MAX_LINE_BYTES, ReadStats, loads

STATE_VERSION = 1
MAX_ALERTED = 64
PRUNE_AFTER_S = 14 * 24 * 3600  # state of sessions untouched this long is deleted
_SAFE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def guard_dir() -> Path:
    """`$AGENTIR_HOME/guard`: state files, locks and the block log."""
    return agentir_home() / "guard"


def state_path(session_id: str) -> Path:
    """The state file of a session (ids that are not plain names are hashed)."""
    name = session_id if _SAFE.match(session_id) and not session_id.startswith(".") else None
    if name is None:
        from agentir.traces.base import digest

        name = "session-" + digest(session_id)
    return guard_dir() / f"{name}.json"


@dataclass
class GuardState:
    """One session's reading position and live facts."""

    session: str
    transcript: str = ""
    inode: int | None = None
    device: int | None = None
    offset: int = 0
    line: int = 0
    reads: int = 0
    last_read_bytes: int = 0
    live: LiveState = field(default_factory=LiveState)
    alerted: list[str] = field(default_factory=list)
    parser: dict[str, Any] = field(default_factory=dict)  # ClaudeCodeParser.context()

    def first_alert(self, key: str) -> bool:
        """True the first time `key` is seen (and remember it): one alert per refusal."""
        if key in self.alerted:
            return False
        self.alerted = [*self.alerted[-(MAX_ALERTED - 1) :], key]
        return True

    def to_json(self) -> dict[str, Any]:
        """Plain data for the state file."""
        return {
            "version": STATE_VERSION,
            "session": self.session,
            "transcript": self.transcript,
            "inode": self.inode,
            "device": self.device,
            "offset": self.offset,
            "line": self.line,
            "reads": self.reads,
            "last_read_bytes": self.last_read_bytes,
            "live": self.live.to_json(),
            "alerted": self.alerted,
            "parser": self.parser,
        }


def load_state(session_id: str) -> GuardState:
    """The saved state of a session, or a fresh one (missing, unreadable or old version)."""
    path = state_path(session_id)
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return GuardState(session_id)
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
        return GuardState(session_id)
    try:
        return GuardState(
            session=session_id,
            transcript=str(data.get("transcript") or ""),
            inode=data.get("inode"),
            device=data.get("device"),
            offset=int(data.get("offset", 0)),
            line=int(data.get("line", 0)),
            reads=int(data.get("reads", 0)),
            last_read_bytes=int(data.get("last_read_bytes", 0)),
            live=LiveState(data.get("live") or {}),
            alerted=[str(k) for k in data.get("alerted") or ()],
            parser=dict(data["parser"]) if isinstance(data.get("parser"), dict) else {},
        )
    except (TypeError, ValueError, AttributeError):
        return GuardState(session_id)


def save_state(state: GuardState) -> None:
    """Write the state file (temp file + rename, so a reader never sees half a file)."""
    path = state_path(state.session)
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = not path.exists()
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_bytes(orjson.dumps(state.to_json()))
    os.replace(temp, path)
    if fresh:
        prune(path.parent)


def prune(folder: Path, older_than: float = PRUNE_AFTER_S) -> int:
    """Delete state files of sessions untouched for `older_than` seconds; how many."""
    cutoff = time.time() - older_than
    gone = 0
    for item in folder.glob("*.json"):
        with contextlib.suppress(OSError):
            if item.stat().st_mtime < cutoff:
                item.unlink()
                with contextlib.suppress(OSError):
                    item.with_suffix(".lock").unlink()
                gone += 1
    return gone


@contextlib.contextmanager
def session_lock(session_id: str, timeout: float = 10.0) -> Iterator[None]:
    """Serialise hook calls of one session (Claude Code runs parallel calls' hooks at once)."""
    import fcntl

    path = state_path(session_id).with_suffix(".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"another guard call holds {path}") from None
                time.sleep(0.005)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def advance(state: GuardState, transcript: Path, stats: ReadStats | None = None) -> int:
    """Feed the transcript's new complete lines to the state; the bytes read.

    A missing transcript means nothing happened yet (0 bytes, state unchanged). Other read
    errors propagate (OSError): the caller decides how to fail.
    """
    from agentir.traces.claude_code import ClaudeCodeParser

    try:
        st = transcript.stat()
    except FileNotFoundError:
        return 0
    same_file = (st.st_ino, st.st_dev) == (state.inode, state.device)
    if not same_file or st.st_size < state.offset or state.transcript != str(transcript):
        # replaced, truncated or another file: start over (re-reading is always correct)
        state.live, state.offset, state.line, state.parser = LiveState(), 0, 0, {}
    state.transcript, state.inode, state.device = str(transcript), st.st_ino, st.st_dev
    stats = stats or ReadStats()
    parser: ClaudeCodeParser | None = None
    read = 0
    with transcript.open("rb") as fh:
        fh.seek(state.offset)
        while True:
            raw = fh.readline(MAX_LINE_BYTES)
            if len(raw) == MAX_LINE_BYTES and not raw.endswith(b"\n"):
                skipped = _skip_line(fh)  # too long to judge: skipped, never held in memory
                if skipped is None:
                    break
                read += len(raw) + skipped
                state.line += 1
                stats.oversized += 1
                continue
            if not raw.endswith(b"\n"):
                break  # end of file, or a line still being written: left for the next call
            read += len(raw)
            state.line += 1
            text = raw.strip()
            if not text:
                continue
            stats.records += 1
            try:
                record = loads(text)
            except ValueError:
                stats.malformed += 1
                continue
            if parser is None:
                parser = ClaudeCodeParser(
                    transcript, stats, session=state.session, first_seq=state.live.next_seq
                )
                parser.restore(state.parser)  # subagent attribution goes on where it stopped
            for event in parser.feed(record, state.line):
                state.live.feed(event)
    if parser is not None:
        state.parser = parser.context()
    state.offset += read
    state.reads += 1
    state.last_read_bytes = read
    return read


def _skip_line(fh: Any) -> int | None:
    """Bytes up to and including the next newline, or None when the line is not complete."""
    total = 0
    while True:
        more = fh.readline(MAX_LINE_BYTES)
        total += len(more)
        if more.endswith(b"\n"):
            return total
        if not more:
            return None
