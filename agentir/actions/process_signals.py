"""Signalling a session's processes safely: the pid-reuse guard and the contain loops.

The order of signals and the reasons for it are documented in `agentir.actions.processes`.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from agentir.actions.process_tree import (
    MatchedProcess,
    ProcessMatch,
    SessionSelector,
    same_time,
    scan,
)

SETTLE_SECONDS = 1.0  # how long SIGSTOP / SIGKILL get to take effect
RESCAN_ROUNDS = 5  # scan/signal rounds after the first pass
_POLL = 0.02


class Outcome(str, Enum):
    """What happened to one process."""

    PAUSED = "paused"
    KILLED = "killed"
    RESUMED = "resumed"
    ALREADY_GONE = "already gone"
    PID_REUSED = "pid reused"
    PERMISSION_DENIED = "permission denied"
    FAILED = "failed"


@dataclass(frozen=True)
class TargetOutcome:
    """One process's outcome; `discovered` marks one found by a re-scan, not in the plan."""

    pid: int
    name: str
    cmdline: str
    create_time: float
    outcome: Outcome
    detail: str = ""
    discovered: bool = False


def send(pid: int, create_time: float, sig: int) -> tuple[Outcome | None, str, str]:
    """Signal `pid` only if it is still the process that started at `create_time`.

    Returns (failure Outcome or None when the signal was sent, status before, detail)."""
    import psutil

    fd = None
    if hasattr(os, "pidfd_open") and hasattr(signal, "pidfd_send_signal"):
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            return Outcome.ALREADY_GONE, "gone", ""
        except OSError:
            fd = None  # kernel without pidfds: fall back to os.kill after the check
    try:
        proc = psutil.Process(pid)
        if not same_time(proc.create_time(), create_time):
            return Outcome.PID_REUSED, "", "another process now has this pid"
        status = proc.status()
        if status == psutil.STATUS_ZOMBIE:
            return Outcome.ALREADY_GONE, status, "exited (zombie, not yet reaped)"
        if fd is not None:
            signal.pidfd_send_signal(fd, sig)
        else:
            os.kill(pid, sig)
        return None, status, ""
    except (psutil.NoSuchProcess, ProcessLookupError):
        return Outcome.ALREADY_GONE, "gone", ""
    except (psutil.AccessDenied, PermissionError) as exc:
        return Outcome.PERMISSION_DENIED, "", str(exc) or "not allowed to signal it"
    except OSError as exc:
        return Outcome.FAILED, "", str(exc)
    finally:
        if fd is not None:
            os.close(fd)


def status_of(pid: int, create_time: float | None = None) -> str:
    """psutil status of a process, or "gone" (exited, or its pid now belongs to another)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        if create_time is not None and not same_time(proc.create_time(), create_time):
            return "gone"
        return str(proc.status())
    except psutil.NoSuchProcess:
        return "gone"
    except psutil.Error:
        return "?"


def settle_status(pids: Iterable[int], ok: Callable[[str], bool], timeout: float) -> list[int]:
    """Poll until every pid's status satisfies `ok` (gone always does); return those that don't."""
    pending = list(pids)
    deadline = time.monotonic() + timeout
    while True:
        pending = [p for p in pending if (s := status_of(p)) != "gone" and not ok(s)]
        if not pending or time.monotonic() >= deadline:
            return pending
        time.sleep(_POLL)


def wait_gone(procs: list[Any], timeout: float) -> tuple[list[Any], list[Any]]:
    """psutil.wait_procs that also counts zombies as gone: (gone, alive) after `timeout`."""
    import psutil

    deadline = time.monotonic() + timeout
    alive = list(procs)
    gone: list[Any] = []
    while alive:
        slice_ = max(0.01, min(0.1, deadline - time.monotonic()))
        done, alive = psutil.wait_procs(alive, timeout=slice_)
        gone += done
        zombies = [p for p in alive if _is_zombie(p)]
        gone += zombies
        alive = [p for p in alive if p not in zombies]
        if time.monotonic() >= deadline:
            break
    return gone, alive


def _is_zombie(proc: Any) -> bool:
    import psutil

    try:
        return bool(proc.status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:
        return False


@dataclass
class _Record:
    target: MatchedProcess
    outcome: Outcome | None = None  # PAUSED also means "frozen, alive" during a kill
    detail: str = ""
    discovered: bool = False


class Containment:
    """One containment run: the records of every process signalled, and the loops."""

    def __init__(
        self, selector: SessionSelector, groups: Iterable[int], sessions: Iterable[int]
    ) -> None:
        self.selector = selector
        self.groups = set(groups)
        self.sessions = set(sessions)
        self.records: dict[tuple[int, float], _Record] = {}
        self.rounds = 0

    def pause(self, targets: Iterable[MatchedProcess]) -> tuple[int, list[MatchedProcess]]:
        """SIGSTOP targets top-down, catch late forks; (rounds, processes not stopped)."""
        self._freeze(targets)
        return self.rounds, self._verify(lambda s: s in ("stopped", "zombie"))

    def kill(
        self, targets: Iterable[MatchedProcess], grace: float
    ) -> tuple[int, list[MatchedProcess]]:
        """Freeze, TERM, CONT, wait, KILL survivors, re-scan; (rounds, processes alive)."""
        self._freeze(targets)
        live = self._live()
        for rec in live:
            self._signal(rec, signal.SIGTERM)
        for rec in reversed(live):
            self._signal(rec, signal.SIGCONT)
        if self._wait(live, grace, "exited after SIGTERM"):
            # Survivors may have started children during the grace period: freeze again.
            self._freeze([r.target for r in self._live()], discovered=True)
            self._kill_live()
        for _ in range(RESCAN_ROUNDS):
            new = self._new(self._rescan())
            if not new:
                break
            self._freeze(new, discovered=True)
            self._kill_live()
        self._kill_live()
        return self.rounds, self._verify(lambda s: s == "zombie")

    def _kill_live(self) -> None:
        victims = self._live()
        for rec in victims:
            self._signal(rec, signal.SIGKILL)
        for rec in self._wait(victims, SETTLE_SECONDS, "needed SIGKILL"):
            rec.outcome, rec.detail = Outcome.FAILED, "still alive after SIGKILL"

    def outcomes(self) -> tuple[TargetOutcome, ...]:
        """The frozen per-process outcomes, in the order the processes were first signalled."""
        return tuple(
            TargetOutcome(
                pid=r.target.pid,
                name=r.target.name,
                cmdline=r.target.cmdline,
                create_time=r.target.create_time,
                outcome=r.outcome or Outcome.FAILED,
                detail=r.detail,
                discovered=r.discovered,
            )
            for r in self.records.values()
        )

    def _freeze(self, targets: Iterable[MatchedProcess], discovered: bool = False) -> None:
        self._stop(targets, discovered)
        for _ in range(RESCAN_ROUNDS):
            new = self._new(self._rescan())
            if not new:
                return
            self._stop(new, discovered=True)

    def _stop(self, targets: Iterable[MatchedProcess], discovered: bool) -> None:
        for target in targets:
            key = (target.pid, target.create_time)
            rec = self.records.setdefault(key, _Record(target, discovered=discovered))
            failed, status, detail = send(target.pid, target.create_time, signal.SIGSTOP)
            if failed is None:
                rec.outcome = Outcome.PAUSED
                rec.detail = "was already stopped" if status == "stopped" else ""
            elif rec.outcome is None or failed is not Outcome.ALREADY_GONE:
                rec.outcome, rec.detail = failed, detail

    def _signal(self, rec: _Record, sig: int) -> None:
        failed, _, detail = send(rec.target.pid, rec.target.create_time, sig)
        if failed is Outcome.ALREADY_GONE or failed is Outcome.PID_REUSED:
            rec.outcome, rec.detail = Outcome.KILLED, "exited"
        elif failed is not None:
            rec.outcome, rec.detail = failed, detail

    def _live(self) -> list[_Record]:
        return [r for r in self.records.values() if r.outcome is Outcome.PAUSED]

    def _wait(self, recs: list[_Record], timeout: float, detail: str) -> list[_Record]:
        """Wait for `recs` to exit; mark the gone ones killed; return the rest."""
        import psutil

        handles: dict[Any, _Record] = {}
        for rec in recs:
            if rec.outcome is not Outcome.PAUSED:
                continue
            try:
                proc = psutil.Process(rec.target.pid)
                if same_time(proc.create_time(), rec.target.create_time):
                    handles[proc] = rec
                    continue
            except psutil.NoSuchProcess:
                pass
            rec.outcome, rec.detail = Outcome.KILLED, detail
        gone, alive = wait_gone(list(handles), timeout)
        for proc in gone:
            handles[proc].outcome, handles[proc].detail = Outcome.KILLED, detail
        return [handles[p] for p in alive]

    def _rescan(self) -> ProcessMatch:
        self.rounds += 1
        known = {pid: created for pid, created in self.records}
        match = scan(
            self.selector, known=known, owned_groups=self.groups, owned_sessions=self.sessions
        )
        self.groups.update(match.process_groups)
        self.sessions.update(match.sessions)
        return match

    def _new(self, match: ProcessMatch) -> list[MatchedProcess]:
        return [
            p
            for p in match.processes
            if p.status != "zombie" and not self._recorded(p.pid, p.create_time)
        ]

    def _recorded(self, pid: int, created: float) -> bool:
        return any(p == pid and same_time(c, created) for p, c in self.records)

    def _verify(self, ok: Callable[[str], bool]) -> list[MatchedProcess]:
        """Re-scan until every process of the session satisfies `ok` or time runs out."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            # Both what a fresh scan finds and every process signalled (a target the scan
            # may no longer pick, e.g. one owned by another user, must still be accounted).
            found = {(p.pid, p.create_time): p for p in self._rescan().processes}
            for key, rec in self.records.items():
                if not any(p == key[0] and same_time(c, key[1]) for p, c in found):
                    found[key] = rec.target
            bad: list[MatchedProcess] = []
            for proc in found.values():
                state = status_of(proc.pid, proc.create_time)
                if state != "gone" and not ok(state):
                    bad.append(dataclasses.replace(proc, status=state))
            if not bad or time.monotonic() >= deadline:
                return bad
            time.sleep(_POLL * 5)
