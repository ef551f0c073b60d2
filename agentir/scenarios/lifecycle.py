"""The response phases run on a scenario workspace, through the real commands' core functions.

Shared by `agentir demo` and `agentir drill run`. Everything acts on the workspace only: its
incident store (a private AGENTIR_HOME inside the workspace), its repository and its trace.
Runbook commands that reach external systems (revoking cloud sessions, deleting tokens) are
never run here; they are recorded as declined.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentir.scenarios.build import Workspace

DRILL_ACTOR = "agentir-drill"


@contextlib.contextmanager
def scoped_home(home: Path, user_home: Path | None = None) -> Iterator[Path]:
    """Point AGENTIR_HOME at `home` (and HOME at `user_home`, when given) while the block runs,
    so code and commands that open the default store, or look for agent traces under ~, see
    the scratch ones; put the previous values back after."""
    wanted = {"AGENTIR_HOME": str(home)}
    if user_home is not None:
        wanted["HOME"] = str(user_home)
    before = {key: os.environ.get(key) for key in wanted}
    os.environ.update(wanted)
    try:
        yield home
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def missing_modules() -> dict[str, str]:
    """Phases whose modules are not importable in this build, and why."""
    import importlib

    needed = {
        "contain": ("agentir.actions.containment",),
        "assess": ("agentir.analysis.assess",),
        "remediate": ("agentir.actions.revert", "agentir.actions.revert_plan", "agentir.gitrepo"),
        "review": ("agentir.review.context", "agentir.review.load", "agentir.render.report"),
    }
    out: dict[str, str] = {}
    for phase, modules in needed.items():
        for name in modules:
            try:
                importlib.import_module(name)
            except ImportError as exc:
                out[phase] = f"{name} is not available in this build ({exc})"
                break
    return out


def contain_session(
    store: Any,
    ws: Workspace,
    *,
    severity: str,
    title: str,
    mode: str = "pause",
    runbooks_dir: Path | None = None,
    actor: str | None = None,
) -> Any:
    """`agentir contain SESSION --trace T`: open the incident, stop the session's processes,
    list its credentials, freeze its commits. Revocation commands are declined."""
    from agentir.actions.containment import ContainRequest, apply_contain, plan_contain

    ws.ensure_inside(ws.trace, "trace")
    ws.ensure_inside(ws.repo, "repository")
    request = ContainRequest(
        session_id=ws.session_id,
        trace=ws.trace,
        severity=severity,
        mode="kill" if mode == "kill" else "pause",
        grace=2.0,
        repo=ws.repo,
        runbooks_dir=runbooks_dir,
        title=title,
    )
    plan = plan_contain(request, store)
    # Only commands that ask for a confirmation can be declined; the rest are not run at all.
    plan = dataclasses.replace(
        plan, revocations=tuple(c for c in plan.revocations if c.needs_confirmation)
    )
    return apply_contain(plan, store, confirm=lambda command: False, actor=actor)


@dataclass(frozen=True)
class Remediation:
    """What remediating a workspace came to."""

    branch: str | None
    reverted: tuple[tuple[str, str, str], ...]  # (agent commit, revert commit, subject)
    kept: tuple[str, ...]  # commits found but not reverted (humans')
    verified: bool | None
    checklist: tuple[str, ...]
    notes: tuple[str, ...]


def remediate_workspace(
    ws: Workspace, incident: str, *, checks: Sequence[Any] = (), stash: bool = False
) -> Remediation:
    """`agentir remediate INCIDENT --repo R --trace T --yes`: plan and revert the agent's
    commits on `agentir/revert-<incident>`; AGENTIR_HOME must point at the workspace store."""
    from agentir.actions.remediation import Sink, load_sessions, remediate
    from agentir.actions.revert import ApplyOptions
    from agentir.actions.revert_plan import build_plan
    from agentir.gitrepo import GitRepo

    ws.ensure_inside(ws.repo, "repository")
    ws.ensure_inside(ws.trace, "trace")
    sessions, notes = load_sessions([ws.trace], [ws.session_id])
    repo = GitRepo(ws.repo)
    ws.ensure_inside(repo.root, "repository root")
    plan = build_plan(repo, sessions, label=incident, incident=incident)
    sink = Sink(incident)
    options = ApplyOptions(strategy="stop", stash=stash, checks=tuple(checks))
    outcome = remediate(repo, plan, options, sink, scratch_root=ws.root)
    result, added = outcome.result, outcome.checklist_added
    return Remediation(
        branch=result.branch,
        reverted=tuple((r.original, r.revert, r.subject) for r in result.reverted),
        kept=tuple(c.sha for c in plan.kept),
        verified=result.verified,
        checklist=tuple(added),
        notes=tuple([*notes, *plan.warnings, *result.notes]),
    )


def render_review(
    store: Any, incident: str, out_dir: Path, *, start: Path | None = None
) -> tuple[Path, Path]:
    """`agentir review INCIDENT -o review.md` and `-o review.html`: (markdown, html) paths."""
    from agentir.render.report import render_template, template_name
    from agentir.review.publish import keep_rendered, review_context

    # The built-in policy (or one next to the workspace), never the caller's agentir.yaml;
    # rendered with the shipped templates only (no `.agentir/templates/` lookup).
    context = review_context(store, incident, start=start or out_dir)
    written = []
    for fmt in ("md", "html"):
        rendered = render_template("review", context, fmt=fmt)
        target = out_dir / f"review.{fmt}"
        keep_rendered(store, incident, rendered, fmt, output=target,
                      status=context["review"]["status"], template=template_name("review", fmt))  # fmt: skip
        written.append(target)
    return written[0], written[1]
