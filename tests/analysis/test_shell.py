"""Shell command parsing: which files a command line changes, and through what."""

from __future__ import annotations

import pytest

from agentir.analysis.shell import shell_file_changes, split_commands
from agentir.model import FileOp


def changes(command: str, cwd: str | None = "/repo") -> list[tuple[str, str, str | None, str]]:
    return [(c.path, c.op.value, c.dest, via) for c, via in shell_file_changes(command, cwd)]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (
            "rm -rf build/ && rm -f a.txt",
            [("/repo/build", "delete", None, "rm"), ("/repo/a.txt", "delete", None, "rm")],
        ),
        ("mv old.py new.py", [("/repo/old.py", "rename", "/repo/new.py", "mv")]),
        (
            "cp -r a b dest/",
            [("/repo/a", "copy", "/repo/dest/a", "cp"), ("/repo/b", "copy", "/repo/dest/b", "cp")],
        ),
        (
            "sed -i 's/a/b/g' src/x.py src/y.py",
            [("/repo/src/x.py", "edit", None, "sed"), ("/repo/src/y.py", "edit", None, "sed")],
        ),
        ("sed -i '' -e 's/a/b/' mac.txt", [("/repo/mac.txt", "edit", None, "sed")]),
        ("echo hi > out.txt", [("/repo/out.txt", "write", None, "echo")]),
        ("echo hi >> log.txt", [("/repo/log.txt", "edit", None, "echo")]),
        (
            "printf x | tee a.txt | tee -a b.txt",
            [("/repo/a.txt", "write", None, "tee"), ("/repo/b.txt", "edit", None, "tee")],
        ),
        ("git checkout -- src/a.py", [("/repo/src/a.py", "edit", None, "git checkout")]),
        (
            "git rm -q gone.py && git mv x.py y.py",
            [
                ("/repo/gone.py", "delete", None, "git rm"),
                ("/repo/x.py", "rename", "/repo/y.py", "git mv"),
            ],
        ),
        ("touch new.md", [("/repo/new.md", "create", None, "touch")]),
        ("cd sub && rm a.txt", [("/repo/sub/a.txt", "delete", None, "rm")]),
        ("bash -lc 'cd sub && echo x > f'", [("/repo/sub/f", "write", None, "echo")]),
        ("sudo FOO=1 tee /etc/hosts < x", [("/etc/hosts", "write", None, "tee")]),
    ],
)
def test_file_changes(command: str, expected: list[tuple[str, str, str | None, str]]) -> None:
    assert changes(command) == expected


@pytest.mark.parametrize(
    "command",
    [
        "ls -la 2>/dev/null | grep x",
        "python -c 'print(1)' > /dev/null 2>&1",
        "echo 'rm -rf /' ",  # words inside a quoted argument are not commands
        "git status && git diff",
        "pytest -q",
        "cat file.txt",
    ],
)
def test_read_only_commands_change_nothing(command: str) -> None:
    assert changes(command) == []


def test_heredoc_body_is_not_parsed_as_commands() -> None:
    command = "cat > notes.md <<'EOF'\nrm -rf / > not-a-file\nEOF\necho done >> log.txt"
    assert changes(command) == [
        ("/repo/notes.md", "write", None, "cat"),
        ("/repo/log.txt", "edit", None, "echo"),
    ]


def test_apply_patch_heredoc_lists_every_file() -> None:
    command = (
        "apply_patch <<'PATCH'\n*** Begin Patch\n*** Update File: app/x.py\n@@\n-a\n+b\n"
        "*** Add File: new.py\n+x\n*** Delete File: old.py\n*** Update File: m.py\n*** Move to: n.py\n"
        "@@\n-c\n+d\n*** End Patch\nPATCH"
    )
    got = [(c.path, c.op, c.dest) for c, _ in shell_file_changes(command, None)]
    assert got == [
        ("app/x.py", FileOp.EDIT, None),
        ("new.py", FileOp.CREATE, None),
        ("old.py", FileOp.DELETE, None),
        ("m.py", FileOp.RENAME, "n.py"),
    ]


def test_unbalanced_quotes_do_not_raise() -> None:
    assert changes('echo "unterminated > x') == [("/repo/x", "write", None, "echo")]
    assert split_commands("'''") is not None


def test_wrappers_are_stripped() -> None:
    cmds = split_commands("timeout 30 env A=1 nice -n 5 rm x")
    assert [c.argv for c in cmds] == [["rm", "x"]]
