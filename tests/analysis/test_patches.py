"""Patch parsing: Codex apply_patch envelopes and unified diffs."""

from __future__ import annotations

from agentir.analysis.patches import parse_apply_patch, parse_unified_diff
from agentir.model import FileOp

DIFF = """diff --git a/src/a.py b/src/a.py
index 1..2 100644
--- a/src/a.py
+++ b/src/a.py
@@ -1,3 +1,3 @@
 keep
--- this removed line starts with dashes
+++ this added line starts with pluses
 keep
diff --git a/new.txt b/new.txt
new file mode 100644
--- /dev/null
+++ b/new.txt
@@ -0,0 +1,2 @@
+one
+two
diff --git a/gone.txt b/gone.txt
deleted file mode 100644
--- a/gone.txt
+++ /dev/null
@@ -1 +0,0 @@
-bye
diff --git a/old name.py b/new name.py
similarity index 100%
rename from old name.py
rename to new name.py
"""


def test_unified_diff_ops_and_line_counts() -> None:
    got = [(c.path, c.op, c.dest, c.added, c.removed) for c in parse_unified_diff(DIFF)]
    assert got == [
        ("src/a.py", FileOp.EDIT, None, 1, 1),
        ("new.txt", FileOp.CREATE, None, 2, 0),
        ("gone.txt", FileOp.DELETE, None, 0, 1),
        ("old name.py", FileOp.RENAME, "new name.py", 0, 0),
    ]


def test_plain_unified_diff_without_git_headers() -> None:
    text = (
        "--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n-a\n+b\n--- a/y.c\n+++ b/y.c\n@@ -1,2 +1 @@\n-c\n d\n"
    )
    assert [(c.path, c.added, c.removed) for c in parse_unified_diff(text)] == [
        ("x.c", 1, 1),
        ("y.c", 0, 1),
    ]


def test_apply_patch_counts_lines() -> None:
    text = "*** Begin Patch\n*** Update File: a.py\n@@ def f\n-x = 1\n+x = 2\n+y = 3\n*** End Patch"
    (change,) = parse_apply_patch(text)
    assert (change.path, change.op, change.added, change.removed) == ("a.py", FileOp.EDIT, 2, 1)


def test_garbage_gives_nothing() -> None:
    assert parse_apply_patch("not a patch") == ()
    assert parse_unified_diff("@@ nonsense\n+++\n---") is not None
