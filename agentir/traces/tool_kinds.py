"""What a generic tool call does, judged from its name and arguments.

Span-based traces (OTel, Langfuse) only name a tool and give its arguments, so shell
commands and file edits must be recognised from well-known tool names across agents.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from typing import Any

from agentir.model import FileChange, FileOp

SHELL_TOOLS = frozenset(
    {
        "bash",
        "shell",
        "run_shell_command",
        "execute_bash",
        "terminal",
        "exec_command",
        "execute_command",
        "run_command",
        "run_terminal_cmd",
        "local_shell",
        "shell_command",
    }
)

_EDIT_OPS = {
    "write": FileOp.WRITE,
    "write_file": FileOp.WRITE,
    "create_file": FileOp.CREATE,
    "edit": FileOp.EDIT,
    "multiedit": FileOp.EDIT,
    "replace": FileOp.EDIT,
    "edit_file": FileOp.EDIT,
    "str_replace": FileOp.EDIT,
    "notebookedit": FileOp.EDIT,
    "delete_file": FileOp.DELETE,
}
# Editor tools whose `command` argument says what they do (Anthropic / OpenHands).
_EDITOR_TOOLS = frozenset({"str_replace_editor", "str_replace_based_edit_tool", "text_editor"})
_EDITOR_OPS = {"create": FileOp.CREATE, "str_replace": FileOp.EDIT, "insert": FileOp.EDIT}
_PATH_KEYS = ("file_path", "path", "filePath", "filename", "target_file", "notebook_path")
_COMMAND_KEYS = ("command", "cmd", "full_command", "bash_command", "script", "commandLine")
_SHELLS = frozenset({"bash", "sh", "zsh", "/bin/bash", "/bin/sh", "/bin/zsh"})
_EXIT = re.compile(r"(?i)\bexit(?:ed with)?[ _]?(?:code|status)\b[:=]?\s*(-?\d+)")


def is_shell_tool(name: str) -> bool:
    """True for tools that run a shell command line."""
    return name.lower() in SHELL_TOOLS


def shell_command(name: str, args: Mapping[str, Any]) -> str | None:
    """The command line of a shell tool call, or None for other tools."""
    if not is_shell_tool(name):
        return None
    for key in _COMMAND_KEYS:
        value = args.get(key)
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            if len(value) >= 3 and value[0] in _SHELLS and value[1] in ("-c", "-lc"):
                return str(value[2])
            return shlex.join(value)
    raw = args.get("raw")
    return raw if isinstance(raw, str) and raw.strip() else None


def file_changes(name: str, args: Mapping[str, Any]) -> tuple[FileChange, ...]:
    """Files an edit tool call intends to change (empty for other tools)."""
    lname = name.lower()
    if lname in _EDITOR_TOOLS:
        op = _EDITOR_OPS.get(str(args.get("command", "")))
    else:
        op = _EDIT_OPS.get(lname)
    if op is None:
        return ()
    for key in _PATH_KEYS:
        value = args.get(key)
        if isinstance(value, str) and value.strip():
            return (FileChange(path=value, op=op),)
    return ()


def exit_code_in(output: Any) -> int | None:
    """An exit code stated by a tool output (a JSON field or an `Exit Code: N` line)."""
    if isinstance(output, Mapping):
        for key in ("exit_code", "exitCode", "returncode", "return_code"):
            value = output.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        return None
    if isinstance(output, str):
        match = _EXIT.search(output[:4000]) or _EXIT.search(output[-4000:])
        if match:
            return int(match.group(1))
    return None
