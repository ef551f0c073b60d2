"""How `agentir remediate` shows a plan, a result and check runs (commit text is untrusted)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from agentir.render.terminal import safe, when

if TYPE_CHECKING:
    from agentir.actions.revert import ApplyResult
    from agentir.actions.revert_plan import PlannedCommit, RevertPlan
    from agentir.actions.verify import CheckResult

LIMIT = 40
_SHORT = {
    "printed_hash": "hash printed in the trace",
    "session_link": "names the session",
    "window": "in the session window",
    "after_start_head": "after the start HEAD",
    "outside": "outside the session window",
    "no_agent_evidence": "no agent marker, other files",
    "merge": "merge: -m 1",
    "include_other": "--include-other",
    "other_agent_marker": "another agent's marker",
}


def short_reason(kind: str, detail: str, overlap: Sequence[str]) -> str:
    """A reason in a few words (the full sentence is in --json)."""
    if kind == "marker":
        return detail.split(":", 1)[0]
    if kind == "paths":
        shown = ", ".join(overlap[:2]) + (" …" if len(overlap) > 2 else "")
        return f"touches {shown}"
    return _SHORT.get(kind, detail)


def _commits(title: str, commits: Sequence[PlannedCommit], pushed: bool) -> RenderableType:
    table = Table(title=title, title_justify="left", show_lines=False, expand=False)
    table.add_column("#", justify="right")
    table.add_column("commit")
    table.add_column("UTC")
    table.add_column("subject")
    table.add_column("why")
    if pushed:
        table.add_column("on remote")
    for i, c in enumerate(commits[:LIMIT], 1):
        reasons = dict.fromkeys(short_reason(r.kind, r.detail, c.overlap) for r in c.reasons)
        why = safe("; ".join(reasons), 160)
        stamp = c.committed_at.strftime("%m-%d %H:%M")
        row: list[RenderableType] = [str(i), c.short[:8], stamp, safe(c.subject, 50), why]
        if pushed:
            row.append(safe(", ".join(c.pushed_to) or "no", 40))
        table.add_row(*row)
    if len(commits) > LIMIT:
        return Group(table, Text(f"… and {len(commits) - LIMIT} more (use --json for all)"))
    return table


def plan_view(plan: RevertPlan) -> Group:
    """The plan as the responder reads it before saying yes."""
    parts: list[RenderableType] = []
    head = Text()
    head.append("repository  ", style="bold")
    head.append_text(safe(plan.repo, 200))
    head.append(
        f"\nbranch      {plan.base_branch or '(detached)'} at {(plan.base_commit or '')[:10]}"
    )
    head.append(f"\nrevert to   {plan.target_branch} (new branch; the current one is untouched)")
    for s in plan.sessions:
        head.append("\nsession     ")
        head.append_text(safe(f"{s.id} ({s.agent})", 80))
        head.append(f" {when(s.started_at)} .. {when(s.ended_at)}; wrote {s.files} file(s); ")
        head.append(f"printed {s.printed} commit hash(es)")
    since = when(plan.since) if plan.since else "the first commit"
    head.append(f"\nscanned     {plan.scanned} commit(s) since {since}")
    parts.append(head)
    if plan.reverts:
        parts.append(_commits("Commits to revert (newest first)", plan.reverts, True))
    else:
        parts.append(Text("No agent commits to revert.", style="bold"))
    if plan.other_agent:
        parts.append(_commits("Other agent commits (left alone; --include-other)", plan.other_agent, False))  # fmt: skip
    if plan.kept:
        parts.append(_commits("Commits in the session window that stay", plan.kept, False))
    parts.append(_conflicts(plan))
    parts.append(_uncommitted(plan))
    extra = Text()
    for sha, present in plan.restore_points:
        state = "present" if present else "not in this repository"
        extra.append(f"restore point (Codex ghost snapshot) {sha[:10]}: {state}\n")
    for ref in plan.unresolved:
        extra.append_text(safe(f"printed hash {ref} is not in this repository\n", 120))
    for sha in plan.off_branch:
        extra.append(
            f"printed commit {sha[:10]} is not in this branch's history (amended? rebased?)\n"
        )
    for w in plan.warnings:
        extra.append_text(safe(f"warning: {w}", 300))
        extra.append("\n")
    if extra:
        parts.append(extra)
    if plan.checklist:
        parts.append(checklist_view(plan))
    return Group(*parts)


def _conflicts(plan: RevertPlan) -> Text:
    text = Text()
    if not plan.conflicts:
        text.append(f"Conflicts: none predicted ({plan.conflicts_checked}).")
        return text
    text.append("Conflicts predicted:\n", style="bold red")
    for c in plan.conflicts:
        what = f"in {', '.join(c.files)}" if c.kind == "conflict" else "nothing left to revert"
        text.append_text(safe(f"  {c.short} {c.subject}: {what}", 300))
        text.append("\n")
    text.append("  --strategy stop aborts on the first; --strategy skip leaves them and goes on.")
    return text


def _uncommitted(plan: RevertPlan) -> Text:
    u = plan.uncommitted
    text = Text()
    if not u.agent_files and not u.other_files:
        text.append("Uncommitted changes: none.")
        return text
    text.append(f"Uncommitted changes by the agent ({len(u.agent_files)}):", style="bold")
    for path, code in u.agent_files[:LIMIT]:
        text.append("\n  ")
        text.append_text(safe(f"{code} {path}", 200))
    if u.other_files:
        text.append(f"\nOther uncommitted changes: {len(u.other_files)} file(s)")
    text.append(
        "\nApplying saves the agent's changes as a patch first; a dirty tree needs --stash."
    )
    return text


def checklist_view(plan: RevertPlan) -> Table:
    """External effects git cannot undo."""
    table = Table(title="What git cannot undo (checklist)", title_justify="left")
    table.add_column("risk")
    table.add_column("to do")
    table.add_column("evidence")
    for d in plan.checklist:
        table.add_row(d.risk, safe(d.text, 240), safe(Path(d.source).name, 60))
    return table


def checks_view(results: Sequence[CheckResult], title: str) -> Table:
    """Check runs: pass / fail, exit code, time, the last output line."""
    table = Table(title=title, title_justify="left")
    table.add_column("check")
    table.add_column("result")
    table.add_column("exit")
    table.add_column("time")
    table.add_column("last output")
    for r in results:
        last = (r.error or "").strip() or (r.output_tail.strip().splitlines() or [""])[-1]
        result = Text("pass", style="green") if r.ok else Text("FAIL", style="bold red")
        table.add_row(
            safe(r.name, 60), result, str(r.exit_code), f"{r.duration_s:.1f}s", safe(last, 100)
        )
    return table


def result_view(result: ApplyResult) -> Group:
    """What apply did."""
    parts: list[RenderableType] = []
    text = Text()
    if result.branch is None:
        text.append("Nothing to revert.")
    else:
        verb = "Finished the interrupted remediation on" if result.resumed else "Created"
        text.append(f"{verb} {result.branch} from {(result.base_commit or '')[:10]}:", style="bold")
        for r in result.reverted:
            text.append(f"\n  {r.revert[:10]} reverts {r.original[:10]} ")
            text.append_text(safe(r.subject, 70))
        for s in result.skipped:
            why = (
                f"conflict in {', '.join(s.files)}"
                if s.kind == "conflict"
                else "nothing left to undo"
            )
            text.append(f"\n  skipped {s.sha[:10]}: {why}")
    if result.saved:
        text.append("\nThe agent's uncommitted changes were saved to ")
        text.append_text(safe(result.saved, 300))
    if result.stash:
        text.append("\nStashed the working tree: ")
        text.append_text(safe(result.stash, 300))
        text.append("\n  get it back with `git stash list` then `git stash apply stash@{N}`")
    parts.append(text)
    if result.before:
        parts.append(checks_view(result.before, "Checks before remediation (the fault)"))
    if result.after:
        parts.append(checks_view(result.after, f"Checks on {result.branch} (known-good?)"))
    return Group(*parts)
