"""`agentir guard install|uninstall|status|hook` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner, Result

from agentir.cli.app import app
from tests.guard.hooks import hook_json

WIDE = {"COLUMNS": "200", "NO_COLOR": "1"}
OTHER_HOOKS = (
    '{\n  "hooks": {\n    "PreToolUse": [\n      {\n        "matcher": "Bash",\n'
    '        "hooks": [{"type": "command", "command": "~/bin/check.sh"}]\n      }\n    ]\n  }\n}\n'
)


def run(*args: str, stdin: bytes | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=WIDE, input=stdin)


def test_install_status_uninstall_round_trip(tmp_path: Path) -> None:
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text(OTHER_HOOKS)

    dry = run("guard", "install", "--project", str(tmp_path), "--dry-run")
    assert dry.exit_code == 0 and "-m agentir.guard.hook --agentir-guard" in dry.stdout
    assert dry.stdout.startswith("---") and "dry run: nothing was written" in dry.stderr
    assert settings.read_text() == OTHER_HOOKS

    done = run("guard", "install", "--project", str(tmp_path), "--json")
    data = json.loads(done.stdout)["data"]
    assert (
        done.exit_code == 0 and data["changed"] and Path(data["backup"]).read_text() == OTHER_HOOKS
    )

    status = run("guard", "status", "--project", str(tmp_path), "--json")
    info = json.loads(status.stdout)["data"]
    assert info["installed"] and info["commands"][0]["python_exists"]
    assert info["policy"] == {"ok": True, "source": "built-in defaults", "error": None}

    again = run("guard", "install", "--project", str(tmp_path))
    assert again.exit_code == 0 and "unchanged: already installed" in again.stderr

    undone = run("guard", "uninstall", "--project", str(tmp_path), "--json")
    assert json.loads(undone.stdout)["data"]["restored_from"] == data["backup"]
    assert settings.read_text() == OTHER_HOOKS


def test_status_says_when_the_policy_would_block_everything(tmp_path: Path) -> None:
    (tmp_path / "agentir.yaml").write_text("policy:\n  budget: {usd: cheap}\n")
    assert run("guard", "install", "--project", str(tmp_path)).exit_code == 0
    status = run("guard", "status", "--project", str(tmp_path))
    assert status.exit_code == 0
    assert "installed: yes" in status.stdout
    assert "UNREADABLE, every call is blocked" in status.stdout and "budget.usd" in status.stdout


def test_location_options_are_exclusive(tmp_path: Path) -> None:
    result = run("guard", "install", "--project", str(tmp_path), "--user")
    assert (
        result.exit_code == 2
        and "give only one of --project, --user and --settings" in result.stderr
    )


def test_a_broken_settings_file_is_an_error_and_left_alone(tmp_path: Path) -> None:
    settings = tmp_path / "settings.json"
    settings.write_text("{ oops")
    result = run("guard", "install", "--settings", str(settings))
    assert result.exit_code == 1 and "is not valid JSON" in result.stderr
    assert settings.read_text() == "{ oops"


def test_the_hook_through_the_cli_blocks_and_allows(tmp_path: Path) -> None:
    transcript = tmp_path / "t.jsonl"
    blocked = run(
        "guard",
        "hook",
        stdin=hook_json("pretooluse_bash_rm_rf.json", "s-cli", transcript, tmp_path),
    )
    assert blocked.exit_code == 2 and blocked.stdout == ""
    assert blocked.stderr.startswith("agentir guard: blocked this Bash call")
    allowed = run(
        "guard", "hook", stdin=hook_json("pretooluse_bash_ls.json", "s-cli", transcript, tmp_path)
    )
    assert (allowed.exit_code, allowed.stdout, allowed.stderr) == (0, "", "")
    status = run("guard", "status", "--settings", str(tmp_path / "none.json"), "--json")
    info = json.loads(status.stdout)["data"]
    assert not info["installed"] and info["blocks_total"] == 1
    assert info["recent_blocks"][0]["session"] == "s-cli"
