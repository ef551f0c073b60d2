"""`agentir contain` and `agentir resume` on real process trees, through the real CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from agentir.cli.app import app
from agentir.incidents.store import IncidentStore
from tests.actions.contain_helpers import (
    RUNBOOKS,
    fake_secrets,
    make_repo,
    make_trace,
    run_in_pty,
)
from tests.actions.test_processes import Spawned, is_dead, new_session_id, status

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux processes")
WIDE = {"COLUMNS": "200", "NO_COLOR": "1"}
ROOT = Path(__file__).resolve().parents[2]
RUNNING = ("sleeping", "running", "disk-sleep")


@pytest.fixture
def spawned(tmp_path: Path) -> Iterator[Spawned]:
    procs = Spawned(tmp_path)
    try:
        yield procs
    finally:
        procs.cleanup()


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=WIDE)


def only_incident() -> str:
    ids = IncidentStore().ids()
    assert len(ids) == 1, ids
    return ids[0]


def test_kill_yes_leaves_nothing_alive_and_records_each_step(spawned: Spawned) -> None:
    sid = new_session_id()
    tree = spawned.tree(sid, "--stubborn")
    decoy = spawned.tree(sid + "7")

    result = run("contain", sid, "--kill", "--grace", "0.5", "--yes", "--runbooks", str(RUNBOOKS))

    assert result.exit_code == 0, result.stdout + result.stderr
    assert all(is_dead(pid) for pid in tree.values())
    assert all(status(pid) in RUNNING for pid in decoy.values())
    assert "proof: PROVEN: no process of the session is alive" in result.stdout
    for role in ("agent", "child2-child", "orphan-pgid", "orphan-pgrp", "orphan-env"):
        assert re.search(rf"\n  {tree[role]} python[\d.]*: killed", result.stdout), role
    store = IncidentStore()
    ref = only_incident()
    incident = store.get(ref)
    assert incident.status == "contained" and incident.sessions == [sid]
    assert incident.deadlines["contain"].met_at is not None
    actions = [e.action for e in store.timeline(ref)]
    for action in ("contain.planned", "contain.applied", "contain.verified", "status.contained"):
        assert action in actions
    assert store.verify(ref).ok


def test_as_a_real_subprocess(spawned: Spawned, agentir_home: Path) -> None:
    sid = new_session_id()
    tree = spawned.tree(sid)
    env = {**os.environ, "AGENTIR_HOME": str(agentir_home), "NO_COLOR": "1"}
    argv = [sys.executable, "-m", "agentir", "contain", sid, "--kill", "--grace", "0.5"]
    proc = subprocess.run(
        [*argv, "--yes", "--runbooks", str(RUNBOOKS), "--json"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip

    assert proc.returncode == 0, proc.stderr
    assert all(is_dead(pid) for pid in tree.values())
    data = json.loads(proc.stdout)["data"]
    assert data["result"]["contained"] is True and data["result"]["status"] == "contained"
    killed = {o["pid"] for o in data["result"]["containment"]["outcomes"]}
    assert killed == set(tree.values())


def test_pause_then_resume(spawned: Spawned) -> None:
    sid = new_session_id()
    tree = spawned.tree(sid)

    result = run("contain", sid, "--yes", "--runbooks", str(RUNBOOKS))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert all(status(pid) == "stopped" for pid in tree.values())
    assert "all 7 process(es) of the session are stopped" in result.stdout
    ref = only_incident()

    refused = run("resume", ref)
    assert refused.exit_code == 1 and "--yes" in refused.stderr
    assert all(status(pid) == "stopped" for pid in tree.values())
    listed = run("resume", sid, "--dry-run")  # by session id
    assert listed.exit_code == 0
    assert re.search(rf"{tree['agent']} python[\d.]*: now stopped", listed.stdout)

    resumed = run("resume", "--yes")  # the newest incident with paused processes
    assert resumed.exit_code == 0, resumed.stdout + resumed.stderr
    assert all(status(pid) in RUNNING for pid in tree.values())
    assert IncidentStore().timeline(ref)[-1].action == "contain.resumed"


def test_dry_run_touches_nothing(spawned: Spawned, agentir_home: Path) -> None:
    sid = new_session_id()
    tree = spawned.tree(sid)

    result = run("contain", sid, "--kill", "--dry-run", "--runbooks", str(RUNBOOKS))

    assert result.exit_code == 0, result.stderr
    assert all(status(pid) in RUNNING for pid in tree.values())
    assert not (agentir_home / "incidents").exists()
    assert (
        "kill 7 process(es)" in result.stdout
        and "command line names the session id" in result.stdout
    )
    assert "nothing was changed" in result.stderr
    assert "$ python3 -c 'import pathlib" in result.stdout  # the command as it would run


def test_hostile_session_id_is_shown_quoted_and_passed_as_one_argument(
    spawned: Spawned, tmp_path: Path
) -> None:
    pwned = tmp_path / "pwned"
    sid = f"x; touch {pwned}"
    tree = spawned.tree(sid)

    dry = run("contain", sid, "--dry-run", "--runbooks", str(RUNBOOKS))
    assert f"'{sid}'" in dry.stdout  # shell-quoted in the shown command line

    result = run("contain", sid, "--kill", "--grace", "0.5", "--yes", "--runbooks", str(RUNBOOKS))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert all(is_dead(pid) for pid in tree.values())
    marker = IncidentStore().path(only_incident()) / "revoked.txt"
    assert marker.read_text() == repr([sid]) and not pwned.exists()


def test_without_yes_and_without_a_terminal_it_refuses(
    spawned: Spawned, agentir_home: Path
) -> None:
    sid = new_session_id()
    tree = spawned.tree(sid)
    result = run("contain", sid, "--runbooks", str(RUNBOOKS))
    assert result.exit_code == 1
    assert "needs a confirmation" in result.stderr and "--yes" in result.stderr
    assert all(status(pid) in RUNNING for pid in tree.values())
    assert not (agentir_home / "incidents").exists()


def test_credentials_are_listed_redacted_everywhere(
    spawned: Spawned, tmp_path: Path, agentir_home: Path
) -> None:
    sid = new_session_id()
    tree = spawned.tree(sid)
    repo = make_repo(tmp_path / "repo")
    secrets = fake_secrets()
    trace = make_trace(tmp_path, sid, repo.path, repo.agent, secrets)

    dry = run("contain", sid, "--trace", str(trace), "--dry-run", "--runbooks", str(RUNBOOKS))
    text = run("contain", sid, "--trace", str(trace), "--kill", "--grace", "0.5", "--yes",
               "--runbooks", str(RUNBOOKS))  # fmt: skip
    assert text.exit_code == 0, text.stdout + text.stderr
    assert all(is_dead(pid) for pid in tree.values())

    for out in (dry.stdout, text.stdout, text.stderr):
        assert "AWS_SECRET_ACCESS_KEY" in out or out is text.stderr
        assert not [k for k, v in secrets.items() if v in out]
    assert "[REDACTED:github-token:" in dry.stdout and "env_var   GH_TOKEN" in dry.stdout
    assert f"{repo.agent} (from trace)" in dry.stdout
    ref = only_incident()
    store = IncidentStore()
    assert store.get(ref).freeze.commits == [repo.agent] and store.get(ref).freeze.active
    # Nothing in the incident folder (timeline, incident.yaml) holds a secret, except the
    # preserved copy of the trace itself under evidence/.
    for path in store.path(ref).rglob("*"):
        if path.is_file() and "evidence" not in path.parts:
            content = path.read_text(errors="replace")
            assert not [k for k, v in secrets.items() if v in content], path
    listed = [e.details for e in store.timeline(ref) if e.action == "credentials.listed"]
    assert {c["name"] for c in listed[0]["credentials"]} >= {"AWS_SECRET_ACCESS_KEY", "aws", "gh"}
    # The revocation output printed a token-shaped value: it is redacted in the record.
    revoked = [e.details for e in store.timeline(ref) if e.action == "credentials.revoked"]
    assert "[REDACTED:github-token:" in revoked[0]["output"] and "Z9Z9" not in revoked[0]["output"]


def test_json_dry_run_plan(spawned: Spawned, tmp_path: Path) -> None:
    sid = new_session_id()
    tree = spawned.tree(sid)
    result = run("contain", sid, "--dry-run", "--json", "--runbooks", str(RUNBOOKS),
                 "--commit", "abcdef12", "--severity", "sev2")  # fmt: skip
    doc: dict[str, Any] = json.loads(result.stdout)
    assert doc["command"] == "contain" and doc["exit_code"] == 0
    plan = doc["data"]["plan"]
    assert plan["incident"]["severity"] == "SEV2" and plan["incident"]["severity_source"] == "given"
    assert {t["pid"] for t in plan["processes"]["targets"]} == set(tree.values())
    assert [r["step"] for r in plan["revocations"]] == []  # the shipped SEV2 has none
    assert plan["freeze"]["commits"][0]["sha"] == "abcdef12"
    assert doc["data"]["result"] is None


def test_usage_errors() -> None:
    assert run("contain").exit_code == 2
    short = run("contain", "abc", "--dry-run")
    assert short.exit_code == 2 and "too short" in short.stderr
    bad = run("contain", "--pid", "999999999", "--commit", "not-a-sha", "--dry-run")
    assert bad.exit_code == 2 and "not a commit hash" in bad.stderr
    assert run("resume", "INC-nothing").exit_code == 1


def test_interactive_confirmation_on_a_terminal(spawned: Spawned, agentir_home: Path) -> None:
    sid = new_session_id()
    tree = spawned.tree(sid)
    env = {**os.environ, "AGENTIR_HOME": str(agentir_home), "NO_COLOR": "1", "COLUMNS": "200"}
    argv = [sys.executable, "-m", "agentir", "contain", sid, "--runbooks", str(RUNBOOKS)]

    # Declining the plan changes nothing.
    code, output = run_in_pty(argv, ["n"], env, ROOT)
    assert code == 1 and "Apply this containment plan? [y/N]:" in output, output
    assert all(status(pid) in RUNNING for pid in tree.values())
    assert not (agentir_home / "incidents").exists()

    # Confirmed, with the destructive revocation declined: contained, the refusal recorded.
    code, output = run_in_pty(argv, ["y", "n"], env, ROOT)
    assert code == 0, output
    assert "Run step revoke-marker? [y/N]:" in output
    assert all(status(pid) == "stopped" for pid in tree.values())
    entries = IncidentStore().timeline(only_incident())
    declined = [e.details for e in entries if e.action == "credentials.revoke_declined"]
    assert [d["step"] for d in declined] == ["revoke-marker"]
    assert not (IncidentStore().path(only_incident()) / "revoked.txt").exists()
