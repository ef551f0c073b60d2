"""Commit attribution: each agent's markers, git-ai notes, and the rules that combine evidence."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest

from agentir.analysis.commits import (
    KEPT,
    OTHER_AGENT,
    REVERT,
    SessionEvidence,
    classify,
    commit_markers,
    in_window,
    note_markers,
)
from agentir.gitrepo import CommitInfo

T0 = datetime(2026, 3, 10, 10, 0, tzinfo=timezone.utc)
SID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"


def commit(
    sha: str = "a" * 40,
    message: str = "Change things",
    when: datetime = T0 + timedelta(minutes=5),
    files: tuple[str, ...] = ("app.py",),
    author: tuple[str, str] = ("Dev Person", "dev@example.com"),
    committer: tuple[str, str] | None = None,
    parents: tuple[str, ...] = ("p" * 40,),
    note: str = "",
) -> CommitInfo:
    c_name, c_email = committer or author
    return CommitInfo(
        sha, parents, author[0], author[1], c_name, c_email, when, when, message, files, note
    )


def session(**kw: object) -> SessionEvidence:
    base: dict[str, object] = dict(
        id=SID,
        agent="claude-code",
        started_at=T0,
        ended_at=T0 + timedelta(minutes=10),
        files=frozenset({"app.py", "lib/util.py"}),
    )
    base.update(kw)
    return SessionEvidence(**base)  # type: ignore[arg-type]


def agents(c: CommitInfo) -> set[str]:
    return {m.agent for m in commit_markers(c)}


@pytest.mark.parametrize(
    ("message", "author", "committer", "expected"),
    [
        ("Fix\n\nCo-Authored-By: Claude <noreply@anthropic.com>", None, None, "claude-code"),
        (
            "Fix\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>",
            None,
            None,
            "claude-code",
        ),
        (
            "Fix\n\nco-authored-by: Claude Sonnet 4.6 (1M context) <noreply@anthropic.com>",
            None,
            None,
            "claude-code",
        ),
        (
            "Fix\n\n🤖 Generated with [Claude Code](https://claude.ai/code)",
            None,
            None,
            "claude-code",
        ),
        ("Fix", ("Your Name (aider)", "you@example.com"), None, "aider"),
        ("Fix", ("You", "you@example.com"), ("You (aider)", "you@example.com"), "aider"),
        ("aider: fix the calculator", None, None, "aider"),
        ("Fix\n\nCo-authored-by: aider (gpt-4o) <aider@aider.chat>", None, None, "aider"),
        ("Fix\n\nCo-authored-by: aider (sonnet) <noreply@aider.dev>", None, None, "aider"),
        ("Fix", ("openhands", "openhands@all-hands.dev"), None, "openhands"),
        (
            "Fix\n\nCo-authored-by: openhands <openhands@all-hands.dev>",
            None,
            None,
            "openhands",
        ),
        ("Fix\n\nCo-authored-by: Codex <codex@openai.com>", None, None, "codex"),
        ("Fix", ("Codex", "codex@example.com"), None, "codex"),
        (
            "Fix\n\nCo-authored-by: Copilot <223556219+Copilot@users.noreply.github.com>",
            None,
            None,
            "copilot",
        ),
        ("Fix\n\nCo-Authored-By: opencode <noreply@opencode.ai>", None, None, "opencode"),
        ("Fix\n\nCo-Authored-By: Gemini <gemini@google.com>", None, None, "gemini-cli"),
    ],
)
def test_each_agents_marker_is_recognised(
    message: str,
    author: tuple[str, str] | None,
    committer: tuple[str, str] | None,
    expected: str,
) -> None:
    c = commit(message=message, author=author or ("Dev", "dev@example.com"), committer=committer)
    assert expected in agents(c)


def test_plain_commits_and_mentions_are_not_markers() -> None:
    assert commit_markers(commit(message="Ask Claude about the aider docs")) == []
    assert commit_markers(commit(message="Fix\n\nCo-authored-by: Ann <ann@example.com>")) == []
    assert (
        commit_markers(commit(message="Explain why aider: is a prefix", author=("A", "a@x"))) == []
    )


def test_claude_session_trailer_names_the_session() -> None:
    c = commit(message=f"Fix\n\nClaude-Session: https://claude.ai/code/session_{SID}")
    (marker,) = [m for m in commit_markers(c) if m.session]
    assert marker.agent == "claude-code"
    assert marker.session == SID


def test_git_ai_note_names_tool_and_session() -> None:
    key = hashlib.sha256(f"claude:{SID}".encode()).hexdigest()[:16]
    note = f'app.py\n  {key} 1-4\n---\n{{"prompts": {{"{key}": {{"agent_id": {{"tool": "claude"}}}}}}}}'
    found = note_markers(note, [SID])
    assert any(m.session == SID for m in found)
    assert any(m.agent == "claude-code" for m in found)
    assert note_markers("written by cursor", []) == note_markers("written by cursor")
    assert {m.agent for m in note_markers("written by cursor")} == {"cursor"}
    assert note_markers("", [SID]) == []


def test_window_includes_slack_and_uses_author_or_committer_time() -> None:
    s = session()
    slack = timedelta(minutes=2)
    assert in_window(commit(when=T0 - timedelta(minutes=1)), s, slack) is True
    assert in_window(commit(when=T0 + timedelta(minutes=13)), s, slack) is False
    rebased = CommitInfo(
        "b" * 40, (), "A", "a@x", "C", "c@x", T0 + timedelta(minutes=3),
        T0 + timedelta(days=2), "m", (),
    )  # fmt: skip
    assert in_window(rebased, s, slack) is True  # authored in the window, rebased later
    assert in_window(commit(), session(started_at=None), slack) is None


def only(candidates: list, sha: str) -> object:
    (found,) = [c for c in candidates if c.sha == sha]
    return found


def test_printed_hash_alone_is_enough() -> None:
    c = commit(sha="1" * 40, when=T0 + timedelta(days=3), files=("other.txt",))
    (cand,) = classify([c], [session(printed=frozenset({c.sha}))])
    assert cand.action == REVERT
    assert [r.kind for r in cand.reasons] == ["printed_hash"]


def test_marker_in_window_is_reverted_even_without_shared_files() -> None:
    c = commit(message="Fix\n\nCo-Authored-By: Claude <noreply@anthropic.com>", files=("x.txt",))
    (cand,) = classify([c], [session()])
    assert cand.action == REVERT
    assert {r.kind for r in cand.reasons} == {"marker", "window"}


def test_marked_commit_outside_window_and_files_is_other_agent() -> None:
    c = commit(
        message="Fix\n\nCo-Authored-By: Claude <noreply@anthropic.com>",
        when=T0 - timedelta(days=9),
        files=("notes.md",),
    )
    (cand,) = classify([c], [session()])
    assert cand.action == OTHER_AGENT
    assert "outside" in {r.kind for r in cand.reasons}


def test_marked_commit_outside_known_window_is_other_even_on_session_files() -> None:
    # months of an agent's commits on the same file must not all be reverted
    c = commit(
        message="Fix\n\nCo-Authored-By: Claude <noreply@anthropic.com>",
        when=T0 - timedelta(days=30),
    )
    assert classify([c], [session()])[0].action == OTHER_AGENT


def test_without_timestamps_marker_plus_files_is_reverted() -> None:
    c = commit(message="aider: fix", when=T0 - timedelta(days=30))
    s = session(agent="aider", started_at=None, ended_at=None)
    assert classify([c], [s])[0].action == REVERT
    unrelated = commit(sha="2" * 40, message="aider: docs", files=("docs.md",))
    assert classify([unrelated], [s])[0].action == OTHER_AGENT


def test_window_and_paths_without_marker_is_reverted() -> None:
    (cand,) = classify([commit()], [session()])
    assert cand.action == REVERT
    assert {r.kind for r in cand.reasons} == {"window", "paths"}
    assert cand.overlap == ("app.py",)


def test_human_commit_in_window_on_other_files_is_kept_not_reverted() -> None:
    (cand,) = classify([commit(files=("docs.txt",))], [session()])
    assert cand.action == KEPT


def test_commit_outside_window_on_session_files_without_marker_is_ignored() -> None:
    assert classify([commit(when=T0 + timedelta(hours=3))], [session()]) == []


def test_another_agents_marker_is_not_this_sessions_work() -> None:
    c = commit(author=("Dev (aider)", "dev@example.com"))
    (cand,) = classify([c], [session()])
    assert cand.action == OTHER_AGENT
    assert "other_agent_marker" in {r.kind for r in cand.reasons}


def test_trailer_naming_another_session_is_other_agent() -> None:
    c = commit(message="Fix\n\nClaude-Session: https://claude.ai/code/session_01OtherSession99")
    assert classify([c], [session()])[0].action == OTHER_AGENT
    mine = commit(sha="3" * 40, message=f"Fix\n\nClaude-Session: session_{SID}",
                  when=T0 + timedelta(days=4), files=())  # fmt: skip
    assert classify([mine], [session()])[0].action == REVERT


def test_note_naming_the_session_reverts() -> None:
    c = commit(note=f"session {SID}", when=T0 + timedelta(days=5), files=("z",))
    (cand,) = classify([c], [session()])
    assert cand.action == REVERT
    assert "session_link" in {r.kind for r in cand.reasons}


def test_merge_found_only_by_window_and_paths_is_kept() -> None:
    merge = commit(parents=("p" * 40, "q" * 40))
    assert classify([merge], [session()])[0].action == KEPT
    printed = classify([merge], [session(printed=frozenset({merge.sha}))])[0]
    assert printed.action == REVERT
    assert "merge" in {r.kind for r in printed.reasons}


def test_generic_trace_formats_accept_any_agent_marker() -> None:
    c = commit(author=("Dev (aider)", "dev@example.com"), files=("x",))
    assert classify([c], [session(agent="otel")])[0].action == REVERT


def test_several_sessions_union_and_order_is_kept() -> None:
    a = commit(sha="4" * 40, files=("app.py",))
    b = commit(sha="5" * 40, files=("web.py",), when=T0 + timedelta(hours=5, minutes=5))
    s2 = session(id="second", started_at=T0 + timedelta(hours=5),
                 ended_at=T0 + timedelta(hours=6), files=frozenset({"web.py"}))  # fmt: skip
    found = classify([b, a], [session(), s2])
    assert [c.sha for c in found] == [b.sha, a.sha]
    assert only(found, b.sha).sessions == ("second",)  # type: ignore[attr-defined]
    assert only(found, a.sha).sessions == (SID,)  # type: ignore[attr-defined]
