"""`agentir watch` from the command line: output, exit codes, the policy and its errors."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from typer.testing import CliRunner, Result

from agentir.cli.app import app
from tests.guard.transcript import Transcript

WIDE = {"COLUMNS": "200", "NO_COLOR": "1"}


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=WIDE)


def _loop(tmp_path: Path, runs: int) -> Path:
    t = Transcript(str(uuid.uuid4()), tmp_path, tmp_path / "t.jsonl")
    records = [t.prompt("fix the test")]
    for _ in range(runs):
        records += t.step("Bash", {"command": "pytest -q"}, "1 failed")
    return t.write(records)


def test_once_on_a_clean_trace_exits_0(tmp_path: Path) -> None:
    result = run("watch", str(_loop(tmp_path, 3)), "--once")
    assert result.exit_code == 0 and result.stdout == ""
    # prompt: session info + message; first call: session info (model) + model call + call
    # + result; two more calls: 3 events each
    assert "agentir watch: 12 events, no trigger" in result.stderr


def test_once_on_a_loop_reports_it_and_exits_1_when_no_process_was_found(tmp_path: Path) -> None:
    result = run("watch", str(_loop(tmp_path, 4)), "--once", "--json")
    assert result.exit_code == 1, result.stderr  # it fired, but nothing was paused
    doc = json.loads(result.stdout)
    assert doc["command"] == "watch" and doc["exit_code"] == 1
    (fired,) = doc["data"]["fired"]
    assert fired["trigger"] == "loop" and fired["finding"]["severity"] == "warning"
    assert fired["incident"].startswith("INC-") and fired["targets"] == 0
    assert "kill switch: loop" in result.stderr


def test_the_policy_decides_what_fires(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("kill_switch:\n  levels: {loop: high}\n")  # only a stuck loop fires
    result = run("watch", str(_loop(tmp_path, 4)), "--once", "--policy", str(policy))
    assert result.exit_code == 0 and "no trigger" in result.stderr
    assert f"policy: {policy}" in result.stderr.replace("\n", "")


def test_an_invalid_policy_or_poll_is_refused(tmp_path: Path) -> None:
    policy = tmp_path / "agentir.yaml"
    policy.write_text("policy:\n  kill_switch:\n    triggers: [everything]\n")
    bad = run("watch", str(tmp_path / "t.jsonl"), "--policy", str(policy), "--once")
    assert bad.exit_code == 1 and "unknown trigger 'everything'" in bad.stderr
    assert run("watch", "t.jsonl", "--poll", "0").exit_code == 2
