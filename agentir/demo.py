"""`agentir demo`: the whole response, on a bundled incident, in a scratch folder.

The scenario is the shipped drill scenario `force-push-leak`: a Claude Code session that loops
on a failing test, writes outside its scope and leaks a (fake) token. The demo builds its
repository and trace, starts a stand-in agent process, then contains it (pause), assesses the
trace, reverts the agent's commit on a new branch and writes the review; at the end the paused
agent is killed through containment and the demo proves nothing of the session still runs. It uses its own AGENTIR_HOME inside the output folder, needs no network, runs no
runbook command that reaches an external system, and leaves no process behind.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentir.errors import AgentirError, UsageError
from agentir.scenarios.build import FAKE_GITHUB_TOKEN, Workspace

DEMO_SCENARIO = "force-push-leak"
FAKE_TOKEN = FAKE_GITHUB_TOKEN
PHASES = ("contain", "assess", "remediate", "review")
# The demo repository's passing test: proves the reverted branch still works, runs offline and
# needs nothing but Python (-B: no bytecode files in the worktree).
DEMO_CHECK = ("-B", "-m", "unittest", "-q", "tests.test_login.LoginTest.test_accepts_good_password")

Progress = Callable[[str], None]


@dataclass
class Phase:
    """What one phase of the demo came to."""

    name: str
    status: str = "not run"  # done | failed | skipped | not run
    summary: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class DemoResult:
    """Everything the demo did and where it left it."""

    out: Path
    workspace: Workspace | None = None
    incident: str | None = None
    phases: list[Phase] = field(default_factory=list)
    review: dict[str, str] = field(default_factory=dict)
    processes_left: list[int] = field(default_factory=list)
    killed: bool | None = None  # the closing `contain --kill` proved the session gone

    @property
    def ok(self) -> bool:
        """Every phase done and nothing left running."""
        return all(p.status == "done" for p in self.phases) and not self.processes_left

    def phase(self, name: str) -> Phase:
        """The phase called `name`."""
        return next(p for p in self.phases if p.name == name)


def demo_scenario() -> Any:
    """The bundled scenario (always the shipped one, never a team's override)."""
    from agentir.drills import parse_scenario
    from agentir.resources import shipped_dir

    path = shipped_dir("runbooks") / "scenarios" / f"{DEMO_SCENARIO}.yaml"
    scenario, errors = parse_scenario(path)
    if scenario is None:
        raise AgentirError(f"the bundled demo scenario is invalid: {errors[0]}")
    return scenario


def prepare_out(out: Path) -> Path:
    """The output folder, which must be new or empty (the demo writes a repository into it)."""
    out = out.expanduser()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"{out} is not an empty folder", hint="pass --out with a new folder")
    out.mkdir(parents=True, exist_ok=True)
    return out.resolve()


def run_demo(
    out: Path, *, keep_going: bool = False, progress: Progress = lambda _: None
) -> DemoResult:
    """Run every phase in `out` (an empty folder); see the module docstring."""
    from agentir.incidents.store import IncidentStore
    from agentir.scenarios.build import build_workspace
    from agentir.scenarios.lifecycle import missing_modules, scoped_home
    from agentir.scenarios.standin import start_stand_in

    result = DemoResult(out=out, phases=[Phase(name) for name in PHASES])
    missing = missing_modules()
    scenario = demo_scenario()
    progress(f"building the scenario in {out}: a git repository and the agent's trace")
    ws = build_workspace(scenario, out)
    result.workspace = ws
    home = out / "home"
    stand_in = None
    with scoped_home(home):
        store = IncidentStore(home)
        try:
            progress("starting a stand-in agent process for the session")
            stand_in = start_stand_in(ws.session_id, ws.repo)
            steps: list[tuple[str, Callable[[], None]]] = [
                ("contain", lambda: _contain(result, store, scenario, stand_in)),
                ("assess", lambda: _assess(result, store)),
                ("remediate", lambda: _remediate(result, store, stand_in)),
                ("review", lambda: _review(result, store)),
            ]
            for number, (name, step) in enumerate(steps, 1):
                phase = result.phase(name)
                if name in missing:
                    phase.status, phase.summary = "skipped", missing[name]
                elif name != "contain" and name != "assess" and result.incident is None:
                    phase.status, phase.summary = "skipped", "no incident: contain did not open one"
                elif _stopped(result) and not keep_going:
                    phase.summary = "an earlier phase failed (--keep-going runs the rest anyway)"
                else:
                    progress(f"[{number}/{len(steps)}] {name} ...")
                    _run(phase, step, keep_going)
                why = f" ({phase.summary})" if phase.status != "done" else ""
                progress(f"[{number}/{len(steps)}] {name}: {phase.status}{why}")
        finally:
            if stand_in is not None:
                progress("stopping the paused agent for good (kill) and checking nothing is left")
                result.killed = _kill(store, result.incident, ws) if result.incident else None
                result.processes_left = _final_stop(stand_in, ws)
    return result


def _stopped(result: DemoResult) -> bool:
    return any(p.status == "failed" for p in result.phases)


def _run(phase: Phase, step: Callable[[], None], keep_going: bool) -> None:
    try:
        step()
        phase.status = "done"
    except AgentirError as exc:
        phase.status, phase.summary = "failed", exc.message
    except Exception as exc:  # keep going means: a bug in one phase must not hide the others
        if not keep_going:
            raise
        phase.status, phase.summary = "failed", f"internal error: {type(exc).__name__}: {exc}"


def _contain(result: DemoResult, store: Any, scenario: Any, stand_in: Any) -> None:
    from agentir.scenarios.lifecycle import contain_session

    ws = result.workspace
    assert ws is not None
    outcome = contain_session(
        store, ws, severity=scenario.severity, title=f"Demo: {scenario.title}",
        runbooks_dir=_shipped_runbooks(),
    )  # fmt: skip
    result.incident = outcome.incident_id
    paused = stand_in.stopped()
    phase = result.phase("contain")
    phase.details = {
        "incident": outcome.incident_id,
        "paused": paused,
        "contained": outcome.contained,
        "declined": [o.step_id for o in outcome.revocations if o.status == "declined"],
        "frozen": list(outcome.freeze_commits),
    }
    if not outcome.contained or sorted(paused) != sorted(stand_in.pids):
        raise AgentirError(
            f"the stand-in agent is not paused (paused: {paused}, pids: {stand_in.pids})"
        )
    phase.summary = (
        f"paused {len(paused)} processes of session {ws.session_id[:8]} (pids "
        f"{', '.join(map(str, paused))}); incident {outcome.incident_id} ({scenario.severity}); "
        f"deploys of {len(outcome.freeze_commits)} commit(s) frozen; revocations left to a person"
    )


def _assess(result: DemoResult, store: Any) -> None:
    from agentir.actions.builtins import run_builtin
    from agentir.analysis.assess import assess_trace
    from agentir.analysis.detectors import observer_factory
    from agentir.runbooks import load_runbook

    ws = result.workspace
    assert ws is not None
    assessment = assess_trace(ws.trace, observers=observer_factory()).sessions[0]
    if result.incident is not None:  # record the runbook's assess step (and keep the evidence)
        runbook = load_runbook(store.get(result.incident).severity, _shipped_runbooks())
        step = next((s for s in runbook.steps("assess") if s.builtin == "assess"), None)
        if step is not None:
            run_builtin(store, result.incident, runbook, step, confirm=lambda c: False)
    files = [f.path for f in assessment.files if f.done]
    detectors = sorted({f.detector for f in assessment.findings})
    leaked = sorted({e.target for e in assessment.effects if e.kind == "secret_exposure"})
    result.phase("assess").details = {
        "files": files,
        "findings": [{"detector": f.detector, "severity": f.severity, "message": f.message}
                     for f in assessment.findings],
        "secrets": leaked,
        "suggested_severity": assessment.severity.suggested,
    }  # fmt: skip
    result.phase("assess").summary = (
        f"{len(files)} files changed ({', '.join(files)}); findings: {', '.join(detectors)}; "
        f"leaked {', '.join(leaked) or 'nothing'}; suggested {assessment.severity.suggested}"
    )


def _remediate(result: DemoResult, store: Any, stand_in: Any) -> None:
    from agentir.actions.verify import CheckSpec
    from agentir.scenarios.lifecycle import remediate_workspace

    ws, ref = result.workspace, result.incident
    assert ws is not None and ref is not None
    check = CheckSpec("the login test that passed before", (sys.executable, *DEMO_CHECK), 120.0)
    done = remediate_workspace(ws, ref, checks=[check])
    phase = result.phase("remediate")
    phase.details = {
        "branch": done.branch,
        "reverted": [{"commit": a, "revert": b, "subject": s} for a, b, s in done.reverted],
        "verified": done.verified,
        "checklist": list(done.checklist),
    }
    if not done.reverted:
        raise AgentirError("no agent commit was reverted", hint="; ".join(done.notes))
    subjects = ", ".join(f"{a[:8]} {s}" for a, _, s in done.reverted)
    check_text = {True: "the check passes", False: "the check FAILS", None: "no check ran"}
    phase.summary = (
        f"{done.branch} reverts {len(done.reverted)} agent commit(s) ({subjects}); "
        f"{check_text[done.verified]}; {len(done.checklist)} item(s) git cannot undo on the checklist"
    )
    if done.verified is False:
        raise AgentirError(f"the check fails on {done.branch}")


def _review(result: DemoResult, store: Any) -> None:
    from agentir.scenarios.lifecycle import render_review

    assert result.incident is not None
    md, html = render_review(store, result.incident, result.out)
    result.review = {"md": str(md), "html": str(html)}
    result.phase("review").details = dict(result.review)
    result.phase("review").summary = f"written to {md} and {html.name}"


def _kill(store: Any, incident: str, ws: Workspace) -> bool:
    """Containment's last step, recorded on the incident: the paused agent must not survive."""
    from agentir.actions.contain_steps import contain_processes
    from agentir.actions.processes import SessionSelector

    try:
        selector = SessionSelector(session_id=ws.session_id)
        return contain_processes(store, incident, selector, "kill", 2.0, step=None, actor=None).ok
    except AgentirError:
        return False


def _final_stop(stand_in: Any, ws: Workspace) -> list[int]:
    """Kill whatever of the stand-in is left, then prove nothing of the session runs."""
    from agentir.actions.process_tree import find_session_processes
    from agentir.actions.processes import SessionSelector

    left = stand_in.stop()
    found = find_session_processes(SessionSelector(session_id=ws.session_id)).processes
    return sorted(set(left) | {p.pid for p in found if p.status != "zombie"})


def _shipped_runbooks() -> Path:
    from agentir.resources import shipped_dir

    return shipped_dir("runbooks")
