"""Drill runs from answers files: every shipped scenario completes, and the report names the gaps
the answers (and the runbook) left: skipped expected steps, reported gaps, missed deadlines,
missing owners and contacts, trace access, steps that did not work when practised."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from agentir.drill_engine import ScriptedFacilitator
from agentir.drill_log import read_log
from agentir.drill_run import drill
from agentir.drills import load_answers, load_library
from agentir.errors import UsageError
from agentir.runbooks import load_runbooks
from tests.conftest import DATA
from tests.drills.conftest import write_answers

IDS = sorted(load_library())
THIN_RUNBOOKS = DATA / "drills" / "runbooks"


def run(scenario_id: str, answers: str, tmp_path: Path, **options: object):  # type: ignore[no-untyped-def]
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = write_answers(tmp_path / "answers.yaml", answers)
    scenario = load_library()[scenario_id]
    return drill(scenario, ScriptedFacilitator(load_answers(path)), out=tmp_path / "out", **options)  # type: ignore[arg-type]


def gap_kinds(outcome) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [(g["kind"], g["step"]) for g in outcome.context["gaps"]]


@pytest.mark.parametrize("scenario_id", IDS)
def test_every_shipped_scenario_completes_from_an_answers_file(
    scenario_id: str, tmp_path: Path
) -> None:
    outcome = run(scenario_id, "facilitator: CI\ndefault: done\n", tmp_path)
    scenario = load_library()[scenario_id]
    runbook = load_runbooks()[scenario.severity]
    result = outcome.result
    assert [s.id for s in result.steps] == [s.id for s in runbook.steps()]
    assert all(s.result == "done" for s in result.steps)
    assert all(s.practice is not None for s in result.steps)
    # the clock: one minute per step by default, so the drill lasted as many minutes as steps
    assert result.minutes == len(runbook.steps())
    report = outcome.report.read_text()
    assert report.startswith(f"# After-action report: {scenario.title}")
    for step in runbook.steps():
        assert f"`{step.id}`" in report
    for question in scenario.questions:
        assert question.split(",")[0] in report
    assert not result.workspace.root.exists()  # the scratch is gone unless --keep
    assert json.loads(outcome.data.read_text())["drill"]["scenario"] == scenario_id
    entries, bad = read_log()
    assert bad == 0 and [e["scenario"] for e in entries] == [scenario_id]
    assert entries[0]["report"] == str(outcome.report)
    if scenario.kill_switch:
        assert outcome.context["kill_switch"]["stopped"] is True
        assert result.processes_left == []


def test_the_report_names_the_gaps_the_answers_left(tmp_path: Path) -> None:
    answers = """
steps:
  pause-agent: done
  kill-agent: "skip: pausing was enough"
  list-credentials: done
  revoke-aws-sessions: "gap: nobody knew the IAM role name"
  revoke-github-token: done
  deploy-freeze: "skip: | no <b>pipeline</b> access"
  assess-trace: done
  blast-radius: done
  remediation-plan: done
  remediation-apply: done
timing:
  pause-agent: 7
actions:
  notify-security: "skip: forgot"
hot_wash:
  1: Noticed after ten minutes.
action_items:
  - {what: Protect main, owner: Ana, due: "2027-01-31"}
"""
    outcome = run("force-push-leak", answers, tmp_path, keep=True)
    kinds = gap_kinds(outcome)
    assert ("reported", "revoke-aws-sessions") in kinds
    assert ("deadline_missed", "pause-agent") in kinds
    assert ("expected_action", "deploy-freeze") in kinds  # expected by the scenario, skipped
    assert ("expected_action", "kill-agent") not in kinds  # skipped, but not expected
    assert ("no_runbook_step", "notify-security") in kinds
    # steps with no answer (and no default) are gaps too, and expected ones count twice
    for step in ("verify-known-good", "external-effects", "review", "share-review"):
        assert ("reported", step) in kinds
    report = outcome.report.read_text()
    assert (
        "| contain | `kill-agent` | `on_call` | T+10m | T+8m | 1.0 | skipped | n/a | `pausing was enough` |"
        in report
    )
    assert "`pause-agent done at T+7m, deadline T+5m`" in report
    assert "`revoke-aws-sessions: nobody knew the IAM role name`" in report
    assert "`deploy-freeze was not done (\\| no <b>pipeline</b> access)`" in report  # inert
    assert "no answer for this step in the answers file" in report
    assert "   - Noticed after ten minutes." in report
    assert "| `Protect main` | `Ana` | `2027-01-31` | `hot wash` |" in report
    assert "`resolve in step revoke-aws-sessions: nobody knew the IAM role name`" in report
    score = outcome.context["drill"]["score"]
    assert score["points"] < score["total"]
    assert outcome.result.workspace.root.is_dir()  # kept


def test_injects_appear_at_their_minute_deterministically(tmp_path: Path) -> None:
    answers = "default: done\ntiming:\n  assess-trace: 3\n  learning-note: 1\n  share-lesson: 1\n"
    first = run("infinite-loop", answers, tmp_path / "a")
    second = run("infinite-loop", answers, tmp_path / "b")
    for outcome in (first, second):
        (two, five) = outcome.result.injects
        assert (two.inject.at_minute, two.shown_at, two.before_step) == (2, 3, "learning-note")
        assert (five.inject.at_minute, five.shown_at, five.before_step) == (5, 5, None)
    assert "(revealed at T+3m, before `learning-note`)" in first.report.read_text()
    late = run("infinite-loop", "default: done\n", tmp_path / "c")
    assert [i.shown_at for i in late.result.injects] == [2, None]  # 3 steps: 3 minutes
    assert "(not reached)" in late.report.read_text()


def test_the_kill_switch_drill_pauses_the_stand_in_agent(tmp_path: Path) -> None:
    outcome = run("kill-switch", "default: done\ntiming:\n  pause-agent: 2\n", tmp_path)
    ks = outcome.context["kill_switch"]
    assert ks == {
        "pids": ks["pids"],
        "stopped": True,
        "at": "T+2m",
        "how": "paused",
        "step": "pause-agent",
    }
    assert len(ks["pids"]) == 2
    pause = outcome.result.steps[0]
    assert pause.practice is not None and any("paused" in line for line in pause.practice.lines)
    assert "It was paused at T+2m by step `pause-agent`." in outcome.report.read_text()


def test_nobody_stopping_the_agent_is_a_gap_and_it_still_ends(tmp_path: Path) -> None:
    answers = 'default: done\nsteps:\n  pause-agent: "skip: could not find it"\n  kill-agent: "gap: no access to the host"\n'
    outcome = run("kill-switch", answers, tmp_path)
    kinds = gap_kinds(outcome)
    assert ("agent_running", "") in kinds
    assert ("expected_action", "pause-agent") in kinds and ("reported", "kill-agent") in kinds
    assert outcome.result.processes_left == []  # the safety net killed it anyway
    assert "**Nobody stopped it during the drill.**" in outcome.report.read_text()


def test_a_trace_that_is_not_there_yet_is_a_trace_access_gap(tmp_path: Path) -> None:
    outcome = run("cost-spiral", "default: done\n", tmp_path)
    assert ("trace_access", "assess-trace") in gap_kinds(outcome)
    assert outcome.result.trace_arrived_at is None
    late = run("cost-spiral", "default: done\ntiming:\n  assess-trace: 25\n", tmp_path / "late")
    # the clock passed minute 20 during assess-trace: the trace arrives, but after the step
    assert late.result.trace_arrived_at == 25


def test_runbook_gaps_and_commands_on_the_scratch_only(tmp_path: Path) -> None:
    outcome = run(
        "infinite-loop", "default: done\n", tmp_path, runbooks_dir=THIN_RUNBOOKS, keep=True
    )
    kinds = gap_kinds(outcome)
    assert ("no_owner", "show-commit") in kinds and ("no_owner", "learning-note") in kinds
    assert ("missing_contact", "") in kinds  # the scenario needs agent_infra; the runbook has none
    texts = [g["text"] for g in outcome.context["gaps"]]
    assert "no agent_infra contact in the SEV3 runbook" in texts
    assert "the runbook does not say where the agent's traces are" in texts
    steps = {s.id: s for s in outcome.result.steps}
    ws = outcome.result.workspace
    again = steps["assess-again"].practice
    assert again is not None and again.status == "done"  # `agentir assess {trace}` ran...
    assert again.lines[0] == f"$ agentir assess {ws.trace}"  # ...on the scratch trace
    touch = steps["touch-outside"].practice
    assert touch is not None and touch.status == "shown"  # any other command is only shown
    assert (
        not (ws.root / "touched-by-drill").exists()
        and not (ws.repo.parent / "touched-by-drill").exists()
    )
    show = steps["show-commit"].practice
    assert show is not None and show.failed and "cannot be rendered" in show.lines[0]
    assert ("step_failed", "show-commit") in kinds


def test_practise_values_are_all_scratch_paths(tmp_path: Path) -> None:
    from agentir.drill_practice import PATH_VALUES, Practiser
    from agentir.incidents.store import IncidentStore
    from agentir.scenarios.build import build_workspace

    scenario = load_library()["force-push-leak"]
    ws = build_workspace(scenario, tmp_path / "ws")
    store = IncidentStore(ws.root / "home")
    runbook = load_runbooks()["SEV1"]
    incident = store.open(
        "drill", "SEV1", sessions=[ws.session_id], traces=[ws.trace], runbook=runbook
    )
    values = Practiser(ws, store, incident.id or "", runbook, tmp_path).values()
    assert set(PATH_VALUES) <= set(values)
    for key in PATH_VALUES:
        assert ws.contains(str(values[key])), (key, values[key])
    assert values["commit"] == ws.commits["agent-fix"]


def test_out_must_be_empty_and_speed_positive(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("x")
    with pytest.raises(UsageError, match="not an empty folder"):
        run("infinite-loop", "default: done\n", tmp_path)
    with pytest.raises(UsageError, match="--speed"):
        run("infinite-loop", "default: done\n", tmp_path / "b", speed=0)


def test_a_fixed_clock_names_the_run(tmp_path: Path) -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    outcome = run("infinite-loop", "default: done\n", tmp_path, clock=lambda: when)
    assert outcome.run_id == "20260102-030405-infinite-loop"
    assert outcome.context["drill"]["started_at"] == "2026-01-02T03:04:05Z"
    assert (
        "| `Agent infrastructure team` | `2026-02-01` |" in outcome.report.read_text()
    )  # +30 days


def test_default_folders_are_under_the_drill_log_and_never_shared(tmp_path: Path) -> None:
    from agentir.drill_log import drills_dir
    from agentir.drills import Answers, parse_answer

    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    scenario = load_library()["infinite-loop"]
    answers = ScriptedFacilitator(Answers(default=parse_answer("done")))
    first = drill(scenario, answers, clock=lambda: when)
    second = drill(scenario, answers, clock=lambda: when)
    base = drills_dir() / "20260102-030405-infinite-loop"
    assert first.report == base / "drill-report.md"
    assert second.report == base.with_name(base.name + "-2") / "drill-report.md"
    # the SEV3 runbook has no review step, so no review draft; the scratch workspace is gone
    assert [p.name for p in sorted(base.iterdir())] == ["drill-report.md", "drill.json"]


def test_answers_naming_steps_the_runbook_lacks_are_refused_with_lines(tmp_path: Path) -> None:
    text = "default: done\nsteps:\n  pause-agnet: done\ntiming:\n  kill-agent: 2\nactions:\n  notify-securty: done\n"
    with pytest.raises(UsageError) as info:
        run("force-push-leak", text, tmp_path)
    message = info.value.message
    answers = tmp_path / "answers.yaml"
    assert (
        f"{answers}:3: steps.pause-agnet: no such step in the runbook (did you mean 'pause-agent'?)"
        in message
    )
    assert f"{answers}:7: actions.notify-securty: no such expected action" in message
    assert "kill-agent" not in message
    assert not (tmp_path / "out").exists()  # refused before anything was built
