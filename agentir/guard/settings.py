"""Install the guard into a Claude Code settings file, and take it out again exactly.

Install adds one matcher group to `hooks.PreToolUse`:

    {"matcher": "*", "hooks": [{"type": "command", "command": "<python> -m agentir.guard.hook
     --agentir-guard", "timeout": 30}]}

next to whatever is there (other hooks are never touched), after copying the file to
`settings.json.agentir-backup-<UTC time>`. The command names the absolute path of the Python
that runs agentir, so it works whatever the agent's PATH is; `--agentir-guard` marks the
entries this module owns. Only PreToolUse is installed: each hook call reads what is new
in the transcript since the previous one, so a PostToolUse or Stop hook would add a process
start per tool call and save nothing.

Uninstall removes exactly those entries. When the file is what install made of one of its
backups (nothing else changed since), that backup's bytes are put back, so the file is
byte-identical to before; a file that did not exist before install is deleted again.
Otherwise only the marked entries (and the groups and lists they leave empty) are removed and
the file is written with its own indentation, after a backup of it.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from agentir.errors import ConfigError
from agentir.guard.hook import MARKER

EVENT = "PreToolUse"
HOOK_TIMEOUT_S = 30
BACKUP_INFIX = ".agentir-backup-"
_INDENT = re.compile(rb"\n([ \t]+)\S")


@dataclass(frozen=True)
class SettingsChange:
    """What install or uninstall does to one settings file (planned; `apply` writes it)."""

    path: Path
    action: str  # install / uninstall
    before: bytes | None  # None: the file does not exist
    after: bytes | None  # None: the file is deleted
    command: str | None
    note: str
    restored_from: Path | None = None  # uninstall: the backup put back byte for byte
    removed: tuple[str, ...] = field(default_factory=tuple)

    @property
    def changed(self) -> bool:
        """Whether applying changes the file."""
        return self.before != self.after


def settings_path(project: Path | None = None, *, user: bool = False) -> Path:
    """`~/.claude/settings.json` with `user`, else `<project or cwd>/.claude/settings.json`."""
    if user:
        return Path.home() / ".claude" / "settings.json"
    return (project or Path.cwd()).expanduser().resolve() / ".claude" / "settings.json"


def hook_command(python: str | None = None, policy: Path | None = None) -> str:
    """The shell command the settings entry runs (this Python, the lean module, the marker)."""
    argv = [python or sys.executable, "-m", "agentir.guard.hook"]
    if policy is not None:
        argv += ["--policy", str(policy.expanduser().resolve())]
    return shlex.join([*argv, MARKER])


def is_ours(entry: Any) -> bool:
    """A hook entry `agentir guard install` wrote."""
    return isinstance(entry, dict) and MARKER in str(entry.get("command", "")).split()


def _load(raw: bytes | None, path: Path) -> dict[str, Any]:
    if raw is None or not raw.strip():
        return {}
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"{path} is not valid JSON: {exc}", hint="fix the file first; nothing was changed"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level is not a JSON object", hint="fix the file")
    return data


def _dump(data: dict[str, Any], like: bytes | None) -> bytes:
    """JSON with the indentation and final newline of `like` (Claude Code's own: 2 spaces)."""
    indent: str | int = 2
    if like:
        match = _INDENT.search(like)
        if match:
            found = match.group(1).decode()
            indent = found if "\t" in found else len(found)
    newline = like is None or like.endswith(b"\n")
    text = json.dumps(data, indent=indent, ensure_ascii=False)
    return (text + ("\n" if newline else "")).encode("utf-8")


def _groups(data: dict[str, Any], path: Path, create: bool) -> list[Any] | None:
    hooks = data.get("hooks")
    if hooks is None:
        if not create:
            return None
        hooks = data["hooks"] = {}
    if not isinstance(hooks, dict):
        raise ConfigError(f"{path}: `hooks` is not a JSON object", hint="fix the file first")
    groups = hooks.get(EVENT)
    if groups is None:
        if not create:
            return None
        groups = hooks[EVENT] = []
    if not isinstance(groups, list):
        raise ConfigError(f"{path}: `hooks.{EVENT}` is not a list", hint="fix the file first")
    return groups


def installed(raw: bytes | None, command: str) -> bytes:
    """What install makes of a file's bytes (None: no file) for `command`; deterministic."""
    path = Path("settings.json")
    data = _load(raw, path)
    groups = _groups(data, path, create=True)
    assert groups is not None
    groups.append(
        {
            "matcher": "*",
            "hooks": [{"type": "command", "command": command, "timeout": HOOK_TIMEOUT_S}],
        }
    )
    return _dump(data, raw)


def _ours(data: dict[str, Any]) -> list[str]:
    hooks = data.get("hooks")
    groups = hooks.get(EVENT) if isinstance(hooks, dict) else None
    found: list[str] = []
    for group in groups if isinstance(groups, list) else []:
        for entry in group.get("hooks", []) if isinstance(group, dict) else []:
            if is_ours(entry):
                found.append(str(entry["command"]))
    return found


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def plan_install(path: Path, command: str) -> SettingsChange:
    """The change install makes (nothing when the same hook is already there)."""
    before = _read(path)
    data = _load(before, path)
    ours = _ours(data)
    if command in ours:
        return SettingsChange(path, "install", before, before, command, "already installed")
    if ours:
        # an older install (another Python or policy): replace its command in place
        for group in _groups(data, path, create=False) or []:
            for entry in group.get("hooks", []) if isinstance(group, dict) else []:
                if is_ours(entry):
                    entry["command"] = command
        note = "updated the command of the installed hook"
        return SettingsChange(path, "install", before, _dump(data, before), command, note)
    note = f"added a {EVENT} hook running agentir guard"
    return SettingsChange(path, "install", before, installed(before, command), command, note)


def _backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}{BACKUP_INFIX}*"), reverse=True)


def plan_uninstall(path: Path) -> SettingsChange:
    """The change uninstall makes: restore the pre-install bytes when nothing else changed."""
    before = _read(path)
    if before is None:
        return SettingsChange(path, "uninstall", None, None, None, "no settings file")
    data = _load(before, path)
    ours = _ours(data)
    if not ours:
        return SettingsChange(
            path, "uninstall", before, before, None, "agentir guard is not installed"
        )
    for command in dict.fromkeys(ours):
        if installed(None, command) == before:
            note = "the file held only the guard: deleted, as before install"
            return SettingsChange(path, "uninstall", before, None, command, note, None, tuple(ours))
        for backup in _backups(path):
            original = backup.read_bytes()
            try:
                if installed(original, command) == before:
                    note = f"restored {backup.name} byte for byte"
                    return SettingsChange(
                        path, "uninstall", before, original, command, note, backup, tuple(ours)
                    )
            except ConfigError:
                continue
    _remove(data)
    note = "removed the guard's entries (the file had changed since install; other content kept)"
    return SettingsChange(
        path, "uninstall", before, _dump(data, before), None, note, None, tuple(ours)
    )


def _remove(data: dict[str, Any]) -> None:
    hooks = data.get("hooks")
    if not isinstance(hooks, dict) or not isinstance(hooks.get(EVENT), list):
        return
    kept_groups = []
    for group in hooks[EVENT]:
        if isinstance(group, dict) and isinstance(group.get("hooks"), list):
            entries = [e for e in group["hooks"] if not is_ours(e)]
            if not entries and group["hooks"]:
                continue  # the group held only the guard
            group["hooks"] = entries
        kept_groups.append(group)
    hooks[EVENT] = kept_groups
    if not kept_groups:
        del hooks[EVENT]
    if not hooks:
        del data["hooks"]


def apply(change: SettingsChange, now: datetime | None = None) -> Path | None:
    """Write the change (backing up the current file first); the backup's path, if any."""
    if not change.changed:
        return None
    backup = None
    # a restored or deleted file can be rebuilt from what is left: only an edit needs a copy
    if change.before is not None and change.restored_from is None and change.after is not None:
        stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%S%fZ")
        backup = change.path.with_name(f"{change.path.name}{BACKUP_INFIX}{stamp}")
        backup.write_bytes(change.before)
    if change.after is None:
        change.path.unlink()
    else:
        change.path.parent.mkdir(parents=True, exist_ok=True)
        temp = change.path.with_name(f".{change.path.name}.agentir.tmp")
        temp.write_bytes(change.after)
        if change.before is not None:
            temp.chmod(change.path.stat().st_mode & 0o7777)  # keep a private file private
        temp.replace(change.path)
    if change.restored_from is not None:
        change.restored_from.unlink(missing_ok=True)  # its bytes are the settings file again
    return backup
