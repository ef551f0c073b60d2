"""Planning and applying reverts on real repositories, with agent and human commits interleaved.

The story (tests/remediate_support.py): before the session an agent-marked commit reworded
notes.md ("other agent commit"); during the session 10:00-10:10 the agent committed a1 (app.py,
hash printed by the trace), a2 (lib/new.py, printed, no trailer), a3 (lib/util.py, Claude
trailers only) and a4 (config.yaml, neither: found by time and path); a human committed h1
(docs.txt) inside the window and h2 (README.md) after it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agentir.actions.revert import ApplyOptions, apply_plan, verify_branch
from agentir.actions.revert_plan import RevertPlan, build_plan
from agentir.actions.revert_state import STATE_FILE
from agentir.actions.verify import parse_check
from agentir.analysis.assess import assess_trace
from agentir.errors import GitError
from agentir.gitrepo import GitRepo
from tests.remediate_support import BASE_FILES, Repo, interleaved, write_trace

INCIDENT = "INC-20260310-0001"


class Log:
    """Timeline entries and preserved evidence, as the CLI's sink would keep them."""

    def __init__(self, root: Path) -> None:
        self.entries: list[tuple[str, dict[str, Any]]] = []
        self.kept = root / "kept"

    def record(self, action: str, details: dict[str, Any]) -> None:
        self.entries.append((action, details))

    def preserve(self, folder: Path) -> str:
        import shutil

        dest = self.kept / folder.name
        shutil.copytree(folder, dest)
        return str(dest)

    def actions(self) -> list[str]:
        return [a for a, _ in self.entries]


def plan_for(tmp_path: Path, repo: Repo, **kw: Any) -> tuple[GitRepo, RevertPlan]:
    trace = write_trace(tmp_path, repo)
    session = assess_trace(trace).sessions[0]
    g = GitRepo(repo.path)
    return g, build_plan(g, [session], label=INCIDENT, incident=INCIDENT, **kw)


def apply(g: GitRepo, plan: RevertPlan, log: Log, tmp_path: Path, **kw: Any) -> Any:
    return apply_plan(
        g, plan, ApplyOptions(**kw), record=log.record, preserve=log.preserve,
        scratch=tmp_path / "scratch",
    )  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return interleaved(tmp_path)


def test_plan_picks_agent_commits_newest_first_with_reasons(tmp_path: Path, repo: Repo) -> None:
    _, plan = plan_for(tmp_path, repo)
    s = repo.shas
    assert [c.sha for c in plan.reverts] == [s["a4"], s["a3"], s["a2"], s["a1"]]
    kinds = {c.sha: {r.kind for r in c.reasons} for c in plan.reverts}
    assert kinds[s["a1"]] == {"printed_hash", "window", "paths"}
    assert kinds[s["a2"]] == {"printed_hash", "window", "paths"}  # no trailer at all
    assert kinds[s["a3"]] == {"marker", "window", "paths"}  # trailer, hash never printed
    assert kinds[s["a4"]] == {"window", "paths"}
    assert [c.sha for c in plan.other_agent] == [s["other_agent"]]
    assert [c.sha for c in plan.kept] == [s["h1"]]  # human, in the window, other files
    assert s["h2"] not in {c.sha for c in (*plan.reverts, *plan.other_agent, *plan.kept)}
    assert plan.target_branch == f"agentir/revert-{INCIDENT}"
    assert plan.conflicts == ()
    assert not plan.uncommitted.dirty


def test_apply_undoes_agent_work_keeps_human_work_and_leaves_original_alone(
    tmp_path: Path, repo: Repo
) -> None:
    g, plan = plan_for(tmp_path, repo)
    before = repo.snapshot()
    log = Log(tmp_path)
    result = apply(g, plan, log, tmp_path)
    after = repo.snapshot()
    branch = f"agentir/revert-{INCIDENT}"
    # the original branch, HEAD, index, working tree (every byte), stash, worktrees: unchanged
    assert {k: v for k, v in after.items() if k != "refs"} == {
        k: v for k, v in before.items() if k != "refs"
    }
    new_refs = set(str(after["refs"]).splitlines()) - set(str(before["refs"]).splitlines())
    assert [r.split()[0] for r in new_refs] == [f"refs/heads/{branch}"]
    assert repo.git("rev-parse", "main") == before["head"]
    # the revert branch: agent changes gone, human changes kept
    assert repo.read("app.py", branch) == BASE_FILES["app.py"]
    assert repo.read("lib/new.py", branch) is None
    assert repo.read("lib/util.py", branch) == BASE_FILES["lib/util.py"]
    assert repo.read("config.yaml", branch) == BASE_FILES["config.yaml"]
    assert repo.read("docs.txt", branch) == "docs v2 (human)\n"
    assert repo.read("README.md", branch) == "# app\n\nHuman docs.\n"
    assert repo.read("notes.md", branch) == "notes, reworded by an agent\n"
    # one revert commit per agent commit, on top of the old HEAD, naming incident and original
    log_out = repo.git("log", "--format=%H %P", f"main..{branch}").split("\n")
    assert len([ln for ln in log_out if ln]) == 4
    assert [r.original for r in result.reverted] == [c.sha for c in plan.reverts]
    for r in result.reverted:
        body = repo.git("log", "-1", "--format=%B", r.revert)
        assert body.startswith('Revert "')
        assert f"This reverts commit {r.original}." in body
        assert f"agentir incident {INCIDENT}: reverting agent commit {r.original[:10]}" in body
    assert result.skipped == ()
    assert not (g.common_dir / STATE_FILE).exists()
    assert len(g.worktrees()) == 1
    assert log.actions() == ["remediate.started", "remediate.applied"]


def test_conflict_with_stop_changes_nothing_and_names_files_and_commit(
    tmp_path: Path, repo: Repo
) -> None:
    # a human rewrote the line the agent changed in a1: reverting a1 cannot apply
    repo.commit("h3", {"app.py": "VERSION = 7\n\ndef main():\n    return VERSION\n"},
                "Bump version by hand", "2026-03-10T11:00:00Z")  # fmt: skip
    g, plan = plan_for(tmp_path, repo)
    (conflict,) = plan.conflicts
    assert conflict.sha == repo.shas["a1"]
    assert conflict.files == ("app.py",)
    before = repo.snapshot()
    log = Log(tmp_path)
    with pytest.raises(GitError) as err:
        apply(g, plan, log, tmp_path, strategy="stop")
    assert repo.shas["a1"][:10] in err.value.message
    assert "app.py" in err.value.message
    assert repo.snapshot() == before  # HEAD, refs, index, every file, stash list, worktrees
    assert not (g.common_dir / STATE_FILE).exists()
    assert log.actions()[-1] == "remediate.aborted"


@pytest.mark.parametrize("method", ["merge-tree", "worktree"])
def test_prediction_methods_agree_on_conflicts_and_empty_reverts(
    tmp_path: Path, repo: Repo, method: str
) -> None:
    repo.commit("h3", {"app.py": "VERSION = 7\n\ndef main():\n    return VERSION\n"},
                "Bump version by hand", "2026-03-10T11:00:00Z")  # fmt: skip
    repo.git("revert", "--no-edit", repo.shas["a4"])  # a human already undid a4
    before = repo.snapshot()
    _, plan = plan_for(tmp_path, repo, predict=method)
    assert [(c.sha, c.kind, c.files) for c in plan.conflicts] == [
        (repo.shas["a4"], "empty", ()),
        (repo.shas["a1"], "conflict", ("app.py",)),
    ]
    # a2 and a3 touch files nothing else changed: they are not even tried
    assert plan.conflicts_checked.startswith("tried 2 of 4 reverts")
    assert repo.snapshot() == before  # the trial left no worktree, ref or file behind


def test_conflict_with_skip_records_it_and_reverts_the_rest(tmp_path: Path, repo: Repo) -> None:
    repo.commit("h3", {"app.py": "VERSION = 7\n\ndef main():\n    return VERSION\n"},
                "Bump version by hand", "2026-03-10T11:00:00Z")  # fmt: skip
    g, plan = plan_for(tmp_path, repo)
    result = apply(g, plan, Log(tmp_path), tmp_path, strategy="skip")
    branch = result.branch
    assert [(s.sha, s.kind, s.files) for s in result.skipped] == [
        (repo.shas["a1"], "conflict", ("app.py",))
    ]
    assert [r.original for r in result.reverted] == [
        repo.shas["a4"], repo.shas["a3"], repo.shas["a2"]
    ]  # fmt: skip
    assert repo.read("app.py", branch) == "VERSION = 7\n\ndef main():\n    return VERSION\n"
    assert repo.read("lib/new.py", branch) is None


def test_a_commit_already_undone_is_skipped_as_empty(tmp_path: Path, repo: Repo) -> None:
    repo.git("revert", "--no-edit", repo.shas["a4"])  # a human already reverted a4
    g, plan = plan_for(tmp_path, repo)
    result = apply(g, plan, Log(tmp_path), tmp_path, strategy="stop")
    assert [(s.sha, s.kind) for s in result.skipped] == [(repo.shas["a4"], "empty")]
    assert len(result.reverted) == 3


def test_uncommitted_agent_edits_are_saved_first_and_a_dirty_tree_is_refused(
    tmp_path: Path, repo: Repo
) -> None:
    (repo.path / "app.py").write_text("VERSION = 3\n\ndef main():\n    return VERSION\n")
    (repo.path / "scratch.py").write_text("print('scratch')\n")
    g, plan = plan_for(tmp_path, repo)
    assert dict(plan.uncommitted.agent_files) == {"app.py": " M", "scratch.py": "??"}
    before = repo.snapshot()
    log = Log(tmp_path)
    with pytest.raises(GitError, match="uncommitted changes") as err:
        apply(g, plan, log, tmp_path)
    assert "--stash" in (err.value.hint or "")
    assert repo.snapshot() == before
    assert log.actions() == ["remediate.uncommitted_saved", "remediate.refused"]
    saved = Path(log.entries[0][1]["saved_to"])
    assert (saved / "untracked" / "scratch.py").read_text() == "print('scratch')\n"
    manifest = json.loads((saved / "MANIFEST.json").read_text())
    assert manifest["tracked"] == ["app.py"] and manifest["untracked"] == ["scratch.py"]
    # the patch restores the agent's edit on a clean checkout of HEAD
    clone = Repo(tmp_path / "clone")
    repo.git("clone", "-q", str(repo.path), str(clone.path))
    clone.git("apply", str(saved / "agent-changes.patch"))
    assert (clone.path / "app.py").read_text() == (repo.path / "app.py").read_text()


def test_stash_saves_the_dirty_tree_after_the_reverts(tmp_path: Path, repo: Repo) -> None:
    (repo.path / "app.py").write_text("VERSION = 3\n\ndef main():\n    return VERSION\n")
    (repo.path / "scratch.py").write_text("print('scratch')\n")
    g, plan = plan_for(tmp_path, repo)
    log = Log(tmp_path)
    result = apply(g, plan, log, tmp_path, stash=True)
    assert log.actions() == [
        "remediate.uncommitted_saved", "remediate.started", "remediate.applied",
        "remediate.stashed",
    ]  # fmt: skip
    assert result.stash is not None and f"agentir incident {INCIDENT}" in result.stash
    assert repo.git("status", "--porcelain") == ""
    assert f"agentir incident {INCIDENT}" in repo.git("stash", "list")
    repo.git("stash", "pop")
    assert (repo.path / "app.py").read_text().startswith("VERSION = 3")
    assert (repo.path / "scratch.py").exists()


def test_existing_revert_branch_is_not_overwritten(tmp_path: Path, repo: Repo) -> None:
    g, plan = plan_for(tmp_path, repo)
    apply(g, plan, Log(tmp_path), tmp_path)
    with pytest.raises(GitError, match="already exists"):
        apply(g, plan, Log(tmp_path), tmp_path)


def test_merge_commit_is_reverted_against_first_parent(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo").init()
    repo.commit("base", dict(BASE_FILES), "Initial import", "2026-02-01T09:00:00Z")
    repo.git("checkout", "-q", "-b", "side")
    repo.commit("side", {"lib/new.py": "x = 1\n"}, "side work", "2026-03-10T10:01:00Z")
    repo.git("checkout", "-q", "main")
    repo.commit("h", {"docs.txt": "human\n"}, "docs", "2026-03-10T10:02:00Z")
    env = {"GIT_AUTHOR_DATE": "2026-03-10T10:03:00Z", "GIT_COMMITTER_DATE": "2026-03-10T10:03:00Z"}
    repo.git("merge", "-q", "--no-ff", "-m", "Merge side", "side", env=env)
    merge = repo.git("rev-parse", "HEAD").strip()
    repo.shas.update(a1=merge, a2=merge)  # the trace prints the merge's hash
    g, plan = plan_for(tmp_path, repo)
    by_sha = {c.sha: c for c in plan.reverts}
    assert by_sha[merge].mainline == 1
    assert "merge" in {r.kind for r in by_sha[merge].reasons}
    result = apply(g, plan, Log(tmp_path), tmp_path)
    assert repo.read("lib/new.py", result.branch) is None
    assert repo.read("docs.txt", result.branch) == "human\n"
    body = repo.git("log", "-1", "--format=%B", result.reverted[0].revert)
    assert "first parent (-m 1)" in body


def test_pushed_commits_name_the_remote_branch(tmp_path: Path, repo: Repo) -> None:
    remote = tmp_path / "remote.git"
    repo.git("init", "-q", "--bare", str(remote))
    repo.git("remote", "add", "origin", str(remote))
    repo.git("push", "-q", "origin", f"{repo.shas['a2']}:refs/heads/main")
    repo.git("fetch", "-q", "origin")
    _, plan = plan_for(tmp_path, repo)
    pushed = {c.sha: c.pushed_to for c in plan.reverts}
    assert pushed[repo.shas["a1"]] == ("origin/main",)
    assert pushed[repo.shas["a2"]] == ("origin/main",)
    assert pushed[repo.shas["a3"]] == ()
    (push,) = [d for d in plan.checklist if d.kind == "git_push"]
    assert push.text.startswith("origin/main still carries the agent's commits")
    assert repo.shas["a1"][:10] in push.text and repo.shas["a3"][:10] not in push.text


def test_checks_run_before_and_after_and_verify_only(tmp_path: Path, repo: Repo) -> None:
    # the check fails while lib/new.py (an agent file) exists: the fault, then the fix
    check = parse_check("sh -c 'test ! -e lib/new.py'")
    g, plan = plan_for(tmp_path, repo)
    log = Log(tmp_path)
    result = apply(g, plan, log, tmp_path, checks=(check,))
    assert [r.ok for r in result.before] == [False]
    assert [r.ok for r in result.after] == [True]
    assert result.verified is True
    assert "remediate.verify.before" in log.actions()
    assert "remediate.verify.after" in log.actions()
    again = verify_branch(g, result.branch, [check])
    assert [(r.stage, r.ok) for r in again] == [("verify", True)]
    assert len(g.worktrees()) == 1


def test_repository_hooks_do_not_run_during_remediation(tmp_path: Path, repo: Repo) -> None:
    marker = tmp_path / "hook-ran"
    for name in ("pre-commit", "commit-msg", "post-commit", "post-checkout", "prepare-commit-msg"):
        hook = repo.path / ".git" / "hooks" / name
        hook.write_text(f"#!/bin/sh\necho {name} >> {marker}\n")
        hook.chmod(0o755)
    g, plan = plan_for(tmp_path, repo)
    apply(g, plan, Log(tmp_path), tmp_path)
    assert not marker.exists()


def test_include_other_reverts_other_agent_commits_too(tmp_path: Path, repo: Repo) -> None:
    _, plan = plan_for(tmp_path, repo, include_other=True)
    assert repo.shas["other_agent"] in {c.sha for c in plan.reverts}
    assert plan.other_agent == ()


def test_codex_ghost_snapshots_are_restore_points_never_reverted(
    tmp_path: Path, repo: Repo
) -> None:
    from dataclasses import replace

    # a ghost snapshot: an unreferenced commit of the pre-turn state, whose hash the trace holds
    tree = repo.git("rev-parse", f"{repo.shas['h1']}^{{tree}}").strip()
    ghost = repo.git("commit-tree", "-p", repo.shas["h1"], "-m", "codex snapshot", tree).strip()
    trace = write_trace(tmp_path, repo)
    session = assess_trace(trace).sessions[0]
    session = replace(
        session,
        session=replace(session.session, snapshot_commits=(ghost, "f" * 40)),
        commit_refs=(*session.commit_refs, ghost[:7]),
    )
    plan = build_plan(GitRepo(repo.path), [session], label="s")
    assert plan.restore_points == ((ghost, True), ("f" * 40, False))
    assert ghost not in {c.sha for c in (*plan.reverts, *plan.other_agent, *plan.kept)}
    assert ghost not in plan.off_branch
