"""What a tool call does, whatever the agent: runs a shell command, changes files, or neither.

Readers fill `ToolCall.command` and `ToolCall.changes` when their format says so; span-based
readers (OTel, Langfuse, agent log events) only know a tool's name and arguments and call
`shell_command_of` / `changes_of_tool` here, and the fold fills any remaining gap the same
way, so one table of well-known tool names serves every format.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from typing import Any

from agentir.analysis.patches import parse_apply_patch
from agentir.model import FileChange, FileOp, ToolCall

SHELL_TOOLS = frozenset(
    {
        "bash", "shell", "shell_command", "exec_command", "run_shell_command", "execute_bash",
        "terminal", "run", "local_shell", "local_shell_call", "execute_command", "run_terminal_cmd",
        "run_command", "exec", "command", "sh", "cmd", "powershell", "container.exec",
    }
)  # fmt: skip
_EDIT_OPS = {
    "write": FileOp.WRITE, "write_file": FileOp.WRITE, "writefile": FileOp.WRITE,
    "file_write": FileOp.WRITE, "save_file": FileOp.WRITE,
    "create_file": FileOp.CREATE, "create": FileOp.CREATE,
    "edit": FileOp.EDIT, "multiedit": FileOp.EDIT, "replace": FileOp.EDIT,
    "edit_file": FileOp.EDIT, "str_replace": FileOp.EDIT, "notebookedit": FileOp.EDIT,
    "file_edit": FileOp.EDIT, "search_replace": FileOp.EDIT, "apply_diff": FileOp.EDIT,
    "insert": FileOp.EDIT, "append": FileOp.EDIT,
    "delete_file": FileOp.DELETE, "remove_file": FileOp.DELETE, "deletefile": FileOp.DELETE,
}  # fmt: skip
# Editor tools whose `command` argument says what they do (Anthropic / OpenHands).
_EDITOR_TOOLS = frozenset(
    {"str_replace_editor", "str_replace_based_edit_tool", "text_editor", "file_editor"}
)
_EDITOR_OPS = {
    "create": FileOp.CREATE, "str_replace": FileOp.EDIT, "insert": FileOp.EDIT,
    "undo_edit": FileOp.EDIT, "edit": FileOp.EDIT, "append": FileOp.EDIT,
}  # fmt: skip
_PATH_KEYS = (
    "file_path", "path", "filePath", "filename", "file", "notebook_path", "target_file",
    "absolute_path",
)  # fmt: skip
_COMMAND_KEYS = ("command", "cmd", "full_command", "bash_command", "script", "commandLine", "input")
_SHELLS = frozenset({"bash", "sh", "zsh"})
_EXIT = re.compile(r"(?i)\bexit(?:ed with)?[ _]?(?:code|status)\b[:=]?\s*(-?\d+)")


def is_shell_tool(name: str) -> bool:
    """True for tools that run a shell command line."""
    return name.lower() in SHELL_TOOLS


def shell_command_of(name: str, args: Mapping[str, Any]) -> str | None:
    """The command line of a shell tool call, or None for other tools."""
    if not is_shell_tool(name):
        return None
    for key in _COMMAND_KEYS:
        value = args.get(key)
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            shell = value[0].rsplit("/", 1)[-1]
            if len(value) >= 3 and shell in _SHELLS and value[1] in ("-c", "-lc"):
                return str(value[2])
            return shlex.join(value)
    raw = args.get("raw")
    return raw if isinstance(raw, str) and raw.strip() else None


def _path_arg(args: Mapping[str, Any]) -> str | None:
    for key in _PATH_KEYS:
        value = args.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def changes_of_tool(name: str, args: Mapping[str, Any]) -> tuple[FileChange, ...]:
    """Files a (non-shell) tool call means to change, judged from its name and arguments."""
    lname = name.lower().rsplit(".", 1)[-1]
    if lname == "apply_patch":
        text = args.get("input") or args.get("patch") or args.get("raw") or ""
        return parse_apply_patch(text) if isinstance(text, str) else ()
    if lname in _EDITOR_TOOLS:
        op = _EDITOR_OPS.get(str(args.get("command") or "").lower())
    else:
        op = _EDIT_OPS.get(lname)
    path = _path_arg(args)
    if op is None or path is None:
        return ()
    return (FileChange(path, op),)


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


def shell_command(call: ToolCall) -> str | None:
    """The command line a call runs: the reader's, or judged from the tool's name."""
    if call.command is not None:
        return call.command
    return shell_command_of(call.name, call.args)


def intended_changes(call: ToolCall) -> tuple[FileChange, ...]:
    """Files a non-shell call means to change: the reader's, or judged from the tool's name."""
    return call.changes or changes_of_tool(call.name, call.args)
