"""`agentir incident tests` through the real typer app: an agent commit in a real repository
changing `if n > 10:` and `items[1:]` becomes stored suggestions naming those lines, typed
action items, a timeline entry, and a section of the review."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from agentir.cli.app import app
from agentir.incidents.store import IncidentStore
from tests.remediate_support import CLAUDE_TRAILER, Repo
from tests.similar_support import claude_session, iso

ENV = {"COLUMNS": "200", "NO_COLOR": "1", "AGENTIR_ACTOR": "alice@oncall"}
SID = "55555555-aaaa-4bbb-8ccc-000000000005"
WHEN = datetime(2026, 3, 10, 10, 0, tzinfo=timezone.utc)
BASE = "def clamp(n):\n    if n >= 10:\n        return 10\n    return n\n\n\ndef rest(items):\n    return items[0:]\n"
CHANGED = BASE.replace("if n >= 10:", "if n > 10:").replace("items[0:]", "items[1:]")
STEPS = [
    ["user", "tidy calc"],
    ["edit", "src/calc.py", "    if n >= 10:", "    if n > 10:"],
    ["edit", "src/calc.py", "    return items[0:]", "    return items[1:]"],
    ["bash", "git commit -am 'Tidy calc'", "", False],
    ["text", "Done, tests pass."],
]


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=ENV)


def setup(root: Path, *, commit: bool = True) -> tuple[Repo, str]:
    """A repository with the human's calc.py and the agent's change (committed or not), and an
    incident on the agent's session."""
    repo = Repo(root / "repo").init()
    repo.commit("base", {"src/calc.py": BASE, "README.md": "# calc\n"}, "Initial",
                iso(WHEN - timedelta(days=3)))  # fmt: skip
    if commit:
        repo.commit("agent", {"src/calc.py": CHANGED, "README.md": "# calc (tidied)\n"},
                    "Tidy calc" + CLAUDE_TRAILER, iso(WHEN + timedelta(seconds=40)))  # fmt: skip
    else:
        (repo.path / "src" / "calc.py").write_text(CHANGED)
    trace = claude_session(root / "session.jsonl", SID, repo.path, STEPS, WHEN)
    incident = IncidentStore().open("clamp lets 10 through", "SEV2", sessions=[SID], traces=[trace])
    return repo, incident.id


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no repository-local templates or policy from the checkout
    for name in ("AGENTIR_POLICY", "AGENTIR_CONFIG"):
        monkeypatch.delenv(name, raising=False)


def test_suggestions_name_the_changed_lines_and_reach_the_review(tmp_path: Path) -> None:
    repo, ref = setup(tmp_path)
    result = run("incident", "tests", ref)  # the repository is the session's cwd
    assert result.exit_code == 0, result.stderr
    assert "if n > 10:" in result.stdout and "items[1:]" in result.stdout
    assert "2 new action item(s) (type prevent)" in result.stderr

    incident = IncidentStore().get(ref)
    stored = incident.extra["test_suggestions"]
    by_code = {(s["code"], s["category"]): s for s in stored}
    boundary = by_code[("if n > 10:", "boundary")]
    assert (boundary["file"], boundary["function"], boundary["line"]) == ("src/calc.py", "clamp", 2)
    assert "10" in boundary["test_case"] and "11" in boundary["test_case"]
    off = by_code[("return items[1:]", "off-by-one")]
    assert (off["file"], off["function"], off["line"]) == ("src/calc.py", "rest", 8)
    assert [(i.id, i.type) for i in incident.action_items] == [("A1", "prevent"), ("A2", "prevent")]
    texts = " ".join(i.text for i in incident.action_items)
    assert "line 2 (`if n > 10:`)" in texts and "line 8 (`return items[1:]`)" in texts

    entry = IncidentStore().timeline(ref)[-1]
    assert entry.action == "tests.suggested"
    assert entry.details["commits"] == [repo.shas["agent"]] and entry.details["source"] == "commits"
    assert entry.details["suggestions"] == len(stored)
    assert entry.details["action_items"] == ["A1", "A2"]

    review = run("review", ref)
    assert review.exit_code == 0, review.stderr
    section = review.stdout[review.stdout.index("Adversarial test suggestions") :]
    assert "`if n > 10:`" in section and "`return items[1:]`" in section
    assert "test_clamp_boundary" in section and "test_rest_off_by_one" in section


def test_a_second_run_adds_no_duplicate_action_items(tmp_path: Path) -> None:
    repo, ref = setup(tmp_path)
    assert run("incident", "tests", ref, "--repo", str(repo.path)).exit_code == 0
    again = run("incident", "tests", ref, "--repo", str(repo.path), "--json")
    assert again.exit_code == 0, again.stderr
    data = json.loads(again.stdout)["data"]
    assert data["action_items"] == [] and data["commits"] == [repo.shas["agent"]]
    assert len(IncidentStore().get(ref).action_items) == 2


def test_uncommitted_agent_edits_are_read_from_the_checkout(tmp_path: Path) -> None:
    _, ref = setup(tmp_path, commit=False)
    result = run("incident", "tests", ref, "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)["data"]
    assert data["source"] == "uncommitted" and data["commits"] == []
    codes = {s["code"] for s in data["suggestions"]}
    assert {"if n > 10:", "return items[1:]"} <= codes


def test_no_repository_is_a_usage_error(tmp_path: Path) -> None:
    trace = claude_session(tmp_path / "s.jsonl", SID, tmp_path / "gone", STEPS, WHEN)
    ref = IncidentStore().open("x", "SEV2", sessions=[SID], traces=[trace]).id
    result = run("incident", "tests", ref)
    assert result.exit_code == 2 and "--repo" in result.stderr
