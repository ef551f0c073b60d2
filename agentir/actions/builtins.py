"""Runbook builtin steps as `agentir respond` runs them, on an incident's sessions and traces.

contain.*, credentials.*, freeze and assess run here. The others belong to other commands
(remediate.plan / remediate.apply / verify to `agentir remediate INCIDENT --dry-run / --yes /
--verify-only`, review to `agentir review INCIDENT`, share to `agentir incident share
INCIDENT`): when that command exists in this build (its --help works and lists the options)
it runs as a subprocess and its exit code decides; otherwise the step says which command to
run and stays pending ("later").
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentir.actions.contain_steps import contain_processes, run_revocations
from agentir.actions.credentials import detector_observers, scan_trace
from agentir.actions.freeze import apply_freeze, finder_commits, plan_freeze
from agentir.actions.process_tree import MIN_SESSION_ID_LEN
from agentir.actions.processes import SessionSelector
from agentir.actions.steps import (
    OUTPUT_LIMIT,
    PlannedCommand,
    clean_text,
    incident_values,
    plan_command,
)
from agentir.errors import AgentirError

# builtin -> (the command's words after `agentir`, its arguments, the options it must have)
DELEGATED: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "remediate.plan": (("remediate",), ("{id}", "--dry-run"), ("--dry-run",)),
    "remediate.apply": (("remediate",), ("{id}", "--yes"), ("--yes",)),
    "verify": (("remediate",), ("{id}", "--verify-only"), ("--verify-only",)),
    "review": (("review",), ("{id}",), ()),
    "share": (("incident", "share"), ("{id}",), ()),
}


@dataclass(frozen=True)
class StepRun:
    """What one builtin came to: done | failed | later (not available here), and what to say."""

    result: str
    lines: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)


def run_builtin(
    store: Any,
    ref: str,
    runbook: Any,
    step: Any,
    *,
    confirm: Callable[[PlannedCommand], bool],
    actor: str | None = None,
    done_steps: frozenset[str] = frozenset(),
) -> StepRun:
    """Dispatch one builtin step; everything it does is recorded on the incident."""
    name = step.builtin or ""
    try:
        if name in ("contain.pause", "contain.kill"):
            return _contain(store, ref, step, "kill" if name == "contain.kill" else "pause", actor)
        if name == "credentials.list":
            return _credentials(store, ref, step, actor)
        if name == "credentials.revoke":
            return _revoke(store, ref, runbook, confirm, actor, done_steps)
        if name == "freeze":
            return _freeze(store, ref, step, actor)
        if name == "assess":
            return _assess(store, ref, step, actor)
        if name in DELEGATED:
            return _delegate(store, ref, name)
    except AgentirError as exc:
        return StepRun("failed", (f"{name}: {exc.message}",), {"error": exc.message})
    return StepRun("later", (f"builtin {name!r} is not known to this agentir",))


def _traces(store: Any, ref: str) -> list[Path]:
    return [Path(t) for t in store.get(ref).traces if Path(t).exists()]


def _contain(store: Any, ref: str, step: Any, mode: Any, actor: str | None) -> StepRun:
    incident = store.get(ref)
    selectors = [
        SessionSelector(session_id=s) for s in incident.sessions if len(s) >= MIN_SESSION_ID_LEN
    ]
    selectors += [SessionSelector(trace_path=t) for t in _traces(store, ref)]
    if not selectors:
        return StepRun("failed", ("the incident names no session or trace to contain",))
    lines: list[str] = []
    ok = True
    for selector in selectors:
        result = contain_processes(store, ref, selector, mode, 5.0, step=step, actor=actor)
        ok = ok and result.ok
        lines += str(result).splitlines()
    return StepRun("done" if ok else "failed", tuple(lines), {"mode": mode})


def _credentials(store: Any, ref: str, step: Any, actor: str | None) -> StepRun:
    traces = _traces(store, ref)
    if not traces:
        return StepRun("failed", ("the incident has no trace to read credentials from",))
    lines: list[str] = []
    for trace in traces:
        for _, report in scan_trace(trace):
            creds = [
                {"kind": c.kind, "name": c.name, "detail": c.detail, "count": c.count,
                 "evidence": [{"seq": e.seq, "source": e.source} for e in c.evidence]}
                for c in report.credentials
            ]  # fmt: skip
            store.append(
                ref,
                "credentials.listed",
                {"step": step.id, "result": "done", "session": report.session_id,
                 "count": len(creds), "credentials": creds},
                actor,
            )  # fmt: skip
            lines += [f"{c['kind']} {c['name']}: {c['detail']}" for c in creds]
    return StepRun("done", tuple(lines) or ("no credential seen in the traces",))


def _revoke(
    store: Any,
    ref: str,
    runbook: Any,
    confirm: Callable[[PlannedCommand], bool],
    actor: str | None,
    done_steps: frozenset[str],
) -> StepRun:
    values = incident_values(store, ref, actor)
    commands = [
        plan_command(runbook, s, values)
        for s in runbook.steps("contain")
        if s.kind == "command" and s.id not in done_steps
    ]
    outcomes, _ = run_revocations(store, ref, runbook, commands, confirm, actor)
    failed = [o.step_id for o in outcomes if o.status == "failed"]
    lines = tuple(f"{o.step_id}: {o.status}" for o in outcomes) or ("no revocation command left",)
    return StepRun("failed" if failed else "done", lines, {"failed": failed})


def _freeze(store: Any, ref: str, step: Any, actor: str | None) -> StepRun:
    refs: list[str] = []
    found: list[str] = []
    repo: Path | None = None
    for trace in _traces(store, ref):
        for assessment, _ in scan_trace(trace):
            refs += assessment.commit_refs
            cwd = assessment.session.cwd
            if repo is None and cwd and Path(cwd).is_dir():
                repo = Path(cwd)
            found += finder_commits(repo, assessment)[0]
    incident = store.get(ref)
    if repo is None and incident.freeze.repo:
        repo = Path(incident.freeze.repo)
    plan = plan_freeze(trace_refs=refs, finder=found, repo=repo)
    if not plan.commits and not incident.freeze.commits:
        return StepRun(
            "failed",
            ("no commit of the session is known: `agentir contain SESSION --commit SHA` adds one",),
        )
    apply_freeze(store, ref, plan, step=step.id, actor=actor)
    commits = store.get(ref).freeze.commits
    return StepRun("done", (f"deploy freeze on {', '.join(c[:12] for c in commits)}",))


def _assess(store: Any, ref: str, step: Any, actor: str | None) -> StepRun:
    traces = _traces(store, ref)
    if not traces:
        return StepRun("failed", ("the incident has no trace to assess",))
    lines: list[str] = []
    sessions = []
    for trace in traces:
        store.add_evidence(ref, trace, actor=actor)
        for a, _ in scan_trace(trace, detector_observers()):
            sessions.append(
                {
                    "id": a.session.id,
                    "agent": a.session.agent,
                    "trace": str(trace),
                    "suggested_severity": a.severity.suggested,
                    "reasons": list(a.severity.reasons[:5]),
                    "tool_calls": a.counts.tool_calls,
                    "files": len(a.files),
                    "commands": len(a.commands),
                    "effects": len(a.effects),
                    "findings": len(a.findings),
                }
            )
            lines.append(
                f"{a.session.id}: {len(a.files)} file(s), {len(a.commands)} command(s), "
                f"{len(a.effects)} external effect(s); suggested {a.severity.suggested or '-'}"
            )
    store.append(
        ref, "assess.done", {"step": step.id, "result": "done", "sessions": sessions}, actor
    )
    lines.append(f"full view: agentir assess {traces[0]}")
    return StepRun("done", tuple(lines))


def _delegate(store: Any, ref: str, name: str) -> StepRun:
    words, args, needs = DELEGATED[name]
    argv = [*words, *(a.replace("{id}", ref) for a in args)]
    shown = "agentir " + " ".join(argv)
    base = [sys.executable, "-m", "agentir"]
    code, helptext = _run([*base, *words, "--help"], timeout=120)
    if code != 0:
        return StepRun("later", (f"run `{shown}` (not available in this build yet)",))
    missing = [opt for opt in needs if opt not in helptext]
    if missing:
        return StepRun(
            "later", (f"run `agentir {' '.join(words)}` yourself ({', '.join(missing)} unknown)",)
        )
    code, output = _run([*base, *argv])
    lines = (f"$ {shown}", *output.splitlines()[-20:])
    details = {"argv": argv, "exit_code": code, "output": output}
    return StepRun("done" if code == 0 else "failed", lines, details)


def _run(argv: list[str], timeout: float = 3600) -> tuple[int, str]:
    proc = subprocess.run(
        argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False, timeout=timeout
    )
    return proc.returncode, clean_text(proc.stdout + proc.stderr, OUTPUT_LIMIT)
