"""The drill log and `drill status`: last runs, overdue scenarios, the kill-switch drill."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from agentir.drill_engine import ScriptedFacilitator
from agentir.drill_log import append_run, drill_status, drills_dir, read_log
from agentir.drill_run import drill
from agentir.drills import Answers, load_library, parse_answer

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def _entry(scenario: str, when: datetime, **extra: object) -> dict[str, object]:
    stamp = when.isoformat().replace("+00:00", "Z")
    return {"scenario": scenario, "started_at": stamp, "finished_at": stamp, **extra}


def test_never_run_scenarios_are_overdue() -> None:
    rows = drill_status(load_library(), [], cadence_days=90, now=NOW)
    assert {r.id for r in rows} == set(load_library())
    assert all(r.overdue and r.runs == 0 and r.last_run is None for r in rows)


def test_status_after_runs_and_an_old_run(tmp_path: Path) -> None:
    answers = Answers(default=parse_answer("done"))
    for scenario_id in ("infinite-loop", "kill-switch"):
        drill(load_library()[scenario_id], ScriptedFacilitator(answers), out=tmp_path / scenario_id)
    # a run of the cost spiral 120 days ago (the log is plain JSON lines: this is what a run writes)
    append_run(
        _entry("cost-spiral", datetime.now(timezone.utc) - timedelta(days=120), score=50, gaps=3)
    )
    entries, bad = read_log()
    assert bad == 0 and len(entries) == 3
    assert entries[0]["scenario"] == "cost-spiral"  # oldest first
    rows = {r.id: r for r in drill_status(load_library(), entries, cadence_days=90)}
    assert not rows["infinite-loop"].overdue and rows["infinite-loop"].days_since == 0
    assert rows["infinite-loop"].runs == 1 and rows["infinite-loop"].last_score == 100
    assert not rows["kill-switch"].overdue and rows["kill-switch"].kill_switch
    old = rows["cost-spiral"]
    assert old.overdue and old.days_since == 120 and old.last_score == 50 and old.last_gaps == 3
    assert rows["scope-creep"].overdue and rows["scope-creep"].last_run is None
    # the cadence is the team's: at 180 days the old run is fine
    assert not {r.id: r for r in drill_status(load_library(), entries, cadence_days=180)}[
        "cost-spiral"
    ].overdue


def test_latest_run_wins_and_unknown_scenarios_are_kept() -> None:
    entries = [
        _entry("kill-switch", NOW - timedelta(days=200), score=10),
        _entry("kill-switch", NOW - timedelta(days=10), score=90),
        _entry("retired-scenario", NOW - timedelta(days=5)),
    ]
    rows = {r.id: r for r in drill_status(load_library(), entries, cadence_days=90, now=NOW)}
    ks = rows["kill-switch"]
    assert (ks.runs, ks.days_since, ks.last_score, ks.overdue) == (2, 10, 90, False)
    retired = rows["retired-scenario"]
    assert not retired.in_library and not retired.overdue and retired.runs == 1


def test_damaged_log_lines_are_counted_not_fatal() -> None:
    append_run(_entry("infinite-loop", NOW))
    path = drills_dir() / "log.jsonl"
    with path.open("a") as fh:
        fh.write(
            '{"scenario": "x"}\nnot json\n{"scenario": "infinite-loop", "finished_at": "2026-0'
        )
    entries, bad = read_log()
    assert [e["scenario"] for e in entries] == ["infinite-loop"] and bad == 3
