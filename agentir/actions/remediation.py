"""What `agentir remediate` needs around the plan: the sessions, the checks, and the incident.

`Sink` is where a remediation leaves its traces: with an incident, timeline entries, evidence
copies and checklist items in the incident store; without one, a folder (`--out` or a temp dir)
and a list of what would have gone on the timeline.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentir.actions.checklist import ChecklistDraft, merge_into
from agentir.actions.verify import CheckSpec
from agentir.analysis.secrets import redact
from agentir.errors import ConfigError, UsageError
from agentir.model import Assessment


def load_sessions(
    traces: Sequence[Path], wanted: Sequence[str] = (), preferred: Sequence[str] = ()
) -> tuple[list[Assessment], list[str]]:
    """Assess the traces; keep `wanted` sessions (or those the incident names). Plus warnings."""
    from agentir.analysis.assess import assess_trace

    found: list[Assessment] = []
    for trace in traces:
        if not trace.exists():
            raise UsageError(f"no such trace: {trace}", hint="check the --trace path")
        found.extend(assess_trace(trace).sessions)
    notes: list[str] = []
    if wanted:
        chosen = [a for a in found if _matches(a.session.id, wanted)]
        if not chosen:
            ids = ", ".join(a.session.id for a in found[:5])
            raise UsageError(f"no session {', '.join(wanted)} in the traces", hint=f"found: {ids}")
        return chosen, notes
    named = [a for a in found if _matches(a.session.id, preferred)] if preferred else []
    if named:
        return named, notes
    if len(found) > 1:
        notes.append(
            f"the traces hold {len(found)} sessions; all are used (pick one with --session ID)"
        )
    return found, notes


def _matches(session_id: str, wanted: Sequence[str]) -> bool:
    return any(session_id == w or (len(w) >= 6 and session_id.startswith(w)) for w in wanted)


def runbook_checks(
    incident: Any, runbooks_dir: Path | None, values: dict[str, object]
) -> list[CheckSpec]:
    """The verification checks of the incident's runbook, rendered (values per argument)."""
    from agentir.runbooks import load_dir, load_runbook

    runbook = None
    recorded = Path(incident.runbook) if getattr(incident, "runbook", None) else None
    if runbooks_dir is None and recorded is not None and recorded.is_file():
        try:
            runbook = load_dir(recorded.parent).get(incident.severity)
        except ConfigError:
            runbook = None
    if runbook is None:
        runbook = load_runbook(incident.severity, runbooks_dir)
    return [
        CheckSpec(c.name, tuple(runbook.render_check(c, values)), c.timeout) for c in runbook.checks
    ]


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


@dataclass
class Sink:
    """Timeline, evidence and checklist: the incident's, or a folder's."""

    incident: str | None = None
    out: Path | None = None
    entries: list[dict[str, Any]] = field(default_factory=list)
    _store: Any = None

    def __post_init__(self) -> None:
        if self.incident is not None:
            from agentir.incidents.store import IncidentStore

            self._store = IncidentStore()
            self.incident = self._store.resolve(self.incident)

    def record(self, action: str, details: dict[str, Any]) -> None:
        """One timeline entry (secrets in details redacted)."""
        clean = _redacted(json.loads(json.dumps(details, default=str)))
        self.entries.append({"action": action, "details": clean})
        if self._store is not None:
            self._store.append(self.incident, action, clean)

    def mark_remediated(self, branch: str | None, verified: bool | None) -> bool:
        """Move the incident to `remediated` (the deploy gate still wants the reverts merged)."""
        if self._store is None:
            return False
        incident = self._store.get(self.incident)
        if incident.status not in ("open", "contained"):
            return False
        proof = {True: "the checks pass on it", None: "no verification check was configured"}
        self._store.set_status(
            self.incident,
            "remediated",
            reason=f"agent commits reverted on {branch}; {proof[verified]}",
            details={"branch": branch, "verified": verified},
        )
        return True

    def folder(self) -> Path:
        """Where evidence goes without an incident (created on first use)."""
        if self.out is None:
            self.out = Path(tempfile.mkdtemp(prefix="agentir-remediate-"))
        self.out.mkdir(parents=True, exist_ok=True)
        return self.out

    def preserve(self, folder: Path) -> str:
        """Keep a folder of evidence: in the incident's evidence/, or under --out."""
        if self._store is not None:
            record, _ = self._store.add_evidence(self.incident, folder)
            return str(self._store.path(self.incident) / "evidence" / record.name)
        dest = self.folder() / folder.name
        shutil.copytree(folder, dest, dirs_exist_ok=True)
        return str(dest)

    def add_checklist(self, drafts: Sequence[ChecklistDraft]) -> list[str]:
        """Put the drafts on the incident (only new ids). Returns the ids added."""
        if self._store is None or not drafts:
            return []
        from agentir.incidents.records import ChecklistItem

        added: list[str] = []

        def change(incident: Any) -> dict[str, Any]:
            fresh = set(merge_into((i.to_dict() for i in incident.checklist), drafts))
            for draft in drafts:
                if draft.id in fresh:
                    incident.checklist.append(ChecklistItem.from_dict(draft.to_item()))
                    added.append(draft.id)
            return {"added": list(added), "items": [d.to_item() for d in drafts if d.id in fresh]}

        self._store.update(self.incident, change, action="remediate.checklist")
        return added

    def incident_record(self) -> Any:
        """The incident (for runbook checks and template values)."""
        return self._store.get(self.incident) if self._store is not None else None

    def incident_traces(self) -> list[Path]:
        """The incident's traces; a trace gone from its place is read from the evidence copy."""
        if self._store is None:
            return []
        copies = {r.path: r.name for r in self._store.evidence(self.incident)}
        evidence = self._store.path(self.incident) / "evidence"
        out: list[Path] = []
        for trace in self._store.get(self.incident).traces:
            path = Path(trace)
            if not path.exists() and trace in copies:
                path = evidence / copies[trace]
            out.append(path)
        return out

    def incident_dir(self) -> str | None:
        """The incident's folder."""
        return str(self._store.path(self.incident)) if self._store is not None else None


def plan_summary(plan: Any) -> dict[str, Any]:
    """What goes on the timeline as `remediate.planned`."""
    return {
        "target_branch": plan.target_branch,
        "base": plan.base_commit,
        "reverts": [{"sha": c.sha, "reasons": [r.kind for r in c.reasons]} for c in plan.reverts],
        "other_agent": [c.sha for c in plan.other_agent],
        "conflicts": [{"sha": c.sha, "kind": c.kind, "files": list(c.files)} for c in plan.conflicts],
        "uncommitted_agent_files": [p for p, _ in plan.uncommitted.agent_files],
    }  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    """What one remediation run did."""

    result: Any  # agentir.actions.revert.ApplyResult
    checklist_added: list[str]
    remediated: bool  # the incident moved to `remediated`


def remediate(
    repo: Any, plan: Any, options: Any, sink: Sink, scratch_root: Path | None = None
) -> Outcome:
    """Record the plan, revert on the new branch, add the checklist, and mark the incident
    remediated when every agent commit was reverted and no check fails."""
    from agentir.actions.revert import apply_plan

    sink.record("remediate.planned", plan_summary(plan))
    scratch = Path(tempfile.mkdtemp(prefix="agentir-scratch-", dir=scratch_root))
    try:
        result = apply_plan(
            repo, plan, options, record=sink.record, preserve=sink.preserve, scratch=scratch
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    added = sink.add_checklist(plan.checklist)
    done = result.verified is not False and bool(result.branch) and not result.skipped
    return Outcome(result, added, done and sink.mark_remediated(result.branch, result.verified))
