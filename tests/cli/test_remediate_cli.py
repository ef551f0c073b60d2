"""`agentir remediate` end to end: dry run, the JSON contract, the incident record, and a real
process killed with SIGKILL in the middle of its reverts, then rerun to completion."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentir.cli.app import app
from agentir.incidents.store import IncidentStore
from tests.remediate_support import SID, Repo, interleaved, write_trace

runner = CliRunner()


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Repo, Path]:
    repo = interleaved(tmp_path)
    return repo, write_trace(tmp_path, repo)


def invoke(*args: str) -> object:
    return runner.invoke(app, ["remediate", *args])


def test_dry_run_json_prints_the_plan_and_changes_nothing(setup: tuple[Repo, Path]) -> None:
    repo, trace = setup
    before = repo.snapshot()
    res = invoke("--repo", str(repo.path), "--trace", str(trace), "--dry-run", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["command"] == "remediate" and doc["status"] == "ok"
    data = doc["data"]
    assert data["dry_run"] is True and data["result"] is None
    plan = data["plan"]
    assert plan["target_branch"] == f"agentir/revert-{SID[:8]}"
    assert [c["sha"] for c in plan["reverts"]] == [
        repo.shas[k] for k in ("a4", "a3", "a2", "a1")
    ]  # fmt: skip
    first = plan["reverts"][-1]
    assert {"sha", "subject", "reasons", "files", "pushed_to", "mainline"} <= first.keys()
    assert first["reasons"][0] == {
        "kind": "printed_hash", "detail": f"the trace of session {SID} printed its hash"
    }  # fmt: skip
    assert [c["sha"] for c in plan["other_agent"]] == [repo.shas["other_agent"]]
    kinds = {d["kind"] for d in plan["checklist"]}
    assert kinds == {"git_push", "message", "secret_exposure"}
    assert repo.snapshot() == before


def test_text_plan_lists_commits_and_checklist(setup: tuple[Repo, Path]) -> None:
    repo, trace = setup
    res = invoke("--repo", str(repo.path), "--trace", str(trace), "--dry-run")
    assert res.exit_code == 0
    for key in ("a1", "a2", "a3", "a4", "other_agent", "h1"):
        assert repo.shas[key][:8] in res.stdout
    assert "printed" in res.stdout  # the reason (table cells wrap, so one word)
    assert "Rotate" in res.stdout
    assert "nothing changed" in res.stderr


def test_applying_without_yes_is_refused_when_not_interactive(setup: tuple[Repo, Path]) -> None:
    repo, trace = setup
    res = invoke("--repo", str(repo.path), "--trace", str(trace), "--json")
    assert res.exit_code == 2
    assert json.loads(res.stdout)["errors"][0]["code"] == "usage"
    assert "agentir/revert" not in repo.git("branch")


def test_apply_with_incident_records_timeline_checklist_and_evidence(
    setup: tuple[Repo, Path],
) -> None:
    repo, trace = setup
    (repo.path / "scratch.py").write_text("print('scratch')\n")  # uncommitted agent file
    store = IncidentStore()
    incident = store.open("agent broke the app", "SEV1", sessions=[SID], traces=[trace])
    res = invoke(
        incident.id, "--repo", str(repo.path), "--yes", "--stash", "--json",
        "--check", "sh -c 'test ! -e lib/new.py'",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)["data"]
    result = data["result"]
    assert result["branch"] == f"agentir/revert-{incident.id}"
    assert len(result["reverted"]) == 4
    assert [c["ok"] for c in result["before"]] == [False]
    assert [c["ok"] for c in result["after"]] == [True]
    assert sorted(data["checklist_added"]) == sorted(d["id"] for d in data["plan"]["checklist"])
    actions = [e.action for e in store.timeline(incident.id)]
    for expected in (
        "remediate.planned", "remediate.uncommitted_saved", "remediate.started",
        "remediate.verify.before", "remediate.verify.after", "remediate.applied",
        "remediate.stashed", "remediate.checklist",
    ):  # fmt: skip
        assert expected in actions
    record = store.get(incident.id)
    assert record.status == "remediated" and record.remediated_at is not None
    assert "status.remediated" in actions
    items = {i.kind: i for i in record.checklist}
    assert items["secret_exposure"].status == "pending"
    assert "fingerprint" in items["secret_exposure"].text
    saved = Path(result["saved"])
    assert saved.parent == store.path(incident.id) / "evidence"
    assert (saved / "untracked" / "scratch.py").read_text() == "print('scratch')\n"
    assert store.verify(incident.id).ok
    # rerunning does not duplicate checklist items; --verify-only reruns the checks
    res = invoke(
        incident.id, "--repo", str(repo.path), "--verify-only",
        "--check", "sh -c 'test ! -e lib/new.py'", "--json",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["data"]["ok"] is True
    assert store.timeline(incident.id)[-1].action == "remediate.verify"


def test_without_incident_evidence_goes_to_out(setup: tuple[Repo, Path], tmp_path: Path) -> None:
    repo, trace = setup
    (repo.path / "app.py").write_text("VERSION = 3\n")
    out = tmp_path / "out"
    res = invoke("--repo", str(repo.path), "--trace", str(trace), "--yes", "--out", str(out))
    assert res.exit_code == 1  # dirty tree refused...
    assert "--stash" in res.stderr
    (saved,) = out.iterdir()  # ...but the agent's edit was saved first
    assert "VERSION = 3" in (saved / "agent-changes.patch").read_text()


def test_conflict_exit_code_and_message(setup: tuple[Repo, Path]) -> None:
    repo, trace = setup
    repo.commit("h3", {"app.py": "VERSION = 7\n\ndef main():\n    return VERSION\n"},
                "Bump version by hand", "2026-03-10T11:00:00Z")  # fmt: skip
    before = repo.snapshot()
    res = invoke("--repo", str(repo.path), "--trace", str(trace), "--yes")
    assert res.exit_code == 1
    assert "conflicts in app.py" in res.stderr
    assert repo.shas["a1"][:10] in res.stderr
    assert repo.snapshot() == before


def _kill_mid_revert(repo: Repo, trace: Path) -> list[str]:
    cmd = [sys.executable, "-m", "agentir", "remediate", "--repo", str(repo.path),
           "--trace", str(trace), "--yes"]  # fmt: skip
    env = dict(os.environ, AGENTIR_TEST_PAUSE_AFTER_REVERTS="1")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    assert proc.stderr is not None
    line = ""
    while "AGENTIR_TEST_PAUSE_AFTER_REVERTS reached" not in line:
        line = proc.stderr.readline()
        assert line or proc.poll() is None, "remediate ended before the pause"
        assert time.monotonic() < deadline
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    return cmd


def test_sigkill_mid_revert_leaves_a_recoverable_repo_and_a_rerun_completes(
    setup: tuple[Repo, Path],
) -> None:
    repo, trace = setup
    before = repo.snapshot()
    cmd = _kill_mid_revert(repo, trace)
    # the responder's checkout is untouched and `git status` is clean
    status = subprocess.run(["git", "status"], cwd=repo.path, capture_output=True, text=True)
    assert status.returncode == 0 and "nothing to commit, working tree clean" in status.stdout
    assert repo.git("rev-parse", "HEAD") == before["head"]
    # the revert worktree shows a recoverable in-progress revert; the state file remembers it
    state = json.loads((repo.path / ".git" / "agentir-remediate.json").read_text())
    worktree = Path(state["worktree"])
    inner = subprocess.run(["git", "status"], cwd=worktree, capture_output=True, text=True)
    assert inner.returncode == 0 and "reverting commit" in inner.stdout
    # rerun: finishes, each agent commit reverted exactly once
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Finished the interrupted remediation" in done.stdout
    branch = state["branch"]
    bodies = repo.git("log", "--format=%B%x00", f"main..{branch}")
    reverted = sorted(
        line.split()[3].rstrip(".") for line in bodies.splitlines()
        if line.startswith("This reverts commit")
    )  # fmt: skip
    assert reverted == sorted(repo.shas[k] for k in ("a1", "a2", "a3", "a4"))
    assert repo.read("lib/util.py", branch) == "def util():\n    return 1\n"
    assert not (repo.path / ".git" / "agentir-remediate.json").exists()
    assert len(repo.git("worktree", "list").splitlines()) == 1
    after = repo.snapshot()
    assert {k: v for k, v in after.items() if k != "refs"} == {
        k: v for k, v in before.items() if k != "refs"
    }


def test_runbook_checks_run_with_placeholders(setup: tuple[Repo, Path], tmp_path: Path) -> None:
    repo, trace = setup
    shipped = (Path(__file__).resolve().parents[2] / "runbooks" / "sev1.yaml").read_text()
    check = (
        '      command: [sh, -c, \'test "$0" = "$1" && test ! -e lib/new.py\', '
        "'{incident.id}', '{incident.id}']\n"
    )
    custom = shipped.replace("      command: [python, -m, pytest, -q]\n", check)
    assert custom != shipped
    folder = tmp_path / "runbooks"
    folder.mkdir()
    (folder / "sev1.yaml").write_text(custom)
    store = IncidentStore()
    incident = store.open("agent broke the app", "SEV1", sessions=[SID], traces=[trace])
    res = invoke(
        incident.id, "--repo", str(repo.path), "--yes", "--runbooks", str(folder), "--json"
    )
    assert res.exit_code == 0, res.output
    result = json.loads(res.stdout)["data"]["result"]
    assert [(c["name"], c["ok"]) for c in result["before"]] == [("unit tests", False)]
    assert [(c["name"], c["ok"]) for c in result["after"]] == [("unit tests", True)]
    assert result["after"][0]["argv"][-1] == incident.id


def test_interactive_confirmation(setup: tuple[Repo, Path]) -> None:
    pexpect = pytest.importorskip("pexpect")
    repo, trace = setup
    args = ["-m", "agentir", "remediate", "--repo", str(repo.path), "--trace", str(trace)]
    env = dict(os.environ, COLUMNS="200")
    child = pexpect.spawn(sys.executable, args, env=env, encoding="utf-8", timeout=60)
    child.expect(r"Revert 4 commit\(s\) on a new branch agentir/revert-\w+\?")
    child.sendline("n")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert "agentir/revert" not in repo.git("branch")
    child = pexpect.spawn(sys.executable, args, env=env, encoding="utf-8", timeout=60)
    child.expect(r"\?")
    child.sendline("y")
    child.expect("Created agentir/revert-")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert f"agentir/revert-{SID[:8]}" in repo.git("branch")


def test_incident_trace_moved_away_is_read_from_its_evidence_copy(
    setup: tuple[Repo, Path],
) -> None:
    repo, trace = setup
    store = IncidentStore()
    incident = store.open("agent broke the app", "SEV1", sessions=[SID], traces=[trace])
    store.add_evidence(incident.id, trace)
    trace.unlink()
    res = invoke(incident.id, "--repo", str(repo.path), "--dry-run", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)["data"]
    assert len(data["plan"]["reverts"]) == 4
    assert data["verified"] is None
