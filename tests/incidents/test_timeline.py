"""The hash-chained timeline: the chain is re-computable by hand; any tampering is caught by line."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from agentir.incidents.store import IncidentStore

ENTRIES = 6  # incident.opened + 5 notes


@pytest.fixture
def timeline(store: IncidentStore) -> tuple[str, Path]:
    incident = store.open("tamper target", "SEV1", sessions=["s-1"])
    for number in range(ENTRIES - 1):
        store.append(incident.id, "note", {"text": f"note {number}"})
    return incident.id, store.path(incident.id) / "timeline.jsonl"


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_chain_recomputed_independently(store: IncidentStore, timeline: tuple[str, Path]) -> None:
    incident_id, path = timeline
    prev = ""
    raw_lines = path.read_text(encoding="utf-8").splitlines()
    assert len(raw_lines) == ENTRIES
    for seq, raw in enumerate(raw_lines):
        obj = json.loads(raw)
        assert set(obj) == {"seq", "time", "actor", "action", "details", "prev", "hash"}
        body = {k: v for k, v in obj.items() if k != "hash"}
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert obj["hash"] == hashlib.sha256(canonical.encode()).hexdigest()
        assert obj["prev"] == prev and obj["seq"] == seq
        prev = obj["hash"]
    incident = store.get(incident_id)
    assert (incident.timeline_head.count, incident.timeline_head.hash) == (ENTRIES, prev)
    report = store.verify(incident_id)
    assert report.ok and report.entries == ENTRIES and report.head == prev
    assert report.first_bad_line is None


def test_edited_line_is_named(store: IncidentStore, timeline: tuple[str, Path]) -> None:
    incident_id, path = timeline
    lines = lines_of(path)
    lines[2] = lines[2].replace(b"note 1", b"note X")
    path.write_bytes(b"".join(lines))
    report = store.verify(incident_id)
    assert not report.ok
    assert report.first_bad_line == 3
    assert "edited" in report.problems[0].message
    assert [p.line for p in report.problems] == [3]


def test_edited_and_rehashed_line_breaks_the_next_link(
    store: IncidentStore, timeline: tuple[str, Path]
) -> None:
    incident_id, path = timeline
    lines = lines_of(path)
    obj = json.loads(lines[2])
    obj["details"]["text"] = "forged"
    body = {k: v for k, v in obj.items() if k != "hash"}
    obj["hash"] = hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()
    lines[2] = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    path.write_bytes(b"".join(lines))
    report = store.verify(incident_id)
    assert not report.ok and report.first_bad_line == 4
    assert "does not chain" in report.problems[0].message


@pytest.mark.parametrize("removed", [0, 2, 4])
def test_removed_line_is_named(
    store: IncidentStore, timeline: tuple[str, Path], removed: int
) -> None:
    incident_id, path = timeline
    lines = lines_of(path)
    del lines[removed]
    path.write_bytes(b"".join(lines))
    report = store.verify(incident_id)
    assert not report.ok and report.first_bad_line == removed + 1


def test_removed_last_line_is_caught_by_the_recorded_head(
    store: IncidentStore, timeline: tuple[str, Path]
) -> None:
    incident_id, path = timeline
    path.write_bytes(b"".join(lines_of(path)[:-1]))
    report = store.verify(incident_id)
    assert not report.ok
    assert report.first_bad_line == ENTRIES
    assert f"records {ENTRIES}" in report.problems[0].message


def test_emptied_file_is_caught(store: IncidentStore, timeline: tuple[str, Path]) -> None:
    incident_id, path = timeline
    path.write_bytes(b"")
    report = store.verify(incident_id)
    assert not report.ok and report.first_bad_line == 1


def test_reordered_lines_are_named(store: IncidentStore, timeline: tuple[str, Path]) -> None:
    incident_id, path = timeline
    lines = lines_of(path)
    lines[1], lines[2] = lines[2], lines[1]
    path.write_bytes(b"".join(lines))
    report = store.verify(incident_id)
    assert not report.ok and report.first_bad_line == 2
    assert "reordered" in report.problems[0].message


def test_truncated_last_line_is_named(store: IncidentStore, timeline: tuple[str, Path]) -> None:
    incident_id, path = timeline
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 20])
    report = store.verify(incident_id)
    assert not report.ok and report.first_bad_line == ENTRIES
    assert "truncated" in report.problems[0].message


def test_inserted_blank_line_and_reformatted_line(
    store: IncidentStore, timeline: tuple[str, Path]
) -> None:
    incident_id, path = timeline
    lines = lines_of(path)
    path.write_bytes(b"".join([*lines[:3], b"\n", *lines[3:]]))
    assert store.verify(incident_id).first_bad_line == 4
    obj = json.loads(lines[1])
    lines[1] = json.dumps(obj, sort_keys=True, indent=None).encode() + b"\n"  # spaces added
    path.write_bytes(b"".join(lines))
    report = store.verify(incident_id)
    assert report.first_bad_line == 2 and "canonical" in report.problems[0].message


def test_appending_after_tampering_keeps_the_break_visible(
    store: IncidentStore, timeline: tuple[str, Path]
) -> None:
    incident_id, path = timeline
    path.write_bytes(b"".join(lines_of(path)[:-1]))  # drop the last entry
    store.append(incident_id, "note", {"text": "work goes on"})
    entries = store.timeline(incident_id)
    assert [e.action for e in entries[-2:]] == ["timeline.discontinuity", "note"]
    report = store.verify(incident_id)
    assert not report.ok
    assert any("found broken" in p.message for p in report.problems)
    # The new entries themselves are chained correctly.
    assert all(p.line == ENTRIES for p in report.problems)


def test_appending_after_a_torn_line(store: IncidentStore, timeline: tuple[str, Path]) -> None:
    incident_id, path = timeline
    data = path.read_bytes()
    path.write_bytes(data[:-15])  # a crash mid-write: no trailing newline
    store.append(incident_id, "note", {"text": "after the crash"})
    entries = store.timeline(incident_id)
    assert entries[-1].details == {"text": "after the crash"}
    report = store.verify(incident_id)
    assert not report.ok and report.first_bad_line == ENTRIES


def test_interrupted_state_write_is_adopted(
    store: IncidentStore, timeline: tuple[str, Path]
) -> None:
    incident_id, path = timeline
    # Simulate a crash between appending the line and rewriting incident.yaml.
    from agentir.incidents.timeline import make_entry, now_stamp, write_entry

    incident = store.get(incident_id)
    orphan = make_entry(incident.timeline_head, "someone", "note", {"text": "orphan"}, now_stamp())
    write_entry(path, orphan)
    report = store.verify(incident_id)
    assert report.ok and report.warnings and report.entries == ENTRIES + 1
    store.append(incident_id, "note", {"text": "next"})
    report = store.verify(incident_id)
    assert report.ok and not report.warnings and report.entries == ENTRIES + 2
    assert store.get(incident_id).timeline_head.count == ENTRIES + 2
