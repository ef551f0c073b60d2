"""`agentir incident tests`: adversarial test suggestions from the diff of the agent's commits,
kept in the incident (`extra.test_suggestions`, which the review renders) with one typed
"prevent" action item per changed function, recorded on the timeline.

The commits are the ones `agentir remediate` would revert (printed hashes, session links,
agent markers in the session window, window + paths). When the session committed nothing, the
session's files still uncommitted in the checkout (`git diff HEAD`) are read instead.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentir.errors import AgentirError, UsageError
from agentir.incidents.records import ActionItem, Incident
from agentir.incidents.store import IncidentStore
from agentir.model import Assessment


@dataclass
class TestsOutcome:
    """What `incident tests` found and stored."""

    incident: str
    repo: str
    commits: list[str] = field(default_factory=list)
    source: str = "commits"  # commits | uncommitted | none
    suggestions: list[dict[str, Any]] = field(default_factory=list)
    action_items: list[dict[str, Any]] = field(default_factory=list)  # the ones added now
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for --json."""
        return dict(self.__dict__)


def _assessments(store: IncidentStore, incident: Incident) -> list[Assessment]:
    from agentir.analysis.assess import assess_trace
    from agentir.analysis.similar import incident_traces
    from agentir.analysis.similar_sessions import is_own

    found: list[Assessment] = []
    for trace in incident_traces(store, incident):
        try:
            found += assess_trace(trace).sessions
        except AgentirError:
            continue
    listed = [a for a in found if is_own(a.session.id, incident.sessions)]
    if not (listed or found):
        raise UsageError(
            f"{incident.id} has no readable trace: its sessions' commits cannot be found",
            hint="attach the trace: agentir incident open --trace, or agentir contain",
        )
    return listed or found


def _next_id(incident: Incident) -> int:
    numbers = [int(i.id[1:]) for i in incident.action_items if i.id[1:].isdigit()]
    return max(numbers, default=0) + 1


def suggest_for_incident(
    store: IncidentStore,
    ref: str,
    repo_path: Path | None = None,
    *,
    limit: int = 20,
    actor: str | None = None,
) -> TestsOutcome:
    """Compute the suggestions, store them on the incident, add the action items."""
    from agentir.actions.agent_commits import default_repo, new_files, open_repo, session_commits
    from agentir.analysis.testgen import Suggestion, suggest_tests

    ref = store.resolve(ref)
    incident = store.get(ref)
    assessments = _assessments(store, incident)
    repo = open_repo(repo_path) if repo_path is not None else default_repo(assessments)
    if repo is None:
        raise UsageError(
            "the sessions' working directory is not a git checkout here",
            hint="pass --repo PATH of the repository the agent committed to",
        )
    found = session_commits(repo, assessments, ref, uncommitted=True)
    out = TestsOutcome(ref, str(repo.root), list(found.shas), warnings=list(found.warnings))
    merged: dict[tuple[str, str, str, str], Suggestion] = {}
    contents = new_files(repo, found.diffs)
    for sha in found.shas:  # newest first: where a line was changed twice, the latest wins
        for s in suggest_tests(found.diffs.get(sha, ""), contents.get(sha)):
            merged.setdefault((s.file, s.function, s.category, s.code), s)
    if not found.shas and found.uncommitted:
        out.source = "uncommitted"
        for s in suggest_tests(found.uncommitted, _worktree(repo.root, found.uncommitted)):
            merged.setdefault((s.file, s.function, s.category, s.code), s)
    elif not found.shas:
        out.source = "none"
        out.warnings.append(f"no commit of the incident's sessions found in {repo.root}")
    for sha in found.truncated:
        out.warnings.append(f"the patch of {sha[:10]} is over 1 MB: only its start was read")
    ordered = sorted(merged.values(), key=lambda s: (s.file, s.line, s.category))
    out.suggestions = [s.to_dict() for s in ordered]
    _store(store, out, ordered, limit, actor)
    return out


def _worktree(root: Path, diff: str) -> dict[str, str]:
    """The working-tree contents of the code files an uncommitted diff changed."""
    from agentir.analysis.testgen import language_of
    from agentir.analysis.testgen_diff import parse_diff

    out: dict[str, str] = {}
    for fd in parse_diff(diff):
        if fd.path and language_of(fd.path) is not None:
            path = root / fd.path
            try:
                if path.is_file() and path.stat().st_size <= 1 << 20:
                    out[fd.path] = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
    return out


def _store(
    store: IncidentStore, out: TestsOutcome, suggestions: list[Any], limit: int, actor: str | None
) -> None:
    """Replace the incident's suggestions; add the action items it does not have yet."""
    from agentir.analysis.testgen import suggestions_to_action_items

    drafts = suggestions_to_action_items(suggestions, limit=limit)

    def change(incident: Incident) -> dict[str, Any]:
        incident.extra["test_suggestions"] = out.suggestions
        have = {" ".join(i.text.split()) for i in incident.action_items}
        number = _next_id(incident)
        for draft in drafts:
            text = " ".join(str(draft["text"]).split())
            if text in have:
                continue  # suggested by an earlier run: kept as it is (owner, due, done)
            item = ActionItem(id=f"A{number}", type=str(draft["type"]), text=text)
            number += 1
            incident.action_items.append(item)
            out.action_items.append(item.to_dict())
            have.add(text)
        return {
            "repo": out.repo,
            "commits": out.commits,
            "source": out.source,
            "suggestions": len(out.suggestions),
            "categories": dict(Counter(s["category"] for s in out.suggestions)),
            "action_items": [i["id"] for i in out.action_items],
        }

    store.update(out.incident, change, action="tests.suggested", actor=actor)
