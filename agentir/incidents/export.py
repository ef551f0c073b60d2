"""Export an incident: one tar.gz with everything and a sha256 manifest, or a Markdown timeline."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from agentir.errors import IncidentError
from agentir.incidents.evidence import EvidenceRecord
from agentir.incidents.locking import is_temp_name
from agentir.incidents.records import Incident, to_iso, utc_now
from agentir.incidents.timeline import TimelineEntry, VerifyReport, parse_line
from agentir.render.jsonout import to_jsonable

FORMATS = ("tar.gz", "md")
_SKIP = {".lock"}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|<>#])")


def export_incident(
    folder: Path,
    incident: Incident,
    yaml_bytes: bytes,
    timeline_bytes: bytes,
    report: VerifyReport,
    evidence: list[EvidenceRecord],
    dest: Path,
    fmt: str,
) -> Path:
    """Write the export to `dest` atomically and return it."""
    if fmt not in FORMATS:
        raise IncidentError(f"unknown export format {fmt!r}", hint="use tar.gz or md")
    dest = dest.expanduser()
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            if fmt == "md":
                entries = _entries(timeline_bytes)
                handle.write(markdown(incident, entries, report, evidence).encode())
            else:
                _write_tar(handle, folder, incident, yaml_bytes, timeline_bytes, report)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, dest)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return dest


def _entries(timeline_bytes: bytes) -> list[TimelineEntry]:
    entries = (parse_line(line) for line in timeline_bytes.splitlines())
    return [e for e in entries if e is not None]


class _HashingReader(io.RawIOBase):
    """Reads a file for tarfile while hashing it, so the manifest costs no second pass."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        block = self.handle.read(size)
        self.digest.update(block)
        return block


def _write_tar(
    handle: IO[bytes],
    folder: Path,
    incident: Incident,
    yaml_bytes: bytes,
    timeline_bytes: bytes,
    report: VerifyReport,
) -> None:
    prefix = incident.id
    files: dict[str, str] = {}
    with tarfile.open(fileobj=handle, mode="w:gz") as tar:
        # The state and timeline come from the snapshot taken under the lock, not from disk now.
        for name, data in (("incident.yaml", yaml_bytes), ("timeline.jsonl", timeline_bytes)):
            _add_bytes(tar, f"{prefix}/{name}", data)
            files[name] = hashlib.sha256(data).hexdigest()
        for path in _other_files(folder):
            rel = path.relative_to(folder).as_posix()
            info = tar.gettarinfo(str(path), arcname=f"{prefix}/{rel}")
            with open(path, "rb") as source:
                reader = _HashingReader(source)
                tar.addfile(info, reader)
            files[rel] = reader.digest.hexdigest()
        manifest = {
            "incident_id": incident.id,
            "exported_at": to_iso(utc_now()),
            "verify": {
                "ok": report.ok,
                "entries": report.entries,
                "head": report.head,
                "problems": [{"line": p.line, "message": p.message} for p in report.problems],
            },
            "sha256": dict(sorted(files.items())),
        }
        data = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
        _add_bytes(tar, f"{prefix}/export-manifest.json", data)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(utc_now().timestamp())
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def _other_files(folder: Path) -> Iterable[Path]:
    for root, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not is_temp_name(d))
        for name in sorted(filenames):
            path = Path(root) / name
            top_level = Path(root) == folder
            if name in _SKIP or is_temp_name(name) or path.is_symlink():
                continue
            if top_level and name in ("incident.yaml", "timeline.jsonl"):
                continue
            yield path


def md_text(value: Any, limit: int | None = None) -> str:
    """Untrusted text made safe for one Markdown line or table cell."""
    text = _CONTROL.sub("", str(value)).replace("\r", " ").replace("\n", " ").replace("\t", " ")
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return _MD_SPECIAL.sub(r"\\\1", text)


def _summary(details: dict[str, Any]) -> str:
    parts = []
    for key, value in details.items():
        plain = to_jsonable(value)
        shown = plain if isinstance(plain, str) else json.dumps(plain, ensure_ascii=False)
        parts.append(f"{key}={shown}")
    return "; ".join(parts)


def markdown(
    incident: Incident,
    entries: list[TimelineEntry],
    report: VerifyReport,
    evidence: list[EvidenceRecord],
) -> str:
    """The incident as a Markdown document: summary, deadlines, evidence, full timeline."""
    now = utc_now()
    lines = [
        f"# {md_text(incident.id)}: {md_text(incident.title)}",
        "",
        f"- Severity: {incident.severity}",
        f"- Status: {incident.status}",
        f"- Opened: {_when(incident.opened_at)} by {md_text(incident.opened_by)}",
    ]
    for stamp in ("contained_at", "remediated_at", "reviewed_at", "closed_at"):
        value = getattr(incident, stamp)
        if value is not None:
            lines.append(f"- {stamp.split('_')[0].capitalize()}: {_when(value)}")
    if incident.close_reason:
        lines.append(f"- Close reason: {md_text(incident.close_reason)}")
    lines.append(f"- Sessions: {', '.join(md_text(s) for s in incident.sessions) or 'none'}")
    lines.append(f"- Responders: {', '.join(md_text(r) for r in incident.responders)}")
    chain = "intact" if report.ok else f"BROKEN at line {report.first_bad_line}"
    lines += [f"- Timeline: {report.entries} entries, hash chain {chain}", ""]
    if incident.severity_history:
        lines += ["## Severity", "", "| at | severity | by | reason |", "|---|---|---|---|"]
        for change in incident.severity_history:
            lines.append(
                f"| {_when(change.at)} | {change.severity} | {md_text(change.by)} "
                f"| {md_text(change.reason)} |"
            )
        lines.append("")
    if incident.deadlines:
        states = incident.deadline_states(now)
        lines += ["## Deadlines", "", "| deadline | due | met at | state |", "|---|---|---|---|"]
        for name, deadline in incident.deadlines.items():
            lines.append(
                f"| {md_text(name)} | {_when(deadline.due)} | {_when(deadline.met_at)} "
                f"| {states[name]} |"
            )
        lines.append("")
    if evidence:
        lines += ["## Evidence", "", "| sha256 | size | source |", "|---|---|---|"]
        for record in evidence:
            lines.append(f"| `{record.sha256}` | {record.size} | {md_text(record.path)} |")
        lines.append("")
    lines += [
        "## Timeline",
        "",
        "| # | time (UTC) | actor | action | details |",
        "|---|---|---|---|---|",
    ]
    for entry in entries:
        lines.append(
            f"| {entry.seq} | {md_text(entry.time)} | {md_text(entry.actor)} "
            f"| {md_text(entry.action)} | {md_text(_summary(entry.details), 300)} |"
        )
    if report.problems:
        lines += ["", "## Timeline problems", ""]
        lines += [f"- line {p.line}: {md_text(p.message)}" for p in report.problems]
    return "\n".join(lines) + "\n"


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value is not None else "—"
