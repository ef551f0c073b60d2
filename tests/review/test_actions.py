"""Action items in the incident, the prompt-only check, and the review deadline."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from agentir.errors import IncidentError, UsageError
from agentir.incidents.records import ActionItem
from agentir.review.actions import add_action, complete_action, is_prompt_change, prompt_only
from agentir.review.deadline import is_overdue, review_deadline
from tests.review.scenario import T0, new_case


@pytest.mark.parametrize(
    "text",
    [
        "Add to CLAUDE.md: never push to main",
        "Update the system prompt to forbid production access",
        "Tell the agent in AGENTS.md to run the tests first",
        "Clarify the instructions about migrations",
    ],
)
def test_prompt_changes_are_recognised(text: str) -> None:
    assert is_prompt_change(text)


@pytest.mark.parametrize(
    "text",
    [
        "Deny git push --force in managed settings.json",
        "Revoke the agent's production database credentials",
        "Enforce a $5 budget per session in agentir.yaml",
        "Add a PreToolUse hook that blocks psql writes (agentir guard install)",
        "Branch protection on main: no force pushes",
        "Update the system prompt and remove the agent's write access to prod (least privilege)",
        "Rotate the GitHub token",  # not a prompt change either way
    ],
)
def test_structural_changes_are_not_prompt_changes(text: str) -> None:
    assert not is_prompt_change(text)


def test_prompt_only_needs_items_and_all_of_them_prompts() -> None:
    prompt = ActionItem(id="A1", text="Add a line to CLAUDE.md")
    real = ActionItem(id="A2", text="Deny Bash(git push --force:*) in settings.json")
    assert prompt_only([prompt]) and not prompt_only([prompt, real]) and not prompt_only([])


def test_add_and_complete_action_items(monkeypatch: pytest.MonkeyPatch, agentir_home: Path) -> None:
    store, clock, _ = new_case(monkeypatch, agentir_home)
    ref = store.open("x", "SEV1").id
    first = add_action(
        store, ref, kind="guardrail", text="  Deny   force pushes ", owner="bob", due="2025-10-01"
    )
    second = add_action(store, ref, kind="process", text="Review agent permissions quarterly")
    assert (first.id, second.id) == ("A1", "A2")
    assert first.text == "Deny force pushes" and first.due == "2025-10-01" and second.owner is None
    clock.advance(hours=1)
    done = complete_action(store, ref, "a1")
    assert done.done_at == T0 + timedelta(hours=1)
    stored = store.get(ref).action_items
    assert [(i.id, i.done_at is not None) for i in stored] == [("A1", True), ("A2", False)]
    actions = [e.action for e in store.timeline(ref)]
    assert actions[-3:] == ["action.added", "action.added", "action.done"]
    assert store.timeline(ref)[-3].details["prompt_change"] is False
    with pytest.raises(IncidentError, match="already done"):
        complete_action(store, ref, "A1")
    with pytest.raises(IncidentError, match="no action item 'A9'"):
        complete_action(store, ref, "A9")
    with pytest.raises(UsageError, match="unknown type"):
        add_action(store, ref, kind="wish", text="x")
    with pytest.raises(UsageError, match="not a date"):
        add_action(store, ref, kind="prevent", text="x", due="next week")
    with pytest.raises(UsageError, match="needs a text"):
        add_action(store, ref, kind="prevent", text="   ")
    assert len(store.get(ref).action_items) == 2  # the refused ones left nothing behind


def test_review_deadline_states(monkeypatch: pytest.MonkeyPatch, agentir_home: Path) -> None:
    store, clock, _ = new_case(monkeypatch, agentir_home)
    ref = store.open("x", "SEV1").id
    incident = store.get(ref)
    due = T0 + timedelta(hours=48)  # the shipped SEV1 runbook: learn within 48 h
    state = review_deadline(incident, T0 + timedelta(hours=47))
    assert (state["due"], state["state"], state["seconds_left"]) == (due, "pending", 3600)
    late = review_deadline(incident, T0 + timedelta(hours=50))
    assert late["state"] == "overdue" and late["seconds_left"] == -7200
    assert is_overdue(incident, T0 + timedelta(hours=50))
    clock.advance(hours=20)
    store.set_status(ref, "reviewed")
    met = review_deadline(store.get(ref), T0 + timedelta(hours=90))
    assert met["state"] == "met" and met["met_at"] == T0 + timedelta(hours=20)


def test_review_deadline_missed_and_without_runbook(
    monkeypatch: pytest.MonkeyPatch, agentir_home: Path
) -> None:
    store, clock, _ = new_case(monkeypatch, agentir_home)
    ref = store.open("x", "SEV1").id
    clock.advance(hours=60)
    store.set_status(ref, "reviewed")
    assert review_deadline(store.get(ref), clock())["state"] == "missed"
    legacy = store.get(ref)
    legacy.deadlines = {}  # an incident opened before runbooks had a learn phase
    fallback = review_deadline(legacy, clock())
    assert fallback["due"] == T0 + timedelta(hours=48) and fallback["basis"].startswith("48 h")
    legacy.severity = "SEV3"
    assert review_deadline(legacy, clock())["state"] == "none"
