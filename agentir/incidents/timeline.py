"""timeline.jsonl: the append-only, hash-chained audit log of one incident.

Each line is the canonical JSON (sorted keys, no spaces, UTF-8) of
`{"seq", "time", "actor", "action", "details", "prev", "hash"}` where `hash` is the sha256 of the
canonical JSON of the same object without `hash`, and `prev` is the previous line's hash ("" for
the first). Anyone can re-check it with a few lines of Python or jq; incident.yaml records the
count and last hash (`timeline_head`), so removing the last lines is detected too.

Action names are dotted: incident.opened, incident.attached, status.<new status>,
severity.changed, deadline.met, evidence.added, incident.exported, note; later phases add their
own (contain.*, credentials.*, freeze.*, remediate.*, review.*, runbook.step).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from agentir.incidents.locking import append_line
from agentir.incidents.records import TimelineHead, parse_iso
from agentir.render.jsonout import to_jsonable

ENTRY_KEYS = ("seq", "time", "actor", "action", "details", "prev", "hash")


@dataclass(frozen=True)
class TimelineEntry:
    """One line of the timeline."""

    seq: int
    time: str
    actor: str
    action: str
    details: dict[str, Any]
    prev: str
    hash: str

    @property
    def at(self) -> datetime | None:
        """`time` as an aware datetime."""
        return parse_iso(self.time)

    def to_dict(self) -> dict[str, Any]:
        """The entry as the plain object written on its line."""
        return {k: getattr(self, k) for k in ENTRY_KEYS}


@dataclass(frozen=True)
class VerifyProblem:
    """A line that breaks the chain, and how."""

    line: int
    message: str


@dataclass(frozen=True)
class VerifyReport:
    """The result of re-computing the chain of one incident's timeline."""

    incident_id: str
    ok: bool
    entries: int
    head: str
    problems: tuple[VerifyProblem, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def first_bad_line(self) -> int | None:
        """The 1-based line of the first problem, or None when the chain is intact."""
        return self.problems[0].line if self.problems else None


def canonical(obj: Mapping[str, Any]) -> bytes:
    """The canonical JSON bytes the hash is computed over (and each line is written as)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(obj: Mapping[str, Any]) -> str:
    """sha256 hex of the canonical JSON of `obj` without its `hash` key."""
    body = {k: v for k, v in obj.items() if k != "hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


def now_stamp() -> str:
    """Timeline time: ISO-8601 UTC to the millisecond with a Z."""
    moment = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    return moment.replace("+00:00", "Z")


def make_entry(
    head: TimelineHead, actor: str, action: str, details: Mapping[str, Any] | None, time: str
) -> TimelineEntry:
    """The next entry after `head`, hashed."""
    plain_details = to_jsonable(dict(details or {}))
    body = {
        "seq": head.count,
        "time": time,
        "actor": actor,
        "action": action,
        "details": plain_details,
        "prev": head.hash,
    }
    return TimelineEntry(**body, hash=entry_hash(body))


def write_entry(path: Path, entry: TimelineEntry) -> None:
    """Append an entry as one fsynced line (the caller holds the incident lock)."""
    append_line(path, canonical(entry.to_dict()) + b"\n")


def last_line(path: Path, chunk: int = 8192) -> bytes | None:
    """The last non-empty line of a file without reading all of it (None when empty/missing)."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, seek-heavy
    except FileNotFoundError:
        return None
    with handle:
        end = handle.seek(0, os.SEEK_END)
        buffer = b""
        position = end
        while position > 0:
            step = min(chunk, position)
            position -= step
            handle.seek(position)
            buffer = handle.read(step) + buffer
            stripped = buffer.rstrip(b"\n")
            if b"\n" in stripped:
                return stripped.rsplit(b"\n", 1)[1]
        stripped = buffer.rstrip(b"\n")
        return stripped or None


def parse_line(raw: bytes) -> TimelineEntry | None:
    """An entry from one raw line, or None when it is not a well-formed entry."""
    try:
        obj = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(obj, dict) or set(obj) != set(ENTRY_KEYS):
        return None
    if not isinstance(obj["seq"], int) or not isinstance(obj["details"], dict):
        return None
    if not all(isinstance(obj[k], str) for k in ("time", "actor", "action", "prev", "hash")):
        return None
    return TimelineEntry(**obj)


def read_entries(path: Path) -> Iterator[TimelineEntry]:
    """Every well-formed entry in file order (broken lines are skipped; verify reports them)."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - generator closes it
    except FileNotFoundError:
        return
    with handle:
        for raw in handle:
            entry = parse_line(raw.rstrip(b"\n"))
            if entry is not None:
                yield entry


def verify_file(path: Path, incident_id: str, head: TimelineHead) -> VerifyReport:
    """Re-compute the chain line by line and compare its end with the recorded head."""
    problems: list[VerifyProblem] = []
    warnings: list[str] = []
    prev_hash = ""
    count = 0
    last_hash = ""
    hash_at_head = ""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        handle = None
    if handle is not None:
        with handle:
            for number, raw in enumerate(handle, start=1):
                count = number
                ended = raw.endswith(b"\n")
                line = raw.rstrip(b"\n")
                problem = _check_line(line, number, prev_hash, ended)
                entry = parse_line(line)
                if problem:
                    problems.append(VerifyProblem(number, problem))
                # Link the next line to what this line claims, so one edit flags one line.
                prev_hash = entry.hash if entry else ""
                last_hash = prev_hash
                if number == head.count:
                    hash_at_head = prev_hash
    problems.extend(_check_head(count, last_hash, hash_at_head, head, path, warnings))
    return VerifyReport(
        incident_id=incident_id,
        ok=not problems,
        entries=count,
        head=last_hash,
        problems=tuple(problems),
        warnings=tuple(warnings),
    )


def _check_line(line: bytes, number: int, prev_hash: str, ended: bool) -> str | None:
    if not line.strip():
        return "blank line in the timeline (a line was removed or the file was edited)"
    entry = parse_line(line)
    if entry is None:
        if not ended:
            return "truncated or malformed last line (not a complete timeline entry)"
        return "not a well-formed timeline entry (edited or corrupted)"
    if entry_hash(entry.to_dict()) != entry.hash:
        return "content does not match its hash (the line was edited)"
    if entry.seq != number - 1:
        return (
            f"sequence number {entry.seq} where {number - 1} was expected "
            "(lines were removed, inserted or reordered)"
        )
    if entry.prev != prev_hash:
        return "does not chain to the previous line (a line before it was removed, edited or moved)"
    if canonical(entry.to_dict()) != line:
        return "line is not in canonical form (re-serialised or edited)"
    return None


def _check_head(
    count: int,
    last_hash: str,
    hash_at_head: str,
    head: TimelineHead,
    path: Path,
    warnings: list[str],
) -> list[VerifyProblem]:
    if count == head.count and last_hash == head.hash:
        return []
    if count < head.count:
        return [
            VerifyProblem(
                count + 1,
                f"{path.name} ends after {count} entries but incident.yaml records "
                f"{head.count}: the last {head.count - count} entries were removed",
            )
        ]
    if count == head.count:
        return [
            VerifyProblem(count, "the last entry does not match the hash recorded in incident.yaml")
        ]
    if head.count and hash_at_head != head.hash:
        return [
            VerifyProblem(
                head.count, "this entry does not match the hash recorded in incident.yaml"
            )
        ]
    # More lines than recorded: either a write interrupted between the two files, or an addition
    # by hand. The chain itself was checked above; say so rather than fail.
    warnings.append(
        f"{count - head.count} entries after the head recorded in incident.yaml "
        "(an interrupted write; the next change records them)"
    )
    return []


def sync_head(path: Path, incident_id: str, head: TimelineHead, actor: str) -> TimelineHead:
    """The head the next entry chains to, after checking the file still ends where `head` says.

    An interrupted write (chained lines beyond the head) is adopted. Any other mismatch (edited,
    truncated, a line torn by a crash) is written into the chain as a `timeline.discontinuity`
    entry: an incident in progress must not stall, and verify reports the break from then on.
    The caller holds the incident lock.
    """
    raw = last_line(path)
    if raw is None:
        if head.count == 0:
            return head
    else:
        last = parse_line(raw)
        if (
            last is not None
            and last.seq == head.count - 1
            and last.hash == head.hash
            and _ends_with_newline(path)
        ):
            return head
    report = verify_file(path, incident_id, head)
    if report.ok:
        return TimelineHead(count=report.entries, hash=report.head)
    if not _ends_with_newline(path):
        with open(path, "ab") as handle:
            handle.write(b"\n")
    lines = path.read_bytes().split(b"\n")[:-1] if path.exists() else []
    previous = parse_line(lines[-1]) if lines else None
    broken = TimelineHead(count=len(lines), hash=previous.hash if previous else "")
    problem = report.problems[0]
    details = {
        "line": problem.line,
        "problem": problem.message,
        "recorded_head": head.to_dict(),
        "found_entries": len(lines),
    }
    entry = make_entry(broken, actor, "timeline.discontinuity", details, now_stamp())
    write_entry(path, entry)
    return TimelineHead(count=entry.seq + 1, hash=entry.hash)


def _ends_with_newline(path: Path) -> bool:
    if not path.exists():
        return True
    with open(path, "rb") as handle:
        if handle.seek(0, os.SEEK_END) == 0:
            return True
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def flag_discontinuities(report: VerifyReport, path: Path) -> VerifyReport:
    """A recorded break stays a failure: the chain after it is intact, the history before is not."""
    extra = [
        VerifyProblem(
            entry.seq + 1,
            f"the timeline was found broken before this entry (line {entry.details.get('line')}: "
            f"{entry.details.get('problem')})",
        )
        for entry in read_entries(path)
        if entry.action == "timeline.discontinuity"
    ]
    if not extra:
        return report
    problems = tuple(sorted((*report.problems, *extra), key=lambda p: p.line))
    return VerifyReport(
        report.incident_id, False, report.entries, report.head, problems, report.warnings
    )
