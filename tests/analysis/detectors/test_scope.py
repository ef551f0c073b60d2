"""Scope creep: outside the allowed paths, forbidden and sensitive paths, the task's own scope."""

from __future__ import annotations

from agentir.analysis.detectors.scope import task_dirs
from agentir.policy import Paths, Policy, compile_path
from tests.analysis.detectors.session import Session, found


def test_edits_inside_the_cwd_and_scratch_files_in_tmp_are_fine() -> None:
    s = Session(task="fix the failing test in tests/test_login.py")
    s.edit("/repo/src/login.py")
    s.write("tests/test_login.py")
    s.write("/tmp/scratch.txt")
    s.bash("rm -f build.log", output="")
    assert not found(s.run(), "scope")


def test_a_write_outside_the_cwd_is_high() -> None:
    s = Session()
    seq = s.write("/srv/other-project/config.py")
    (f,) = found(s.run(), "scope", rule="outside")
    assert f.severity == "high" and list(f.seqs) == [seq]
    assert "/srv/other-project/config.py" in f.message and "outside /repo" in f.message


def test_a_shell_write_outside_the_cwd_counts_too() -> None:
    s = Session()
    s.bash("echo 'export X=1' >> /home/dev/project2/.envrc", output="")
    (f,) = found(s.run(), "scope", rule="outside")
    assert f.data["paths"] == ["/home/dev/project2/.envrc"]


def test_forbidden_paths() -> None:
    s = Session()
    s.write("/repo/.env")
    s.write("/repo/.git/hooks/pre-commit")
    s.write("/home/dev/.ssh/authorized_keys")
    s.write("/repo/.env.example")  # un-forbidden by `!.env.example`
    (f,) = found(s.run(), "scope", rule="forbidden")
    assert f.severity == "high"
    assert f.data["paths"] == [".env", ".git/hooks/pre-commit", "/home/dev/.ssh/authorized_keys"]
    assert not found(s.run(), "scope", rule="outside")  # forbidden wins, reported once


def test_sensitive_paths_are_a_warning() -> None:
    s = Session()
    s.write("/repo/.github/workflows/deploy.yml")
    s.edit("/repo/.claude/settings.json")
    (f,) = found(s.run(), "scope", rule="sensitive")
    assert f.severity == "warning"
    assert f.data["paths"] == [".github/workflows/deploy.yml", ".claude/settings.json"]


def test_a_failed_attempt_is_one_level_lower() -> None:
    s = Session()
    s.bash("rm /etc/passwd", ok=False, output="Permission denied")
    (f,) = found(s.run(), "scope", rule="forbidden")
    assert f.severity == "warning" and f.data["attempt"] is True
    assert "tried (and failed)" in f.message


def test_changes_far_from_the_task_named_scope() -> None:
    s = Session(task="Only touch src/auth/login.py: the login form rejects valid emails.")
    s.edit("/repo/src/auth/login.py")
    s.edit("/repo/src/ui/form.py")  # same top-level directory: near enough
    s.write("/repo/tests/test_login.py")  # tests go with the fix
    s.write("/repo/reproduce.py")  # a root-level file is not "far"
    s.write("/repo/billing/invoice.py", ok=True)
    s.write("/repo/docs/tmp_notes.md")
    s.bash("rm docs/tmp_notes.md", output="")  # created then deleted: scratch
    (f,) = found(s.run(), "scope", rule="task_scope")
    assert f.severity == "warning" and f.data["paths"] == ["billing/invoice.py"]
    assert "src/" in f.message


def test_no_task_scope_when_the_task_names_no_paths() -> None:
    s = Session(task="the login form rejects valid emails and/or crashes, please fix")
    s.edit("/repo/src/auth/login.py")
    s.write("/repo/billing/invoice.py")
    assert not found(s.run(), "scope")


def test_task_dirs_reads_paths_not_prose() -> None:
    assert task_dirs("fix lib/login.py and src/app/main.py", "/r") == {"lib", "src"}
    assert task_dirs("fix the failing test in tests/test_login.py", "/r") == set()
    assert task_dirs("see https://example.com/a/b.html and I/O, and/or", "/r") == set()
    assert task_dirs("edit /r/lib/x.py and /elsewhere/y.py", "/r") == {"lib"}


def test_a_custom_allowed_list_restricts_writes_inside_the_cwd() -> None:
    s = Session()
    s.edit("/repo/src/a.py")
    s.edit("/repo/Makefile")
    paths = Paths(allowed_write=(compile_path("src/**"),))
    (f,) = found(s.run(Policy(paths=paths)), "scope", rule="outside")
    assert f.data["paths"] == ["Makefile"]


def test_without_a_cwd_nothing_is_called_outside() -> None:
    s = Session(cwd=None)
    s.write("/somewhere/else.py")
    assert not found(s.run(), "scope", rule="outside")
