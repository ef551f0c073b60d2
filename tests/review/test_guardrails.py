"""Guardrail recommendations: structural, exact, derived from the evidence, never prompt edits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from agentir.analysis.detectors import default_observers
from agentir.guardrails import Guardrail, finding_family, recommend
from agentir.policy import Policy
from agentir.review.actions import is_prompt_change
from agentir.review.collect import collect
from tests.conftest import shared_trace
from tests.review.scenario import seeded_trace

tomllib = pytest.importorskip("tomllib", reason="tomllib needs Python 3.11")
CODEX = "codex/rollout-2025-11-17T15-30-28-019a93b9-f380-7600-98ff-940e6b99603c.jsonl"


def recs_for(trace: Path) -> list[Guardrail]:
    sessions = collect(trace, detectors=lambda: default_observers(Policy()))
    return recommend([s.assessment for s in sessions])


def test_the_checkout_incident_gets_its_structural_changes(tmp_path: Path) -> None:
    recs = recs_for(seeded_trace(tmp_path))
    ids = [g.id for g in recs]
    for expected in (
        "protect-branch", "revoke-secrets", "authorization", "no-database", "write-scope",
        "network-allowlist", "guard-hook",
    ):  # fmt: skip
        assert expected in ids
    assert ids[0] == "protect-branch" and ids[-1] == "guard-hook"
    push = recs[0]
    assert push.evidence == (("7e57c0de-4ae1-4c1e-9d0e-5ee0f1e2a001", 30),)
    snippet = push.changes[0].snippet
    body = json.loads(snippet.split("<<'EOF'\n", 1)[1].rsplit("\nEOF", 1)[0])
    assert body["allow_force_pushes"] is False and "branches/main/protection" in snippet
    deny = json.loads(push.changes[1].snippet)["permissions"]["deny"]
    assert "Bash(git push --force:*)" in deny
    scope = next(g for g in recs if g.id == "write-scope")
    rules = json.loads(scope.changes[1].snippet)["permissions"]["deny"]
    assert "Write(//home/dev/infra/prod/**)" in rules


def test_every_snippet_is_valid_in_its_language(tmp_path: Path) -> None:
    recs = recs_for(seeded_trace(tmp_path))
    seen = set()
    for g in recs:
        for change in g.changes:
            seen.add(change.language)
            if change.language == "json":
                json.loads(change.snippet)
            elif change.language == "yaml":
                data = yaml.safe_load(change.snippet)
                assert set(data) == {"policy"}
                Policy.from_dict(data["policy"])  # the policy loader accepts it
            elif change.language == "toml":
                tomllib.loads(change.snippet)
    assert {"json", "yaml", "sh"} <= seen


def test_no_recommendation_is_a_prompt_change(tmp_path: Path) -> None:
    for g in recs_for(seeded_trace(tmp_path)):
        text = " ".join([g.title, g.why, *(c.target + " " + c.file for c in g.changes)])
        assert not is_prompt_change(text), g.id
        for word in ("CLAUDE.md", "AGENTS.md", "system prompt"):
            assert word not in text


def test_codex_full_access_gets_a_sandbox_change() -> None:
    recs = recs_for(shared_trace(CODEX))
    sandbox = next(g for g in recs if g.id == "codex-sandbox")
    config = tomllib.loads(sandbox.changes[0].snippet)
    assert config["sandbox_mode"] == "workspace-write"
    assert config["approval_policy"] == "on-request"
    assert config["sandbox_workspace_write"]["network_access"] is False
    assert "danger-full-access" in sandbox.why


def test_a_quiet_session_needs_no_guardrail() -> None:
    # 5c0375b4: reads, a few failed calls, one doc edit: nothing high-risk
    assert recs_for(shared_trace("claude-code/5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl")) == []


def test_detector_names_map_to_families() -> None:
    assert finding_family("loop") == "loop"
    assert finding_family("failures") == "failures"
    assert finding_family("cost") == "cost"
    assert finding_family("context") == "context"
    assert finding_family("hallucination") == "claims"
    assert finding_family("scope") == "scope"
    assert finding_family("permissions") == "permission"
    assert finding_family("external") == "effects"
