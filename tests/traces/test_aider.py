"""Aider chat history reader, on a hand-written history (no public sample exists).

`tests/data/aider/.aider.chat.history.md` follows the format notes (trace-formats.md §6)
and aider's writer (`io.py`: `#### ` user lines, `> ` notices ending in two spaces, a
multi-line notice with `> ` on its first line only): three sessions in one file, diff
and whole edit formats, prompt caching, `/run`, `!`, a suggested command that ran, two
commits and an `/undo`, a new file, edit-format failures, the reflection limit, a
dry-run edit, `Unable to commit` and API errors. Expected values are counted from it.
"""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest

from agentir.model import (
    ErrorEvent,
    Event,
    FileChange,
    FileOp,
    Message,
    ModelCall,
    SessionInfo,
    ToolCall,
    ToolResult,
)
from agentir.traces import probe
from agentir.traces.aider import AiderReader
from agentir.traces.aider_notices import classify, tokens
from agentir.traces.base import ReadStats
from tests.conftest import DATA

HISTORY = DATA / "aider" / ".aider.chat.history.md"
S1, S2, S3 = "aider-20260210091502", "aider-20260211140245", "aider-20260212080000"
SONNET = "anthropic/claude-sonnet-4-5-20250929"


def read(path: Path) -> tuple[list[Event], ReadStats]:
    assert AiderReader.sniff(probe(path))
    stats = ReadStats()
    return list(AiderReader().read(path, stats)), stats


def of(events: list[Event], cls: type[Event], session: str | None = None) -> list:
    return [
        e for e in events if isinstance(e, cls) and (session is None or e.session_id == session)
    ]


@pytest.fixture(scope="module")
def history() -> tuple[list[Event], ReadStats]:
    return read(HISTORY)


def test_sessions_are_split_on_their_start_lines(history: tuple[list[Event], ReadStats]) -> None:
    events, stats = history
    assert stats.total_skipped == 0
    assert [e.session_id for e in of(events, SessionInfo)] == [S1, S2, S3]
    assert {e.agent for e in events} == {"aider"}
    for sid in (S1, S2, S3):
        session = [e for e in events if e.session_id == sid]
        assert [e.seq for e in session] == list(range(len(session)))
        assert isinstance(session[0], SessionInfo)
        # only the session start has a time; the rest is ordered by seq
        assert all(e.ts is None for e in session[1:])
    info = of(events, SessionInfo, S1)[0]
    assert info.ts == datetime(2026, 2, 10, 9, 15, 2, tzinfo=timezone.utc)
    assert info.model == SONNET and info.agent_version == "0.86.2"
    assert info.extra["edit_format"] == "diff" and info.extra["git_repo"] == ".git with 48 files"
    assert info.extra["command_line"].endswith("aider --model sonnet --cache-prompts")
    assert of(events, SessionInfo, S2)[0].model == "gpt-4o"
    assert of(events, SessionInfo, S2)[0].extra["edit_format"] == "whole"


def test_session_one_diff_format_with_cache(history: tuple[list[Event], ReadStats]) -> None:
    events, _ = history
    users = [m.text for m in of(events, Message, S1) if m.role == "user"]
    assert users == [
        "the invoice total ignores discounts, fix it\nand add a test",
        "the test fails, the discount is applied twice",
    ]
    calls = of(events, ToolCall, S1)
    assert Counter(c.name for c in calls) == {"edit": 2, "git_commit": 1, "shell": 1}
    edits = [c for c in calls if c.name == "edit"]
    assert [c.changes for c in edits] == [
        (FileChange(path="tests/test_invoice.py", op=FileOp.CREATE),),  # "Create new file? y"
        (FileChange(path="billing/invoice.py", op=FileOp.EDIT),),
    ]
    commit = next(c for c in calls if c.name == "git_commit")
    assert dict(commit.args) == {
        "sha": "3f2a9c1",
        "message": "fix: apply discounts before computing invoice total",
    }
    results = {r.call_id: r for r in of(events, ToolResult, S1)}
    assert (
        results[commit.call_id].output
        == "[aider 3f2a9c1] fix: apply discounts before computing invoice total"
    )
    assert all(results[c.call_id].ok for c in edits)
    shell = next(c for c in calls if c.name == "shell")
    assert shell.command == "pytest -q tests/test_invoice.py"
    assert results[shell.call_id].ok is None and results[shell.call_id].exit_code is None
    models = of(events, ModelCall, S1)
    assert [
        (m.input_tokens, m.output_tokens, m.cache_read_tokens, m.cache_write_tokens) for m in models
    ] == [
        (12000 - 2000 - 8100, 1100, 2000, 8100),
        (14000 - 12000, 220, 12000, 0),
        (15000 - 13000, 180, 13000, 0),
    ]
    assert [m.reported_cost_usd for m in models] == [0.05, 0.01, 0.01]
    assert all(m.model == SONNET for m in models)
    errors = [e.category for e in of(events, ErrorEvent, S1)]
    assert errors == ["edit_format", "edit_format", "reflection_limit"]
    # a `#### ` line inside the reply's fenced block is the reply, not user input
    replies = [m.text for m in of(events, Message, S1) if m.role == "assistant"]
    assert any("#### not a user line" in r for r in replies)


def test_session_two_whole_format_shell_and_undo(history: tuple[list[Event], ReadStats]) -> None:
    events, _ = history
    calls = of(events, ToolCall, S2)
    assert [c.name for c in calls] == ["edit", "git_commit", "shell", "git_undo", "edit"]
    assert calls[2].command == "make deploy-staging"  # confirmed and run: `> Running …`
    assert dict(calls[3].args)["sha"] == "b7c41e0"
    results = {r.call_id: r for r in of(events, ToolResult, S2)}
    assert results[calls[2].call_id].output == "Added 7 lines of output to the chat."
    dry_run = results[calls[4].call_id]
    assert dry_run.ok is False and dry_run.changes == ()  # not applied
    users = of(events, Message, S2)
    assert [(m.text, m.injected) for m in users if m.role == "user"] == [
        ("add a Makefile target that deploys to staging", None),
        ("/undo", "command"),
        ("/ask is it safe to deploy from a laptop?", None),
        ("write the release notes to docs/RELEASE.md", None),
    ]
    assert [m.input_tokens for m in of(events, ModelCall, S2)] == [3200, 3500, 3600]
    assert [e.category for e in of(events, ErrorEvent, S2)] == ["rate_limit"]


def test_session_three_bang_command_and_commit_failure(
    history: tuple[list[Event], ReadStats],
) -> None:
    events, _ = history
    calls = of(events, ToolCall, S3)
    assert [(c.name, c.command) for c in calls] == [
        ("shell", "git status --short"),
        ("edit", None),
    ]
    (model,) = of(events, ModelCall, S3)
    # "9.6k sent, 8.1k cache write, 2.0k cache hit": sent cannot hold both, so only the write
    assert (model.input_tokens, model.cache_write_tokens, model.cache_read_tokens) == (
        1500,
        8100,
        2000,
    )
    assert model.output_tokens == 1100 and model.reported_cost_usd == 0.16
    assert [e.category for e in of(events, ErrorEvent, S3)] == ["git_error", "api_error"]


def test_lines_without_trailing_spaces(tmp_path: Path) -> None:
    # an editor that strips trailing whitespace must not change what the file says
    stripped = "\n".join(line.rstrip() for line in HISTORY.read_text().splitlines()) + "\n"
    path = tmp_path / ".aider.chat.history.md"
    path.write_text(stripped)
    events, _ = read(path)
    original, _ = read(HISTORY)
    for cls in (ToolCall, ModelCall, ErrorEvent, SessionInfo):
        assert len(of(events, cls)) == len(of(original, cls))
    assert [c.name for c in of(events, ToolCall)] == [c.name for c in of(original, ToolCall)]


def test_cwd_is_the_repository_holding_the_file(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    path = tmp_path / ".aider.chat.history.md"
    shutil.copy(HISTORY, path)
    events, _ = read(path)
    assert {i.cwd for i in of(events, SessionInfo)} == {str(tmp_path.resolve())}
    assert of(read(HISTORY)[0], SessionInfo)[0].cwd is None  # no .git next to the fixture


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "Tokens: 12k sent, 8.1k cache write, 2.0k cache hit, 1.1k received. Cost: $0.05 message, $0.26 session.",
            (1900, 1100, 2000, 8100, 0.05),
        ),
        (
            "Tokens: 2,433 sent, 96 received. Cost: $0.0086 request, $0.0086 session.",
            (2433, 96, 0, 0, 0.0086),
        ),
        ("Tokens: 1.2M sent, 3.4k received.", (1_200_000, 3400, 0, 0, None)),
        ("Tokens: 900 sent, 42 received.", (900, 42, 0, 0, None)),
    ],
)
def test_token_lines(line: str, expected: tuple) -> None:
    got = tokens(line)
    assert (
        got["input_tokens"],
        got["output_tokens"],
        got["cache_read_tokens"],
        got["cache_write_tokens"],
        got["reported_cost_usd"],
    ) == expected


def test_notice_wordings() -> None:
    assert classify("Applied edit to src/App.js").data == "src/App.js"
    assert classify("Commit 2b1a6cb feat: add login").data == ("2b1a6cb", "feat: add login")
    assert classify("Only 3 reflections allowed, stopping.").data == "reflection_limit"
    assert classify("Main model: openai/gpt-5.4 with whole edit format").data == {
        "model": "openai/gpt-5.4",
        "edit_format": "whole",
    }
    assert (
        classify("Models: gpt-4o with diff edit format, weak model gpt-4o-mini").data["model"]
        == "gpt-4o"
    )
    assert classify("Run shell command? (Y)es/(N)o/(D)on't ask again [Yes]: n").data is False
    assert classify("Unable to create src/x.py: Permission denied").data == "tool_error"
    assert classify("something new in a future aider").kind == ""


# --------------------------------------------------------------------------- bad input


def test_truncated_last_line_and_odd_content(tmp_path: Path) -> None:
    raw = HISTORY.read_bytes()
    cut = raw[: raw.rindex(b"Connection reset")]  # killed mid-notice, no newline
    path = tmp_path / "cut.md"
    path.write_bytes(b"stray text before any session\n" + cut + b"\xff\xfe invalid utf-8")
    events, stats = read(path)
    assert stats.skipped == 1 and stats.reasons["text before the first session header"] == 1
    assert len(of(events, SessionInfo)) == 3
    assert of(events, ErrorEvent)[-1].category == "api_error"  # the cut notice is still read


def test_unclosed_fence_does_not_swallow_the_rest(tmp_path: Path) -> None:
    text = (
        "\n# aider chat started at 2026-03-01 10:00:00\n\n"
        "> Main model: gpt-4o with diff edit format  \n"
        "\n#### fix it  \n\n"
        "Here:\n\n```python\nprint('never closed')\n\n"
        "> Tokens: 1.0k sent, 50 received. Cost: $0.01 message, $0.01 session.  \n"
        "> Applied edit to a.py  \n"
        "\n#### thanks  \n"
    )
    path = tmp_path / "fence.md"
    path.write_text(text)
    events, _ = read(path)
    assert len(of(events, ModelCall)) == 1 and [c.name for c in of(events, ToolCall)] == ["edit"]
    assert [m.text for m in of(events, Message) if m.role == "user"] == ["fix it", "thanks"]


def test_same_start_second_gets_distinct_sessions(tmp_path: Path) -> None:
    block = "\n# aider chat started at 2026-03-01 10:00:00\n\n#### hi  \n"
    path = tmp_path / "twice.md"
    path.write_text(block * 2)
    events, _ = read(path)
    assert [e.session_id for e in of(events, SessionInfo)] == [
        "aider-20260301100000",
        "aider-20260301100000-2",
    ]


def test_sniff_rejects_json_that_mentions_aider(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"text": "\\n# aider chat started at 2026-01-01 00:00:00\\n"}\n')
    assert not AiderReader.sniff(probe(path))


def test_history_is_detected_as_aider() -> None:
    from agentir.traces import detect

    assert detect(HISTORY) is AiderReader


def test_aider_sniff_claims_no_other_file(shared_traces: Path) -> None:
    from tests.traces.test_otel import _foreign_files

    foreign = _foreign_files(shared_traces, ("aider",))
    assert len(foreign) >= 18
    assert [p for p in foreign if AiderReader.sniff(probe(p))] == []
