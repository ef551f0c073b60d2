"""Deterministic incidents for review tests: a fixed clock, fixed actors, fixed paths via aliases.

The store's clock and the timeline's time stamps both read one `Clock`, so the same scenario
gives byte-identical incident files, and so byte-identical reviews (the golden files).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from agentir.incidents import store as store_module
from agentir.incidents.store import IncidentStore
from agentir.render.report import render_template
from agentir.resources import shipped_dir
from agentir.review import policy_info
from agentir.review.actions import add_action, complete_action
from agentir.review.context import ReviewInputs, build
from agentir.review.load import gather
from tests.conftest import DATA, SHARED_TRACES

T0 = datetime(2025, 9, 7, 10, 5, 0, tzinfo=timezone.utc)
FIXTURE = DATA / "review" / "checkout-incident.jsonl"
# Fake credentials, built at run time so no scanner takes this file for a leak.
FAKE_GITHUB_TOKEN = "ghp_" + "R3v13wF4k3" * 3 + "ABCDEF"
FAKE_AWS_KEY_ID = "AKIA" + "R3V13WF4K3" + "EXAMPL"
PAYLOADS = ("{{ 7*7 }}", "{% for item in cart %}", "<script>alert(1)</script>")


@dataclass
class Clock:
    """A clock tests move by hand."""

    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def stamp(self) -> str:
        """Timeline time, as the store writes it (milliseconds, Z)."""
        return self.now.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Case:
    """An incident built for a review test and what renders it."""

    store: IncidentStore
    incident_id: str
    clock: Clock
    home: Path
    aliases: dict[str, str] = field(default_factory=dict)

    def context(self, status: str | None = None) -> dict[str, Any]:
        """The review context, as `agentir review` builds it (policy: the built-in defaults)."""
        incident = self.store.get(self.incident_id)
        info = policy_info.load(None, start=self.home)
        sessions, notes = gather(self.store, incident, info)
        inputs = ReviewInputs(
            incident=incident,
            entries=self.store.timeline(self.incident_id),
            sessions=sessions,
            policy=info,
            now=self.clock(),
            traces=notes,
            status=status,
            aliases=self.aliases,
        )
        return build(inputs)

    def render(self, fmt: str, status: str | None = None) -> str:
        """The review in `md` or `html`, from the shipped templates."""
        return render_template("review", self.context(status), fmt=fmt)


def seeded_trace(folder: Path) -> Path:
    """The fixture trace with the fake credentials filled in (written at test time)."""
    text = FIXTURE.read_text(encoding="utf-8")
    text = text.replace("__FAKE_GITHUB_TOKEN__", FAKE_GITHUB_TOKEN)
    text = text.replace("__FAKE_AWS_KEY_ID__", FAKE_AWS_KEY_ID)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FIXTURE.name
    path.write_text(text, encoding="utf-8")
    return path


def new_case(
    monkeypatch: pytest.MonkeyPatch, home: Path, extra_aliases: dict[str, str] | None = None
) -> tuple[IncidentStore, Clock, dict[str, str]]:
    """A store on `home` whose clock (and timeline stamps) the test controls."""
    for name in ("AGENTIR_POLICY", "AGENTIR_CONFIG", "AGENTIR_RUNBOOKS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AGENTIR_ACTOR", "alice@oncall")
    clock = Clock()
    monkeypatch.setattr(store_module, "now_stamp", clock.stamp)
    store = IncidentStore(home, clock=clock)
    aliases = {
        str(SHARED_TRACES): "$SHARED_TRACES",
        str(DATA): "$TESTS_DATA",
        str(home): "$AGENTIR_HOME",
        str(shipped_dir("runbooks")): "$RUNBOOKS",
        **(extra_aliases or {}),
    }
    return store, clock, aliases


def checkout_case(monkeypatch: pytest.MonkeyPatch, home: Path, tmp: Path) -> Case:
    """The hand-written SEV1: secrets read, production rows deleted, main force-pushed.
    Contained, remediated (a revert recorded), with a checklist and action items."""
    store, clock, aliases = new_case(monkeypatch, home, {str(tmp): "$TMP"})
    trace = seeded_trace(tmp / "traces")
    clock.now = T0 + timedelta(minutes=2)
    incident = store.open(
        "Agent deleted production orders and force-pushed main", "SEV1",
        sessions=["7e57c0de"], traces=[trace], reason="production data changed",
    )  # fmt: skip
    ref = incident.id
    store.add_evidence(ref, trace)
    clock.advance(minutes=3)
    store.append(ref, "note", {"text": "paged agent-infra; DBA restoring orders from backup"})
    clock.advance(minutes=6)
    store.set_status(ref, "contained", details={"summary": "1 process paused, nothing left"})
    clock.advance(minutes=4)
    store.update(
        ref,
        lambda i: setattr(i.freeze, "commits", ["3f9c2ab"]) or setattr(i.freeze, "active", True),
        action="freeze.set",
        details={"commits": ["3f9c2ab"], "result": "done"},
    )
    clock.advance(minutes=20)
    store.append(
        ref,
        "remediate.planned",
        {"target_branch": "main", "reverts": [{"sha": "3f9c2ab8d1e4", "reasons": ["trace"]}]},
    )
    clock.advance(minutes=3)
    store.append(
        ref,
        "remediate.applied",
        {
            "branch": f"agentir/revert-{ref}",
            "reverted": [{"original": "3f9c2ab8d1e4", "revert": "9d8e7f6a5b4c"}],
            "verified": True,
        },
    )
    store.update(ref, _checklist, action="remediate.checklist", details={"added": ["database-1"]})
    clock.advance(minutes=5)
    store.set_status(ref, "remediated")
    clock.advance(hours=2)
    add_action(
        store, ref, kind="guardrail", owner="bob", due="2025-09-30",
        text="Deny git push --force and psql writes for agents in managed settings",
    )  # fmt: skip
    add_action(store, ref, kind="prevent", text="Add to CLAUDE.md: never touch production")
    add_action(
        store, ref, kind="mitigate", owner="carol", due="2025-09-08",
        text="Rotate the GitHub token and the AWS key the agent read",
    )  # fmt: skip
    clock.advance(minutes=30)
    complete_action(store, ref, "A3")
    clock.now = T0 + timedelta(hours=30)
    return Case(store, ref, clock, home, aliases)


def _checklist(incident: Any) -> None:
    from agentir.incidents.records import ChecklistItem

    incident.checklist.append(
        ChecklistItem.from_dict(
            {
                "id": "database-1",
                "text": "Check and restore the database after the statement: psql",
                "kind": "database",
                "status": "done",
                "note": "restored 1284 rows from the 09:00 backup",
                "evidence": "checkout-incident.jsonl:10",
            }
        )
    )


def real_case(
    monkeypatch: pytest.MonkeyPatch, home: Path, trace: Path, title: str, severity: str
) -> Case:
    """An incident on a real sample trace: opened, downgraded, contained; review overdue."""
    store, clock, aliases = new_case(monkeypatch, home)
    clock.now = T0
    incident = store.open(title, "SEV1", traces=[trace], reason="unknown impact: take the higher")
    ref = incident.id
    store.add_evidence(ref, trace)
    clock.advance(minutes=12)
    store.set_status(ref, "contained")
    if severity != "SEV1":
        clock.advance(minutes=20)
        store.set_severity(ref, severity, reason="no production impact found in the trace")
    clock.now = T0 + timedelta(hours=50)
    return Case(store, ref, clock, home, aliases)


def json_lines(path: Path) -> list[dict[str, Any]]:
    """The records of a JSONL file (for checking citations against the raw trace)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
