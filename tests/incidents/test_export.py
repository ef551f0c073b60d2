"""Export: one tar.gz with a sha256 manifest, or a Markdown timeline that escapes trace text."""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path

import pytest

from agentir.errors import IncidentError
from agentir.incidents.store import IncidentStore


@pytest.fixture
def incident_id(store: IncidentStore, tmp_path: Path) -> str:
    trace = tmp_path / "trace.jsonl"
    trace.write_text('{"type":"user","message":"drop the table"}\n')
    incident = store.open("agent | dropped \x1b[31mtable\n# not a heading", "SEV1")
    store.add_evidence(incident.id, trace)
    store.append(incident.id, "note", {"text": "<script>alert(1)</script> | `x`"})
    store.set_status(incident.id, "contained")
    return incident.id


def test_tar_holds_everything_with_a_manifest(
    store: IncidentStore, incident_id: str, tmp_path: Path
) -> None:
    dest = tmp_path / "out" / "incident.tar.gz"
    assert store.export(incident_id, dest) == dest
    with tarfile.open(dest) as tar:
        names = sorted(tar.getnames())
        members = {
            name: tar.extractfile(name).read()  # type: ignore[union-attr]
            for name in names
            if tar.getmember(name).isfile()
        }
    record = store.evidence(incident_id)[0]
    prefix = incident_id
    assert names == sorted(
        [
            f"{prefix}/incident.yaml",
            f"{prefix}/timeline.jsonl",
            f"{prefix}/evidence/index.json",
            f"{prefix}/evidence/{record.name}",
            f"{prefix}/export-manifest.json",
        ]
    )
    manifest = json.loads(members[f"{prefix}/export-manifest.json"])
    assert manifest["verify"]["ok"] is True
    for rel, digest in manifest["sha256"].items():
        assert hashlib.sha256(members[f"{prefix}/{rel}"]).hexdigest() == digest
    assert manifest["sha256"][f"evidence/{record.name}"] == record.sha256
    timeline = members[f"{prefix}/timeline.jsonl"].decode().splitlines()
    assert json.loads(timeline[-1])["action"] == "incident.exported"
    assert manifest["verify"]["entries"] == len(timeline)
    assert not list(dest.parent.glob(".*.tmp"))


def test_markdown_timeline_escapes_untrusted_text(
    store: IncidentStore, incident_id: str, tmp_path: Path
) -> None:
    dest = store.export(incident_id, tmp_path / "timeline.md", "md")
    text = dest.read_text()
    assert "\x1b" not in text
    first = text.splitlines()[0]
    assert first == f"# {incident_id}: agent \\| dropped \\[31mtable \\# not a heading"
    assert "\n# not a heading" not in text
    assert "&lt;" not in text and "<script>" not in text and "\\<script\\>" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "T" in line]
    timeline_rows = [r for r in rows if r.split("|")[1].strip().isdigit()]
    # The export records itself first, so the document includes its own entry.
    assert len(timeline_rows) == len(store.timeline(incident_id))
    assert "| incident.exported |" in timeline_rows[-1]
    assert "hash chain intact" in text
    assert "| contain |" in text and "| met |" in text


def test_unknown_format(store: IncidentStore, incident_id: str, tmp_path: Path) -> None:
    with pytest.raises(IncidentError, match="unknown export format"):
        store.export(incident_id, tmp_path / "x.zip", "zip")
