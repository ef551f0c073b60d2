"""`guard install` / `uninstall` on Claude Code settings files: merged, backed up, and taken out
again byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentir.errors import ConfigError
from agentir.guard.settings import (
    BACKUP_INFIX,
    apply,
    hook_command,
    is_ours,
    plan_install,
    plan_uninstall,
)

COMMAND = hook_command(python="/opt/venv/bin/python")

# Someone's settings, as a person wrote them: 4-space indent, odd spacing, no final newline,
# non-ASCII text, and hooks of their own on PreToolUse, PostToolUse and Stop.
HAND_WRITTEN = (
    b'{\n    "model": "opus",\n    "permissions": {"allow": ["Bash(npm test:*)"], "deny": []},\n'
    b'    "env": {"GREETING": "gr\xc3\xbc\xc3\x9f dich"},\n'
    b'    "hooks": {\n        "PreToolUse": [\n            {"matcher": "Bash", "hooks": '
    b'[{"type": "command", "command": "~/bin/check-bash.sh"}]}\n        ],\n'
    b'        "PostToolUse": [{"matcher": "Edit|Write", "hooks": [{"type": "command", '
    b'"command": "npx prettier --write"}]}],\n        "Stop": [{"hooks": [{"type": "command", '
    b'"command": "say done"}]}]\n    }\n}'
)


def _settings(tmp_path: Path, content: bytes | None) -> Path:
    path = tmp_path / ".claude" / "settings.json"
    if content is not None:
        path.parent.mkdir(parents=True)
        path.write_bytes(content)
    return path


def _backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}{BACKUP_INFIX}*"))


def test_install_merges_with_other_hooks_and_uninstall_is_byte_identical(tmp_path: Path) -> None:
    path = _settings(tmp_path, HAND_WRITTEN)
    change = plan_install(path, COMMAND)
    backup = apply(change)
    assert backup is not None and backup.read_bytes() == HAND_WRITTEN
    data = json.loads(path.read_bytes())
    pre = data["hooks"]["PreToolUse"]
    assert pre[0]["hooks"][0]["command"] == "~/bin/check-bash.sh"  # theirs, untouched, first
    assert pre[1] == {
        "matcher": "*",
        "hooks": [{"type": "command", "command": COMMAND, "timeout": 30}],
    }
    assert data["hooks"]["PostToolUse"][0]["hooks"][0]["command"] == "npx prettier --write"
    assert data["hooks"]["Stop"][0]["hooks"][0]["command"] == "say done"
    assert data["env"]["GREETING"] == "grüß dich" and "grüß".encode() in path.read_bytes()
    assert path.read_bytes().startswith(b'{\n    "model"')  # their indentation kept

    undo = plan_uninstall(path)
    assert undo.restored_from == backup and undo.removed == (COMMAND,)
    apply(undo)
    assert path.read_bytes() == HAND_WRITTEN
    assert _backups(path) == []  # the backup's bytes are the settings file again


def test_install_twice_is_one_entry_and_a_new_python_updates_it(tmp_path: Path) -> None:
    path = _settings(tmp_path, b'{\n  "hooks": {}\n}\n')
    apply(plan_install(path, COMMAND))
    again = plan_install(path, COMMAND)
    assert not again.changed and again.note == "already installed"
    other = hook_command(python="/usr/bin/python3.12")
    moved = plan_install(path, other)
    apply(moved)
    commands = [
        h["command"]
        for g in json.loads(path.read_bytes())["hooks"]["PreToolUse"]
        for h in g["hooks"]
    ]
    assert commands == [other]


def test_a_file_that_did_not_exist_is_deleted_again(tmp_path: Path) -> None:
    path = _settings(tmp_path, None)
    assert apply(plan_install(path, COMMAND)) is None  # nothing to back up
    assert json.loads(path.read_bytes())["hooks"]["PreToolUse"][0]["hooks"][0]["command"] == COMMAND
    assert path.read_bytes().endswith(b"}\n")
    apply(plan_uninstall(path))
    assert not path.exists()


def test_uninstall_after_other_edits_removes_only_the_guard(tmp_path: Path) -> None:
    original = (
        b'{\n  "hooks": {\n    "PreToolUse": [\n      {\n        "matcher": "Bash",\n'
        b'        "hooks": [\n          {\n            "type": "command",\n'
        b'            "command": "~/bin/check-bash.sh"\n          }\n        ]\n      }\n'
        b"    ]\n  }\n}\n"
    )
    path = _settings(tmp_path, original)
    apply(plan_install(path, COMMAND))
    data = json.loads(path.read_bytes())
    data["model"] = "sonnet"  # the person (or Claude Code) changed the file meanwhile
    data["hooks"]["PreToolUse"][1]["hooks"].append({"type": "command", "command": "audit.sh"})
    path.write_text(json.dumps(data, indent=2) + "\n")
    undo = plan_uninstall(path)
    assert undo.restored_from is None and "other content kept" in undo.note
    backup = apply(undo)
    assert backup is not None and COMMAND.encode() in backup.read_bytes()
    after = json.loads(path.read_bytes())
    assert after["model"] == "sonnet"
    commands = [h["command"] for g in after["hooks"]["PreToolUse"] for h in g["hooks"]]
    assert commands == ["~/bin/check-bash.sh", "audit.sh"]
    assert not any(is_ours(h) for g in after["hooks"]["PreToolUse"] for h in g["hooks"])


def test_uninstall_when_not_installed_changes_nothing(tmp_path: Path) -> None:
    path = _settings(tmp_path, HAND_WRITTEN)
    undo = plan_uninstall(path)
    assert not undo.changed and undo.note == "agentir guard is not installed"
    assert apply(undo) is None and path.read_bytes() == HAND_WRITTEN


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{ not json", "is not valid JSON"),
        (b"[]", "the top level is not a JSON object"),
        (b'{"hooks": []}', "`hooks` is not a JSON object"),
        (b'{"hooks": {"PreToolUse": {}}}', "`hooks.PreToolUse` is not a list"),
    ],
)
def test_a_settings_file_it_cannot_read_is_left_alone(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = _settings(tmp_path, content)
    with pytest.raises(ConfigError, match=message):
        plan_install(path, COMMAND)
    assert path.read_bytes() == content and _backups(path) == []


def test_the_command_runs_the_lean_module_with_the_marker() -> None:
    command = hook_command(python="/opt/my venv/bin/python", policy=Path("/etc/agentir.yaml"))
    assert command == (
        "'/opt/my venv/bin/python' -m agentir.guard.hook --policy /etc/agentir.yaml --agentir-guard"
    )
    assert is_ours({"type": "command", "command": command})
    assert not is_ours({"type": "command", "command": "echo --agentir-guardian"})
