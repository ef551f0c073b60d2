"""SWE-agent actions: tool names, shell commands and file changes from action strings or calls.

SWE-agent actions are command lines typed into its special shell: a tool-bundle word
(`open`, `edit`, `str_replace_editor`, ...) or plain bash. With function calling the same
action also appears as `history[].tool_calls[].function.{name,arguments}`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agentir.model import FileChange, FileOp

# Words of SWE-agent's tool bundles; any other first word is a bash command line.
TOOL_WORDS = frozenset(
    {
        "open",
        "goto",
        "scroll_up",
        "scroll_down",
        "create",
        "edit",
        "insert",
        "append",
        "str_replace_editor",
        "find_file",
        "search_dir",
        "search_file",
        "filemap",
        "submit",
        "exit_forfeit",
    }
)
# Windowed tools that change the file currently open in the editor.
_OPEN_FILE_EDITS = frozenset({"edit", "insert", "append"})
_EDITOR_CHANGES = {
    "create": FileOp.CREATE,
    "str_replace": FileOp.EDIT,
    "insert": FileOp.EDIT,
    "undo_edit": FileOp.EDIT,
}
# Observation texts that mean the action failed (SWE-agent has no structured error flag).
_FAILURE_MARKERS = (
    "Traceback (most recent call last)",
    "command not found",
    "Your proposed edit has introduced new syntax error(s)",
)
# "Error" counts only at the start of a line (`ValueError: ...`, `Error: ...`), so a file
# view or diff that merely shows code mentioning an exception is not a failure.
_ERROR_LINE = re.compile(r"(?m)^(?:[A-Za-z_][\w.]*)?Error\b")
_USAGE_LINE = re.compile(r"(?m)^\s*Usage:")


@dataclass(frozen=True)
class Action:
    """What one SWE-agent action does, as far as its text (or call) reveals."""

    name: str
    args: Mapping[str, Any]
    command: str | None = None
    changes: tuple[FileChange, ...] = ()


def observation_failed(text: str) -> bool:
    """True when an observation shows an error (Traceback, Error:, command not found, ...)."""
    if any(marker in text for marker in _FAILURE_MARKERS):
        return True
    return bool(_ERROR_LINE.search(text) or _USAGE_LINE.search(text))


def _words(text: str) -> list[str]:
    """Shell-like words of one line; falls back to whitespace split on unbalanced quotes."""
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def _known(path: str | None) -> str | None:
    """The open-file value unless it says no file is open."""
    if not path or path.strip() in ("n/a", "None"):
        return None
    return path.strip()


def parse_action(text: str, open_file: str | None) -> Action:
    """Classify an action string; `open_file` is the editor's open file for windowed edits."""
    stripped = text.strip()
    first_line = stripped.split("\n", 1)[0]
    words = _words(first_line)
    word = words[0] if words else ""
    if word not in TOOL_WORDS:
        return Action(name="bash", args={"command": stripped}, command=stripped)
    args: dict[str, Any] = {"action": stripped}
    changes: tuple[FileChange, ...] = ()
    if word in ("open", "create") and len(words) > 1:
        args["path"] = words[1]
        if word == "create":
            changes = (FileChange(words[1], FileOp.CREATE),)
    elif word in _OPEN_FILE_EDITS:
        target = _known(open_file)
        if target:
            args["path"] = target
            changes = (FileChange(target, FileOp.EDIT),)
    elif word == "str_replace_editor" and len(words) > 2:
        args["command"], args["path"] = words[1], words[2]
        op = _EDITOR_CHANGES.get(words[1])
        if op is not None:
            changes = (FileChange(words[2], op),)
    return Action(name=word, args=args, changes=changes)


def parse_call(name: str, arguments: Mapping[str, Any], text: str, open_file: str | None) -> Action:
    """Classify a function call; `text` is the same action as a command line (may be empty)."""
    args = dict(arguments)
    if name == "bash":
        command = args.get("command")
        command = command.strip() if isinstance(command, str) else text.strip() or None
        return Action(name="bash", args=args, command=command)
    changes: tuple[FileChange, ...] = ()
    path = next(
        (args[k] for k in ("path", "filename", "file_name") if isinstance(args.get(k), str)), None
    )
    if name == "create" and path:
        changes = (FileChange(path, FileOp.CREATE),)
    elif name in _OPEN_FILE_EDITS:
        target = _known(open_file)
        if target:
            changes = (FileChange(target, FileOp.EDIT),)
    elif name == "str_replace_editor" and path:
        op = _EDITOR_CHANGES.get(str(args.get("command")))
        if op is not None:
            changes = (FileChange(path, op),)
    return Action(name=name, args=args, changes=changes)
