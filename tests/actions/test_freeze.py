"""The deploy freeze and the gate, on a real git repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentir.actions.freeze import (
    apply_freeze,
    evaluate_gate,
    is_ancestor,
    lift_freeze,
    open_repo,
    plan_freeze,
    resolve_commit,
)
from agentir.errors import GitError, IncidentError, UsageError
from agentir.incidents.store import IncidentStore
from tests.actions.contain_helpers import Repo, git, make_repo


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return make_repo(tmp_path / "repo")


def frozen_incident(store: IncidentStore, repo: Repo, *commits: str) -> str:
    incident = store.open("agent pushed a bad fix", "SEV1", sessions=["sess-freeze-1"])
    apply_freeze(store, incident.id, plan_freeze(given=commits or (repo.agent,), repo=repo.path))
    return incident.id


def test_plan_resolves_short_hashes_and_keeps_unknown_ones(repo: Repo) -> None:
    plan = plan_freeze(
        given=[repo.agent[:8]], trace_refs=[repo.agent[:7], "deadbeef1"], repo=repo.path
    )
    assert [(c.sha, c.origin, c.resolved) for c in plan.commits] == [
        (repo.agent, "option", True),
        ("deadbeef1", "trace", False),
    ]
    assert plan.repo == str(repo.path) and "deadbeef1" in plan.notes[0]
    with pytest.raises(UsageError):
        plan_freeze(given=["HEAD; rm -rf /"], repo=repo.path)
    outside = plan_freeze(given=["abcdef12"], repo=repo.path.parent)
    assert outside.repo is None and outside.shas == ["abcdef12"] and outside.notes


def test_ancestry_on_the_real_history(repo: Repo) -> None:
    git = open_repo(repo.path)
    assert is_ancestor(git, repo.agent, repo.later)
    assert is_ancestor(git, repo.agent, repo.agent)
    assert not is_ancestor(git, repo.agent, repo.other)
    assert not is_ancestor(git, repo.agent, repo.base)
    assert resolve_commit(git, "--output=/tmp/x") is None  # never read as an option
    assert resolve_commit(git, "HEAD\nother") is None  # never a second query line
    assert resolve_commit(git, "other") == repo.other
    assert open_repo(repo.path.parent) is None


def test_gate_blocks_history_containing_the_frozen_commit(repo: Repo) -> None:
    store = IncidentStore()
    ref = frozen_incident(store, repo)

    for blocked in ("HEAD", repo.later, repo.agent, "main"):
        result = evaluate_gate(store, repo.path, blocked)
        assert result.blocked, blocked
        assert [(b.incident, b.frozen_commit) for b in result.blocks] == [(ref, repo.agent)]
    for free in (repo.other, repo.base, "other"):
        assert not evaluate_gate(store, repo.path, free).blocked, free


def test_gate_passes_once_remediated_or_lifted(repo: Repo) -> None:
    store = IncidentStore()
    first = frozen_incident(store, repo)
    second = frozen_incident(store, repo)
    assert {b.incident for b in evaluate_gate(store, repo.path).blocks} == {first, second}

    store.set_status(first, "contained")
    assert evaluate_gate(store, repo.path).blocked  # contained is not remediated
    store.set_status(first, "remediated")
    # remediation built a revert branch, but main still carries the agent's commit
    assert {b.incident for b in evaluate_gate(store, repo.path).blocks} == {first, second}
    store.set_status(first, "closed", reason="reverted and merged by hand")
    assert [b.incident for b in evaluate_gate(store, repo.path).blocks] == [second]

    with pytest.raises(UsageError):
        lift_freeze(store, second, "  ")
    lift_freeze(store, second, "hotfix verified by hand")
    assert not evaluate_gate(store, repo.path).blocked
    lifted = [e for e in store.timeline(second) if e.action == "freeze.lifted"]
    assert lifted[0].details["reason"] == "hotfix verified by hand"
    with pytest.raises(IncidentError):
        lift_freeze(store, second, "again")


def test_a_history_holding_the_revert_deploys(repo: Repo) -> None:
    store = IncidentStore()
    frozen_incident(store, repo)
    assert evaluate_gate(store, repo.path).blocked
    git(repo.path, "revert", "--no-edit", repo.agent)  # as on the agentir/revert-… branch
    assert not evaluate_gate(store, repo.path).blocked
    assert evaluate_gate(store, repo.path, repo.later).blocked  # the commit before the revert


def test_unknown_commits_do_not_block_and_unreadable_incidents_fail_closed(repo: Repo) -> None:
    store = IncidentStore()
    ref = frozen_incident(store, repo, "0123456789abcdef0123456789abcdef01234567")
    result = evaluate_gate(store, repo.path)
    assert not result.blocked and result.unknown_here == (
        "0123456789abcdef0123456789abcdef01234567",
    )
    assert result.active_freezes == 1

    (store.path(ref) / "incident.yaml").write_text("{not: [valid")
    with pytest.raises(IncidentError, match="cannot decide"):
        evaluate_gate(store, repo.path)


def test_gate_errors_outside_a_repository(tmp_path: Path, repo: Repo) -> None:
    store = IncidentStore()
    with pytest.raises(GitError):
        evaluate_gate(store, tmp_path / "nowhere")
    with pytest.raises(GitError, match="no commit"):
        evaluate_gate(store, repo.path, "0" * 40)
