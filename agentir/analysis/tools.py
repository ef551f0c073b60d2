"""What a tool call does, whatever the agent: runs a shell command, changes files, or neither.

Readers fill `ToolCall.command` and `ToolCall.changes` when their format says so; this module
fills the gaps from the tool's name and arguments, for tools any agent may expose (an OTel
span named `execute_tool write_file` has no reader-specific knowledge behind it).
"""

from __future__ import annotations

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
_WRITE_TOOLS = frozenset(
    {"write", "write_file", "create_file", "writefile", "file_write", "save_file", "create"}
)
_EDIT_TOOLS = frozenset(
    {
        "edit", "multiedit", "replace", "edit_file", "str_replace", "notebookedit", "file_edit",
        "search_replace", "apply_diff", "insert", "append", "str_replace_based_edit_tool",
    }
)  # fmt: skip
_EDITOR_TOOLS = frozenset(
    {"str_replace_editor", "file_editor", "text_editor", "str_replace_based_edit_tool"}
)
_DELETE_TOOLS = frozenset({"delete_file", "remove_file", "deletefile", "rm"})
_PATH_KEYS = (
    "file_path",
    "path",
    "filePath",
    "filename",
    "file",
    "notebook_path",
    "target_file",
    "absolute_path",
)


def _path_arg(args: Mapping[str, Any]) -> str | None:
    for key in _PATH_KEYS:
        value = args.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def shell_command(call: ToolCall) -> str | None:
    """The command line a call runs, when it is a shell tool."""
    if call.command is not None:
        return call.command
    if call.name.lower() not in SHELL_TOOLS:
        return None
    for key in ("command", "cmd", "script", "commandLine", "input"):
        value = call.args.get(key)
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            if (
                len(value) >= 3
                and value[0].rsplit("/", 1)[-1] in ("bash", "sh", "zsh")
                and value[1] in ("-c", "-lc")
            ):
                return value[2]
            import shlex

            return shlex.join(value)
    raw = call.args.get("raw")
    return raw if isinstance(raw, str) and raw.strip() else None


def intended_changes(call: ToolCall) -> tuple[FileChange, ...]:
    """Files a non-shell tool call means to change (shell commands are parsed elsewhere)."""
    if call.changes:
        return call.changes
    name = call.name.lower().rsplit(".", 1)[-1]
    args = call.args
    if name == "apply_patch":
        text = args.get("input") or args.get("patch") or args.get("raw") or ""
        return parse_apply_patch(text) if isinstance(text, str) else ()
    path = _path_arg(args)
    if path is None:
        return ()
    if name in _EDITOR_TOOLS:
        sub = str(args.get("command") or "").lower()
        if sub == "create":
            return (FileChange(path, FileOp.CREATE),)
        if sub in ("str_replace", "insert", "undo_edit", "edit", "append"):
            return (FileChange(path, FileOp.EDIT),)
        return ()
    if name in _WRITE_TOOLS:
        return (FileChange(path, FileOp.WRITE),)
    if name in _EDIT_TOOLS:
        return (FileChange(path, FileOp.EDIT),)
    if name in _DELETE_TOOLS:
        return (FileChange(path, FileOp.DELETE),)
    return ()
