"""`agentir guard status`: is the hook installed, can it start and read its policy, what it did."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import orjson

from agentir.guard.settings import EVENT, is_ours


def _commands(path: Path) -> list[dict[str, Any]]:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return []
    hooks = data.get("hooks") if isinstance(data, dict) else None
    groups = hooks.get(EVENT) if isinstance(hooks, dict) else None
    found = []
    for group in groups if isinstance(groups, list) else []:
        for entry in group.get("hooks", []) if isinstance(group, dict) else []:
            if is_ours(entry):
                command = str(entry["command"])
                try:
                    argv = shlex.split(command)
                except ValueError:
                    argv = command.split()
                policy = argv[argv.index("--policy") + 1] if "--policy" in argv[:-1] else None
                found.append(
                    {
                        "command": command,
                        "python_exists": bool(argv) and Path(argv[0]).is_file(),
                        "policy": policy,
                    }
                )
    return found


def _policy(start: Path | None, explicit: str | None) -> dict[str, Any]:
    from agentir.policy import load_policy

    try:
        policy = load_policy(Path(explicit) if explicit else None, start=start)
    except Exception as exc:
        message = getattr(exc, "message", None) or str(exc)
        return {"ok": False, "source": explicit or "agentir.yaml", "error": message}
    return {"ok": True, "source": policy.source, "error": None}


def recent_blocks(last: int) -> tuple[Path, int, list[dict[str, Any]]]:
    """The block log, how many blocks it holds, and the last `last` of them."""
    from collections import deque

    from agentir.guard.state import guard_dir

    log = guard_dir() / "blocks.jsonl"
    total = 0
    tail: deque[dict[str, Any]] = deque(maxlen=max(last, 0))
    try:
        with log.open("rb") as fh:
            for line in fh:
                try:
                    entry = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                total += 1
                tail.append(entry)
    except FileNotFoundError:
        pass
    return log, total, list(tail)


def guard_status(settings: Path, project: Path | None, last: int = 5) -> dict[str, Any]:
    """Everything `agentir guard status` shows, as plain data."""
    from agentir.guard.state import guard_dir

    commands = _commands(settings)
    explicit = next((c["policy"] for c in commands if c["policy"]), None)
    log, total, blocks = recent_blocks(last)
    folder = guard_dir()
    sessions = len(list(folder.glob("*.json"))) if folder.is_dir() else 0
    return {
        "settings": str(settings),
        "installed": bool(commands),
        "commands": commands,
        "policy": _policy(project, explicit),
        "sessions": sessions,
        "blocks_log": str(log),
        "blocks_total": total,
        "recent_blocks": blocks,
    }
