"""`agentir assess` runs the detectors by default and takes the policy from --policy or the
nearest agentir.yaml; an invalid policy is exit 1 with every error located."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentir.cli.app import app
from tests.conftest import DATA

runner = CliRunner()
STUCK = DATA / "detectors" / "codex_stuck_test.jsonl"


@pytest.fixture(autouse=True)
def _no_env_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGENTIR_POLICY", raising=False)
    monkeypatch.delenv("AGENTIR_CONFIG", raising=False)


def _detectors(*args: str) -> set[str]:
    result = runner.invoke(app, ["assess", str(STUCK), "--json", *args])
    assert result.exit_code == 0, result.stderr
    return {f["detector"] for f in json.loads(result.stdout)["data"]["findings"]}


def test_findings_by_default_in_json_and_terminal() -> None:
    assert _detectors() == {"loop", "scope", "hallucination"}
    result = runner.invoke(app, ["assess", str(STUCK)])
    assert "Findings" in result.stdout and "failed the same way 4 times" in result.stdout
    assert "Suggested severity: SEV2" in result.stdout


def test_policy_file_changes_the_thresholds(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "policy:\n  loops:\n    same_error: 10\n  paths:\n    allowed_write: ['.', '/srv/**']\n"
    )
    assert _detectors("--policy", str(policy)) == {"hallucination"}


def test_the_nearest_agentir_yaml_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "agentir.yaml").write_text("policy:\n  loops: {same_error: 10}\n")
    work = tmp_path / "deep" / "er"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    assert "loop" not in _detectors()


def test_an_invalid_policy_is_exit_1_with_every_error(tmp_path: Path) -> None:
    policy = tmp_path / "bad.yaml"
    policy.write_text("budget:\n  usd: cheap\nloops:\n  same_eror: 2\n")
    result = runner.invoke(app, ["assess", str(STUCK), "--policy", str(policy)])
    assert result.exit_code == 1 and result.stdout == ""
    assert f"{policy}:2: budget.usd: must be a number" in result.stderr
    assert f"{policy}:4: loops.same_eror: unknown key (did you mean 'same_error'?)" in result.stderr
