"""`agentir respond`: the runbook walk, non-interactive with --answers, every answer recorded."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from agentir.actions import builtins
from agentir.actions.respond import parse_answer, step_results
from agentir.cli.app import app
from agentir.errors import UsageError
from agentir.incidents.store import IncidentStore
from tests.actions.contain_helpers import (
    RUNBOOKS,
    fake_secrets,
    make_repo,
    make_trace,
    run_in_pty,
)
from tests.actions.test_processes import Spawned, new_session_id, status

WIDE = {"COLUMNS": "200", "NO_COLOR": "1"}
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=WIDE)


@pytest.fixture
def spawned(tmp_path: Path) -> Iterator[Spawned]:
    procs = Spawned(tmp_path)
    try:
        yield procs
    finally:
        procs.cleanup()


def answers_file(tmp_path: Path, answers: dict[str, str], name: str = "answers.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(answers))
    return path


def results(ref: str) -> dict[str, str]:
    return {k: r for k, (r, _) in step_results(IncidentStore().timeline(ref)).items()}


def test_without_a_terminal_it_prints_the_current_phase_and_records_nothing() -> None:
    store = IncidentStore()
    incident = store.open("agent deleted the staging db", "SEV1", sessions=["sess-plan-001"])

    result = run("respond")

    assert result.exit_code == 0, result.stderr
    assert f"{incident.id} (SEV1, open)" in result.stdout
    assert "current phase: contain" in result.stdout
    assert "[todo] pause-agent: Pause every process of the agent session (builtin)" in result.stdout
    assert re.search(r"due \S+ \S+ UTC: pending \([45]m \d\ds left\)", result.stdout)
    assert "$ aws iam put-role-policy --role-name agent-automation" in result.stdout
    assert "contact escalation: Security incident response" in result.stdout
    assert "assess-trace" not in result.stdout  # only the current phase
    assert [e.action for e in store.timeline(incident.id)] == ["incident.opened"]
    doc = json.loads(run("respond", incident.id, "--json").stdout)
    assert doc["data"]["phase"] == "contain"
    assert [s["id"] for s in doc["data"]["steps"]][:2] == ["pause-agent", "kill-agent"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux processes")
def test_answers_walk_the_sev1_runbook(spawned: Spawned, tmp_path: Path) -> None:
    sid = new_session_id()
    tree = spawned.tree(sid)
    repo = make_repo(tmp_path / "repo")
    secrets = fake_secrets()
    trace = make_trace(tmp_path, sid, repo.path, repo.agent, secrets)
    store = IncidentStore()
    ref = store.open("agent leaked a token", "SEV1", sessions=[sid], traces=[trace]).id
    (tmp_path / "answers.yaml").write_text(
        "pause-agent: run\n"
        "kill-agent: 'skip: paused is enough, the trace stays useful'\n"
        "list-credentials: run\n"
        "revoke-aws-sessions: 'skip: the agent had no AWS role here'\n"
        "revoke-github-token: done\n"
        "deploy-freeze: run\n"
        "assess-trace: run\n"
        "blast-radius: done\n"
        "remediation-plan: later\n"
    )

    result = run("respond", ref, "--answers", str(tmp_path / "answers.yaml"))

    assert result.exit_code == 0, result.stdout + result.stderr
    assert all(status(pid) == "stopped" for pid in tree.values())
    assert results(ref) == {
        "pause-agent": "done",
        "kill-agent": "skipped",
        "list-credentials": "done",
        "revoke-aws-sessions": "skipped",
        "revoke-github-token": "done",
        "deploy-freeze": "done",
        "assess-trace": "done",
        "blast-radius": "done",
        "remediation-plan": "later",
        "remediation-apply": "later",
        "verify-known-good": "later",
        "external-effects": "later",
        "review": "later",
        "share-review": "later",
    }
    incident = store.get(ref)
    assert incident.status == "contained" and incident.freeze.commits == [repo.agent]
    entries = store.timeline(ref)
    skipped = [e.details for e in entries if e.action == "respond.step.skipped"]
    assert [d["reason"] for d in skipped] == [
        "paused is enough, the trace stays useful",
        "the agent had no AWS role here",
    ]
    done = {e.details["step"]: e.details for e in entries if e.action == "respond.step.done"}
    assert done["blast-radius"]["deadline"]["state"] == "met"
    assert done["revoke-github-token"]["by_hand"] is True
    assert any(e.action == "assess.done" for e in entries) and store.evidence(ref)
    listed = [e.details for e in entries if e.action == "credentials.listed"]
    assert listed and {"GH_TOKEN", "aws"} <= {c["name"] for c in listed[0]["credentials"]}
    everything = result.stdout + json.dumps([e.to_dict() for e in entries])
    assert not [k for k, v in secrets.items() if v in everything]
    assert store.verify(ref).ok

    # Contain and assess are finished: the walk picks up at remediate.
    again = run("respond", ref)
    assert "current phase: remediate" in again.stdout
    assert "[later] remediation-plan" in again.stdout


def test_command_steps_run_with_their_exit_codes_and_escalate(tmp_path: Path) -> None:
    store = IncidentStore()
    ref = store.open("no session known", "SEV1", runbooks_dir=RUNBOOKS).id
    answers = answers_file(
        tmp_path,
        {
            "pause-agent": "skip: nothing running",
            "kill-agent": "skip: nothing running",
            "list-credentials": "skip: no trace",
            "revoke-marker": "run",
            "revoke-flaky": "run",
        },
    )

    result = run("respond", ref, "--answers", str(answers), "--runbooks", str(RUNBOOKS))

    # revoke-marker cannot render {session.id}: it fails and escalates (exit 1).
    assert result.exit_code == 1
    assert "escalate: Test manager - test phone" in result.stdout
    entries = store.timeline(ref)
    failed = {e.details["step"]: e.details for e in entries if e.action == "respond.step.failed"}
    assert "{session.id}" in failed["revoke-marker"]["error"]
    assert failed["revoke-flaky"]["exit_code"] == 3
    assert failed["revoke-flaky"]["output"].strip() == "no such token"
    escalation = [e.details for e in entries if e.action == "escalation.needed"]
    assert [d["step"] for d in escalation] == ["revoke-marker"]


def test_delegated_builtins_run_the_owning_command_when_it_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = IncidentStore()
    ref = store.open("delegation", "SEV1", runbooks_dir=RUNBOOKS).id
    # `review` stands in for an existing command (incident verify) and a missing one.
    monkeypatch.setitem(builtins.DELEGATED, "review", (("incident", "verify"), ("{id}",), ()))
    step = type("S", (), {"builtin": "review", "id": "review"})()
    ran = builtins.run_builtin(store, ref, None, step, confirm=lambda _: True)
    assert ran.result == "done" and ran.details["argv"] == ["incident", "verify", ref]
    assert "timeline intact" in ran.details["output"]

    monkeypatch.setitem(builtins.DELEGATED, "review", (("no-such-command",), ("{id}",), ()))
    later = builtins.run_builtin(store, ref, None, step, confirm=lambda _: True)
    assert later.result == "later" and f"run `agentir no-such-command {ref}`" in later.lines[0]


def test_bad_answers_are_usage_errors(tmp_path: Path) -> None:
    store = IncidentStore()
    ref = store.open("answers", "SEV1").id
    unknown = run("respond", ref, "--answers", str(answers_file(tmp_path, {"nope": "done"})))
    assert unknown.exit_code == 2 and "no step 'nope'" in unknown.stderr
    manual_run = run(
        "respond", ref, "--answers", str(answers_file(tmp_path, {"blast-radius": "run"}))
    )
    assert manual_run.exit_code == 2 and "manual" in manual_run.stderr
    with pytest.raises(UsageError):
        parse_answer("skip")
    with pytest.raises(UsageError):
        parse_answer("maybe")
    assert parse_answer(" Skip : no AWS ").reason == "no AWS"
    assert [e.action for e in store.timeline(ref)] == ["incident.opened"]


def test_no_open_incident_and_closed_incidents() -> None:
    none = run("respond")
    assert none.exit_code == 1 and "no open incident" in none.stderr
    store = IncidentStore()
    ref = store.open("done already", "SEV3").id
    store.set_status(ref, "closed", reason="false alarm")
    closed: Any = run("respond", ref)
    assert closed.exit_code == 0 and "none (every step is finished)" in closed.stdout


def test_interactive_walk_on_a_terminal(tmp_path: Path, agentir_home: Path) -> None:
    store = IncidentStore()
    ref = store.open("agent gave up", "SEV3").id
    env = {**os.environ, "AGENTIR_HOME": str(agentir_home), "NO_COLOR": "1", "COLUMNS": "200"}
    code, output = run_in_pty(
        [sys.executable, "-m", "agentir", "respond"],
        ["s", "no trace was kept", "d", "q"],
        env,
        ROOT,
    )
    assert code == 0, output
    assert "[todo] assess-trace" in output and "[d]one [s]kip [l]ater [q]uit [r]un" in output
    assert results(ref) == {"assess-trace": "skipped", "learning-note": "done"}
    skipped = [e.details for e in store.timeline(ref) if e.action == "respond.step.skipped"]
    assert skipped[0]["reason"] == "no trace was kept"
