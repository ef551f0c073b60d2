"""`agentir incident ...` through the real typer app: stdout for data, stderr for the rest."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from agentir.cli.app import app
from agentir.incidents.store import IncidentStore

WIDE = {"COLUMNS": "200", "NO_COLOR": "1"}


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=WIDE)


def envelope(result: Result) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(result.stdout)
    assert set(document) == {"agentir_schema", "command", "status", "exit_code", "data", "errors"}
    assert document["agentir_schema"] == 1
    return document


@pytest.fixture
def trace(tmp_path: Path) -> Path:
    path = tmp_path / "session.jsonl"
    path.write_text('{"type":"user","sessionId":"s-42"}\n')
    return path


@pytest.fixture
def opened(trace: Path) -> str:
    result = run(
        "incident", "open", "--title", "agent force-pushed main", "--severity", "SEV1",
        "--session", "s-42", "--trace", str(trace),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


def test_open_prints_only_the_id_on_stdout(opened: str, trace: Path) -> None:
    assert opened.startswith("INC-") and len(opened.splitlines()) == 1
    store = IncidentStore()
    incident = store.get(opened)
    assert incident.sessions == ["s-42"] and incident.severity == "SEV1"
    evidence = store.evidence(opened)
    assert len(evidence) == 1 and evidence[0].path == str(trace.resolve())


def test_open_summary_goes_to_stderr(trace: Path) -> None:
    result = run("incident", "open", "--title", "t", "--severity", "sev2", "--no-evidence")
    assert result.exit_code == 0
    assert "opened INC-" in result.stderr and "(SEV2)" in result.stderr
    assert "assess by" in result.stderr
    assert IncidentStore().evidence("latest") == []


def test_open_json_envelope(trace: Path) -> None:
    result = run("incident", "open", "--title", "t", "--trace", str(trace), "--json")
    assert result.exit_code == 0 and result.stderr == ""
    document = envelope(result)
    assert document["command"] == "incident open" and document["status"] == "ok"
    data = document["data"]
    assert data["incident"]["id"].startswith("INC-")
    assert data["incident"]["severity"] == "SEV1"  # default: if unsure, the higher level
    assert data["evidence"][0]["sha256"] and data["evidence"][0]["size"] == trace.stat().st_size


def test_open_rejects_a_missing_trace_and_a_bad_severity(tmp_path: Path) -> None:
    missing = run("incident", "open", "--title", "t", "--trace", str(tmp_path / "nope"))
    assert missing.exit_code == 2 and "no such trace" in missing.stderr
    bad = run("incident", "open", "--title", "t", "--severity", "SEV7")
    assert bad.exit_code == 1 and "unknown severity" in bad.stderr and bad.stdout == ""
    assert IncidentStore().list() == []


def test_list_and_status(opened: str) -> None:
    listing = run("incident", "list")
    assert listing.exit_code == 0
    assert opened in listing.stdout and "agent force-pushed main" in listing.stdout
    assert "contain in" in listing.stdout
    data = envelope(run("incident", "list", "--json"))["data"]
    assert [i["id"] for i in data["incidents"]] == [opened]
    item = data["incidents"][0]
    assert item["deadlines"]["contain"]["met_at"] is None  # the same shape as incident.yaml
    assert item["deadline_states"]["contain"] == "pending" and item["next_deadline"] == "contain"
    assert envelope(run("incident", "list", "--status", "closed", "--json"))["data"] == {
        "incidents": []
    }
    status = run("incident", "status", opened[:14])  # a unique prefix
    assert status.exit_code == 0
    assert f"{opened} SEV1 OPEN" in status.stdout
    assert "pending" in status.stdout and "contain" in status.stdout and "open for" in status.stdout
    data = envelope(run("incident", "status", "latest", "--json"))["data"]
    assert data["status"] == "open" and data["next_deadline"] == "contain"
    rows = {row["name"]: row for row in data["deadlines"]}
    assert rows["contain"]["state"] == "pending"
    assert 0 < rows["contain"]["seconds_left"] <= 15 * 60
    assert rows["learn"]["seconds_left"] > 47 * 3600


def test_list_rejects_an_unknown_status() -> None:
    result = run("incident", "list", "--status", "done")
    assert result.exit_code == 2 and "unknown status" in result.stderr


def test_status_shows_overdue_and_met(opened: str) -> None:
    store = IncidentStore()
    store.set_status(opened, "contained")

    def backdate(incident: Any) -> None:
        for deadline in incident.deadlines.values():
            deadline.due = deadline.due.replace(year=2000)
        incident.deadlines["contain"].due = incident.deadlines["contain"].met_at.replace(year=2100)

    store.update(opened, backdate, action="test.backdate")
    result = run("incident", "status", opened)
    assert "overdue" in result.stdout and "met" in result.stdout
    assert "overdue: assess, remediate, learn" in result.stderr
    data = envelope(run("incident", "status", opened, "--json"))["data"]
    states = {row["name"]: row["state"] for row in data["deadlines"]}
    assert states == {
        "contain": "met",
        "assess": "overdue",
        "remediate": "overdue",
        "learn": "overdue",
    }


def test_show_prints_trace_text_literally(trace: Path) -> None:
    title = "[bold red]not markup[/bold red] \x1b[2Jcleared?"
    incident_id = run("incident", "open", "--title", title, "--no-evidence").stdout.strip()
    result = run("incident", "show", incident_id)
    assert result.exit_code == 0
    assert "[bold red]not markup[/bold red]" in result.stdout
    assert "\x1b" not in result.stdout and "[2Jcleared?" in result.stdout
    assert "incident.opened" in result.stdout
    data = envelope(run("incident", "show", incident_id, "--json"))["data"]
    assert data["incident"]["title"] == title  # stored as given; only the display is cleaned
    assert [e["action"] for e in data["timeline"]] == ["incident.opened"]


def test_show_limits_the_timeline(opened: str) -> None:
    store = IncidentStore()
    for number in range(5):
        store.append(opened, "note", {"text": f"n{number}"})
    result = run("incident", "show", opened, "--limit", "2")
    assert "text=n4" in result.stdout and "text=n3" in result.stdout
    assert "text=n2" not in result.stdout
    assert "earlier entries hidden" in result.stderr


def test_close_needs_a_reason_before_review(opened: str) -> None:
    refused = run("incident", "close", opened)
    assert refused.exit_code == 1 and "needs a reason" in refused.stderr
    assert "hint:" in refused.stderr and refused.stdout == ""
    closed = run("incident", "close", opened, "--reason", "false alarm", "--json")
    assert closed.exit_code == 0
    data = envelope(closed)["data"]["incident"]
    assert data["status"] == "closed" and data["close_reason"] == "false alarm"
    again = run("incident", "close", opened, "--reason", "x", "--json")
    assert again.exit_code == 1 and envelope(again)["status"] == "error"


def test_verify_ok_and_broken(opened: str) -> None:
    good = run("incident", "verify", opened)
    assert good.exit_code == 0 and "timeline intact (2 entries" in good.stdout
    path = IncidentStore().path(opened) / "timeline.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    lines[0] = lines[0].replace("agent force-pushed main", "nothing happened")
    path.write_text("".join(lines))
    bad = run("incident", "verify", opened)
    assert bad.exit_code == 1
    assert f"{opened}: timeline BROKEN at line 1:" in bad.stdout
    document = envelope(run("incident", "verify", opened, "--json"))
    assert document["exit_code"] == 1 and document["status"] == "error"
    assert document["data"]["first_bad_line"] == 1 and document["data"]["ok"] is False
    assert document["errors"][0]["code"] == "broken_timeline"


def test_export_tar_and_markdown(opened: str, tmp_path: Path) -> None:
    archive = tmp_path / "exports" / "inc.tar.gz"
    result = run("incident", "export", opened, "-o", str(archive))
    assert result.exit_code == 0 and f"wrote {archive}" in result.stderr and result.stdout == ""
    with tarfile.open(archive) as tar:
        assert f"{opened}/export-manifest.json" in tar.getnames()
    markdown = tmp_path / "inc.md"
    data = envelope(run("incident", "export", opened, "-o", str(markdown), "-f", "md", "--json"))
    assert data["data"]["format"] == "md" and data["data"]["bytes"] == markdown.stat().st_size
    assert markdown.read_text().startswith(f"# {opened}: agent force-pushed main")
    bad = run("incident", "export", opened, "-o", str(tmp_path / "x"), "--format", "zip")
    assert bad.exit_code == 2


def test_severity_and_note_are_recorded(opened: str) -> None:
    changed = run("incident", "severity", opened, "SEV2", "--reason", "no prod impact after all")
    assert changed.exit_code == 0 and "is now SEV2" in changed.stderr
    noted = run("incident", "note", opened, "called the DBA", "--json")
    assert envelope(noted)["data"]["entry"]["details"] == {"text": "called the DBA"}
    actions = [e.action for e in IncidentStore().timeline(opened)]
    assert actions[-2:] == ["severity.changed", "note"]


def test_unknown_incident_is_an_error_with_a_hint() -> None:
    result = run("incident", "show", "INC-19990101-0001")
    assert result.exit_code == 1 and result.stdout == ""
    assert "no incident" in result.stderr and "agentir incident list" in result.stderr
    document = envelope(run("incident", "status", "nope", "--json"))
    assert document["status"] == "error" and document["errors"][0]["code"] == "incident"


def test_list_on_an_empty_store() -> None:
    result = run("incident", "list")
    assert result.exit_code == 0 and result.stdout == "" and "no incidents" in result.stderr
