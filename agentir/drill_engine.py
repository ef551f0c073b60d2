"""The drill engine: a scenario walked through the real runbook of its severity, timed.

The engine builds the scenario's scratch workspace (repository, trace, a private incident store
with a drill incident, and for a kill-switch drill a running stand-in agent), then goes through
every phase and step of the runbook. A `Facilitator` answers each step (done, skip with a
reason, or gap with a note) and says how long it took; a done step is practised on the scratch
(`agentir.drill_practice`). The drill clock counts minutes since the start (the incident was
opened then), so a step finished after its deadline missed it. Injects are revealed when the
clock reaches their minute. A `DrillView` is told everything as it happens; the engine prints
nothing itself.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from agentir.drill_clock import Clock, Ticker
from agentir.drill_practice import Practice, Practiser
from agentir.drills import ActionItem, Answer, Answers
from agentir.runbook_schema import PHASES
from agentir.scenarios.build import Workspace
from agentir.scenarios.spec import ExpectedAction, Inject, Scenario

DEFAULT_STEP_MINUTES = 1.0


class Facilitator(Protocol):
    """Who answers the drill's questions: a person at a terminal or an answers file."""

    mode: str  # interactive | answers
    name: str

    def answer_step(self, step: Any, minute: float) -> tuple[Answer | None, float | None]:
        """The answer for a step (None: end the drill now) and the minutes it took (None:
        measured by the clock)."""

    def answer_action(self, action: ExpectedAction) -> Answer:
        """Whether the team took an expected action the runbook has no step for."""

    def hot_wash(self, index: int, question: str) -> str:
        """Notes for one discussion question."""

    def action_items(self) -> list[ActionItem]:
        """Action items the team agreed on."""


class DrillView(Protocol):
    """What the facilitator sees while the drill runs (all optional to act on)."""

    def event(self, kind: str, **data: Any) -> None:
        """briefing | phase | step | practice | result | inject | notice | hot_wash | done."""


class SilentView:
    """A view that shows nothing (tests, --json)."""

    def event(self, kind: str, **data: Any) -> None:
        """Ignore the event."""


@dataclass
class StepRecord:
    """One runbook step as the drill went."""

    phase: str
    id: str
    title: str
    kind: str
    owner: str | None
    contact: str | None
    deadline: float | None  # minutes from the start
    result: str  # done | skipped | gap | not reached
    note: str = ""
    at: float = 0.0  # drill minute when it was answered
    took: float = 0.0
    practice: Practice | None = None
    builtin: str | None = None

    @property
    def deadline_state(self) -> str:
        """met | missed | none (no deadline) | n/a (not done)."""
        if self.deadline is None:
            return "none"
        if self.result != "done":
            return "n/a"
        return "met" if self.at <= self.deadline + 1e-9 else "missed"


@dataclass
class ActionRecord:
    """An expected action of the scenario and whether the team took it."""

    phase: str
    id: str
    text: str
    in_runbook: bool
    taken: bool
    note: str = ""


@dataclass
class InjectRecord:
    """An inject and when it was revealed (None: the drill ended before its minute)."""

    inject: Inject
    shown_at: float | None = None
    before_step: str | None = None


@dataclass
class DrillResult:
    """Everything a drill run produced; the report and the log are made from it."""

    scenario: Scenario
    runbook: Any
    workspace: Workspace
    incident: str
    facilitator: str
    mode: str
    speed: float
    started_at: datetime
    finished_at: datetime | None = None
    steps: list[StepRecord] = field(default_factory=list)
    actions: list[ActionRecord] = field(default_factory=list)
    injects: list[InjectRecord] = field(default_factory=list)
    hot_wash: list[tuple[str, str]] = field(default_factory=list)
    action_items: list[ActionItem] = field(default_factory=list)
    ended_early: bool = False
    minutes: float = 0.0
    kill_switch: dict[str, Any] | None = None
    trace_arrived_at: float | None = None
    processes_left: list[int] = field(default_factory=list)
    participants: tuple[str, ...] = ()


@dataclass
class DrillSetup:
    """What a run needs: the scenario, the runbook, where to work, who answers, what shows."""

    scenario: Scenario
    runbook: Any
    out_dir: Path
    facilitator: Facilitator
    view: DrillView = field(default_factory=SilentView)
    speed: float = 1.0
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    participants: tuple[str, ...] = ()


def run_drill(setup: DrillSetup) -> DrillResult:
    """Run the whole drill; the stand-in agent (if any) is gone when this returns."""
    from agentir.incidents.store import IncidentStore
    from agentir.scenarios.build import build_workspace

    scenario, runbook, view = setup.scenario, setup.runbook, setup.view
    ws = build_workspace(scenario, setup.out_dir / "workspace")
    store = IncidentStore(ws.root / "home", clock=setup.clock)
    incident = store.open(
        f"Drill: {scenario.title}", scenario.severity, sessions=[ws.session_id], traces=[ws.trace],
        actor="agentir-drill", reason="tabletop drill", runbook=runbook,
    )  # fmt: skip
    result = DrillResult(
        scenario=scenario, runbook=runbook, workspace=ws, incident=incident.id or "",
        facilitator=setup.facilitator.name, mode=setup.facilitator.mode, speed=setup.speed,
        started_at=setup.clock(), injects=[InjectRecord(i) for i in scenario.injects],
        participants=setup.participants,
    )  # fmt: skip
    stand_in = None
    try:
        if scenario.kill_switch:
            from agentir.scenarios.standin import start_stand_in

            stand_in = start_stand_in(ws.session_id, ws.repo)
            result.kill_switch = {"pids": list(stand_in.pids), "stopped_at": None, "how": None}
        view.event("briefing", scenario=scenario, runbook=runbook, workspace=ws,
                   incident=result.incident, stand_in=stand_in.pids if stand_in else None)  # fmt: skip
        _walk(setup, result, store, stand_in)
        _hot_wash(setup, result)
    finally:
        if stand_in is not None:
            result.processes_left = stand_in.stop()
    result.finished_at = setup.clock()
    return result


def _walk(setup: DrillSetup, result: DrillResult, store: Any, stand_in: Any) -> None:
    scenario, view = setup.scenario, setup.view
    clock = Clock(scripted=setup.facilitator.mode == "answers", speed=setup.speed)
    ticker = Ticker(scenario, result, clock, view)
    ticker.start()
    try:
        _phases(setup, result, store, stand_in, clock, ticker)
    finally:
        ticker.stop()
    ticker.step = None
    ticker.tick()
    result.minutes = round(clock.minute(), 2)


def _phases(
    setup: DrillSetup, result: DrillResult, store: Any, stand_in: Any, clock: Clock, ticker: Ticker
) -> None:
    scenario, runbook, view = setup.scenario, setup.runbook, setup.view
    practiser = Practiser(result.workspace, store, result.incident, runbook, setup.out_dir)
    step_ids = {s.id for s in runbook.steps()}
    ended = False
    for phase in PHASES:
        steps = runbook.steps(phase)
        named = [a for a in scenario.expected_in(phase) if a.id not in step_ids]
        if not steps and not named:
            continue
        view.event("phase", phase=phase, steps=steps, deadline=runbook.phase_deadlines().get(phase))
        for step in steps:
            if ended:
                result.steps.append(
                    _record(step, runbook, "not reached", "the drill ended early", clock.minute())
                )
                continue
            ticker.step = step.id
            ticker.tick()
            contact = _contact(runbook, step.owner)
            view.event("step", step=step, contact=contact, minute=clock.minute(),
                       deadline=_minutes(step.deadline), expected=_is_expected(scenario, step.id))  # fmt: skip
            before = clock.minute()
            answer, took = setup.facilitator.answer_step(step, before)
            if answer is None:
                ended = result.ended_early = True
                result.steps.append(
                    _record(step, runbook, "not reached", "the drill ended early", before)
                )
                continue
            if took is not None:
                clock.advance(took)
            record = _record(step, runbook, _RESULT[answer.result], answer.note, clock.minute())
            record.took = round(took if took is not None else clock.minute() - before, 2)
            if answer.result == "done":
                record.practice = practiser.practise(step)
                view.event("practice", step=step, practice=record.practice)
                _kill_switch(result, step, stand_in, record)
            result.steps.append(record)
            view.event("result", record=record)
        for action in named:
            answer = (
                setup.facilitator.answer_action(action)
                if not ended
                else Answer("gap", "the drill ended early")
            )
            result.actions.append(
                ActionRecord(
                    phase, action.id, action.text, False, answer.result == "done", answer.note
                )
            )
            view.event("action", action=result.actions[-1])
        if (
            phase == "contain"
            and stand_in is not None
            and not stand_in.stopped()
            and stand_in.alive()
        ):
            view.event("notice", text="the stand-in agent is still running after the contain phase")
    for action in scenario.expected:
        if action.id in step_ids:
            record = next(r for r in result.steps if r.id == action.id)
            result.actions.append(ActionRecord(action.phase, action.id, action.text or record.title, True,
                                               record.result == "done", record.note))  # fmt: skip
    result.actions.sort(key=lambda a: PHASES.index(a.phase))


_RESULT = {"done": "done", "skip": "skipped", "gap": "gap"}


def _minutes(deadline: Any) -> float | None:
    return deadline.total_seconds() / 60.0 if deadline is not None else None


def _is_expected(scenario: Scenario, step_id: str) -> bool:
    return any(a.id == step_id for a in scenario.expected)


def _contact(runbook: Any, role: str | None) -> str | None:
    if role is None:
        return None
    found = runbook.contact(role)
    return "; ".join(f"{c.name} ({c.reach})" for c in found) or None


def _record(step: Any, runbook: Any, result: str, note: str, minute: float) -> StepRecord:
    return StepRecord(
        phase=step.phase, id=step.id, title=step.title, kind=step.kind, owner=step.owner,
        contact=_contact(runbook, step.owner), deadline=_minutes(step.deadline), result=result,
        note=note, at=round(minute, 2), builtin=step.builtin,
    )  # fmt: skip


def _kill_switch(result: DrillResult, step: Any, stand_in: Any, record: StepRecord) -> None:
    if (
        stand_in is None
        or result.kill_switch is None
        or step.builtin not in ("contain.pause", "contain.kill")
    ):
        return
    alive, stopped = stand_in.alive(), stand_in.stopped()
    contained = not alive or sorted(stopped) == sorted(alive)
    if contained and result.kill_switch["stopped_at"] is None:
        result.kill_switch["stopped_at"] = record.at
        result.kill_switch["how"] = "killed" if not alive else "paused"
        result.kill_switch["step"] = step.id


def _hot_wash(setup: DrillSetup, result: DrillResult) -> None:
    setup.view.event("hot_wash", questions=setup.scenario.questions)
    for index, question in enumerate(setup.scenario.questions):
        result.hot_wash.append((question, setup.facilitator.hot_wash(index, question).strip()))
    result.action_items = list(setup.facilitator.action_items())


class ScriptedFacilitator:
    """Answers from an answers file: deterministic, for tests and CI practice."""

    mode = "answers"

    def __init__(self, answers: Answers) -> None:
        self.answers = answers
        self.name = answers.facilitator or "answers file"

    def answer_step(self, step: Any, minute: float) -> tuple[Answer | None, float | None]:
        """The file's answer (or its default, or a gap) and its minutes (default 1)."""
        answer = self.answers.steps.get(step.id) or self.answers.default
        if answer is None:
            answer = Answer("gap", "no answer for this step in the answers file")
        return answer, self.answers.timing.get(step.id, DEFAULT_STEP_MINUTES)

    def answer_action(self, action: ExpectedAction) -> Answer:
        """The file's answer for a named action (or its default, or a gap)."""
        answer = self.answers.actions.get(action.id) or self.answers.default
        return answer or Answer("gap", "no answer for this action in the answers file")

    def hot_wash(self, index: int, question: str) -> str:
        """The notes for question `index` (0-based)."""
        return self.answers.hot_wash.get(index, "")

    def action_items(self) -> list[ActionItem]:
        """The action items listed in the file."""
        return list(self.answers.action_items)


def remove_workspace(root: Path) -> None:
    """Delete a drill's scratch workspace folder (after the stand-in is gone)."""
    if root.name == "workspace" and root.is_dir():
        shutil.rmtree(root, ignore_errors=True)
