"""Incident records: YAML round trip keeps unknown keys; deadline states."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from agentir.config import dump_yaml, parse_yaml_fast
from agentir.incidents.records import (
    ActionItem,
    Deadline,
    Incident,
    format_duration,
    normalize_severity,
    parse_iso,
    to_iso,
)

T0 = datetime(2030, 5, 1, 12, 0, tzinfo=timezone.utc)


def test_round_trip_through_yaml_keeps_unknown_keys() -> None:
    data = {
        "id": "INC-20300501-0001",
        "title": "agent pushed to main",
        "severity": "SEV1",
        "status": "open",
        "opened_at": "2030-05-01T12:00:00Z",
        "deadlines": {"contain": {"due": "2030-05-01T12:15:00Z", "met_at": None, "owner": "x"}},
        "action_items": [
            {"id": "A1", "type": "guardrail", "text": "deny force-push", "priority": "high"}
        ],
        "freeze": {"commits": ["abc"], "repo": "/r", "active": True, "mode": "strict"},
        "future_section": {"added_by": "a newer agentir"},
        "extra": {"contain": {"pids": [1, 2]}},
    }
    incident = Incident.from_dict(parse_yaml_fast(dump_yaml(data)))
    assert incident.opened_at == T0
    assert incident.deadlines["contain"].due == T0 + timedelta(minutes=15)
    assert isinstance(incident.action_items[0], ActionItem)
    assert incident.freeze.active and incident.freeze.commits == ["abc"]
    again = parse_yaml_fast(dump_yaml(incident.to_dict()))
    assert again["future_section"] == {"added_by": "a newer agentir"}
    assert again["deadlines"]["contain"]["owner"] == "x"
    assert again["action_items"][0]["priority"] == "high"
    assert again["freeze"]["mode"] == "strict"
    assert again["extra"] == {"contain": {"pids": [1, 2]}}
    assert again["opened_at"] == "2030-05-01T12:00:00Z"


def test_timestamps_stay_strings_in_yaml() -> None:
    text = dump_yaml(Incident(id="INC-20300501-0001", opened_at=T0).to_dict())
    assert "opened_at: '2030-05-01T12:00:00Z'" in text


def test_deadline_states() -> None:
    due = T0 + timedelta(minutes=15)
    assert Deadline(due=due).state(T0) == "pending"
    assert Deadline(due=due).state(due + timedelta(seconds=1)) == "overdue"
    assert Deadline(due=due, met_at=due).state(due + timedelta(hours=1)) == "met"
    assert Deadline(due=due, met_at=due + timedelta(seconds=1)).state(due) == "missed"
    assert Deadline(due=due).state(due + timedelta(hours=1), active=False) == "missed"
    assert Deadline(due=due).state(T0, active=False) == "not_met"


def test_next_deadline_and_age() -> None:
    incident = Incident(
        opened_at=T0,
        deadlines={
            "learn": Deadline(due=T0 + timedelta(hours=48)),
            "contain": Deadline(due=T0 + timedelta(minutes=15), met_at=T0),
            "assess": Deadline(due=T0 + timedelta(minutes=30)),
        },
    )
    now = T0 + timedelta(minutes=20)
    upcoming = incident.next_deadline(now)
    assert upcoming is not None and upcoming[0] == "assess"
    assert incident.age(now) == timedelta(minutes=20)
    assert incident.deadline_states(now) == {
        "learn": "pending",
        "contain": "met",
        "assess": "pending",
    }


def test_helpers() -> None:
    assert normalize_severity("sev2") == "SEV2"
    assert normalize_severity("1") == "SEV1"
    assert normalize_severity("SEV4") is None
    assert parse_iso("2030-05-01T14:00:00+02:00") == T0
    assert parse_iso("not a time") is None
    assert to_iso(T0) == "2030-05-01T12:00:00Z"
    assert format_duration(timedelta(minutes=65)) == "1h 05m"
    assert format_duration(timedelta(days=2, hours=3)) == "2d 3h"
    assert format_duration(timedelta(seconds=-75)) == "-1m 15s"
