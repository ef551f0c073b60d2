"""`agentir review` and `agentir incident action|status` through the real typer app."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from agentir.cli.app import app
from agentir.incidents.store import IncidentStore
from tests.review.scenario import FAKE_GITHUB_TOKEN, seeded_trace

WIDE = {"COLUMNS": "200", "NO_COLOR": "1", "AGENTIR_ACTOR": "alice@oncall"}


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=WIDE)


def data(result: Result) -> Any:
    document = json.loads(result.stdout)
    assert document["agentir_schema"] == 1
    return document["data"]


@pytest.fixture
def incident(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)  # no repository-local templates or policy from the checkout
    for name in ("AGENTIR_POLICY", "AGENTIR_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    trace = seeded_trace(tmp_path / "traces")
    result = run(
        "incident", "open", "--title", "agent force-pushed main", "--severity", "SEV1",
        "--session", "7e57c0de", "--trace", str(trace),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


def test_markdown_goes_to_stdout_by_default(incident: str) -> None:
    result = run("review", incident)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"# Post-incident review: {incident}")
    assert "### 1. What did the agent do?" in result.stdout
    assert "git push --force origin main" in result.stdout
    assert FAKE_GITHUB_TOKEN not in result.stdout and result.stderr == ""
    entries = IncidentStore().timeline(incident)
    assert not any(e.action == "review.rendered" for e in entries)  # stdout only: not recorded


def test_output_file_is_kept_in_the_incident_and_recorded(incident: str, tmp_path: Path) -> None:
    out = tmp_path / "reviews" / "review.html"
    result = run("review", incident, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and f"wrote review to {out}" in result.stderr
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html
    store = IncidentStore()
    kept = store.path(incident) / "review.html"
    assert kept.read_text() == html
    entry = store.timeline(incident)[-1]
    assert entry.action == "review.rendered"
    assert entry.details["sha256"] == hashlib.sha256(html.encode()).hexdigest()
    assert entry.details["format"] == "html" and entry.details["status"] == "draft"
    md = tmp_path / "review.md"
    assert run("review", incident, "-o", str(md)).exit_code == 0
    assert (store.path(incident) / "review.md").read_text() == md.read_text()
    assert md.read_text().startswith("# Post-incident review")


def test_format_flag_and_errors(incident: str, tmp_path: Path) -> None:
    html = run("review", incident, "--format", "html")
    assert html.exit_code == 0 and html.stdout.startswith("<!DOCTYPE html>")
    bad = run("review", incident, "--format", "pdf")
    assert bad.exit_code == 2 and "unknown --format 'pdf'" in bad.stderr
    status = run("review", incident, "--status", "done")
    assert status.exit_code == 2 and "unknown --status" in status.stderr
    missing = run("review", "INC-19990101-0001")
    assert missing.exit_code == 1 and "no incident" in missing.stderr
    template = run("review", incident, "--template", str(tmp_path / "nope.md.j2"))
    assert template.exit_code == 2 and "no template at" in template.stderr


def test_template_override_and_repository_local_templates(
    incident: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = tmp_path / "mine.md.j2"
    mine.write_text("{{ incident.id }} {{ review.status }} {{ questions.blast.files_changed }}\n")
    result = run("review", incident, "--template", str(mine))
    assert result.exit_code == 0 and result.stdout == f"{incident} draft 2\n"
    repo = tmp_path / "repo"
    (repo / ".agentir" / "templates").mkdir(parents=True)
    (repo / ".agentir" / "templates" / "review.md.j2").write_text("local {{ incident.id }}\n")
    (repo / "sub").mkdir()
    monkeypatch.chdir(repo / "sub")
    assert run("review", incident).stdout == f"local {incident}\n"
    html = run("review", incident, "--format", "html")  # no local html: the shipped one
    assert html.stdout.startswith("<!DOCTYPE html>")
    broken = tmp_path / "broken.md.j2"
    broken.write_text("{{ incident.nothing }}")
    failed = run("review", incident, "--template", str(broken))
    assert failed.exit_code == 1 and "nothing" in failed.stderr


def test_status_reviewed_moves_the_incident_and_meets_the_deadline(incident: str) -> None:
    result = run("review", incident, "--status", "in-review")
    assert result.exit_code == 0 and "**Review status: in review**" in result.stdout
    assert IncidentStore().get(incident).extra["review"] == {"status": "in-review"}
    result = run("review", incident, "--status", "reviewed")
    assert "**Review status: reviewed**" in result.stdout
    store = IncidentStore()
    record = store.get(incident)
    assert record.status == "reviewed" and record.deadlines["learn"].met_at is not None
    actions = [e.action for e in store.timeline(incident)]
    assert actions[-3:] == ["review.status", "review.status", "status.reviewed"]
    assert "(reviewed " in run("incident", "status", incident).stdout
    assert run("incident", "close", incident).exit_code == 0
    closed = run("review", incident)
    assert "**Review status: closed**" in closed.stdout
    refused = run("review", incident, "--status", "draft")
    assert refused.exit_code == 1 and "closed" in refused.stderr


def test_json_prints_the_context(incident: str) -> None:
    result = run("review", incident, "--json")
    assert result.exit_code == 0, result.stderr
    ctx = data(result)["context"]
    assert ctx["schema"] == 1 and ctx["incident"]["id"] == incident
    assert set(ctx["questions"]) == {"what", "why", "guardrails", "blast"}
    assert FAKE_GITHUB_TOKEN not in result.stdout


def test_incident_action_add_done_list(incident: str) -> None:
    added = run(
        "incident", "action", "add", incident, "--type", "guardrail", "--owner", "bob",
        "--due", "2026-12-01", "Deny git push --force in managed settings",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    assert added.stdout.strip() == "A1" and "added A1 (guardrail)" in added.stderr
    prompt = run("incident", "action", "add", incident, "Add to CLAUDE.md: never push to main")
    assert prompt.stdout.strip() == "A2" and "prompt change" in prompt.stderr
    assert "--owner" in prompt.stderr
    listed = run("incident", "action", "list", incident, "--json")
    rows = data(listed)["action_items"]
    assert [(r["id"], r["type"], r["prompt_change"]) for r in rows] == [
        ("A1", "guardrail", False),
        ("A2", "prevent", True),
    ]
    assert data(listed)["prompt_only"] is False
    done = run("incident", "action", "done", incident, "A1")
    assert done.exit_code == 0 and "A1 done at" in done.stderr
    again = run("incident", "action", "done", incident, "A1")
    assert again.exit_code == 1 and "already done" in again.stderr
    bad = run("incident", "action", "add", incident, "--type", "wish", "x")
    assert bad.exit_code == 2 and "unknown type" in bad.stderr
    table = run("incident", "action", "list", incident)
    assert "Deny git push --force" in table.stdout and "open" in table.stdout
    review = run("review", incident).stdout
    assert "| `A1` | guardrail |" in review and "_(prompt change)_" in review


def test_incident_status_shows_the_review_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    past = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=50)
    late = IncidentStore(clock=lambda: past).open("old SEV1", "SEV1").id
    fresh = IncidentStore().open("new SEV1", "SEV1").id
    result = run("incident", "status", late)
    assert result.exit_code == 0
    line = next(x for x in result.stdout.splitlines() if x.startswith("review:"))
    assert "OVERDUE by 2h" in line
    assert data(run("incident", "status", late, "--json"))["review"]["state"] == "overdue"
    ok = run("incident", "status", fresh).stdout
    assert "review: due" in ok and "left" in ok and "OVERDUE" not in ok
    review = run("review", late).stdout
    assert "> ⚠️ **Warning:** The review is overdue" in review
