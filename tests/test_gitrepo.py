"""agentir.gitrepo on real repositories: one-call log parsing, status, remotes, worktrees."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from agentir.errors import GitError
from agentir.gitrepo import GitRepo
from tests.remediate_support import Repo


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    r = Repo(tmp_path / "r").init()
    r.commit("c1", {"a.txt": "a\n", "dir/b.txt": "b\n"}, "first", "2026-01-01T10:00:00Z")
    r.commit("c2", {"a.txt": "a2\n"}, "second\n\nbody line", "2026-01-02T10:00:00Z")
    return r


def test_opening_outside_a_repository_is_a_git_error(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="not inside a git repository"):
        GitRepo(tmp_path)
    with pytest.raises(GitError, match="does not exist"):
        GitRepo(tmp_path / "missing")


def test_subdirectory_sets_prefix(repo: Repo) -> None:
    g = GitRepo(repo.path / "dir")
    assert g.root == repo.path.resolve()
    assert g.prefix == "dir"
    assert g.common_dir == (repo.path / ".git").resolve()


def test_log_reads_commits_files_and_times_in_one_call(repo: Repo) -> None:
    g = GitRepo(repo.path)
    commits = g.log()
    assert [c.sha for c in commits] == [repo.shas["c2"], repo.shas["c1"]]
    assert commits[0].files == ("a.txt",)
    assert set(commits[1].files) == {"a.txt", "dir/b.txt"}
    assert commits[0].message == "second\n\nbody line"
    assert commits[0].subject == "second"
    assert commits[0].committed_at == datetime(2026, 1, 2, 10, tzinfo=timezone.utc)
    assert commits[0].parents == (repo.shas["c1"],)
    since = g.log(since=datetime(2026, 1, 2, tzinfo=timezone.utc))
    assert [c.sha for c in since] == [repo.shas["c2"]]


def test_log_survives_messages_with_separator_characters(repo: Repo) -> None:
    nasty = "evil \x1e\x1f subject\n\n\x1e body \x1f\x00".replace("\x00", "")
    repo.commit("c3", {"c.txt": "c\n"}, nasty, "2026-01-03T10:00:00Z")
    commits = GitRepo(repo.path).log()
    assert [c.sha for c in commits] == [repo.shas["c3"], repo.shas["c2"], repo.shas["c1"]]
    assert commits[0].files == ("c.txt",)
    assert "\x1e body" in commits[0].message


def test_merge_commit_files_are_against_first_parent(repo: Repo) -> None:
    repo.git("checkout", "-q", "-b", "side")
    repo.commit("s1", {"side.txt": "s\n"}, "side work", "2026-01-03T10:00:00Z")
    repo.git("checkout", "-q", "main")
    repo.commit("m1", {"main.txt": "m\n"}, "main work", "2026-01-03T11:00:00Z")
    env = {"GIT_AUTHOR_DATE": "2026-01-03T12:00:00Z", "GIT_COMMITTER_DATE": "2026-01-03T12:00:00Z"}
    repo.git("merge", "-q", "--no-ff", "-m", "merge side", "side", env=env)
    merge = GitRepo(repo.path).log()[0]
    assert merge.is_merge
    assert merge.files == ("side.txt",)


def test_notes_under_refs_notes_ai_are_read(repo: Repo) -> None:
    repo.git("notes", "--ref=ai", "add", "-m", '{"tool": "claude"}', repo.shas["c2"])
    g = GitRepo(repo.path)
    assert g.has_ref("refs/notes/ai")
    by_sha = {c.sha: c.note for c in g.log(notes=True)}
    assert by_sha[repo.shas["c2"]] == '{"tool": "claude"}'
    assert by_sha[repo.shas["c1"]] == ""


def test_resolve_commits_batches_short_and_unknown_names(repo: Repo) -> None:
    g = GitRepo(repo.path)
    short = repo.shas["c1"][:7]
    found = g.resolve_commits([short, "deadbee", repo.shas["c2"]])
    assert found == {short: repo.shas["c1"], "deadbee": None, repo.shas["c2"]: repo.shas["c2"]}
    assert g.resolve_commits([]) == {}


def test_status_lists_changes_untracked_and_renames(repo: Repo) -> None:
    (repo.path / "a.txt").write_text("changed\n")
    (repo.path / "new.txt").write_text("new\n")
    repo.git("mv", "dir/b.txt", "dir/c.txt")
    entries = {e.path: e for e in GitRepo(repo.path).status()}
    assert entries["a.txt"].code == " M"
    assert entries["new.txt"].untracked
    assert entries["dir/c.txt"].code[0] == "R"
    assert entries["dir/c.txt"].orig_path == "dir/b.txt"


def test_remote_branches_containing(repo: Repo, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo.git("remote", "add", "origin", str(remote))
    repo.git("push", "-q", "origin", f"{repo.shas['c1']}:refs/heads/main")
    repo.git("fetch", "-q", "origin")
    repo.commit("c3", {"z.txt": "z\n"}, "local only", "2026-01-04T10:00:00Z")
    g = GitRepo(repo.path)
    found = g.remote_branches_containing([repo.shas["c1"], repo.shas["c2"], repo.shas["c3"]])
    assert found == {repo.shas["c1"]: ("origin/main",), repo.shas["c2"]: (), repo.shas["c3"]: ()}


def test_worktree_add_and_remove_leave_no_trace(repo: Repo) -> None:
    g = GitRepo(repo.path)
    target = g.common_dir / "agentir" / "wt"
    g.worktree_add(target, "HEAD", branch="agentir/test")
    assert (target / "a.txt").read_text() == "a2\n"
    assert any(Path(w.path) == target for w in g.worktrees())
    g.worktree_remove(target)
    assert len(g.worktrees()) == 1
    assert g.branch_exists("agentir/test")
    g.delete_branch("agentir/test")
    assert not g.branch_exists("agentir/test")


def test_commands_never_run_repository_hooks(repo: Repo) -> None:
    hook = repo.path / ".git" / "hooks" / "post-checkout"
    marker = repo.path.parent / "hook-ran"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    g = GitRepo(repo.path)
    target = g.common_dir / "agentir" / "wt"
    g.worktree_add(target, "HEAD")
    g.worktree_remove(target)
    assert not marker.exists()


def test_stash_push_names_the_stash(repo: Repo) -> None:
    (repo.path / "a.txt").write_text("wip\n")
    (repo.path / "u.txt").write_text("untracked\n")
    g = GitRepo(repo.path)
    sha = g.stash_push("agentir incident INC-1: saved")
    assert len(sha) == 40
    assert "agentir incident INC-1: saved" in g.stash_list()[0]
    assert g.status() == []


def test_importing_the_cli_does_not_import_gitpython() -> None:
    code = "import sys, agentir.cli.app; print('git' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
