"""`agentir incident share` through the real typer app: a real team repository, a real local
HTTP server, and a webhook that is down."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner, Result

from agentir.cli.app import app
from agentir.incidents.store import IncidentStore
from tests.share_support import (
    FAKE_TOKEN,
    HOOK_PATH,
    closed_port_url,
    incident_with_trace,
    team_repo,
    webhook_server,
)

ENV = {"COLUMNS": "200", "NO_COLOR": "1", "AGENTIR_ACTOR": "alice@oncall"}


def run(*args: str, **env: str) -> Result:
    return CliRunner().invoke(app, list(args), env={**ENV, **env})


def test_share_to_a_team_repository(tmp_path: Path) -> None:
    _, ref, _ = incident_with_trace(tmp_path / "work")
    team = team_repo(tmp_path / "team")
    result = run("incident", "share", ref, "--to", str(team.path))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == [
        f"{ref}/evidence.json", f"{ref}/review.html", f"{ref}/review.md", f"{ref}/timeline.md",
    ]  # fmt: skip
    head = team.git("rev-parse", "HEAD").strip()
    assert f"committed {head[:10]}" in result.stderr
    assert team.git("log", "-1", "--format=%s").startswith(f"agentir: share {ref} (SEV2, open)")
    for name in result.stdout.split():
        assert (team.path / name).is_file()
    again = run("incident", "share", ref, "--to", str(team.path), "--json")
    assert again.exit_code == 0
    folder = json.loads(again.stdout)["data"]["folder"]
    assert folder["folder"] == ref and folder["commit"] is not None  # the timeline grew


def test_share_with_a_webhook_posts_json_naming_the_incident(tmp_path: Path) -> None:
    _, ref, _ = incident_with_trace(tmp_path / "work")
    team = team_repo(tmp_path / "team")
    with webhook_server() as hook:
        result = run("incident", "share", ref, "--to", str(team.path), "--webhook", hook.url)
    assert result.exit_code == 0, result.stderr
    [request] = hook.requests
    text = request["json"]["text"]
    assert ref in text and f"{ref}/" in text
    assert team.git("rev-parse", "HEAD").strip()[:10] in text
    assert FAKE_TOKEN not in request["body"] and "REDACTED" in text
    assert "posted the summary to http://127.0.0.1:" in result.stderr
    assert HOOK_PATH not in result.stderr + result.stdout
    entry = IncidentStore().timeline(ref)[-1]
    assert entry.action == "incident.webhook" and entry.details["ok"] is True
    assert HOOK_PATH not in json.dumps(entry.details)


def test_the_webhook_url_can_come_from_the_environment(tmp_path: Path) -> None:
    _, ref, _ = incident_with_trace(tmp_path / "work")
    with webhook_server() as hook:
        result = run("incident", "share", ref, "--json", AGENTIR_SHARE_WEBHOOK=hook.url)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)["data"]
    assert data["folder"] is None and data["webhook"]["status"] == 200
    assert len(hook.requests) == 1 and ref in hook.requests[0]["json"]["text"]


def test_webhook_down_is_one_line_exit_1_and_the_folder_share_stands(tmp_path: Path) -> None:
    _, ref, _ = incident_with_trace(tmp_path / "work")
    team = team_repo(tmp_path / "team")
    url = closed_port_url()
    result = run("incident", "share", ref, "--to", str(team.path), "--webhook", url)
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and errors[0].startswith("agentir incident share: error: webhook")
    assert HOOK_PATH not in result.stderr
    assert (team.path / ref / "review.md").is_file()
    assert team.git("log", "-1", "--format=%s").startswith(f"agentir: share {ref}")
    actions = [e.action for e in IncidentStore().timeline(ref)]
    assert actions[-2:] == ["incident.shared", "incident.webhook"]
    as_json = run("incident", "share", ref, "--webhook", url, "--json")
    assert as_json.exit_code == 1
    document = json.loads(as_json.stdout)
    assert document["status"] == "error" and document["data"]["webhook"]["ok"] is False


def test_usage_errors_change_nothing(tmp_path: Path) -> None:
    _, ref, _ = incident_with_trace(tmp_path / "work")
    team = team_repo(tmp_path / "team")
    nothing = run("incident", "share", ref)
    assert nothing.exit_code == 2 and "--to" in nothing.stderr
    bad = run("incident", "share", ref, "--to", str(team.path), "--webhook", "ftp://x/y")
    assert bad.exit_code == 2 and not (team.path / ref).exists()
    plain = tmp_path / "plain"
    plain.mkdir()
    not_git = run("incident", "share", ref, "--to", str(plain))
    assert not_git.exit_code == 1 and "not inside a git repository" in not_git.stderr
