"""Practise a runbook step on a drill's scratch workspace: the real builtins, never real systems.

Every value a step is given (trace, repository, incident folder, session cwd) is a path in the
scratch workspace, and that is checked before anything runs. Builtins that act locally run for
real on the scratch (contain on the stand-in agent, credentials listing, freeze, assess, the
revert plan and branch, verification checks, the review draft). Revocations and sharing reach
outside and are only shown. Command steps run when they are `agentir` commands (against the
scratch store); any other command is shown with its scratch values, not run.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentir.errors import AgentirError
from agentir.scenarios.build import Workspace
from agentir.scenarios.lifecycle import DRILL_ACTOR, scoped_home

PATH_VALUES = ("incident.dir", "session.cwd", "trace", "repo")
TRACE_BUILTINS = ("assess", "credentials.list", "freeze")
SHOWN_ONLY = {
    "credentials.revoke": "revocations reach real systems; in a drill they are only shown",
    "share": "sharing publishes outside the scratch folder; in a drill it is only shown",
}
COMMAND_TIMEOUT = 120.0


@dataclass(frozen=True)
class Practice:
    """What practising one step came to: done | failed | shown | discussed."""

    status: str
    lines: tuple[str, ...] = ()
    trace_failure: bool = False

    @property
    def failed(self) -> bool:
        """Whether the step did not work when practised."""
        return self.status == "failed"


class Practiser:
    """Runs steps against one workspace, its scratch incident store and its incident."""

    def __init__(
        self, ws: Workspace, store: Any, incident: str, runbook: Any, out_dir: Path
    ) -> None:
        self.ws = ws
        self.store = store
        self.incident = incident
        self.runbook = runbook
        self.out_dir = out_dir

    def values(self) -> dict[str, object]:
        """The template values, every path checked to be inside the scratch workspace."""
        from agentir.actions.steps import template_values

        ws = self.ws
        values = template_values(
            self.store.get(self.incident),
            incident_dir=self.store.path(self.incident),
            session={"id": ws.session_id, "cwd": str(ws.repo), "agent": ws.agent},
            trace=str(ws.trace),
            repo=str(ws.repo),
            commit=ws.agent_commits[-1] if ws.agent_commits else None,
            actor=DRILL_ACTOR,
            now=self.store.now(),
        )
        for key in PATH_VALUES:
            if key in values:
                ws.ensure_inside(str(values[key]), f"{{{key}}}")
        return values

    def practise(self, step: Any) -> Practice:
        """Practise `step` on the scratch; never raises for a step that does not work."""
        self.ws.ensure_inside(self.store.home, "incident store")
        try:
            # HOME too: a command looking for agent traces under ~ must find the scratch only
            with scoped_home(self.store.home, user_home=self.ws.root):
                if step.kind == "manual":
                    return Practice("discussed", ("a manual step: the team says what it did",))
                if step.kind == "command":
                    return self._command(step)
                return self._builtin(step)
        except AgentirError as exc:
            return self._failed(step, exc.message)

    def _failed(self, step: Any, message: str) -> Practice:
        trace = step.builtin in TRACE_BUILTINS and (
            not self.ws.trace.exists() or "trace" in message
        )
        return Practice("failed", (message,), trace_failure=trace)

    def _command(self, step: Any) -> Practice:
        from agentir.actions.steps import plan_command, run_command

        planned = plan_command(self.runbook, step, self.values())
        if planned.argv is None:
            return Practice("failed", (f"the command cannot be rendered: {planned.error}",))
        if planned.argv[0] != "agentir":
            return Practice(
                "shown", (f"$ {planned.shown}", "not run: it reaches outside the drill's scratch")
            )
        argv = (sys.executable, "-m", "agentir", *planned.argv[1:])
        runnable = type(planned)(planned.step_id, planned.title, argv, None,
                                 planned.needs_confirmation, planned.on_failure)  # fmt: skip
        outcome = run_command(runnable, timeout=COMMAND_TIMEOUT, cwd=self.ws.repo)
        lines = (f"$ {planned.shown}", *outcome.output.splitlines()[-12:])
        if outcome.status != "done":
            tail = outcome.output.strip().splitlines()[-1:] if outcome.output.strip() else []
            why = ": ".join([outcome.error or "failed", *tail])
            return Practice("failed", (*lines, why))
        return Practice("done", lines)

    def _builtin(self, step: Any) -> Practice:
        name = step.builtin or ""
        if name in SHOWN_ONLY:
            return Practice("shown", (*self._revocations(name), SHOWN_ONLY[name]))
        if name in ("contain.pause", "contain.kill", *TRACE_BUILTINS):
            from agentir.actions.builtins import run_builtin

            run = run_builtin(
                self.store,
                self.incident,
                self.runbook,
                step,
                confirm=lambda c: False,
                actor=DRILL_ACTOR,
            )
            status = {"done": "done", "failed": "failed"}.get(run.result, "failed")
            if status == "failed":
                return self._failed(step, "; ".join(run.lines) or f"{name} failed")
            return Practice(status, tuple(run.lines))
        if name == "remediate.plan":
            return self._plan()
        if name == "remediate.apply":
            return self._apply()
        if name == "verify":
            return self._verify()
        if name == "review":
            return self._review()
        return Practice("failed", (f"builtin {name!r} is not known to this agentir",))

    def _revocations(self, name: str) -> list[str]:
        from agentir.actions.steps import plan_command

        if name != "credentials.revoke":
            return []
        values = self.values()
        return [
            f"{s.id}: $ {plan_command(self.runbook, s, values).shown}"
            for s in self.runbook.steps("contain")
            if s.kind == "command"
        ]

    def _plan(self) -> Practice:
        from agentir.actions.remediation import load_sessions
        from agentir.actions.revert_plan import build_plan
        from agentir.gitrepo import GitRepo

        if not self.ws.trace.exists():
            return Practice("failed", ("the trace is not available yet",), trace_failure=True)
        sessions, _ = load_sessions([self.ws.trace], [self.ws.session_id])
        plan = build_plan(
            GitRepo(self.ws.repo), sessions, label=self.incident, incident=self.incident
        )
        lines = [f"revert {c.sha[:12]} {c.subject}" for c in plan.reverts]
        lines += [f"keep {c.sha[:12]} {c.subject} (not the agent's)" for c in plan.kept[:5]]
        lines.append(
            f"on a new branch {plan.target_branch}; {len(plan.checklist)} item(s) git cannot undo"
        )
        return Practice("done", tuple(lines))

    def _apply(self) -> Practice:
        from agentir.scenarios.lifecycle import remediate_workspace

        if not self.ws.trace.exists():
            return Practice("failed", ("the trace is not available yet",), trace_failure=True)
        done = remediate_workspace(self.ws, self.incident, stash=True)
        lines = [f"reverted {a[:12]} {s} with {b[:12]}" for a, b, s in done.reverted]
        lines.append(f"branch {done.branch}" if done.branch else "nothing to revert")
        return Practice("done", (*lines, *done.notes[:3]))

    def _verify(self) -> Practice:
        from agentir.actions.revert_engine import throwaway_worktree
        from agentir.actions.revert_plan import target_branch_for
        from agentir.actions.verify import CheckSpec, run_checks
        from agentir.gitrepo import GitRepo

        values = self.values()
        checks = [CheckSpec(c.name, tuple(self.runbook.render_check(c, values)), min(c.timeout, 300.0))
                  for c in self.runbook.checks]  # fmt: skip
        if not checks:
            return Practice("failed", ("the runbook has no verification checks",))
        repo = GitRepo(self.ws.repo)
        branch = target_branch_for(self.incident)
        if not repo.branch_exists(branch):
            return Practice(
                "failed",
                (f"no branch {branch}: no earlier step reverted anything (remediate.apply)",),
            )
        # The checks see agentir's own Python first on PATH, as in an activated environment.
        path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
        with throwaway_worktree(repo, f"refs/heads/{branch}") as worktree:
            self.ws.ensure_inside(worktree, "worktree")
            results = run_checks(checks, worktree, "verify", env={"PATH": path})
        lines = tuple(
            f"{r.name}: {'passes' if r.ok else 'FAILS'}"
            + ("" if r.ok else f" ({r.error or r.output_tail.strip()[-200:]})")
            for r in results
        )
        return Practice("done" if all(r.ok for r in results) else "failed", lines)

    def _review(self) -> Practice:
        from agentir.scenarios.lifecycle import missing_modules, render_review

        missing = missing_modules().get("review")
        if missing:
            return Practice("failed", (missing,))
        md, html = render_review(self.store, self.incident, self.out_dir, start=self.ws.root)
        return Practice("done", (f"review draft written to {md} and {html.name}",))
