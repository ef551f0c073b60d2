"""`agentir watch`: follow a live trace, and on a kill-switch trigger pause the agent.

Every new line of the trace (followed across rotation and truncation, waited for when it does
not exist yet) becomes events, folded with the detectors exactly as `agentir assess` does.
After each event the kill switch is checked against the policy:

- each tool call, as soon as the trace shows it: the paths it writes, the tool, command and
  hosts it uses, its external effects (`agentir.guard.rules`, the guard's own judgement);
- the spend after each model call (over `budget.usd` / `budget.tokens`);
- the detectors' live findings (loops, failures, cost spiral, context, ...), read from each
  detector's `found` as they appear.

On a trigger at or above the kill switch's severity: the agent's processes are paused
(SIGSTOP, or killed with `--kill`) with the containment code of `agentir contain`, found by
session id, the trace file held open, `--pid` and `--cwd`; an incident is opened for the
session (or its open one joined) whose first entry after opening is the finding; the
containment is recorded on it; the alerts go out; the trace is preserved as evidence.
By default the watch then ends; `keep_watching` goes on (a resumed agent is judged again).
A trace that already holds a trigger when the watch starts fires at once (the session has
already broken the policy), unless `new_only`: then the history is judged (loop counts and
spend need it) and its triggers only reported.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentir.guard.rules import Trigger, firing, judge_budget, judge_call
from agentir.live_events import LiveEvents
from agentir.model import Event, ModelCall, SessionInfo, ToolCall
from agentir.policy import Policy
from agentir.tail import LineFollower

# detector name -> kill-switch trigger for findings read live from `Detector.found`
LIVE_DETECTORS = {
    "loop": "loop",
    "cost": "cost",
    "failures": "failures",
    "context": "context",
    "hallucination": "hallucination",
    "stops": "stops",
}


@dataclass(frozen=True)
class WatchOptions:
    """What `agentir watch` was asked to do."""

    trace: Path
    policy: Policy
    fmt: str | None = None
    kill: bool = False
    session: str | None = None  # overrides the trace's session id (process search, incident)
    pids: tuple[int, ...] = ()
    cwd: Path | None = None
    poll: float = 0.25
    once: bool = False
    keep_watching: bool = False
    new_only: bool = False  # triggers already in the trace when the watch starts are not acted on
    grace: float = 5.0
    alerts: Any = None  # AlertConfig; None: no alerts


@dataclass
class Fired:
    """One trigger acted on: what fired, what was done, where it is recorded."""

    trigger: Trigger
    session: str | None
    event_seq: int
    line: int | None
    detected_at: float  # time.time() when the event was judged
    contained_at: float | None = None
    mode: str = "pause"
    targets: int = 0
    contained: bool = False
    summary: str = ""
    incident: str | None = None
    opened: bool = False
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_data(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        from agentir.guard.record import finding_data

        return {
            "trigger": self.trigger.trigger,
            "finding": finding_data(self.trigger.finding),
            "session": self.session,
            "event_seq": self.event_seq,
            "line": self.line,
            "mode": self.mode,
            "targets": self.targets,
            "contained": self.contained,
            "summary": self.summary,
            "incident": self.incident,
            "opened": self.opened,
            "alerts": self.deliveries,
            "notes": self.notes,
            "seconds_to_contain": (
                round(self.contained_at - self.detected_at, 3) if self.contained_at else None
            ),
        }


@dataclass
class _Session:
    fold: Any
    root: str | None = None
    seen: set[tuple[str, int]] = field(default_factory=set)  # (detector, finding id) acted on
    fired_keys: set[str] = field(default_factory=set)


Say = Callable[[str], None]


class Watcher:
    """Follows one trace and acts on triggers; `poll_once` is one round, `run` the loop."""

    def __init__(self, options: WatchOptions, say: Say | None = None) -> None:
        self.options = options
        self.say = say or (lambda _text: None)
        self.follower = LineFollower(options.trace)
        self.events = LiveEvents(options.trace, options.fmt)
        self.sessions: dict[str, _Session] = {}
        self.fired: list[Fired] = []
        self.events_seen = 0
        self.busy = False  # acting on a trigger: Ctrl-C waits until the record is complete
        self.started = False  # the trace as it was when the watch began has been read

    # ------------------------------------------------------------------ the loop

    def run(self, stop: Callable[[], bool] = lambda: False) -> list[Fired]:
        """Poll until a trigger is contained (unless keep_watching), `once`, or `stop()`."""
        try:
            while True:
                fired = self.poll_once()
                if fired and not self.options.keep_watching:
                    return self.fired
                if self.options.once or stop():
                    return self.fired
                time.sleep(self.options.poll)
        finally:
            self.follower.close()

    def poll_once(self) -> list[Fired]:
        """Read what is new, judge it, act on triggers; the triggers acted on this round."""
        batch = self.follower.poll()
        if batch.note:
            self.say(batch.note)
        if batch.reset:
            self.say(f"{self.options.trace} was {batch.reset}: reading it from the start")
            self.events.reset()
            self.sessions.clear()
        acted: list[Fired] = []
        history = self.options.new_only and not self.started
        for event in self.events.feed(batch.lines):
            self.events_seen += 1
            for trigger in self._judge(event):
                if history:  # already in the trace when the watch began: told, not acted on
                    self.say(f"in the trace before the watch: {trigger.finding.message}")
                    continue
                acted.append(self._act(trigger, event))
                if not self.options.keep_watching:
                    return acted
        self.started = True
        return acted

    # ------------------------------------------------------------------ judging

    def _session(self, event: Event) -> _Session:
        state = self.sessions.get(event.session_id)
        if state is None:
            from agentir.analysis.detectors import default_observers
            from agentir.analysis.fold import SessionFold

            fmt = self.events.format or "?"
            fold = SessionFold(
                event.session_id,
                event.agent,
                fmt,
                str(self.options.trace),
                default_observers(self.options.policy),
            )
            state = self.sessions[event.session_id] = _Session(fold)
        return state

    def _judge(self, event: Event) -> list[Trigger]:
        """Fold one event; the new triggers that fire (each acted on once)."""
        state = self._session(event)
        fold = state.fold
        fold.feed(event)
        if isinstance(event, SessionInfo) and event.cwd and state.root is None:
            state.root = event.cwd
        policy = self.options.policy
        found: list[Trigger] = []
        if isinstance(event, ToolCall):
            found += judge_call(policy, event, fold.cwd, state.root or fold.cwd)
        if isinstance(event, ModelCall):
            t = fold.tokens
            used = t["input"] + t["output"] + t["cache_write"]
            found += judge_budget(
                policy, fold.cost_so_far, used, seq=event.seq, source=str(event.source)
            )
        for observer in fold.observers:
            trigger_name = LIVE_DETECTORS.get(getattr(observer, "name", ""))
            if trigger_name is None:
                continue
            for index, finding in list(observer.found.items()):
                if (observer.name, index) not in state.seen:
                    found.append(Trigger(trigger_name, finding))
        fresh: list[Trigger] = []
        for trigger in firing(policy, found):
            key = self._key(trigger, event)
            if key in state.fired_keys:
                continue
            state.fired_keys.add(key)
            index = self._finding_index(state, trigger)
            if index is not None:
                state.seen.add(index)
            fresh.append(trigger)
        return fresh

    @staticmethod
    def _key(trigger: Trigger, event: Event) -> str:
        f = trigger.finding
        rule = f.data.get("rule") or f.data.get("pattern") or ""
        if trigger.trigger == "budget":
            return f"budget:{rule}"  # crossing the budget fires once
        where = f.seqs[0] if f.seqs else event.seq
        return f"{trigger.trigger}:{f.detector}:{rule}:{where}"

    @staticmethod
    def _finding_index(state: _Session, trigger: Trigger) -> tuple[str, int] | None:
        for observer in state.fold.observers:
            for index, finding in observer.found.items():
                if finding is trigger.finding:
                    return (observer.name, index)
        return None

    # ------------------------------------------------------------------ acting

    def _act(self, trigger: Trigger, event: Event) -> Fired:
        """Contain, record, alert: in that order (the pause must not wait for paperwork)."""
        self.busy = True
        try:
            return self._act_now(trigger, event)
        finally:
            self.busy = False

    def _act_now(self, trigger: Trigger, event: Event) -> Fired:
        from agentir.incidents.lifecycle import current_actor
        from agentir.incidents.store import IncidentStore

        opts = self.options
        session = opts.session or event.session_id
        line = getattr(event.source, "line", None)
        fired = Fired(
            trigger, session, event.seq, line, time.time(), mode="kill" if opts.kill else "pause"
        )
        self.say(
            f"kill switch: {trigger.trigger}: {trigger.finding.message} "
            f"({trigger.finding.detector}, {trigger.finding.severity}) at line {line}"
        )
        plan, result = self._contain(session, fired)
        store = IncidentStore()
        actor = current_actor()
        action = "killed" if opts.kill else "paused"
        if plan is None or not plan.targets:
            action = "found no process to stop"
        fired.incident, fired.opened = _record(store, trigger, session, opts, action, fired, actor)
        if plan is not None and plan.targets and result is not None:
            from agentir.actions.contain_steps import (
                mark_contained,
                record_containment,
                record_plan,
            )

            record_plan(store, fired.incident, plan, step=None, actor=actor)
            record_containment(store, fired.incident, plan, result, step=None, actor=actor)
            if result.ok:
                mark_contained(store, fired.incident, result, actor)
        fired.deliveries = self._alert(store, trigger, session, fired, action, actor)
        try:
            store.add_evidence(fired.incident, opts.trace, actor=actor)
        except Exception as exc:  # the trace may be gone (rotated away): say so, go on
            fired.notes.append(f"trace not preserved as evidence: {exc}")
        self.fired.append(fired)
        return fired

    def _contain(self, session: str | None, fired: Fired) -> tuple[Any, Any]:
        from agentir.actions.process_tree import MIN_SESSION_ID_LEN
        from agentir.actions.processes import (
            SessionSelector,
            apply_containment,
            find_session_processes,
            plan_containment,
        )

        opts = self.options
        usable = session if session and len(session) >= MIN_SESSION_ID_LEN else None
        try:
            pids = tuple(dict.fromkeys((*opts.pids, *trace_writers(opts.trace))))
            if not (usable or pids or opts.cwd):
                fired.summary = "nothing identifies the agent's processes (give --pid or --cwd)"
                fired.notes.append(fired.summary)
                return None, None
            selector = SessionSelector(session_id=usable, pids=pids, cwd=opts.cwd)
            match = find_session_processes(selector)
            plan = plan_containment(match, "kill" if opts.kill else "pause", opts.grace)
        except Exception as exc:
            fired.notes.append(f"could not look for the agent's processes: {exc}")
            return None, None
        fired.targets = len(plan.targets)
        if not plan.targets:
            fired.summary = "no running process of the session was found (name it with --pid)"
            fired.notes.append(fired.summary)
            self.say(fired.summary)
            return plan, None
        result = apply_containment(plan)
        fired.contained_at = time.time()
        fired.contained = result.ok
        fired.summary = result.verification.summary
        self.say(f"{'killed' if opts.kill else 'paused'}: {fired.summary}")
        return plan, result

    def _alert(
        self,
        store: Any,
        trigger: Trigger,
        session: str | None,
        fired: Fired,
        action: str,
        actor: str,
    ) -> list[dict[str, Any]]:
        from agentir.guard.record import trigger_alert

        if self.options.alerts is None or not self.options.alerts.configured:
            return []
        did = f"{action} the agent" if fired.targets else "fired but found no process to stop"
        text = (
            f"agentir watch {did} (session {session}): {trigger.finding.message} "
            f"[{trigger.finding.detector}, {trigger.finding.severity}]; incident {fired.incident}"
        )
        sent = trigger_alert(
            store,
            fired.incident,
            trigger,
            source="watch",
            action=action,
            session_id=session,
            trace=str(self.options.trace),
            text=text,
            config=self.options.alerts,
            actor=actor,
        )
        for d in sent:
            self.say(f"alert via {d.channel} ({d.target}): {'sent' if d.ok else d.error}")
        return [d.record() for d in sent]


def _record(
    store: Any,
    trigger: Trigger,
    session: str | None,
    opts: WatchOptions,
    action: str,
    fired: Fired,
    actor: str,
) -> tuple[str, bool]:
    from agentir.guard.record import record_trigger

    return record_trigger(
        store,
        trigger,
        session_id=session,
        trace=str(opts.trace),
        source="watch",
        action=action,
        details={
            "line": fired.line,
            "event_seq": fired.event_seq,
            "mode": fired.mode,
            "processes": fired.targets,
            "contained": fired.contained,
            "summary": fired.summary,
        },
        actor=actor,
    )


def trace_writers(trace: Path) -> tuple[int, ...]:
    """Processes (other than this one) holding the trace open for writing: the agent.

    A process that has it open only for reading (a `tail -f`, another watch, a pager) is an
    observer and is never paused; that is why the trace is not given to the process search
    as a rule of its own, which would match readers too, in the re-scans as well."""
    import psutil

    wanted = os.path.realpath(trace)
    me = os.getpid()
    found: list[int] = []
    for proc in psutil.process_iter(["pid"]):
        if proc.pid == me:
            continue
        try:
            files = proc.open_files()
        except (psutil.Error, OSError):
            continue
        if any(f.mode != "r" and os.path.realpath(f.path) == wanted for f in files):
            found.append(proc.pid)
    return tuple(found)


def warm_up() -> None:
    """Import what acting on a trigger needs now, so the pause does not wait for imports."""
    import psutil  # noqa: F401

    import agentir.actions.contain_steps
    import agentir.actions.processes
    import agentir.incidents.store  # noqa: F401
