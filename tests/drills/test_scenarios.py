"""The shipped scenario library: every scenario loads, and builds a repository and a trace that
agree (the agent's commits carry the hashes its trace printed), in the agent's real format."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from agentir.analysis.assess import assess_trace
from agentir.analysis.detectors import observer_factory
from agentir.drills import find_scenario, load_library, scenario_files
from agentir.resources import shipped_dir
from agentir.scenarios.build import FAKE_GITHUB_TOKEN, build_workspace

SHIPPED = shipped_dir("runbooks") / "scenarios"
IDS = [p.stem for p in scenario_files(SHIPPED)]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def test_the_library_has_the_scenarios_the_issue_asks_for() -> None:
    library = load_library()
    assert {
        "infinite-loop",
        "scope-creep",
        "confident-hallucination",
        "cost-spiral",
        "force-push-leak",
        "kill-switch",
    } <= set(library)
    assert library["kill-switch"].kill_switch
    assert library["force-push-leak"].severity == "SEV1"
    for scenario in library.values():
        assert scenario.questions and scenario.briefing and scenario.injects
        assert scenario.path.parent == SHIPPED


@pytest.mark.parametrize("scenario_id", IDS)
def test_each_scenario_builds_a_consistent_workspace(scenario_id: str, tmp_path: Path) -> None:
    scenario = find_scenario(scenario_id)
    ws = build_workspace(scenario, tmp_path / "ws")
    trace = ws.trace_source
    assert trace.is_file() and ws.contains(trace) and ws.contains(ws.repo)
    # The history: the first commit, then each spec commit in order (newest first in git log).
    subjects = git(ws.repo, "log", "--format=%s").splitlines()
    assert subjects[-1] == "Initial commit"
    assert list(reversed(subjects[:-1])) == [c.message for c in scenario.repo.commits]
    text = trace.read_text(encoding="utf-8")
    for commit in scenario.repo.commits:
        sha = ws.commits[commit.id]
        body = git(ws.repo, "show", "-s", "--format=%B", sha)
        if commit.by == "agent":
            # git's own "[main abc1234] subject" output is what the agent's tool result shows
            assert f"{sha[:7]}] {commit.message.splitlines()[0]}" in text
            assert ("Co-Authored-By: Claude" in body or "Co-authored-by: Codex" in body) == (
                commit.trailer
            )
        else:
            assert sha[:7] not in text
    assert ws.agent_commits == tuple(
        ws.commits[c.id] for c in scenario.repo.commits if c.by == "agent"
    )
    assert "{token}" not in text and "{repo}" not in text
    # The reader that the agent's format calls for reads it without skipping anything.
    read = assess_trace(trace)
    assert read.format == ("codex" if scenario.trace.agent == "codex" else "claude-code")
    (session,) = read.sessions
    assert session.session.id == ws.session_id
    assert session.session.cwd == str(ws.repo)
    assert session.counts.skipped_records == 0 or scenario.trace.agent == "codex"


def test_commit_times_follow_the_story(tmp_path: Path) -> None:
    scenario = find_scenario("force-push-leak")
    ws = build_workspace(scenario, tmp_path / "ws")
    stamps = {
        line.split(" ", 1)[1]: int(line.split(" ", 1)[0])
        for line in git(ws.repo, "log", "--format=%ct %s").splitlines()
    }
    start, end = ws.started_at.timestamp(), ws.ended_at.timestamp()
    assert stamps["Document the login endpoint"] < start  # a human, before the session
    assert start < stamps["Fix login test"] <= end  # the agent, during it
    assert stamps["Fix login test"] < stamps["Changelog for the week"]  # a human, right after
    author = git(ws.repo, "log", "-1", "--format=%an <%ae>", ws.commits["agent-fix"]).strip()
    assert author == "Dev Person <dev@example.com>"  # agents commit as the person who ran them


def test_the_sev1_scenario_loops_strays_and_leaks(tmp_path: Path) -> None:
    ws = build_workspace(find_scenario("force-push-leak"), tmp_path / "ws")
    (a,) = assess_trace(ws.trace, observers=observer_factory()).sessions
    detectors = {f.detector for f in a.findings}
    assert {"loop", "hallucination", "permissions"} <= detectors
    outside = [f.path for f in a.files if not f.inside_cwd]
    assert outside == [str(tmp_path / "ws" / "infra" / "prod" / "gateway.yaml")]
    assert Path(outside[0]).read_text() == "service: shop-api\ntimeout: 300\n"
    secrets = [e.target for e in a.effects if e.kind == "secret_exposure"]
    assert any(t.startswith("[REDACTED:github-token:") for t in secrets)
    assert {e.kind for e in a.effects} >= {"git_push", "secret_exposure"}
    raw = ws.trace.read_text()
    assert FAKE_GITHUB_TOKEN in raw  # the trace holds the leak; every output must redact it
    assert a.session.permission_mode == "bypassPermissions"


def test_a_loop_edit_really_changes_the_file_on_disk(tmp_path: Path) -> None:
    ws = build_workspace(find_scenario("infinite-loop"), tmp_path / "ws")
    # five rounds of "fix A, then undo it": the file ends where it began, and is uncommitted
    assert (
        (ws.repo / "src" / "export.py")
        .read_text()
        .startswith("def first_cells(rows):\n    return [row[0] for row in rows]\n")
    )
    assert git(ws.repo, "status", "--porcelain") == ""
    lines = [json.loads(x) for x in ws.trace.read_text().splitlines()]
    patches = [x for x in lines if x["payload"].get("name") == "apply_patch"]
    assert len(patches) == 10
    assert (
        "*** Update File: " + str(ws.repo / "src" / "export.py") in patches[0]["payload"]["input"]
    )


def test_a_delayed_trace_arrives_only_when_told(tmp_path: Path) -> None:
    ws = build_workspace(find_scenario("cost-spiral"), tmp_path / "ws")
    assert not ws.trace.exists() and ws.trace_source.is_file()
    assert ws.make_trace_available()
    assert ws.trace.is_file() and not ws.trace_source.exists()
    assert not ws.make_trace_available()  # only once
    (a,) = assess_trace(ws.trace, observers=observer_factory()).sessions
    assert a.usage.cost_usd and a.usage.cost_usd > 10  # over the default budget
    assert "cost" in {f.detector for f in a.findings}


def test_building_twice_in_one_folder_is_refused(tmp_path: Path) -> None:
    from agentir.errors import ActionError

    scenario = find_scenario("infinite-loop")
    build_workspace(scenario, tmp_path / "ws")
    with pytest.raises(ActionError, match="already exists"):
        build_workspace(scenario, tmp_path / "ws")


def test_workspace_refuses_paths_outside_it(tmp_path: Path) -> None:
    from agentir.errors import ActionError

    ws = build_workspace(find_scenario("infinite-loop"), tmp_path / "ws")
    assert ws.ensure_inside(ws.repo / "src") == ws.repo / "src"
    for outside in (tmp_path, tmp_path / "ws" / ".." / "other", Path.home()):
        with pytest.raises(ActionError, match="outside the drill's scratch folder"):
            ws.ensure_inside(outside)
    link = ws.root / "link"
    link.symlink_to(tmp_path)
    assert not ws.contains(link)  # a link out of the workspace is outside too
