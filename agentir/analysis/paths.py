"""Normalise the paths agents print against the session's working directory."""

from __future__ import annotations

from posixpath import isabs, join, normpath, relpath


def absolute(path: str, cwd: str | None) -> str:
    """An absolute, normalised form of `path` (relative paths joined to `cwd` when known)."""
    path = path.strip()
    if path.startswith("file://"):
        path = path[len("file://") :]
    if not isabs(path) and cwd and not path.startswith(("~", "$")):
        path = join(cwd, path)
    return normpath(path) if path else path


def display(path: str, cwd: str | None) -> tuple[str, bool]:
    """The path as a responder reads it (relative inside the cwd) and whether it is inside.

    With no known cwd every path counts as inside: scope cannot be judged.
    """
    full = absolute(path, cwd)
    if not cwd:  # nothing to compare with: never claim a path is outside
        return full, True
    if not isabs(full):
        return full, True
    root = normpath(cwd)
    if full == root:
        return ".", True
    if full.startswith(root.rstrip("/") + "/"):
        return relpath(full, root), True
    return full, False
