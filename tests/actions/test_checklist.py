"""External effects become manual checklist items; git pushes name the remote branch."""

from __future__ import annotations

from agentir.actions.checklist import drafts_for, merge_into, push_remote_branch
from agentir.model import Effect, Risk


def effect(kind: str, target: str, risk: Risk = Risk.HIGH, **kw: object) -> Effect:
    return Effect(kind, target, 7, risk, source="trace.jsonl:12", **kw)  # type: ignore[arg-type]


def test_push_target_to_remote_branch() -> None:
    assert push_remote_branch("origin main", None) == "origin/main"
    assert push_remote_branch("upstream HEAD:refs/heads/fix", "feat") == "upstream/fix"
    assert push_remote_branch("origin +main", None) == "origin/main"
    assert push_remote_branch("(default remote) (current branch)", "feat") == "origin/feat"
    assert push_remote_branch("(default remote) (current branch)", None) is None


def test_each_effect_kind_becomes_a_pending_item_with_evidence() -> None:
    effects = [
        effect("deploy", "kubectl apply -f prod.yaml"),
        effect("publish", "npm publish"),
        effect("database", "psql prod", detail="DELETE statement"),
        effect("message", "hooks.slack.com"),
        effect(
            "secret_exposure", "[REDACTED:github-token:0123abcd]", detail="github-token in command"
        ),
        effect("network", "api.example.com", Risk.MEDIUM, detail="curl POST"),
    ]
    drafts = drafts_for("s1", effects)
    by_kind = {d.kind: d for d in drafts}
    assert set(by_kind) == {
        "deploy",
        "publish",
        "database",
        "message",
        "secret_exposure",
        "network",
    }
    assert by_kind["secret_exposure"].text.startswith(
        "Rotate the secret (github-token with fingerprint 0123abcd)"
    )
    assert "DELETE statement" in by_kind["database"].text
    item = by_kind["deploy"].to_item()
    assert item["status"] == "pending"
    assert item["evidence"] == "trace.jsonl:12" and item["seq"] == 7
    assert item["target"] == "kubectl apply -f prod.yaml"


def test_read_only_network_is_left_out_and_failures_are_flagged() -> None:
    drafts = drafts_for(
        "s1",
        [
            effect("network", "github.com", Risk.LOW, detail="git fetch"),
            effect("deploy", "helm upgrade", succeeded=False),
        ],
    )
    assert [d.kind for d in drafts] == ["deploy"]
    assert "failed" in drafts[0].text


def test_push_item_names_the_branch_still_carrying_agent_commits() -> None:
    push = effect("git_push", "origin main", Risk.MEDIUM, detail="push")
    (draft,) = drafts_for("s1", [push], pushed={"origin/main": ["a" * 40, "b" * 40]})
    assert draft.text.startswith("origin/main still carries the agent's commits (aaaaaaaaaa")
    assert "never force-push" in draft.text
    (unknown,) = drafts_for("s1", [push])
    assert "fetch and check" in unknown.text


def test_ids_are_stable_so_reruns_never_duplicate() -> None:
    first = drafts_for("s1", [effect("publish", "npm publish")])
    second = drafts_for("s1", [effect("publish", "npm publish")])
    assert first[0].id == second[0].id
    assert merge_into([first[0].to_item()], second) == []
    other = drafts_for("s2", [effect("publish", "npm publish")])
    assert merge_into([first[0].to_item()], other) == [other[0].id]
