"""`agentir scan` over a directory of mixed formats: every session reported, a corrupt file
as an error row (exit 0), ranking, --since, --jobs, --fail-on, --policy, default folders."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentir.cli.app import app

runner = CliRunner()
SAMPLES = (
    "claude-code/5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl",
    "claude-code/1af7fc5e-8455-4414-9ccd-011d40f70b2a.jsonl",
    "codex/rollout-2025-11-17T15-30-28-019a93b9-f380-7600-98ff-940e6b99603c.jsonl",
    "swe-agent/i_got_id_demo.traj",
    "swe-agent/pydicom__pydicom-1458.traj",
    "openhands/output.jsonl",
    "gemini-cli/test_conversation_gemini.jsonl",
    "otel-genai/pydantic-ai-tools-2025-12-04.trace.json",
)


@pytest.fixture
def mixed(shared_traces: Path, tmp_path: Path) -> Path:
    """Copies of real samples of five formats, a binary .jsonl and a .jsonl of prose."""
    root = tmp_path / "traces"
    for rel in SAMPLES:
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shared_traces / rel, dest)
    (root / "broken").mkdir()
    (root / "broken" / "corrupt.jsonl").write_bytes(b"\x00\x01\x02garbage\xff" * 50)
    (root / "broken" / "notes.jsonl").write_text("this is not json at all\n")
    (root / "README.md").write_text("# not a trace\n")
    return root


def _scan(*args: str) -> tuple[int, dict]:
    result = runner.invoke(app, ["scan", *args, "--json"])
    assert result.stdout.count('"agentir_schema"') == 1, result.stdout + result.stderr
    return result.exit_code, json.loads(result.stdout)


def _expected_sessions(root: Path) -> int:
    # one session per file, except the OpenHands eval output: one instance per line
    eval_lines = sum(1 for line in (root / "openhands/output.jsonl").open() if line.strip())
    return len(SAMPLES) - 1 + eval_lines


def test_every_session_and_the_corrupt_files_are_reported(mixed: Path) -> None:
    code, doc = _scan(str(mixed), "--jobs", "2")
    assert code == 0 and doc["command"] == "scan" and doc["status"] == "ok"
    data = doc["data"]
    sessions = data["sessions"]
    assert len(sessions) == _expected_sessions(mixed)
    assert {Path(s["trace_path"]).name for s in sessions} == {Path(r).name for r in SAMPLES}
    errors = {Path(e["path"]).name: e for e in data["errors"]}
    assert set(errors) == {"corrupt.jsonl", "notes.jsonl"}
    assert "binary" in errors["corrupt.jsonl"]["error"]
    assert errors["notes.jsonl"]["code"] == "unknown_format"
    assert data["scanned_files"] == len(SAMPLES) + 3 and data["not_traces"] == 1  # README.md
    assert {e["code"] for e in doc["errors"]} == {"unreadable_trace", "unknown_format"}


def test_sessions_are_ranked_worst_first(mixed: Path) -> None:
    _, doc = _scan(str(mixed))
    levels = [s["severity"] for s in doc["data"]["sessions"]]
    order = {"SEV1": 0, "SEV2": 1, "SEV3": 2, None: 3}
    assert levels == sorted(levels, key=lambda v: order[v])
    first = doc["data"]["sessions"][0]
    assert first["severity"] == "SEV1" and first["top_finding"]["severity"] in ("critical", "high")
    i_got_id = next(s for s in doc["data"]["sessions"] if s["session_id"] == "i_got_id_demo")
    assert i_got_id["effects"] == 1 and i_got_id["top_effects"][0].startswith("high network")


def test_one_worker_and_two_workers_agree(mixed: Path) -> None:
    _, one = _scan(str(mixed), "--jobs", "1")
    _, two = _scan(str(mixed), "--jobs", "2")
    assert one["data"]["jobs"] == 1 and two["data"]["jobs"] == 2
    assert one["data"]["sessions"] == two["data"]["sessions"]


def test_the_table_shows_sessions_and_error_rows(mixed: Path) -> None:
    result = runner.invoke(app, ["scan", str(mixed)])
    assert result.exit_code == 0
    assert "Sessions (worst first)" in result.stdout and "i_got_id_demo" in result.stdout
    assert "error" in result.stdout and "corrupt.jsonl" in result.stdout
    assert "scanned 11 file(s)" in result.stderr and "2 unreadable" in result.stderr


def test_since_filters_by_modification_time(mixed: Path) -> None:
    old = time.time() - 5 * 86400
    for path in mixed.rglob("*"):
        if path.is_file() and path.name != "i_got_id_demo.traj":
            os.utime(path, (old, old))
    _, doc = _scan(str(mixed), "--since", "2d")
    assert [s["session_id"] for s in doc["data"]["sessions"]] == ["i_got_id_demo"]
    assert doc["data"]["scanned_files"] == 1 and doc["data"]["since"]
    bad = runner.invoke(app, ["scan", str(mixed), "--since", "yesterday-ish"])
    assert bad.exit_code == 2 and "--since" in bad.stderr


def test_fail_on_exits_4(mixed: Path) -> None:
    code, doc = _scan(str(mixed), "--fail-on", "SEV1")
    assert code == 4 and doc["exit_code"] == 4 and doc["status"] == "ok"


def test_a_policy_changes_what_is_found(mixed: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("network:\n  allowed_hosts: ['@defaults', '*.csaw.io']\n")
    _, doc = _scan(str(mixed / "swe-agent"), "--policy", str(policy))
    i_got_id = next(s for s in doc["data"]["sessions"] if s["session_id"] == "i_got_id_demo")
    assert i_got_id["findings"] == 0  # the host is allowed now
    assert i_got_id["severity"] == "SEV1"  # the upload itself still reached an external system
    assert doc["data"]["policy"] == str(policy)
    policy.write_text("loops:\n  identical_calls: -1\n")
    bad = runner.invoke(app, ["scan", str(mixed), "--policy", str(policy)])
    assert bad.exit_code == 1 and f"{policy}:2: loops.identical_calls" in bad.stderr


def test_default_folders_are_the_agents_own(
    shared_traces: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    project = home / ".claude" / "projects" / "-work-demo"
    project.mkdir(parents=True)
    shutil.copy(shared_traces / SAMPLES[0], project)
    codex = home / ".codex" / "sessions" / "2025" / "11" / "17"
    codex.mkdir(parents=True)
    shutil.copy(shared_traces / SAMPLES[2], codex)
    monkeypatch.setenv("HOME", str(home))
    for var in ("CLAUDE_CONFIG_DIR", "CODEX_HOME"):
        monkeypatch.delenv(var, raising=False)
    _, doc = _scan()
    assert doc["data"]["roots"] == [str(home / ".claude/projects"), str(home / ".codex/sessions")]
    assert sorted(s["agent"] for s in doc["data"]["sessions"]) == ["claude-code", "codex"]


def test_no_default_folder_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    for var in ("CLAUDE_CONFIG_DIR", "CODEX_HOME"):
        monkeypatch.delenv(var, raising=False)
    result = runner.invoke(app, ["scan"])
    assert result.exit_code == 1 and "no agent log folder found" in result.stderr


def test_a_missing_path_is_an_error_row_unless_nothing_exists(mixed: Path, tmp_path: Path) -> None:
    code, doc = _scan(str(mixed / "swe-agent"), str(tmp_path / "nope"))
    assert code == 0 and doc["data"]["errors"][0]["code"] == "not_found"
    result = runner.invoke(app, ["scan", str(tmp_path / "nope")])
    assert result.exit_code == 1 and "nothing to scan" in result.stderr
