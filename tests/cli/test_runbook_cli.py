"""`agentir runbook validate|show` through the real typer app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner, Result

from agentir.cli.app import app
from agentir.resources import shipped_dir

DATA = Path(__file__).resolve().parents[1] / "data" / "runbooks"


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200", "NO_COLOR": "1"})


def test_validate_shipped_runbooks() -> None:
    result = run("runbook", "validate", str(shipped_dir("runbooks")))
    assert result.exit_code == 0 and result.stdout == ""
    assert result.stderr.startswith("valid: ")


def test_validate_default_folders(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["runbook", "validate", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)["data"]
    assert data["valid"] is True and str(shipped_dir("runbooks")) in data["folders"]


def test_validate_lists_every_error_with_its_line() -> None:
    folder = DATA / "broken"
    result = run("runbook", "validate", str(folder))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 14 and "14 errors in" in result.stderr
    sev1 = folder / "sev1.yaml"
    number = next(
        n for n, text in enumerate(sev1.read_text().splitlines(), 1) if "15 minutes" in text
    )
    assert (
        f'{sev1}:{number}: phases.contain.2.deadline: "15 minutes" is not a duration '
        "(use 15m, 1h, 2d)"
    ) in lines
    assert all(line.startswith(str(folder)) for line in lines)


def test_validate_bad_yaml_json() -> None:
    result = run("runbook", "validate", str(DATA / "bad_yaml"), "--json")
    assert result.exit_code == 1 and result.stderr == ""
    document = json.loads(result.stdout)
    assert document["status"] == "error" and document["exit_code"] == 1
    errors = document["data"]["errors"]
    assert {(Path(e["file"]).name, e["line"]) for e in errors} == {
        ("sev2.yaml", 1),
        ("sev2.yaml", 8),
        ("sev3.yaml", 7),
    }
    assert all(e["code"] == "invalid_runbook" for e in document["errors"])


def test_validate_missing_folder(tmp_path: Path) -> None:
    result = run("runbook", "validate", str(tmp_path / "none"))
    assert result.exit_code == 1 and "not a folder of runbooks" in result.stdout


def test_show_sev1() -> None:
    result = run("runbook", "show", "SEV1")
    assert result.exit_code == 0
    out = result.stdout
    for expected in ("contain (within 15m)", "learn (within 2d)", "pause-agent", "deploy-freeze",
                     "aws iam put-role-policy", "gh api -X DELETE /installation/token",
                     "contain.kill (confirm)", "Agent infrastructure team"):  # fmt: skip
        assert expected in out, expected


def test_show_json_and_override_folder() -> None:
    result = run("runbook", "show", "sev1", "--runbooks", str(DATA / "override"), "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)["data"]
    assert data["title"] == "Team SEV1" and data["phase_deadlines"]["contain"] == "10m"
    step = data["phases"]["contain"][1]
    assert step["id"] == "revoke-vault" and step["command"][0] == "vault"
    assert step["deadline_seconds"] == 600 and step["confirm"] is True
    assert data["verification"]["checks"][0]["name"] == "smoke"


def test_show_unknown_severity_and_broken_folder() -> None:
    assert run("runbook", "show", "SEV5").exit_code == 2
    broken = run("runbook", "show", "SEV1", "--runbooks", str(DATA / "broken"))
    assert broken.exit_code == 1 and "invalid runbook" in broken.stderr
    assert "runbook validate" in broken.stderr
