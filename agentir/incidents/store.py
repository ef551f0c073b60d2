"""IncidentStore: `$AGENTIR_HOME/incidents/<ID>/` with incident.yaml, timeline.jsonl, evidence/.

Every change is a read-modify-write of incident.yaml plus one timeline entry, both inside the
incident's file lock, so concurrent responders (and their agents) lose nothing. Incident ids are
`INC-YYYYMMDD-NNNN`, allocated under a store-level lock; commands accept a unique prefix or
`latest`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from agentir.config import agentir_home, dump_yaml, parse_yaml_fast
from agentir.errors import ConfigError, IncidentError
from agentir.incidents import evidence as ev
from agentir.incidents.lifecycle import (
    apply_transition,
    check_transition,
    compute_deadlines,
    current_actor,
    meet,
)
from agentir.incidents.locking import DEFAULT_LOCK_TIMEOUT, atomic_write, file_lock, fsync_dir
from agentir.incidents.records import (
    ID_PATTERN,
    Incident,
    SeverityChange,
    TimelineHead,
    normalize_severity,
    utc_now,
)
from agentir.incidents.timeline import (
    TimelineEntry,
    VerifyReport,
    flag_discontinuities,
    make_entry,
    now_stamp,
    read_entries,
    sync_head,
    verify_file,
    write_entry,
)

INCIDENT_FILE = "incident.yaml"
TIMELINE_FILE = "timeline.jsonl"
EVIDENCE_DIR = "evidence"
LOCK_FILE = ".lock"
FIND_HINT = "`agentir incident list` shows the ids; a unique prefix or `latest` also works"

Mutator = Callable[[Incident], Any]


class IncidentStore:
    """The incidents under one AGENTIR_HOME."""

    def __init__(
        self,
        home: Path | None = None,
        *,
        clock: Callable[[], Any] | None = None,
        lock_timeout: float | None = DEFAULT_LOCK_TIMEOUT,
    ) -> None:
        self.home = home or agentir_home()
        self.root = self.home / "incidents"
        self._clock = clock or utc_now
        self._lock_timeout = lock_timeout

    # -- paths and ids ---------------------------------------------------------------------

    def now(self) -> Any:
        """The store's clock (aware UTC datetime); tests inject a fixed one."""
        return self._clock()

    def ids(self) -> list[str]:
        """Every incident id, oldest first."""
        if not self.root.is_dir():
            return []
        found = [p.name for p in self.root.iterdir() if ID_PATTERN.match(p.name)]
        return sorted(found, key=_id_key)

    def resolve(self, ref: str) -> str:
        """The full id for an id, a unique prefix (with or without `INC-`), or `latest`."""
        ids = self.ids()
        text = ref.strip()
        if text.lower() == "latest":
            if not ids:
                raise IncidentError("there are no incidents yet", hint="`agentir incident open`")
            return ids[-1]
        wanted = text.upper()
        if wanted in ids:
            return wanted
        candidates = [i for i in ids if i.startswith(wanted) or i.startswith(f"INC-{wanted}")]
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            shown = ", ".join(candidates[:5]) + (" ..." if len(candidates) > 5 else "")
            raise IncidentError(f"{ref!r} matches several incidents: {shown}", hint=FIND_HINT)
        raise IncidentError(f"no incident {ref!r} in {self.root}", hint=FIND_HINT)

    def path(self, ref: str) -> Path:
        """The folder of an incident (reviews and other files go next to incident.yaml)."""
        return self.root / self.resolve(ref)

    # -- reads -----------------------------------------------------------------------------

    def get(self, ref: str) -> Incident:
        """The current state of one incident."""
        return self._load(self.path(ref))

    def timeline(self, ref: str) -> list[TimelineEntry]:
        """The well-formed timeline entries (use verify() to know whether the chain holds)."""
        return list(read_entries(self.path(ref) / TIMELINE_FILE))

    def verify(self, ref: str) -> VerifyReport:
        """Re-compute the hash chain and compare it with the head recorded in incident.yaml."""
        folder = self.path(ref)
        incident = self._load(folder)
        report = verify_file(folder / TIMELINE_FILE, incident.id, incident.timeline_head)
        return flag_discontinuities(report, folder / TIMELINE_FILE)

    def evidence(self, ref: str) -> list[ev.EvidenceRecord]:
        """The preserved traces of an incident."""
        return ev.read_index(self.path(ref) / EVIDENCE_DIR)

    def find_open_for_session(self, session_id: str) -> Incident | None:
        """The newest incident not yet closed that covers this agent session."""
        for incident in reversed(self.list()):
            if incident.active and session_id in incident.sessions:
                return incident
        return None

    # -- writes ----------------------------------------------------------------------------

    def open(
        self,
        title: str,
        severity: str,
        *,
        sessions: Sequence[str] = (),
        traces: Sequence[str | Path] = (),
        actor: str | None = None,
        reason: str = "",
        runbook: Any = None,
        runbooks_dir: Path | None = None,
    ) -> Incident:
        """Open a new incident with deadlines from the runbook of its severity."""
        level = normalize_severity(severity)
        if level is None:
            raise IncidentError(f"unknown severity {severity!r}", hint="SEV1, SEV2 or SEV3")
        if not title.strip():
            raise IncidentError("an incident needs a title", hint="pass --title")
        actor = actor or current_actor()
        details: dict[str, Any] = {}
        if runbook is None:
            runbook, warning = _runbook_for(level, runbooks_dir)
            if warning:
                details["runbook_warning"] = warning
        now = self.now()
        incident = Incident(
            title=title.strip(),
            severity=level,
            opened_by=actor,
            opened_at=now,
            runbook=str(runbook.path),
            severity_history=[SeverityChange(level, now, actor, reason or "opened")],
            sessions=_unique(sessions),
            traces=_unique(str(Path(t).expanduser().resolve()) for t in traces),
            responders=[actor],
            deadlines=compute_deadlines(now, runbook.phase_deadlines(), {}),
        )
        self.root.mkdir(parents=True, exist_ok=True)
        with file_lock(self.root / LOCK_FILE, self._lock_timeout):
            incident.id = self._next_id(now)
            staging = Path(
                tempfile.mkdtemp(dir=self.root, prefix=f".new-{incident.id}-", suffix=".tmp")
            )
            try:
                details.update(
                    title=incident.title,
                    severity=level,
                    reason=reason,
                    sessions=incident.sessions,
                    traces=incident.traces,
                    runbook=incident.runbook,
                    deadlines={k: d.due for k, d in incident.deadlines.items()},
                )
                self._append_locked(staging, incident, "incident.opened", details, actor)
                self._save(staging, incident)
                os.chmod(staging, 0o755)  # mkdtemp makes it private; incidents are team files
                os.rename(staging, self.root / incident.id)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            fsync_dir(self.root)
        return incident

    def update(
        self,
        ref: str,
        mutate: Mutator,
        *,
        action: str,
        details: dict[str, Any] | None = None,
        actor: str | None = None,
    ) -> Incident:
        """Read, mutate (in place) and write incident.yaml, and append one timeline entry."""
        folder = self.path(ref)
        with self._locked(folder):
            incident = self._load(folder)
            extra = mutate(incident)
            merged = dict(details or {})
            if isinstance(extra, dict):
                merged.update(extra)
            self._append_locked(folder, incident, action, merged, actor or current_actor())
            self._save(folder, incident)
        return incident

    def append(
        self,
        ref: str,
        action: str,
        details: dict[str, Any] | None = None,
        actor: str | None = None,
    ) -> TimelineEntry:
        """Append one timeline entry (and record the new head in incident.yaml)."""
        folder = self.path(ref)
        with self._locked(folder):
            incident = self._load(folder)
            entry = self._append_locked(folder, incident, action, details, actor or current_actor())
            self._save(folder, incident)
        return entry

    def set_status(
        self,
        ref: str,
        status: str,
        *,
        reason: str | None = None,
        actor: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> Incident:
        """Move the incident to a new status (validated); meets the matching deadline."""

        def change(incident: Incident) -> dict[str, Any]:
            check_transition(incident, status, reason)
            return {**(details or {}), **apply_transition(incident, status, self.now(), reason)}

        return self.update(ref, change, action=f"status.{status}", actor=actor)

    def set_severity(
        self,
        ref: str,
        severity: str,
        *,
        reason: str,
        actor: str | None = None,
        runbook: Any = None,
        runbooks_dir: Path | None = None,
    ) -> Incident:
        """Change the severity (recorded with who and why); deadlines follow the new runbook."""
        level = normalize_severity(severity)
        if level is None:
            raise IncidentError(f"unknown severity {severity!r}", hint="SEV1, SEV2 or SEV3")
        if not reason.strip():
            raise IncidentError("a severity change needs a reason", hint="pass --reason")
        warning = None
        if runbook is None:
            runbook, warning = _runbook_for(level, runbooks_dir)
        who = actor or current_actor()

        def change(incident: Incident) -> dict[str, Any]:
            if not incident.active:
                raise IncidentError(f"{incident.id} is closed", hint="open a new incident")
            old = incident.severity
            now = self.now()
            incident.severity = level
            incident.severity_history.append(SeverityChange(level, now, who, reason))
            incident.runbook = str(runbook.path)
            opened = incident.opened_at or now
            incident.deadlines = compute_deadlines(
                opened, runbook.phase_deadlines(), incident.deadlines
            )
            out: dict[str, Any] = {"from": old, "to": level, "reason": reason}
            out["runbook"] = incident.runbook
            out["deadlines"] = {k: d.due for k, d in incident.deadlines.items()}
            if warning:
                out["runbook_warning"] = warning
            return out

        return self.update(ref, change, action="severity.changed", actor=who)

    def meet_deadline(self, ref: str, name: str, *, actor: str | None = None) -> Incident:
        """Record that a deadline (a phase name: contain, assess, ...) was met now."""

        def change(incident: Incident) -> dict[str, Any]:
            if name not in incident.deadlines:
                raise IncidentError(
                    f"{incident.id} has no deadline {name!r}",
                    hint=f"its deadlines: {', '.join(incident.deadlines) or 'none'}",
                )
            return meet(incident, name, self.now()) or {"name": name, "already_met": True}

        return self.update(ref, change, action="deadline.met", actor=actor)

    def attach(
        self,
        ref: str,
        *,
        sessions: Iterable[str] = (),
        traces: Iterable[str | Path] = (),
        actor: str | None = None,
    ) -> Incident:
        """Add agent sessions and trace paths to an incident (joining it)."""
        new_sessions = list(sessions)
        new_traces = [str(Path(t).expanduser().resolve()) for t in traces]

        def change(incident: Incident) -> dict[str, Any]:
            added_s = [s for s in _unique(new_sessions) if s not in incident.sessions]
            added_t = [t for t in _unique(new_traces) if t not in incident.traces]
            incident.sessions.extend(added_s)
            incident.traces.extend(added_t)
            return {"sessions": added_s, "traces": added_t}

        return self.update(ref, change, action="incident.attached", actor=actor)

    def add_evidence(
        self, ref: str, source: Path, *, actor: str | None = None
    ) -> tuple[ev.EvidenceRecord, bool]:
        """Preserve a trace file or folder (copied once per sha256). Returns (record, is_new)."""
        folder = self.path(ref)
        who = actor or current_actor()
        staged = ev.stage(Path(source).expanduser(), folder / EVIDENCE_DIR)
        try:
            with self._locked(folder):
                record, is_new = ev.commit(staged, folder / EVIDENCE_DIR, now_stamp(), who)
                if is_new:
                    incident = self._load(folder)
                    details = {k: v for k, v in record.to_dict().items() if k != "by"}
                    self._append_locked(folder, incident, "evidence.added", details, who)
                    self._save(folder, incident)
        finally:
            staged.discard()  # no-op once committed (the temp name is gone)
        return record, is_new

    def export(
        self, ref: str, dest: Path, fmt: str = "tar.gz", *, actor: str | None = None
    ) -> Path:
        """Write the incident as one tar.gz (everything, with a manifest) or a Markdown timeline."""
        from agentir.incidents.export import export_incident

        folder = self.path(ref)
        self.append(folder.name, "incident.exported", {"format": fmt, "to": str(dest)}, actor)
        with self._locked(folder):
            incident = self._load(folder)
            snapshot = (folder / TIMELINE_FILE).read_bytes()
            yaml_bytes = (folder / INCIDENT_FILE).read_bytes()
        report = flag_discontinuities(
            verify_file(folder / TIMELINE_FILE, incident.id, incident.timeline_head),
            folder / TIMELINE_FILE,
        )
        return export_incident(
            folder, incident, yaml_bytes, snapshot, report, self.evidence(folder.name), dest, fmt
        )

    def list(self, status: str | Iterable[str] | None = None) -> list[Incident]:
        """Every incident (oldest first), optionally only those with the given status(es)."""
        wanted = {status} if isinstance(status, str) else set(status) if status else None
        out = []
        for incident_id in self.ids():
            try:
                incident = self._load(self.root / incident_id)
            except IncidentError:
                continue  # listed as unreadable by `verify`, not fatal for a listing
            if wanted is None or incident.status in wanted:
                out.append(incident)
        return out

    # -- internals -------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, folder: Path) -> Iterator[None]:
        with file_lock(folder / LOCK_FILE, self._lock_timeout):
            yield

    def _next_id(self, now: Any) -> str:
        day = now.strftime("%Y%m%d")
        numbers = [_id_key(i)[1] for i in self.ids() if i.startswith(f"INC-{day}-")]
        return f"INC-{day}-{max(numbers, default=0) + 1:04d}"

    def _load(self, folder: Path) -> Incident:
        path = folder / INCIDENT_FILE
        if not path.is_file():
            raise IncidentError(f"{path} is missing", hint=FIND_HINT)
        try:
            data = parse_yaml_fast(path.read_text(encoding="utf-8"))
        except (ConfigError, OSError, UnicodeDecodeError) as exc:
            raise IncidentError(
                f"{path}: {exc}", hint="restore incident.yaml from git or from an export"
            ) from exc
        if not isinstance(data, dict):
            raise IncidentError(f"{path} is not a mapping", hint="restore it from git or an export")
        return Incident.from_dict(data)

    def _save(self, folder: Path, incident: Incident) -> None:
        atomic_write(folder / INCIDENT_FILE, dump_yaml(incident.to_dict()))

    def _append_locked(
        self,
        folder: Path,
        incident: Incident,
        action: str,
        details: dict[str, Any] | None,
        actor: str,
    ) -> TimelineEntry:
        path = folder / TIMELINE_FILE
        incident.timeline_head = sync_head(path, incident.id, incident.timeline_head, actor)
        entry = make_entry(incident.timeline_head, actor, action, details, now_stamp())
        write_entry(path, entry)
        incident.timeline_head = TimelineHead(count=entry.seq + 1, hash=entry.hash)
        if actor not in incident.responders:
            incident.responders.append(actor)
        return entry


def _runbook_for(severity: str, runbooks_dir: Path | None) -> tuple[Any, str | None]:
    from agentir.resources import shipped_dir
    from agentir.runbooks import load_dir, load_runbook

    try:
        return load_runbook(severity, runbooks_dir), None
    except ConfigError as exc:
        # An incident must open even when a local runbook is broken; the shipped one stands in.
        shipped = load_dir(shipped_dir("runbooks"))
        if severity not in shipped:
            raise
        return shipped[severity], f"{exc.message}; using the shipped {severity} runbook"


def _id_key(incident_id: str) -> tuple[str, int]:
    match = ID_PATTERN.match(incident_id)
    return (match.group(1), int(match.group(2))) if match else ("", 0)


def _unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        if value:
            seen.setdefault(str(value), None)
    return list(seen)
