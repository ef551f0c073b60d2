"""The drill clock, and what it reveals: injects and a trace that arrives late.

Drill time is minutes since the start (when the incident was opened). Scripted runs add up the
minutes the answers file gives per step, so they are deterministic; live runs measure wall time
times `--speed`. In a live run a background thread reveals an inject at its minute even while
the team is still at a prompt, as a facilitator handing out a new fact would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

POLL_SECONDS = 0.2


class Clock:
    """Drill minutes since the start: measured (wall time x speed) or scripted (added up)."""

    def __init__(
        self, *, scripted: bool, speed: float = 1.0, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.scripted = scripted
        self.speed = speed
        self._now = now
        self._start = now()
        self._minutes = 0.0

    def minute(self) -> float:
        """The drill time now, in minutes."""
        if self.scripted:
            return self._minutes
        return (self._now() - self._start) * self.speed / 60.0

    def advance(self, minutes: float) -> None:
        """Scripted mode: the team spent `minutes` on a step."""
        self._minutes += minutes


class Ticker:
    """Reveals the injects (and the delayed trace) whose minute has come, exactly once each."""

    def __init__(self, scenario: Any, result: Any, clock: Clock, view: Any) -> None:
        self.scenario = scenario
        self.result = result
        self.clock = clock
        self.view = view
        self.step: str | None = None  # the step about to be (or being) answered
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self, *, live: bool = False) -> None:
        """Reveal what is due now."""
        with self._lock:
            minute = self.clock.minute()
            ws, result = self.result.workspace, self.result
            arrival = self.scenario.trace.available_at_minute
            if arrival is not None and minute >= arrival and ws.make_trace_available():
                result.trace_arrived_at = round(minute, 2)
                self.view.event("notice", text=f"the agent's trace is now available: {ws.trace}")
            for record in result.injects:
                if record.shown_at is None and record.inject.at_minute <= minute + 1e-9:
                    record.shown_at = round(minute, 2)
                    record.before_step = self.step
                    self.view.event("inject", inject=record.inject, minute=minute, live=live)

    def start(self) -> None:
        """In a live run: reveal injects in the background while people answer."""
        if self.clock.scripted or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="drill-injects", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background thread (waits for it)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            self.tick(live=True)
