"""`contain` orchestration on real process trees: plan changes nothing; apply records each step."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentir.actions.contain_inputs import find_trace
from agentir.actions.contain_steps import paused_identities, resume_incident
from agentir.actions.containment import ContainRequest, apply_contain, plan_contain
from agentir.actions.processes import Outcome
from agentir.errors import UsageError
from agentir.incidents.store import IncidentStore
from agentir.incidents.timeline import TimelineEntry
from tests.actions.contain_helpers import RUNBOOKS, fake_secrets, make_repo, make_trace
from tests.actions.test_processes import Spawned, is_dead, new_session_id, status

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux processes")


@pytest.fixture
def spawned(tmp_path: Path) -> Iterator[Spawned]:
    procs = Spawned(tmp_path)
    try:
        yield procs
    finally:
        procs.cleanup()


def never(_: object) -> bool:
    raise AssertionError("no confirmation should be asked")


def test_plan_changes_nothing_and_apply_records_every_step(
    spawned: Spawned, tmp_path: Path, agentir_home: Path
) -> None:
    sid = new_session_id()
    tree = spawned.tree(sid)
    decoy = spawned.tree(sid + "7")
    repo = make_repo(tmp_path / "repo")
    trace = make_trace(tmp_path, sid, repo.path, repo.agent, fake_secrets())
    store = IncidentStore()
    request = ContainRequest(session_id=sid, trace=trace, runbooks_dir=RUNBOOKS)

    plan = plan_contain(request, store)

    assert not (agentir_home / "incidents").exists()
    assert all(status(pid) != "stopped" for pid in tree.values())
    assert {t.pid for t in plan.processes.targets} == set(tree.values())
    assert plan.join is None and plan.severity == "SEV1" and plan.severity_source == "suggested"
    assert plan.process_step == "pause-agent" and plan.freeze_step == "deploy-freeze"
    assert [c.sha for c in plan.freeze.commits] == [repo.agent]  # the trace's short hash, resolved
    assert [c.step_id for c in plan.revocations] == ["revoke-marker", "revoke-flaky"]
    assert plan.revocations[0].argv is not None and plan.revocations[0].argv[-1] == sid

    asked: list[str] = []
    outcome = apply_contain(plan, store, confirm=lambda c: asked.append(c.step_id) or True)

    assert outcome.contained and outcome.exit_code == 0 and outcome.status == "contained"
    assert asked == ["revoke-marker"]  # only the destructive step asks
    assert all(status(pid) == "stopped" for pid in tree.values())
    assert all(status(pid) in ("sleeping", "running") for pid in decoy.values())
    entries = store.timeline(outcome.incident_id)
    actions = [e.action for e in entries]
    assert actions == [
        "incident.opened",
        "evidence.added",
        "contain.planned",
        "contain.applied",
        "contain.verified",
        "credentials.listed",
        "credentials.revoked",
        "credentials.revoke_failed",
        "freeze.set",
        "status.contained",
    ]
    by_action = {e.action: e.details for e in entries}
    assert by_action["contain.verified"]["ok"] is True
    assert by_action["contain.verified"]["deadline"]["state"] == "met"
    assert by_action["credentials.revoke_failed"]["exit_code"] == 3
    assert by_action["credentials.revoke_failed"]["on_failure"] == "continue"
    assert by_action["status.contained"]["deadline"]["state"] == "met"
    assert store.get(outcome.incident_id).freeze.commits == [repo.agent]
    assert store.verify(outcome.incident_id).ok
    marker = store.path(outcome.incident_id) / "revoked.txt"
    assert marker.read_text() == repr([sid])

    # The paused identities are on the timeline: resume continues exactly those.
    paused = {i.pid for i, _ in paused_identities(entries)}
    assert paused == set(tree.values())
    result = resume_incident(store, outcome.incident_id)
    assert result.ok
    assert all(status(pid) in ("sleeping", "running") for pid in tree.values())
    assert store.timeline(outcome.incident_id)[-1].action == "contain.resumed"


def test_joining_the_open_incident_and_killing(spawned: Spawned) -> None:
    sid = new_session_id()
    store = IncidentStore()
    first = store.open("earlier report", "SEV2", sessions=[sid])
    tree = spawned.tree(sid)

    plan = plan_contain(
        ContainRequest(session_id=sid, mode="kill", grace=0.5, runbooks_dir=RUNBOOKS), store
    )
    assert plan.join == first.id and plan.severity == "SEV2" and plan.severity_source == "incident"
    outcome = apply_contain(plan, store, confirm=never)

    assert outcome.incident_id == first.id and not outcome.opened
    assert all(is_dead(pid) for pid in tree.values())
    assert {o.outcome for o in outcome.containment.outcomes} == {Outcome.KILLED}
    actions = [e.action for e in store.timeline(first.id)]
    assert "freeze.none" in actions and actions[-1] == "status.contained"
    # The SEV2 runbook has no pause step; the kill is recorded on its own.
    assert "contain.step.skipped" not in actions


def test_kill_marks_the_runbook_pause_step_skipped(spawned: Spawned) -> None:
    sid = new_session_id()
    spawned.tree(sid)
    store = IncidentStore()
    plan = plan_contain(
        ContainRequest(session_id=sid, mode="kill", grace=0.5, runbooks_dir=RUNBOOKS), store
    )
    outcome = apply_contain(plan, store, confirm=lambda _: True)
    skipped = [
        e.details for e in store.timeline(outcome.incident_id) if e.action == "contain.step.skipped"
    ]
    assert skipped == [
        {
            "step": "pause-agent",
            "result": "skipped",
            "reason": "the session was killed instead (agentir contain --kill)",
        }
    ]


def test_hostile_session_id_stays_one_argument(spawned: Spawned, tmp_path: Path) -> None:
    pwned = tmp_path / "pwned"
    sid = f"x; touch {pwned}"
    tree = spawned.tree(sid)
    store = IncidentStore()

    plan = plan_contain(
        ContainRequest(session_id=sid, mode="kill", grace=0.5, runbooks_dir=RUNBOOKS), store
    )
    outcome = apply_contain(plan, store, confirm=lambda _: True)

    assert outcome.contained and all(is_dead(pid) for pid in tree.values())
    assert (store.path(outcome.incident_id) / "revoked.txt").read_text() == repr([sid])
    assert not pwned.exists()


def test_selectors_and_trace_finder(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="too short"):
        plan_contain(ContainRequest(session_id="abc"), IncidentStore())
    projects = tmp_path / ".claude" / "projects" / "-work-app"
    projects.mkdir(parents=True)
    (projects / "sess-find-me.jsonl").write_text("{}\n")
    assert find_trace("sess-find-me", tmp_path) == projects / "sess-find-me.jsonl"
    assert find_trace("*", tmp_path) is None and find_trace("../x", tmp_path) is None


def test_paused_identities_ignore_damaged_entries() -> None:
    def entry(details: dict[str, object], action: str = "contain.applied") -> TimelineEntry:
        return TimelineEntry(0, "", "", action, details, "", "")

    entries = [
        entry({"mode": "pause", "paused": [{"pid": 10, "create_time": 1.5, "name": "a"}]}),
        entry({"mode": "pause", "paused": [{"pid": "x"}, {"pid": 11}]}),
        entry({"mode": "kill", "paused": [{"pid": 12, "create_time": 2.0}]}),
        entry({"mode": "pause", "paused": [{"pid": 10, "create_time": 1.5}]}),
        entry({"paused": [{"pid": 13, "create_time": 2.0}]}, "contain.verified"),
    ]
    assert [(i.pid, i.create_time, n) for i, n in paused_identities(entries)] == [(10, 1.5, "a")]


def test_exit_code_names_what_still_runs() -> None:
    from datetime import datetime, timezone

    from agentir.actions.containment import ContainOutcome
    from agentir.actions.processes import ContainmentResult, MatchedProcess, Verification
    from agentir.actions.steps import CommandOutcome
    from agentir.cli.contain_view import remaining_text

    survivor = MatchedProcess(
        4242, 1, "claude", "claude --resume s", 1.0, "running", 4242, 4242, ()
    )

    def outcome(ok: bool, *revocations: CommandOutcome) -> ContainOutcome:
        verification = Verification(ok, 1, () if ok else (survivor,), "summary")
        result = ContainmentResult("kill", (), verification, datetime.now(timezone.utc), 0.1)
        return ContainOutcome("INC-1", True, result, revocations, (), (), "open", None)

    assert outcome(True).exit_code == 0
    assert outcome(False).exit_code == 1
    assert remaining_text(outcome(False)).plain == "still running: 4242 claude"
    flaky = CommandOutcome("r1", ("x",), "failed", exit_code=3, on_failure="continue")
    must = CommandOutcome("r2", ("x",), "failed", exit_code=3, on_failure="escalate")
    declined = CommandOutcome("r3", ("x",), "declined", on_failure="stop")
    assert outcome(True, flaky, declined).exit_code == 0
    assert outcome(True, flaky, must).exit_code == 1
