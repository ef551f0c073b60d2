"""The scan core: durations for --since, collecting files (per-event directories are one
trace), summaries and ranking, and errors that never end a scan."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from agentir.analysis.scan import collect, parse_since, rank_key, scan, scan_file
from tests.conftest import DATA

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2d", NOW - timedelta(days=2)),
        ("12h", NOW - timedelta(hours=12)),
        ("30m", NOW - timedelta(minutes=30)),
        ("1w", NOW - timedelta(weeks=1)),
        ("2026-03-01", datetime(2026, 3, 1, tzinfo=timezone.utc)),
        ("2026-03-01T08:00:00+02:00", datetime(2026, 3, 1, 6, tzinfo=timezone.utc)),
    ],
)
def test_parse_since(text: str, expected: datetime) -> None:
    assert parse_since(text, NOW) == expected


def test_parse_since_rejects_prose() -> None:
    with pytest.raises(ValueError):
        parse_since("last tuesday", NOW)


def test_a_per_event_directory_is_one_trace() -> None:
    files, errors = collect([DATA / "openhands" / "sessions"])
    assert files == [DATA / "openhands" / "sessions" / "sess-42"] and not errors


def test_scan_file_never_raises(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    sessions, error, not_trace = scan_file(empty)
    assert sessions == [] and error is not None and "empty file" in error.error and not not_trace
    other = tmp_path / "notes.json"
    other.write_text('{"a": 1}')
    assert scan_file(other) == ([], None, True)  # a JSON file of another kind: not a trace


def test_summaries_are_ranked(tmp_path: Path) -> None:
    result = scan([DATA / "cli", DATA / "codex"], jobs=1)
    assert result.sessions and not [e for e in result.errors if e.code == "internal"]
    keys = [rank_key(s) for s in result.sessions]
    assert keys == sorted(keys)
    small = next(s for s in result.sessions if s.trace_path.endswith("small_claude.jsonl"))
    # the fixture claims "All tests pass" after a failed pytest run and an edit never re-tested
    assert small.severity == "SEV2" and small.top_finding is not None
    assert small.top_finding["detector"] == "hallucination"
