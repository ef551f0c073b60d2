"""IncidentStore: ids, lookups, status transitions, deadlines, severity, atomic writes."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from agentir.config import dump_yaml, parse_yaml_fast
from agentir.errors import IncidentError
from agentir.incidents import locking
from agentir.incidents.store import IncidentStore
from tests.incidents.conftest import T0, Clock

DATA = Path(__file__).resolve().parents[1] / "data" / "runbooks"


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if locking.is_temp_name(p.name)]


def test_open_writes_the_record_and_first_entry(store: IncidentStore, agentir_home: Path) -> None:
    incident = store.open(
        "agent dropped a table", "sev1", sessions=["s-1", "s-1", "s-2"], traces=["t.jsonl"],
        actor="alice@host", reason="prod data",
    )  # fmt: skip
    assert incident.id == "INC-20300501-0001"
    folder = agentir_home / "incidents" / incident.id
    assert sorted(p.name for p in folder.iterdir()) == ["incident.yaml", "timeline.jsonl"]
    data = parse_yaml_fast((folder / "incident.yaml").read_text())
    assert data["severity"] == "SEV1" and data["status"] == "open"
    assert data["sessions"] == ["s-1", "s-2"]
    assert data["traces"] == [str(Path("t.jsonl").resolve())]
    assert data["responders"] == ["alice@host"]
    assert data["opened_at"] == "2030-05-01T12:00:00Z"
    assert data["deadlines"]["contain"]["due"] == "2030-05-01T12:15:00Z"
    assert data["deadlines"]["learn"]["due"] == "2030-05-03T12:00:00Z"
    assert data["severity_history"][0]["reason"] == "prod data"
    entries = store.timeline(incident.id)
    assert [e.action for e in entries] == ["incident.opened"]
    assert entries[0].actor == "alice@host" and entries[0].details["severity"] == "SEV1"


def test_ids_count_per_day(store: IncidentStore, clock: Clock) -> None:
    first = store.open("a", "SEV3").id
    second = store.open("b", "SEV3").id
    clock.advance(days=1)
    third = store.open("c", "SEV3").id
    assert (first, second, third) == (
        "INC-20300501-0001",
        "INC-20300501-0002",
        "INC-20300502-0001",
    )


def test_resolve_prefix_latest_and_errors(store: IncidentStore) -> None:
    a = store.open("a", "SEV2").id
    b = store.open("b", "SEV2").id
    assert store.resolve("latest") == b
    assert store.resolve(a.lower()) == a
    assert store.resolve("20300501-0001") == a
    assert store.resolve("INC-20300501-0002") == b
    with pytest.raises(IncidentError) as ambiguous:
        store.resolve("INC-2030")
    assert "several" in ambiguous.value.message and a in ambiguous.value.message
    with pytest.raises(IncidentError) as unknown:
        store.get("INC-19990101-0001")
    assert "agentir incident list" in (unknown.value.hint or "")


def test_latest_on_an_empty_store(store: IncidentStore) -> None:
    assert store.list() == []
    with pytest.raises(IncidentError, match="no incidents"):
        store.resolve("latest")


def test_bad_severity_or_title(store: IncidentStore) -> None:
    with pytest.raises(IncidentError, match="severity"):
        store.open("x", "SEV9")
    with pytest.raises(IncidentError, match="title"):
        store.open("  ", "SEV1")


def test_status_moves_forward_and_meets_deadlines(store: IncidentStore, clock: Clock) -> None:
    incident_id = store.open("x", "SEV1").id
    clock.advance(minutes=10)
    contained = store.set_status(incident_id, "contained")
    assert contained.contained_at == T0 + timedelta(minutes=10)
    assert contained.deadlines["contain"].met_at == T0 + timedelta(minutes=10)
    clock.advance(minutes=1)
    again = store.set_status(incident_id, "contained")  # re-containment is allowed
    assert again.contained_at == T0 + timedelta(minutes=10)
    with pytest.raises(IncidentError, match="cannot become open"):
        store.set_status(incident_id, "open")
    clock.advance(hours=9)  # the 8h remediate deadline has passed
    remediated = store.set_status(incident_id, "remediated")
    assert remediated.deadline_states(clock.now)["remediate"] == "missed"
    assert remediated.deadline_states(clock.now)["contain"] == "met"
    with pytest.raises(IncidentError, match="cannot become remediated"):
        store.set_status(incident_id, "remediated")
    store.set_status(incident_id, "reviewed")
    closed = store.set_status(incident_id, "closed")  # reviewed: no reason needed
    assert closed.status == "closed" and closed.closed_at == clock.now
    with pytest.raises(IncidentError, match="is closed"):
        store.set_status(incident_id, "contained")
    actions = [e.action for e in store.timeline(incident_id)]
    assert actions == [
        "incident.opened",
        "status.contained",
        "status.contained",
        "status.remediated",
        "status.reviewed",
        "status.closed",
    ]
    assert store.verify(incident_id).ok


def test_closing_before_review_needs_a_reason(store: IncidentStore) -> None:
    incident_id = store.open("false alarm", "SEV2").id
    with pytest.raises(IncidentError, match="needs a reason"):
        store.set_status(incident_id, "closed")
    closed = store.set_status(incident_id, "closed", reason="duplicate of INC-1")
    assert closed.close_reason == "duplicate of INC-1"
    assert store.timeline(incident_id)[-1].details["reason"] == "duplicate of INC-1"


def test_skipping_and_recontainment_are_recorded(store: IncidentStore) -> None:
    incident_id = store.open("x", "SEV3").id
    store.set_status(incident_id, "remediated")
    assert store.timeline(incident_id)[-1].details["skipped"] == ["contained"]
    recontained = store.set_status(incident_id, "contained", reason="agent came back")
    assert recontained.status == "contained" and recontained.remediated_at is None
    assert "reopened" in store.timeline(incident_id)[-1].details
    with pytest.raises(IncidentError, match="unknown status"):
        store.set_status(incident_id, "fixed")


def test_severity_change_is_recorded_and_moves_deadlines(store: IncidentStore) -> None:
    incident_id = store.open("x", "SEV3", actor="alice").id
    assert "contain" not in store.get(incident_id).deadlines
    with pytest.raises(IncidentError, match="reason"):
        store.set_severity(incident_id, "SEV1", reason=" ")
    changed = store.set_severity(incident_id, "1", reason="secrets in the trace", actor="bob")
    assert changed.severity == "SEV1"
    assert [(c.severity, c.by) for c in changed.severity_history] == [
        ("SEV3", "alice"),
        ("SEV1", "bob"),
    ]
    assert changed.deadlines["contain"].due == T0 + timedelta(minutes=15)
    assert changed.responders == ["alice", "bob"]
    entry = store.timeline(incident_id)[-1]
    assert entry.action == "severity.changed" and entry.details["from"] == "SEV3"


def test_custom_runbook_folder_and_broken_fallback(store: IncidentStore) -> None:
    custom = store.open("x", "SEV1", runbooks_dir=DATA / "override")
    assert custom.deadlines["contain"].due == T0 + timedelta(minutes=10)
    assert custom.runbook and custom.runbook.endswith("override/sev1.yaml")
    fallback = store.open("y", "SEV1", runbooks_dir=DATA / "broken")
    assert fallback.deadlines["contain"].due == T0 + timedelta(minutes=15)
    warning = store.timeline(fallback.id)[0].details["runbook_warning"]
    assert "invalid runbook" in warning and "shipped" in warning


def test_attach_and_find_open_for_session(store: IncidentStore) -> None:
    first = store.open("a", "SEV1", sessions=["s-1"]).id
    second = store.open("b", "SEV2").id
    store.attach(second, sessions=["s-1", "s-2"], traces=["x.jsonl"])
    found = store.find_open_for_session("s-1")
    assert found is not None and found.id == second
    assert store.get(second).sessions == ["s-1", "s-2"]
    store.set_status(second, "closed", reason="merged into the first")
    found = store.find_open_for_session("s-1")
    assert found is not None and found.id == first
    assert store.find_open_for_session("s-2") is None
    assert store.timeline(second)[1].details == {
        "sessions": ["s-1", "s-2"],
        "traces": [str(Path("x.jsonl").resolve())],
    }


def test_list_by_status(store: IncidentStore) -> None:
    a = store.open("a", "SEV1").id
    b = store.open("b", "SEV1").id
    store.set_status(b, "contained")
    assert [i.id for i in store.list()] == [a, b]
    assert [i.id for i in store.list("contained")] == [b]
    assert [i.id for i in store.list(["open", "contained"])] == [a, b]


def test_update_keeps_unknown_keys_and_records_details(
    store: IncidentStore, agentir_home: Path
) -> None:
    incident_id = store.open("x", "SEV1").id
    path = agentir_home / "incidents" / incident_id / "incident.yaml"
    data = parse_yaml_fast(path.read_text())
    data["added_by_a_newer_version"] = {"k": [1, 2]}
    path.write_text(dump_yaml(data))

    def mutate(incident: object) -> dict[str, object]:
        incident.extra["contain"] = {"pids": [10, 11]}  # type: ignore[attr-defined]
        return {"pids": [10, 11]}

    store.update(incident_id, mutate, action="contain.paused", details={"mode": "pause"})
    data = parse_yaml_fast(path.read_text())
    assert data["added_by_a_newer_version"] == {"k": [1, 2]}
    assert data["extra"] == {"contain": {"pids": [10, 11]}}
    entry = store.timeline(incident_id)[-1]
    assert entry.action == "contain.paused"
    assert entry.details == {"mode": "pause", "pids": [10, 11]}


def test_failed_mutation_writes_nothing(store: IncidentStore) -> None:
    incident_id = store.open("x", "SEV1").id

    def boom(incident: object) -> None:
        raise IncidentError("refused")

    with pytest.raises(IncidentError):
        store.update(incident_id, boom, action="never")
    assert [e.action for e in store.timeline(incident_id)] == ["incident.opened"]
    assert store.verify(incident_id).ok


def test_meet_deadline(store: IncidentStore, clock: Clock) -> None:
    incident_id = store.open("x", "SEV2").id
    clock.advance(minutes=70)
    incident = store.meet_deadline(incident_id, "assess")
    assert incident.deadline_states(clock.now)["assess"] == "missed"
    with pytest.raises(IncidentError, match="no deadline"):
        store.meet_deadline(incident_id, "coffee")


def test_atomic_writes_leave_no_temp_files(store: IncidentStore, agentir_home: Path) -> None:
    incident_id = store.open("x", "SEV1").id
    for number in range(20):
        store.append(incident_id, "note", {"n": number})
    store.set_status(incident_id, "contained")
    assert temp_files(agentir_home) == []
    assert not [p for p in (agentir_home / "incidents").iterdir() if p.name.startswith(".new-")]


def test_a_failed_write_keeps_the_old_file_and_no_temp(
    store: IncidentStore, agentir_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    incident_id = store.open("x", "SEV1").id
    path = agentir_home / "incidents" / incident_id / "incident.yaml"
    before = path.read_bytes()

    def failing_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError):
        locking.atomic_write(path, "garbage")
    assert path.read_bytes() == before
    assert temp_files(agentir_home) == []


def test_actor_from_environment(store: IncidentStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTIR_ACTOR", "carol (pager)")
    incident = store.open("x", "SEV1")
    assert incident.opened_by == "carol (pager)"
    monkeypatch.delenv("AGENTIR_ACTOR")
    entry = store.append(incident.id, "note", {})
    assert "@" in entry.actor


def test_incident_folder_is_readable_by_the_team(store: IncidentStore) -> None:
    incident_id = store.open("x", "SEV1").id
    assert os.stat(store.path(incident_id)).st_mode & 0o755 == 0o755
