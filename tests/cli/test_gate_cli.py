"""`agentir gate` as a deploy pipeline runs it, on a real repository."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from agentir.cli.app import app
from agentir.incidents.store import IncidentStore
from tests.actions.contain_helpers import RUNBOOKS, Repo, git, make_repo
from tests.actions.test_processes import Spawned, is_dead

WIDE = {"COLUMNS": "200", "NO_COLOR": "1"}
PROCS = Path(__file__).resolve().parents[1] / "data" / "procs"


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=WIDE)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return make_repo(tmp_path / "repo")


@pytest.fixture
def spawned(tmp_path: Path) -> Iterator[Spawned]:
    procs = Spawned(tmp_path)
    try:
        yield procs
    finally:
        procs.cleanup()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux processes")
def test_contain_freezes_and_the_gate_blocks_until_the_revert_deploys(
    repo: Repo, spawned: Spawned
) -> None:
    pid = spawned.loop("agent-worker")
    contained = run(
        "contain", "--pid", str(pid), "--kill", "--grace", "0.5", "--yes",
        "--commit", repo.agent[:9], "--repo", str(repo.path), "--runbooks", str(RUNBOOKS),
    )  # fmt: skip
    # Contained, but the marker revocation needs {session.id}, which a --pid alone does not
    # give: it fails, its on_failure is escalate, so contain exits 1 and says so.
    assert contained.exit_code == 1, contained.stdout + contained.stderr
    assert "proof: PROVEN" in contained.stdout and is_dead(pid)
    assert "Escalate now: revoke-marker failed" in contained.stdout
    ref = IncidentStore().ids()[0]

    blocked = run("gate", "--repo", str(repo.path))  # HEAD of main contains the agent commit
    assert blocked.exit_code == 4
    assert f"BLOCKED: deploying {repo.later[:12]}" in blocked.stdout
    assert f"{ref} (SEV1, contained): frozen commit {repo.agent[:12]}" in blocked.stdout
    assert run("gate", "--repo", str(repo.path), "--commit", repo.agent).exit_code == 4
    other = run("gate", "--repo", str(repo.path), "--commit", "other")
    assert other.exit_code == 0 and f"ok: no deploy freeze covers {repo.other[:12]}" in other.stdout
    assert run("gate", "--repo", str(repo.path), "--commit", repo.base).exit_code == 0

    IncidentStore().set_status(ref, "remediated")  # what `agentir remediate` does when done
    # main still carries the agent's commit until the revert branch is merged
    assert run("gate", "--repo", str(repo.path)).exit_code == 4
    git(repo.path, "revert", "--no-edit", repo.agent)
    assert run("gate", "--repo", str(repo.path)).exit_code == 0


def test_lift_needs_a_reason_and_is_recorded(repo: Repo) -> None:
    store = IncidentStore()
    incident = store.open("agent pushed", "SEV2", sessions=["sess-gate-01"])
    store.update(
        incident.id,
        lambda i: setattr(i.freeze, "commits", [repo.agent]) or setattr(i.freeze, "active", True),
        action="freeze.set",
    )
    assert run("gate", "--repo", str(repo.path)).exit_code == 4
    no_reason = run("gate", "--lift", incident.id)
    assert no_reason.exit_code == 2 and "reason" in no_reason.stderr
    lifted = run("gate", "--lift", incident.id, "--reason", "checked the commit by hand")
    assert lifted.exit_code == 0, lifted.stderr
    assert run("gate", "--repo", str(repo.path)).exit_code == 0
    assert store.timeline(incident.id)[-1].action == "freeze.lifted"
    assert store.timeline(incident.id)[-1].details["reason"] == "checked the commit by hand"


def test_json_and_errors(repo: Repo, tmp_path: Path) -> None:
    store = IncidentStore()
    incident = store.open("agent pushed", "SEV1")
    store.update(
        incident.id,
        lambda i: (
            setattr(i.freeze, "commits", [repo.agent, "f" * 40])
            or setattr(i.freeze, "active", True)
        ),
        action="freeze.set",
    )
    result = run("gate", "--repo", str(repo.path), "--commit", repo.later, "--json")
    doc = json.loads(result.stdout)
    assert result.exit_code == 4 and doc["exit_code"] == 4 and doc["status"] == "ok"
    data = doc["data"]
    assert data["blocked"] is True and data["commit"] == repo.later
    assert data["blocks"] == [
        {
            "incident": incident.id,
            "title": "agent pushed",
            "severity": "SEV1",
            "status": "open",
            "frozen_commit": repo.agent,
        }
    ]
    assert data["unknown_here"] == ["f" * 40]

    (tmp_path / "plain").mkdir()
    not_repo = run("gate", "--repo", str(tmp_path / "plain"))
    assert not_repo.exit_code == 1 and "not inside a git repository" in not_repo.stderr
    unknown = run("gate", "--repo", str(repo.path), "--commit", "0" * 40)
    assert unknown.exit_code == 1


def test_the_gate_from_a_pipeline_shell(repo: Repo, agentir_home: Path) -> None:
    store = IncidentStore()
    incident = store.open("agent pushed", "SEV1")
    store.update(
        incident.id,
        lambda i: setattr(i.freeze, "commits", [repo.agent]) or setattr(i.freeze, "active", True),
        action="freeze.set",
    )
    script = f"{sys.executable} -m agentir gate && echo DEPLOYED"
    proc = subprocess.run(
        ["sh", "-c", script], cwd=repo.path, capture_output=True, text=True, timeout=120,
        env={"AGENTIR_HOME": str(agentir_home), "PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
        check=False,
    )  # fmt: skip
    assert proc.returncode == 4 and "DEPLOYED" not in proc.stdout
    assert incident.id in proc.stdout
