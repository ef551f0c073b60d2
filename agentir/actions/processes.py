"""Contain an agent session's processes: plan, then pause / kill, then prove it; and resume.

Every signal goes through a pid-reuse guard: a target is signalled only while the process
at its pid still has the start time recorded when it was found. On Linux the check is
race-free: a pidfd is opened first, the start time read second, and the signal sent through
the pidfd, so it can only reach the process that was checked. Elsewhere `os.kill` follows
the check (a window of microseconds).

Pause (SIGSTOP) goes parents before children: a stopped parent cannot respawn a child or
start a new one, so each stop shrinks what can still change. Kill is, in order:

1. freeze - SIGSTOP everything, parents first, and re-scan until no new process appears.
   A frozen tree cannot fork, so the set to kill is fixed before anything dies (a dying
   child would otherwise wake a supervisor that restarts it).
2. SIGTERM every target while frozen (a default-action TERM ends a stopped process at
   once), then SIGCONT them leaves first, so processes that handle TERM run their handler
   and exit cleanly; children are resumed before their parents, so a parent's handler sees
   its children already winding down instead of still frozen.
3. wait up to `grace` seconds (psutil.wait_procs); zombies count as gone.
4. survivors (TERM ignored or handler stuck) are frozen again - with any children they
   started during the grace period - and SIGKILLed.
5. re-scan with the same selector (plus the planned identities and the agent's process
   groups / sessions) and SIGKILL anything of the session still alive, a few rounds, then
   verify that nothing is left.

Resume (SIGCONT) goes leaves first, the reverse of pause: by the time a parent runs again
its workers are running too, so an agent's tool-call supervision sees its tools progressing
rather than frozen, and a parent never acts on the stopped state of a child.
"""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Literal, Protocol

from agentir.actions.process_signals import (
    RESCAN_ROUNDS,
    SETTLE_SECONDS,
    Containment,
    Outcome,
    TargetOutcome,
    send,
    settle_status,
)
from agentir.actions.process_tree import (
    AGENT_NAMES,
    ExcludedProcess,
    MatchedProcess,
    ProcessMatch,
    SessionSelector,
    find_session_processes,
    tree_order,
)
from agentir.errors import UsageError

__all__ = [
    "AGENT_NAMES",
    "ContainmentMode",
    "ContainmentPlan",
    "ContainmentResult",
    "ExcludedProcess",
    "MatchedProcess",
    "Outcome",
    "ProcessIdentity",
    "ProcessMatch",
    "ProcessRef",
    "ResumeResult",
    "SessionSelector",
    "TargetOutcome",
    "Verification",
    "apply_containment",
    "find_session_processes",
    "plan_containment",
    "resume",
]

ContainmentMode = Literal["pause", "kill"]
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class ProcessRef(Protocol):
    """Anything naming one process by its identity."""

    @property
    def pid(self) -> int: ...
    @property
    def create_time(self) -> float: ...


@dataclass(frozen=True)
class ProcessIdentity:
    """A process by pid and start time, e.g. as recorded on an incident's timeline."""

    pid: int
    create_time: float


@dataclass(frozen=True)
class ContainmentPlan:
    """The processes to signal, in signalling order, and what will be left alone."""

    mode: ContainmentMode
    grace: float
    selector: SessionSelector
    targets: tuple[MatchedProcess, ...]
    not_touched: tuple[ExcludedProcess, ...]
    process_groups: tuple[int, ...]
    sessions: tuple[int, ...]
    steps: tuple[str, ...]

    def __str__(self) -> str:
        lines = [f"{self.mode} {len(self.targets)} process(es):"]
        lines += [f"  {_describe(t)}" for t in self.targets]
        lines += [f"  not touched: {x.pid} {_clean(x.name)} ({x.reason})" for x in self.not_touched]
        lines += [f"  step {i}: {step}" for i, step in enumerate(self.steps, 1)]
        return "\n".join(lines)


@dataclass(frozen=True)
class Verification:
    """The closing re-scan: what of the session still runs (kill) or is not stopped (pause)."""

    ok: bool
    rounds: int
    remaining: tuple[MatchedProcess, ...]
    summary: str
    checked_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


@dataclass(frozen=True)
class ContainmentResult:
    """Per-process outcomes of applying a plan, and the verification."""

    mode: ContainmentMode
    outcomes: tuple[TargetOutcome, ...]
    verification: Verification
    started_at: datetime
    duration_s: float

    @property
    def ok(self) -> bool:
        """Whether the verification proved the session contained."""
        return self.verification.ok

    def __str__(self) -> str:
        lines = [
            f"{o.pid} {_clean(o.name)}: {o.outcome.value} {o.detail}".rstrip()
            for o in self.outcomes
        ]
        lines.append(self.verification.summary)
        lines += [f"  still there: {_describe(p)}" for p in self.verification.remaining]
        return "\n".join(lines)


@dataclass(frozen=True)
class ResumeResult:
    """Per-process outcomes of a resume, and the pids still stopped afterwards."""

    outcomes: tuple[TargetOutcome, ...]
    still_stopped: tuple[int, ...]

    @property
    def ok(self) -> bool:
        """Whether every resumable process runs again."""
        return not self.still_stopped and all(
            o.outcome in (Outcome.RESUMED, Outcome.ALREADY_GONE, Outcome.PID_REUSED)
            for o in self.outcomes
        )


def plan_containment(
    match: ProcessMatch, mode: ContainmentMode = "pause", grace: float = 5.0
) -> ContainmentPlan:
    """The containment plan for `match`: targets in signalling order, steps, exclusions."""
    if mode not in ("pause", "kill"):
        raise UsageError(f"unknown containment mode {mode!r}", hint="use pause or kill")
    if grace < 0:
        raise UsageError("the grace period cannot be negative")
    targets = tuple(p for p in match.processes if p.status != "zombie")
    zombies = tuple(
        ExcludedProcess(p.pid, p.name, "already exited (zombie)")
        for p in match.processes
        if p.status == "zombie"
    )
    n = len(targets)
    steps: tuple[str, ...]
    if mode == "pause":
        steps = (
            f"SIGSTOP the {n} process(es), parents before children, each only if its start "
            "time is unchanged (pid reuse)",
            f"re-scan up to {RESCAN_ROUNDS} times and SIGSTOP any process of the session "
            "started meanwhile",
            "verify every process of the session is stopped",
        )
    else:
        steps = (
            f"SIGSTOP the {n} process(es), parents first, and re-scan until nothing new "
            "appears (a frozen tree cannot fork or respawn)",
            "SIGTERM each, then SIGCONT them leaves first so they can handle SIGTERM",
            f"wait up to {grace:g}s for them to exit (zombies count as gone)",
            "SIGSTOP, then SIGKILL every survivor and anything it started",
            f"re-scan up to {RESCAN_ROUNDS} times and SIGKILL anything of the session left",
            "verify no process of the session is alive",
        )
    return ContainmentPlan(
        mode=mode,
        grace=grace,
        selector=match.selector,
        targets=targets,
        not_touched=match.excluded + zombies,
        process_groups=match.process_groups,
        sessions=match.sessions,
        steps=steps,
    )


def apply_containment(plan: ContainmentPlan) -> ContainmentResult:
    """Carry out `plan`, re-scan, and prove the session is stopped (pause) or gone (kill)."""
    started = datetime.now(timezone.utc)
    clock = time.monotonic()
    run = Containment(plan.selector, plan.process_groups, plan.sessions)
    if plan.mode == "pause":
        rounds, remaining = run.pause(plan.targets)
    else:
        rounds, remaining = run.kill(plan.targets, plan.grace)
    outcomes = run.outcomes()
    paused = sum(o.outcome is Outcome.PAUSED for o in outcomes)
    if remaining:
        state = "not stopped" if plan.mode == "pause" else "still alive"
        summary = f"{len(remaining)} process(es) of the session are {state}"
    elif plan.mode == "pause" and paused:
        summary = f"all {paused} process(es) of the session are stopped"
    else:
        summary = "no process of the session is alive"
    return ContainmentResult(
        mode=plan.mode,
        outcomes=outcomes,
        verification=Verification(not remaining, rounds, tuple(remaining), summary),
        started_at=started,
        duration_s=round(time.monotonic() - clock, 3),
    )


def resume(
    targets: ProcessMatch | ContainmentPlan | ContainmentResult | Iterable[int | ProcessRef],
) -> ResumeResult:
    """SIGCONT the given processes, leaves first, each only if its start time is unchanged."""
    import psutil

    refs = _refs(targets)
    ppid_of: dict[int, int] = {}
    for pid in refs:
        try:
            ppid_of[pid] = psutil.Process(pid).ppid()
        except psutil.Error:
            ppid_of[pid] = 0
    outcomes: list[TargetOutcome] = []
    resumed: list[int] = []
    for pid in reversed(tree_order(refs, ppid_of, {p: r[0] for p, r in refs.items()})):
        created, name, cmdline = refs[pid]
        sent, status, detail = send(pid, created, signal.SIGCONT)
        outcome = sent or Outcome.RESUMED
        if outcome is Outcome.RESUMED:
            resumed.append(pid)
            detail = detail or ("" if status == "stopped" else f"was not stopped ({status})")
        outcomes.append(TargetOutcome(pid, name, cmdline, created, outcome, detail))
    still = settle_status(resumed, lambda s: s != "stopped", SETTLE_SECONDS)
    return ResumeResult(tuple(outcomes), tuple(still))


def _refs(
    targets: ProcessMatch | ContainmentPlan | ContainmentResult | Iterable[int | ProcessRef],
) -> dict[int, tuple[float, str, str]]:
    """pid -> (create_time, name, cmdline) for whatever the caller handed to resume()."""
    import psutil

    if isinstance(targets, ProcessMatch):
        items: Iterable[int | ProcessRef] = targets.processes
    elif isinstance(targets, ContainmentPlan):
        items = targets.targets
    elif isinstance(targets, ContainmentResult):
        items = [o for o in targets.outcomes if o.outcome is Outcome.PAUSED]
    else:
        items = targets
    out: dict[int, tuple[float, str, str]] = {}
    for item in items:
        if isinstance(item, int):
            # A bare pid is taken as the process that has it now: nothing older to compare.
            try:
                proc = psutil.Process(item)
                out[item] = (proc.create_time(), proc.name(), "")
            except psutil.Error:
                out[item] = (0.0, "", "")
        else:
            out[item.pid] = (
                item.create_time,
                str(getattr(item, "name", "")),
                str(getattr(item, "cmdline", "")),
            )
    return out


def _describe(proc: MatchedProcess) -> str:
    reasons = "; ".join(proc.reasons)
    return f"{proc.pid} (ppid {proc.ppid}) {_clean(proc.cmdline or proc.name)} [{reasons}]"


def _clean(text: str) -> str:
    """Untrusted process text without control characters (no terminal escapes)."""
    return _CONTROL.sub("?", text)
