"""Drill test helpers: answers files, and a check that no test leaves a stand-in agent running."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from agentir.scenarios.standin import MARKER


def stand_ins() -> list[psutil.Process]:
    """Processes of this test session running the stand-in agent (not zombies)."""
    found = []
    for proc in psutil.Process().children(recursive=True):
        try:
            if MARKER in " ".join(proc.cmdline()) and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except psutil.NoSuchProcess:
            continue
    return found


@pytest.fixture(autouse=True)
def no_stand_in_left() -> Iterator[None]:
    """Fail a test that leaves a stand-in agent behind (and kill it so the next test is clean)."""
    yield
    left = stand_ins()
    for proc in left:
        proc.kill()
    assert not left, f"stand-in agent processes left running: {[p.pid for p in left]}"


def write_answers(path: Path, text: str) -> Path:
    """Write an answers file and return its path."""
    path.write_text(text, encoding="utf-8")
    return path


def step_ids(result: Any) -> list[str]:
    """The ids of the recorded steps, in order."""
    return [s.id for s in result.steps]
