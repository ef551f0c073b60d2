"""`agentir respond`: walk an incident's runbook, phase by phase, every answer recorded.

A step's state comes from the timeline: the latest entry whose details name the step
(`step`) with a `result` (done | skipped | failed | declined | later | not_run). Steps done
or skipped are finished; the current phase is the first phase, from the one the incident's
status points at, that still has an unfinished step. Deadlines count from incident open:
due = opened_at + step.deadline, judged met / missed when the step was recorded, else
overdue / pending with the time left.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from agentir.actions.builtins import StepRun, run_builtin
from agentir.actions.contain_steps import record_escalation
from agentir.actions.steps import PlannedCommand, incident_values, plan_command, run_command
from agentir.errors import UsageError
from agentir.incidents.records import Incident, parse_iso
from agentir.incidents.timeline import TimelineEntry
from agentir.runbook_schema import PHASES

PHASE_FOR_STATUS = {
    "open": "contain",
    "contained": "assess",
    "remediated": "learn",
    "reviewed": "learn",
}
FINISHED = ("done", "skipped")
ACTIONS = ("done", "skip", "run", "later", "quit")


@dataclass(frozen=True)
class Answer:
    """A responder's answer for one step: done, skip (with a reason), run, later or quit."""

    action: str
    reason: str = ""


@dataclass(frozen=True)
class StepState:
    """A runbook step as it stands on this incident."""

    step: Any
    due: datetime | None
    deadline_state: str  # met | missed | overdue | pending | none
    seconds_left: int | None
    result: str | None
    at: datetime | None

    @property
    def finished(self) -> bool:
        """Done or skipped."""
        return self.result in FINISHED


@dataclass(frozen=True)
class WalkRecord:
    """What the walk did with one step."""

    step: str
    result: str  # done | skipped | failed | later | declined
    lines: tuple[str, ...] = ()
    on_failure: str = "stop"

    @property
    def must_not_fail(self) -> bool:
        """Failed, and the runbook does not say to carry on regardless."""
        return self.result == "failed" and self.on_failure != "continue"


def parse_answer(text: Any) -> Answer:
    """`done`, `skip:<reason>`, `run`, `later` (or `quit`); a skip needs its reason."""
    value = str(text).strip()
    action, _, reason = value.partition(":")
    action = action.strip().lower()
    if action not in ACTIONS:
        raise UsageError(f"unknown answer {value!r}", hint="done, skip:<reason>, run or later")
    if action == "skip" and not reason.strip():
        raise UsageError("a skipped step needs a reason", hint="write skip:<why>")
    return Answer(action, reason.strip())


def load_answers(path: Path, runbook: Any) -> dict[str, Answer]:
    """A YAML or JSON mapping of step id to answer, checked against the runbook."""
    from agentir.config import load_yaml

    data = load_yaml(path).data
    if not isinstance(data, dict):
        raise UsageError(f"{path} is not a mapping of step id to answer", hint="step-id: done")
    known = {s.id: s for s in runbook.steps()}
    answers: dict[str, Answer] = {}
    for key, value in data.items():
        step = known.get(str(key))
        if step is None:
            raise UsageError(
                f"{path}: the {runbook.severity} runbook has no step {key!r}",
                hint=f"its steps: {', '.join(known)}",
            )
        answer = parse_answer(value)
        if answer.action == "run" and step.kind == "manual":
            raise UsageError(f"{path}: step {key} is manual; answer done or skip:<reason>")
        answers[str(key)] = answer
    return answers


def step_results(entries: Iterable[TimelineEntry]) -> dict[str, tuple[str, datetime | None]]:
    """The latest recorded result (and when) of every step named on the timeline."""
    out: dict[str, tuple[str, datetime | None]] = {}
    for entry in entries:
        details = entry.details if isinstance(entry.details, dict) else {}
        step, result = details.get("step"), details.get("result")
        if isinstance(step, str) and isinstance(result, str):
            out[step] = (result, parse_iso(entry.time))
    return out


def step_states(
    incident: Incident, runbook: Any, entries: Iterable[TimelineEntry], now: datetime
) -> list[StepState]:
    """Every step of the runbook with its deadline and recorded result, in runbook order."""
    results = step_results(entries)
    states = []
    for step in runbook.steps():
        result, at = results.get(step.id, (None, None))
        due = incident.opened_at + step.deadline if step.deadline and incident.opened_at else None
        if due is None:
            state, left = "none", None
        elif result in FINISHED and at is not None:
            state, left = ("met" if at <= due else "missed"), int((due - at).total_seconds())
        else:
            state = "overdue" if now > due else "pending"
            left = int((due - now).total_seconds())
        states.append(StepState(step, due, state, left, result, at))
    return states


def current_phase(incident: Incident, states: list[StepState]) -> str | None:
    """The first phase (from the status's own) with an unfinished step; None when all done."""
    start = PHASE_FOR_STATUS.get(incident.status)
    if start is None:
        return None
    for phase in PHASES[PHASES.index(start) :]:
        if any(s.step.phase == phase and not s.finished for s in states):
            return phase
    return None


def walk(
    store: Any,
    ref: str,
    runbook: Any,
    *,
    ask: Callable[[StepState, PlannedCommand | None], Answer],
    confirm: Callable[[PlannedCommand], bool],
    say: Callable[[str], None],
    actor: str | None = None,
) -> list[WalkRecord]:
    """Walk every unfinished step from the current phase on, asking for each what to do."""
    incident = store.get(ref)
    states = step_states(incident, runbook, store.timeline(ref), store.now())
    phase = current_phase(incident, states)
    if phase is None:
        return []
    records: list[WalkRecord] = []
    todo = [s for s in states if PHASES.index(s.step.phase) >= PHASES.index(phase)]
    for state in todo:
        if state.finished:
            continue
        step = state.step
        planned = (
            planned_command(store, ref, runbook, step, actor) if step.kind == "command" else None
        )
        answer = ask(state, planned)
        if answer.action == "quit":
            break
        record = replace(
            _act(store, ref, runbook, state, answer, planned, confirm, actor),
            on_failure=step.on_failure,
        )
        records.append(record)
        for line in record.lines:
            say(line)
        if record.result == "failed":
            if step.on_failure == "stop":
                say(f"{step.id} failed and its on_failure is stop: the walk ends here")
                break
            if step.on_failure == "escalate":
                record_escalation(store, ref, runbook, step.id, "; ".join(record.lines[-1:]), actor)
                for contact in runbook.contact("escalation"):
                    say(f"escalate: {contact.name} - {contact.reach}")
    return records


def planned_command(
    store: Any, ref: str, runbook: Any, step: Any, actor: str | None = None
) -> PlannedCommand:
    """A command step rendered with the incident's values."""
    return plan_command(runbook, step, incident_values(store, ref, actor))


def _act(
    store: Any,
    ref: str,
    runbook: Any,
    state: StepState,
    answer: Answer,
    planned: PlannedCommand | None,
    confirm: Callable[[PlannedCommand], bool],
    actor: str | None,
) -> WalkRecord:
    step = state.step
    base: dict[str, Any] = {"step": step.id, "phase": step.phase, "kind": step.kind}
    if answer.action == "later":
        store.append(ref, "respond.step.later", {**base, "result": "later"}, actor)
        return WalkRecord(step.id, "later", (f"{step.id}: left for later",))
    if answer.action == "skip":
        store.append(
            ref,
            "respond.step.skipped",
            {**base, "result": "skipped", "reason": answer.reason},
            actor,
        )
        return WalkRecord(step.id, "skipped", (f"{step.id}: skipped ({answer.reason})",))
    if answer.action == "done" or step.kind == "manual":
        details = {**base, "result": "done", "by_hand": step.kind != "manual"}
        _record(store, ref, "respond.step.done", details, step, actor)
        return WalkRecord(step.id, "done", (f"{step.id}: done",))
    if step.kind == "command" and planned is not None:
        outcome = run_command(planned)
        details = {**base, **outcome.record()}
        action = "respond.step.done" if outcome.ok else "respond.step.failed"
        _record(store, ref, action, details, step, actor)
        lines = [f"{step.id}: {outcome.status}" + (f" ({outcome.error})" if outcome.error else "")]
        lines += [f"  | {line}" for line in outcome.output.splitlines()[-5:]]
        return WalkRecord(step.id, outcome.status, tuple(lines))
    done = frozenset(k for k, (r, _) in step_results(store.timeline(ref)).items() if r == "done")
    run: StepRun = run_builtin(
        store, ref, runbook, step, confirm=confirm, actor=actor, done_steps=done
    )
    action = {"done": "respond.step.done", "failed": "respond.step.failed"}.get(
        run.result, "respond.step.later"
    )
    _record(
        store,
        ref,
        action,
        {**base, "result": run.result, "builtin": step.builtin, **run.details},
        step,
        actor,
    )
    return WalkRecord(step.id, run.result, tuple(f"{step.id}: {line}" for line in run.lines))


def _record(
    store: Any, ref: str, action: str, details: dict[str, Any], step: Any, actor: str | None
) -> None:
    from agentir.actions.contain_steps import deadline_now

    store.append(ref, action, {**details, "deadline": deadline_now(store, ref, step)}, actor)
