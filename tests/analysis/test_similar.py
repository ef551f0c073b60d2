"""agentir similar: planted look-alikes among many sessions and in a real repository's history
are found with their evidence; ordinary sessions and a history without one yield nothing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from agentir.analysis.similar import find_similar, record
from agentir.analysis.similar_changes import ChangeCollector, FileFunctions, snippet_functions
from agentir.analysis.similar_code import CodeProfile, compare, diff_profile, overlapping
from agentir.analysis.similar_match import finding_sig, subject_similarity
from agentir.gitrepo import GitRepo, commits_by_agent_since, patches, read_blobs
from agentir.incidents.store import IncidentStore
from agentir.model import Finding, ToolCall
from agentir.traces import open_trace
from tests.similar_support import (
    FUNC_SID,
    INCIDENT_SID,
    LOOP_SID,
    SESSIONS,
    STEPS,
    calc_repo,
    claude_session,
    make_world,
)


def _tool_seqs(trace: Path, needle: str) -> set[int]:
    """Seqs of the tool calls whose command or file path contains `needle` (read directly)."""
    return {
        ev.seq
        for ev in open_trace(trace).events()
        if isinstance(ev, ToolCall)
        and needle in (str(ev.args.get("command", "")) + str(ev.args.get("file_path", "")))
    }


def test_planted_lookalikes_among_50_sessions_and_in_the_history(tmp_path: Path) -> None:
    w = make_world(tmp_path, lookalike_commit=True, lookalike_sessions=True)
    result = find_similar(w.store, w.incident, [w.traces], jobs=2)

    assert result.sessions.files == SESSIONS
    assert result.sessions.sessions == SESSIONS - 1 and result.sessions.own == 1
    assert not result.sessions.errors
    sessions = {m.session_id: m for m in result.matches if m.kind == "session"}
    assert set(sessions) == {LOOP_SID, FUNC_SID}, [m.to_dict() for m in result.matches]

    loop = sessions[LOOP_SID]
    kinds = [r.kind for r in loop.reasons]
    assert kinds[0] == "detector" and "files" in kinds
    assert "loop fired on the same subject" in loop.reasons[0].detail
    assert "pytest tests/test_calc.py::test_scale" in loop.reasons[0].detail
    pytest_calls = _tool_seqs(w.traces / "loop.jsonl", "pytest tests/test_calc.py")
    assert len(pytest_calls) == 4 and set(loop.reasons[0].seqs) == pytest_calls
    assert loop.trace_path == str(w.traces / "loop.jsonl")

    func = sessions[FUNC_SID]
    assert func.reasons[0].kind == "function"
    assert func.reasons[0].detail == "changed the same function clamp in src/calc.py"
    assert set(func.reasons[0].seqs) == _tool_seqs(w.traces / "func.jsonl", "src/calc.py")
    assert func.functions == ("src/calc.py:clamp",)

    commits = [m for m in result.matches if m.kind == "commit"]
    assert [m.sha for m in commits] == [w.repo.shas["lookalike"]]
    details = [r.detail for r in commits[0].reasons]
    assert "changes the same function clamp in src/calc.py" in details
    assert any(r.kind == "hunks" for r in commits[0].reasons)
    assert any(r.kind == "agent" and "Claude" in r.detail for r in commits[0].reasons)
    assert result.commits.own == [w.repo.shas["incident"]]
    # other_module, label and the look-alike: the 200-day-old one is out of range, the human's
    # commit to clamp is no agent's, and the incident's own commit is left out
    assert result.commits.agent == 3 and result.commits.read == 5
    assert result.pattern.session_code.functions == {"src/calc.py": {"clamp"}}
    # ranked: scores never increase down the list
    scores = [m.score for m in result.matches]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)


def test_nothing_in_a_history_without_a_lookalike_nor_among_ordinary_sessions(
    tmp_path: Path,
) -> None:
    w = make_world(tmp_path, lookalike_commit=False, lookalike_sessions=False)
    result = find_similar(w.store, w.incident, [w.traces], jobs=1)
    assert result.sessions.sessions == SESSIONS - 1
    assert result.matches == []
    # the search did read the agent's other commits; none touches clamp
    assert result.commits.agent == 2 and result.commits.matches == []
    # the ordinary loops fired the same detectors, on other commands
    assert result.pattern.findings and result.commits.own == [w.repo.shas["incident"]]


def test_since_reaches_older_commits_and_the_timeline_records_the_search(tmp_path: Path) -> None:
    w = make_world(tmp_path, lookalike_commit=False, lookalike_sessions=False)
    result = find_similar(
        w.store, w.incident, [w.traces], since=w.when - timedelta(days=365), jobs=1
    )
    assert [m.sha for m in result.matches] == [w.repo.shas["ancient"]]
    record(w.store, result)
    entry = w.store.timeline(w.incident)[-1]
    assert entry.action == "similar.searched"
    assert entry.details["trace_files"] == SESSIONS and entry.details["sessions"] == SESSIONS - 1
    assert entry.details["matching_commits"] == 1 and entry.details["matching_sessions"] == 0
    assert entry.details["top"][0].startswith(f"commit {w.repo.shas['ancient'][:10]}")


def test_no_repository_is_a_note_and_sessions_are_still_searched(tmp_path: Path) -> None:
    traces = tmp_path / "traces"
    traces.mkdir()
    cwd = tmp_path / "not-a-repo"
    cwd.mkdir()
    when = datetime(2026, 3, 1, tzinfo=timezone.utc)
    trace = claude_session(traces / "i.jsonl", INCIDENT_SID, cwd, STEPS["incident"], when)
    claude_session(traces / "l.jsonl", LOOP_SID, cwd, STEPS["loop_lookalike"], when)
    store = IncidentStore()
    inc = store.open("t", "SEV2", sessions=[INCIDENT_SID], traces=[trace])
    result = find_similar(store, inc.id, [traces], jobs=1)
    assert [m.session_id for m in result.matches] == [LOOP_SID]
    assert result.commits.repo is None and any("no repository" in n for n in result.notes)


# ---------------------------------------------------------------------------- the pieces


def test_subject_similarity_tells_the_same_command_from_another_file() -> None:
    a = "pytest tests/test_calc.py -q"
    assert subject_similarity(a, "pytest  tests/test_calc.py   -q") == 1.0
    assert subject_similarity(a, "pytest tests/test_calc.py::test_clamp -x") == 1.0
    assert subject_similarity(a, "pytest tests/test_mod_3.py -q") == pytest.approx(0.4)
    assert subject_similarity(a, "npm run build") == 0.0


def test_finding_signature_keeps_subjects_and_drops_numbers() -> None:
    f = Finding("loop", "warning", "`make test` failed the same way 4 times (seqs 1, 2, 3)",
                (1, 2, 3), {"pattern": "same_error"})  # fmt: skip
    sig = finding_sig(f)
    assert sig is not None
    assert sig.subjects == ("make test",) and sig.variant == "same_error"
    assert sig.shape == "`…` failed the same way # times"
    assert finding_sig(Finding("cost", "info", "note")) is None


DIFF = "\n".join(
    [
        "diff --git a/src/calc.py b/src/calc.py",
        "index 1111111..2222222 100644",
        "--- a/src/calc.py",
        "+++ b/src/calc.py",
        "@@ -2,7 +2,7 @@",
        " ",
        " ",
        " def clamp(n):",
        "-    if n >= 10:",
        "+    if n > 10:",
        "         return 10",
        "     return n",
        " ",
        "diff --git a/src/other.py b/src/other.py",
        "index 1111111..2222222 100644",
        "--- a/src/other.py",
        "+++ b/src/other.py",
        "@@ -20,3 +20,2 @@ def parse_row(row):",
        "     x = row[0]",
        "-    check(x)",
        "     return x",
        "",
    ]
)


def test_diff_profile_functions_ranges_and_removal_only_hunks() -> None:
    p = diff_profile(DIFF)
    assert p.files == {"src/calc.py", "src/other.py"}
    assert p.functions == {"src/calc.py": {"clamp"}, "src/other.py": {"parse_row"}}
    assert overlapping(p.ranges["src/calc.py"], [(9, 12)])  # within the 3-line slack
    assert not overlapping(p.ranges["src/calc.py"], [(30, 40)])
    theirs = CodeProfile(functions={"lib/x.py": {"parse_row", "main"}})
    got = compare(p, theirs)
    assert got.same_names == (("lib/x.py", "parse_row", "src/other.py"),)  # main is generic
    assert got.same_functions == ()


def test_functions_from_snippets_and_from_the_file_on_disk(tmp_path: Path) -> None:
    assert snippet_functions("def clamp(n, limit=10):\n    return n", "python") == (
        {"clamp"},
        False,
    )
    assert snippet_functions("    if n > 10:\n        return 10", "python") == (set(), True)
    source = tmp_path / "calc.py"
    source.write_text(
        "class C:\n    def clamp(self, n):\n        if n > 10:\n            return 10\n\n"
        "def cap(n):\n    return 10\n"
    )
    files = FileFunctions()
    assert files.around(str(source), "        if n > 10:\n", "python") == "C.clamp"
    assert files.around(str(source), "def cap(n):\n    return 10", "python") == "cap"
    assert files.around(str(source), "return 10", "python") is None  # in two places
    assert ChangeCollector().changed == {}


def test_patches_blobs_and_agent_commits_from_git(tmp_path: Path) -> None:
    when = datetime(2026, 3, 1, tzinfo=timezone.utc)
    r = calc_repo(tmp_path / "repo", when, lookalike=True)
    repo = GitRepo(r.path)
    got = patches(repo, [r.shas["lookalike"], r.shas["label"]])
    assert set(got) == {r.shas["lookalike"], r.shas["label"]}
    text, cut = got[r.shas["lookalike"]]
    assert "+        return 10  # upper bound" in text and not cut
    blobs = read_blobs(repo, [f"{r.shas['base']}:src/calc.py", f"{r.shas['base']}:nope.py"])
    assert list(blobs) == [f"{r.shas['base']}:src/calc.py"] and "def clamp" in next(
        iter(blobs.values())
    )
    read, found = commits_by_agent_since(
        repo, lambda c: "Claude" in c.message, when - timedelta(days=90)
    )
    assert read == 5  # human, other_module, label, lookalike, incident
    assert [c.commit.sha for c in found] == [
        r.shas["incident"],
        r.shas["lookalike"],
        r.shas["label"],
        r.shas["other_module"],
    ]


def test_the_incident_edit_without_its_def_line_is_placed_by_the_file(tmp_path: Path) -> None:
    from agentir.analysis.similar_sessions import assess_with_changes
    from agentir.policy import Policy

    when = datetime(2026, 3, 1, tzinfo=timezone.utc)
    r = calc_repo(tmp_path / "repo", when, lookalike=False)
    trace = claude_session(tmp_path / "i.jsonl", INCIDENT_SID, r.path, STEPS["incident"], when)
    [(assessment, collector)] = assess_with_changes(trace, Policy())
    assert assessment.session.id == INCIDENT_SID
    [changed] = collector.changed.values()
    assert (changed.path, changed.name, changed.how) == ("src/calc.py", "clamp", "file")
    assert changed.seq in _tool_seqs(trace, "src/calc.py")
