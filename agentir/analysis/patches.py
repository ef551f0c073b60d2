"""Parse the patch texts agents write: Codex `apply_patch` envelopes and unified diffs."""

from __future__ import annotations

import re

from agentir.model import FileChange, FileOp

_PATCH_HEADER = re.compile(r"^\*\*\* (Add|Update|Delete) File: (.+?)\s*$")
_MOVE_TO = re.compile(r"^\*\*\* Move to: (.+?)\s*$")


def parse_apply_patch(text: str) -> tuple[FileChange, ...]:
    """Files changed by a Codex `*** Begin Patch` envelope (add / update / delete / move)."""
    changes: list[FileChange] = []
    current: dict[str, object] | None = None

    def flush() -> None:
        if current is not None:
            changes.append(
                FileChange(
                    path=str(current["path"]),
                    op=current["op"],  # type: ignore[arg-type]
                    dest=current.get("dest"),  # type: ignore[arg-type]
                    added=int(current["added"]),  # type: ignore[call-overload]
                    removed=int(current["removed"]),  # type: ignore[call-overload]
                )
            )

    for line in text.splitlines():
        header = _PATCH_HEADER.match(line)
        if header:
            flush()
            verb, path = header.groups()
            op = {"Add": FileOp.CREATE, "Update": FileOp.EDIT, "Delete": FileOp.DELETE}[verb]
            current = {"path": path, "op": op, "dest": None, "added": 0, "removed": 0}
            continue
        if current is None:
            continue
        move = _MOVE_TO.match(line)
        if move:
            current["op"] = FileOp.RENAME
            current["dest"] = move.group(1)
        elif line.startswith("*** End Patch"):
            flush()
            current = None
        elif line.startswith("+"):
            current["added"] = int(current["added"]) + 1  # type: ignore[call-overload]
        elif line.startswith("-"):
            current["removed"] = int(current["removed"]) + 1  # type: ignore[call-overload]
    flush()
    return tuple(changes)


_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")
_DIFF_GIT = re.compile(r"^diff --git (?:\"?a/)?(.+?)\"? (?:\"?b/)?(.+?)\"?$")


def _strip_prefix(path: str) -> str | None:
    path = path.strip().split("\t", 1)[0]
    if path == "/dev/null":
        return None
    if path.startswith(("a/", "b/")):
        return path[2:]
    return path


def parse_unified_diff(text: str) -> tuple[FileChange, ...]:
    """Files changed by a unified / git diff (creates, deletes, renames, edits with line counts)."""
    changes: list[FileChange] = []
    state: dict[str, object] = {}

    def flush() -> None:
        if not state:
            return
        old, new = state.get("old"), state.get("new")
        op: FileOp
        path: str | None
        dest: str | None = None
        if state.get("rename_to"):
            op, path, dest = FileOp.RENAME, str(state.get("rename_from")), str(state["rename_to"])
        elif old is None and new is not None:
            op, path = FileOp.CREATE, str(new)
        elif new is None and old is not None:
            op, path = FileOp.DELETE, str(old)
        else:
            op, path = FileOp.EDIT, (str(new) if new else (str(old) if old else None))
        if state.get("new_file"):
            op = FileOp.CREATE
        if state.get("deleted_file"):
            op = FileOp.DELETE
        if path:
            changes.append(
                FileChange(
                    path=path,
                    op=op,
                    dest=dest,
                    added=int(state.get("added", 0)),  # type: ignore[call-overload]
                    removed=int(state.get("removed", 0)),  # type: ignore[call-overload]
                )
            )
        state.clear()

    old_left = new_left = 0  # lines still expected in the current hunk
    for line in text.splitlines():
        if old_left > 0 or new_left > 0:
            if line.startswith("+"):
                new_left -= 1
                state["added"] = int(state.get("added", 0)) + 1  # type: ignore[call-overload]
                continue
            if line.startswith("-"):
                old_left -= 1
                state["removed"] = int(state.get("removed", 0)) + 1  # type: ignore[call-overload]
                continue
            if line.startswith(" ") or line == "":
                old_left -= 1
                new_left -= 1
                continue
            if line.startswith("\\"):
                continue
            old_left = new_left = 0  # malformed hunk: fall through to header parsing
        git = _DIFF_GIT.match(line)
        if git:
            flush()
            state.update(
                old=_strip_prefix("a/" + git.group(1)), new=_strip_prefix("b/" + git.group(2))
            )
            continue
        hunk = _HUNK.match(line)
        if hunk:
            old_left = int(hunk.group(1)) if hunk.group(1) is not None else 1
            new_left = int(hunk.group(2)) if hunk.group(2) is not None else 1
            continue
        if line.startswith("--- "):
            if state.get("seen_minus"):
                flush()
            state["old"] = _strip_prefix(line[4:])
            state["seen_minus"] = True
        elif line.startswith("+++ "):
            state["new"] = _strip_prefix(line[4:])
        elif line.startswith("new file mode"):
            state["new_file"] = True
        elif line.startswith("deleted file mode"):
            state["deleted_file"] = True
        elif line.startswith("rename from "):
            state["rename_from"] = line[len("rename from ") :]
        elif line.startswith("rename to "):
            state["rename_to"] = line[len("rename to ") :]
    flush()
    return tuple(changes)
