"""Fixtures for the incident store: a store in the test's AGENTIR_HOME with a settable clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from agentir.incidents.store import IncidentStore

T0 = datetime(2030, 5, 1, 12, 0, tzinfo=timezone.utc)


class Clock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(agentir_home: Path, clock: Clock) -> IncidentStore:
    return IncidentStore(agentir_home, clock=clock)
