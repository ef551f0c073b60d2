"""`agentir similar` through the real typer app: JSON envelope, the table and the summary, the
timeline line, and usage errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from agentir.cli.app import app
from agentir.incidents.store import IncidentStore
from tests.similar_support import FUNC_SID, LOOP_SID, SESSIONS, World, make_world

WIDE = {"COLUMNS": "200", "NO_COLOR": "1", "AGENTIR_ACTOR": "alice@oncall"}


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=WIDE)


def data(result: Result) -> Any:
    document = json.loads(result.stdout)
    assert document["agentir_schema"] == 1 and document["command"] == "similar"
    return document["data"]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.chdir(tmp_path)
    for name in ("AGENTIR_POLICY", "AGENTIR_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return make_world(tmp_path, lookalike_commit=True, lookalike_sessions=True)


def test_json_ranks_sessions_and_commits_with_evidence(world: World) -> None:
    result = run("similar", world.incident, str(world.traces), "--json", "-j", "2")
    assert result.exit_code == 0, result.stderr
    d = data(result)
    assert d["incident"] == world.incident
    assert d["searched"]["trace_files"] == SESSIONS and d["searched"]["sessions"] == SESSIONS - 1
    # the repository came from the session's working directory
    assert d["searched"]["repo"] == str(world.repo.path.resolve())
    assert d["pattern"]["commits"] == [world.repo.shas["incident"]]
    found = {(m["kind"], m.get("session_id") or m.get("sha")) for m in d["matches"]}
    assert found == {
        ("session", LOOP_SID),
        ("session", FUNC_SID),
        ("commit", world.repo.shas["lookalike"]),
    }
    assert [m["rank"] for m in d["matches"]] == [1, 2, 3] and d["total_matches"] == 3
    for m in d["matches"]:
        assert m["reasons"] and 0 < m["score"] <= 1
        if m["kind"] == "session":
            assert m["trace_path"].endswith(".jsonl") and m["seqs"]
        else:
            assert m["files"] == ["src/calc.py"] and m["functions"] == ["src/calc.py:clamp"]


def test_table_summary_and_timeline(world: World) -> None:
    result = run("similar", world.incident, str(world.traces), "--repo", str(world.repo.path),
                 "--limit", "2", "-j", "1")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert LOOP_SID in result.stdout and "1 more (--limit)" in result.stdout
    assert "changed the same function clamp in src/calc.py" in result.stdout or (
        "changes the same function clamp in src/calc.py" in result.stdout
    )
    assert f"searched {SESSIONS} trace file(s)" in result.stderr
    assert "found 2 similar session(s) and 1 similar commit(s)" in result.stderr
    entry = IncidentStore().timeline(world.incident)[-1]
    assert entry.action == "similar.searched"
    assert entry.details["matching_sessions"] == 2 and entry.details["matching_commits"] == 1
    assert entry.details["trace_files"] == SESSIONS and len(entry.details["top"]) == 3


def test_nothing_found_says_so(tmp_path: Path) -> None:
    w = make_world(tmp_path, lookalike_commit=False, lookalike_sessions=False)
    result = run("similar", w.incident, str(w.traces), "-j", "1")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "nothing shares the incident's pattern" in result.stderr


def test_usage_errors(world: World, tmp_path: Path) -> None:
    bad = run("similar", world.incident, "--since", "yesterday-ish")
    assert bad.exit_code == 2 and "--since" in bad.stderr
    missing = run("similar", world.incident, str(tmp_path / "nope"))
    assert missing.exit_code == 2 and "no such file or folder" in missing.stderr
    store = IncidentStore()
    bare = store.open("no trace", "SEV2")
    none = run("similar", bare.id, str(world.traces), "--json")
    assert none.exit_code == 2
    assert json.loads(none.stdout)["errors"][0]["code"] == "usage"
    assert run("similar", "INC-19990101-0001").exit_code == 1  # no such incident
