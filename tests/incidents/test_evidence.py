"""Evidence: sha256-named copies, recorded once per digest; folders too; streaming for big files."""

from __future__ import annotations

import hashlib
import json
import os
import tracemalloc
from pathlib import Path

import pytest

from agentir.errors import IncidentError
from agentir.incidents import locking
from agentir.incidents.store import IncidentStore


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_file_is_copied_with_its_digest(store: IncidentStore, tmp_path: Path) -> None:
    trace = tmp_path / "session one.jsonl"
    trace.write_text('{"type":"user"}\n{"type":"assistant"}\n')
    incident_id = store.open("x", "SEV1").id
    record, is_new = store.add_evidence(incident_id, trace)
    expected = sha256_of(trace)
    assert is_new and record.sha256 == expected
    assert record.size == trace.stat().st_size and record.kind == "file"
    assert record.name == f"{expected[:12]}-session_one.jsonl"
    copy = store.path(incident_id) / "evidence" / record.name
    assert copy.read_bytes() == trace.read_bytes()
    assert not os.access(copy, os.W_OK) or os.geteuid() == 0  # read-only (root ignores modes)
    assert copy.stat().st_mode & 0o222 == 0
    index = json.loads((store.path(incident_id) / "evidence" / "index.json").read_text())
    assert [item["sha256"] for item in index["items"]] == [expected]
    assert index["items"][0]["path"] == str(trace.resolve())
    entry = store.timeline(incident_id)[-1]
    assert entry.action == "evidence.added" and entry.details["sha256"] == expected


def test_same_content_is_recorded_once(store: IncidentStore, tmp_path: Path) -> None:
    incident_id = store.open("x", "SEV1").id
    first = tmp_path / "a.jsonl"
    first.write_text("same\n")
    twin = tmp_path / "b.jsonl"
    twin.write_text("same\n")
    record, is_new = store.add_evidence(incident_id, first)
    again, again_new = store.add_evidence(incident_id, twin)
    assert is_new and not again_new and again == record
    first.write_text("grew\n")  # the agent kept writing: a new version is new evidence
    _, newer = store.add_evidence(incident_id, first)
    assert newer
    assert len(store.evidence(incident_id)) == 2
    actions = [e.action for e in store.timeline(incident_id)]
    assert actions.count("evidence.added") == 2
    evidence_dir = store.path(incident_id) / "evidence"
    assert len([p for p in evidence_dir.iterdir() if p.name != "index.json"]) == 2
    assert [p for p in evidence_dir.iterdir() if locking.is_temp_name(p.name)] == []


def test_directory_trace_is_copied_whole(store: IncidentStore, tmp_path: Path) -> None:
    events = tmp_path / "sessions" / "abc123"
    (events / "events").mkdir(parents=True)
    for number in range(3):
        (events / "events" / f"{number}.json").write_text(json.dumps({"id": number}))
    (events / "metadata.json").write_text("{}")
    (events / "link-to-etc").symlink_to("/etc/hostname")
    incident_id = store.open("x", "SEV2").id
    record, is_new = store.add_evidence(incident_id, events)
    assert is_new and record.kind == "dir" and record.files == 4 and record.skipped == 1
    # The digest of a folder: sha256 of a sha256sum-style manifest sorted by path.
    rels = sorted(["events/0.json", "events/1.json", "events/2.json", "metadata.json"])
    manifest = "".join(f"{sha256_of(events / r)}  {r}\n" for r in rels)
    assert record.sha256 == hashlib.sha256(manifest.encode()).hexdigest()
    copy = store.path(incident_id) / "evidence" / record.name
    assert (copy / "events" / "2.json").read_text() == '{"id": 2}'
    assert not (copy / "link-to-etc").exists()
    _, again = store.add_evidence(incident_id, events)
    assert not again


def test_large_file_is_streamed(store: IncidentStore, tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    block = os.urandom(1 << 20)
    digest = hashlib.sha256()
    with open(big, "wb") as handle:
        for _ in range(200):  # 200 MiB
            handle.write(block)
            digest.update(block)
    incident_id = store.open("x", "SEV1").id
    tracemalloc.start()
    try:
        record, _ = store.add_evidence(incident_id, big)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert record.sha256 == digest.hexdigest() and record.size == 200 << 20
    assert peak < 16 << 20, f"copying held {peak / 2**20:.0f} MiB in memory"
    big.unlink()


def test_special_files_and_missing_paths_are_refused(store: IncidentStore, tmp_path: Path) -> None:
    incident_id = store.open("x", "SEV1").id
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(IncidentError, match="not a regular file"):
        store.add_evidence(incident_id, fifo)
    with pytest.raises(IncidentError, match="cannot read evidence"):
        store.add_evidence(incident_id, tmp_path / "missing.jsonl")
    assert store.evidence(incident_id) == []
