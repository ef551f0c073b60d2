"""Whole-document JSON helpers: salvaging a cut-off document, loading with a cap, sniffing."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentir.errors import TraceError
from agentir.traces import probe
from agentir.traces.base import ReadStats
from agentir.traces.whole_json import load_document, salvage_truncated, sniff_document, trace_stem


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # cut inside the third element: the two complete ones are kept
        (b'[{"a": 1}, {"b": [1, 2]}, {"c": "x', [{"a": 1}, {"b": [1, 2]}]),
        # cut inside a nested list of an object: close the object around what is complete
        (b'{"steps": [{"n": 1}, {"n": 2}, {"n"', {"steps": [{"n": 1}, {"n": 2}]}),
        # brackets inside strings do not count, escaped quotes do not end a string
        (b'[{"t": "a ] } \\" ["}, {"t": "b', [{"t": 'a ] } " ['}]),
        # an unterminated string at the end is ignored
        (b'{"x": [{"k": 1}], "y": "never clo', {"x": [{"k": 1}]}),
    ],
)
def test_salvage_keeps_complete_elements(raw: bytes, expected: object) -> None:
    salvaged = salvage_truncated(raw)
    assert salvaged is not None and salvaged[0] == expected


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": 1} trailing garbage',  # nothing left open: broken, not cut off
        b'{"a": [1, 2}',  # mismatched bracket
        b'{"only": "one key, cut',  # no complete element to keep
        b"",
    ],
)
def test_salvage_refuses_what_is_not_a_cut_off_document(raw: bytes) -> None:
    assert salvage_truncated(raw) is None


def test_load_document_notes_the_salvage(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_bytes(b'[{"id": 1}, {"id": 2}, {"id": 3, "tr')
    stats = ReadStats()
    assert load_document(path, stats, "test trace") == [{"id": 1}, {"id": 2}]
    assert stats.truncated_tail and stats.total_skipped == 1
    assert list(stats.reasons) == ["truncated JSON document (kept 21 of 36 bytes)"]


def test_load_document_errors_are_trace_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"a": 1}}')
    with pytest.raises(TraceError, match="not valid JSON"):
        load_document(broken, ReadStats(), "test trace")
    with pytest.raises(TraceError, match="cannot read"):
        load_document(tmp_path, ReadStats(), "test trace")  # a directory


def test_sniff_document_parses_small_files_and_salvages(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('[\n  {"action": "run"},\n  {"observation": "ru')
    assert sniff_document(probe(path)) == [{"action": "run"}]


def test_trace_stem() -> None:
    suffixes = (".traj.json", ".traj", ".json")
    assert trace_stem(Path("a/x.traj.json"), suffixes) == "x"
    assert trace_stem(Path("x.traj"), suffixes) == "x"
    assert trace_stem(Path(".traj"), suffixes) == ".traj"  # never empty: falls back to the stem
