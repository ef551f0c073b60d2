"""`agentir assess` through the CLI: the JSON contract, exit codes and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentir.cli.app import app
from tests.conftest import DATA, shared_trace

SMALL = DATA / "cli" / "small_claude.jsonl"
runner = CliRunner()

TOP_KEYS = {"agentir_schema", "command", "status", "exit_code", "data", "errors"}
DATA_KEYS = {"session", "counts", "files", "commands", "usage", "effects", "findings", "severity"}
SESSION_KEYS = {"id", "agent", "format", "cwd", "git_branch", "started_at", "ended_at", "models"}
COUNT_KEYS = {"events", "tool_calls", "tool_errors", "skipped_records"}
FILE_KEYS = {"path", "ops", "via", "first_seq"}
COMMAND_KEYS = {"command", "exit_code", "seq"}
USAGE_KEYS = {
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cost_usd",
}
EFFECT_KEYS = {"kind", "target", "risk", "seq"}
FINDING_KEYS = {"detector", "severity", "message", "seqs"}


def run_json(*args: str) -> tuple[int, dict]:
    result = runner.invoke(app, ["assess", *args, "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_json_contract_keys_are_pinned() -> None:
    code, doc = run_json(str(SMALL))
    assert code == 0
    assert doc.keys() >= TOP_KEYS
    assert doc["agentir_schema"] == 1 and doc["command"] == "assess" and doc["status"] == "ok"
    data = doc["data"]
    assert data.keys() >= DATA_KEYS
    assert data["session"].keys() >= SESSION_KEYS
    assert data["counts"].keys() >= COUNT_KEYS
    assert data["usage"].keys() >= USAGE_KEYS
    assert {"suggested", "reasons"} <= data["severity"].keys()
    assert all(f.keys() >= FILE_KEYS for f in data["files"]) and data["files"]
    assert all(c.keys() >= COMMAND_KEYS for c in data["commands"]) and data["commands"]
    assert all(e.keys() >= EFFECT_KEYS for e in data["effects"]) and data["effects"]
    assert all(f.keys() >= FINDING_KEYS for f in data["findings"])


def test_small_trace_facts() -> None:
    _, doc = run_json(str(SMALL))
    data = doc["data"]
    assert data["session"]["id"] == "11111111-2222-4333-8444-555555555555"
    assert data["session"]["cwd"] == "/work/app" and data["session"]["git_branch"] == "main"
    assert data["counts"]["tool_calls"] == 3 and data["counts"]["tool_errors"] == 1
    files = {f["path"]: f for f in data["files"]}
    assert files["src/login.py"]["ops"] == ["edit"] and files["src/login.py"]["via"] == ["Edit"]
    assert files["build"]["ops"] == ["delete"]
    assert [c["command"] for c in data["commands"]] == [
        "pytest tests/test_login.py",
        "rm -rf /work/app/build && curl -s https://api.example.com/deploy",
    ]
    kinds = {(e["kind"], e["target"]) for e in data["effects"]}
    assert ("network", "api.example.com") in kinds and ("destructive", "/work/app/build") in kinds
    # 4 model calls of 10 in / 20 out / 1000 cache read / 100 cache write on claude-sonnet-4
    assert data["usage"]["input_tokens"] == 40 and data["usage"]["output_tokens"] == 80
    assert data["usage"]["cost_usd"] == pytest.approx(
        (40 * 3 + 80 * 15 + 4000 * 0.3 + 400 * 3.75) / 1e6
    )


def test_terminal_view_goes_to_stdout_only() -> None:
    result = runner.invoke(app, ["assess", str(SMALL)])
    assert result.exit_code == 0
    assert "Files touched" in result.stdout and "src/login.py" in result.stdout
    assert result.stderr == ""


def test_fail_on_exits_4() -> None:
    result = runner.invoke(app, ["assess", str(SMALL), "--fail-on", "SEV3"])
    assert result.exit_code == 4
    assert runner.invoke(app, ["assess", str(SMALL), "--fail-on", "SEVX"]).exit_code == 2


def test_forced_format_must_exist() -> None:
    result = runner.invoke(app, ["assess", str(SMALL), "--format", "nope"])
    assert result.exit_code == 1
    assert "unknown format" in result.stderr and "hint:" in result.stderr


def _one_line_error(result) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[0].startswith("agentir assess: error:")
    assert len(lines) <= 2 and (len(lines) == 1 or lines[1].strip().startswith("hint:"))


def test_missing_file(tmp_path: Path) -> None:
    _one_line_error(runner.invoke(app, ["assess", str(tmp_path / "nope.jsonl")]))


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.jsonl"
    p.write_text("")
    _one_line_error(runner.invoke(app, ["assess", str(p)]))


def test_binary_file(tmp_path: Path) -> None:
    p = tmp_path / "blob.jsonl"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 10)
    _one_line_error(runner.invoke(app, ["assess", str(p)]))


def test_other_format(tmp_path: Path) -> None:
    p = tmp_path / "config.json"
    p.write_text(json.dumps({"name": "not a trace", "version": 3}))
    _one_line_error(runner.invoke(app, ["assess", str(p)]))
    q = tmp_path / "notes.md"
    q.write_text("# Meeting notes\n\nnothing to see\n")
    _one_line_error(runner.invoke(app, ["assess", str(q)]))


def test_directory_without_traces(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("hello")
    _one_line_error(runner.invoke(app, ["assess", str(tmp_path)]))


def test_json_error_envelope(tmp_path: Path) -> None:
    result = runner.invoke(app, ["assess", str(tmp_path / "missing.jsonl"), "--json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["status"] == "error" and doc["errors"][0]["code"] == "unreadable_trace"


def test_malformed_middle_line_and_truncated_tail_are_counted(tmp_path: Path) -> None:
    lines = SMALL.read_text().splitlines()
    p = tmp_path / "damaged.jsonl"
    p.write_text(
        "\n".join([*lines[:3], "{this is not json", *lines[3:], lines[-1][: len(lines[-1]) // 2]])
    )
    result = runner.invoke(app, ["assess", str(p), "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)["data"]
    assert data["counts"]["skipped_records"] >= 2
    assert data["counts"]["tool_calls"] == 3
    assert "malformed" in result.stderr or data["skip_reasons"]


def test_non_utf8_bytes_are_tolerated(tmp_path: Path) -> None:
    raw = SMALL.read_bytes().replace(b"Fix the failing test", b"Fix the f\xff\xfeiling test")
    p = tmp_path / "latin.jsonl"
    p.write_bytes(raw)
    result = runner.invoke(app, ["assess", str(p), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["data"]["counts"]["tool_calls"] == 3


def test_huge_single_line(tmp_path: Path) -> None:
    p = tmp_path / "huge.jsonl"
    first = SMALL.read_text().splitlines()[0]
    record = json.loads(first)
    record["message"]["content"] = "x" * (20 * 1024 * 1024)
    p.write_text(json.dumps(record) + "\n" + "\n".join(SMALL.read_text().splitlines()[1:]) + "\n")
    result = runner.invoke(app, ["assess", str(p), "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)["data"]
    assert data["counts"]["tool_calls"] == 3
    assert len(result.stdout) < 200_000  # the 20 MB prompt is not echoed back


def test_huge_garbage_line_is_an_error_not_a_crash(tmp_path: Path) -> None:
    p = tmp_path / "garbage.jsonl"
    p.write_text("z" * (20 * 1024 * 1024))
    _one_line_error(runner.invoke(app, ["assess", str(p)]))


def test_control_characters_are_stripped_from_terminal_output(tmp_path: Path) -> None:
    text = SMALL.read_text().replace(
        "pytest tests/test_login.py", "pytest \\u001b[2J\\u001b]0;pwned\\u0007 x"
    )
    p = tmp_path / "ansi.jsonl"
    p.write_text(text)
    result = runner.invoke(app, ["assess", str(p)], color=True)
    assert result.exit_code == 0
    assert "\x1b[2J" not in result.stdout and "\x07" not in result.stdout


def test_directory_lists_every_session(shared_traces: Path) -> None:
    result = runner.invoke(app, ["assess", str(shared_traces / "claude-code"), "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)["data"]
    ids = {s["session"]["id"] for s in data["sessions"]}
    assert {"1af7fc5e-8455-4414-9ccd-011d40f70b2a", "5c0375b4-57a5-4f26-b12d-d022ee4e51b7"} <= ids


@pytest.mark.parametrize(
    "relative",
    [
        "claude-code/1af7fc5e-8455-4414-9ccd-011d40f70b2a.jsonl",
        "claude-code/5c0375b4-57a5-4f26-b12d-d022ee4e51b7.jsonl",
        "claude-code/synthetic-fixtures/small.jsonl",
        "codex/rollout-2025-11-17T15-30-28-019a93b9-f380-7600-98ff-940e6b99603c.jsonl",
        "codex/synthetic-fixtures/small.jsonl",
    ],
)
def test_every_shared_claude_and_codex_sample_assesses(relative: str) -> None:
    path = shared_trace(relative)
    result = runner.invoke(app, ["assess", str(path)])
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(app, ["assess", str(path), "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["status"] == "ok"


def test_secret_in_the_middle_of_a_long_output_is_reported(tmp_path: Path) -> None:
    key = "AKIA" + "ABCDEFGHIJKLMNOP"
    records = [json.loads(line) for line in SMALL.read_text().splitlines()]
    block = records[6]["message"]["content"][0]
    block["content"] = "x" * 3000 + f"\nAWS_ACCESS_KEY_ID={key}\n" + "y" * 3000
    p = tmp_path / "long.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in records))
    result = runner.invoke(app, ["assess", str(p), "--json"])
    assert result.exit_code == 0
    effects = json.loads(result.stdout)["data"]["effects"]
    assert any(
        e["kind"] == "secret_exposure" and "aws-access-key-id" in e["target"] for e in effects
    )
    assert key not in result.stdout
