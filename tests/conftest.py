"""Shared fixtures: the real sample traces, an isolated AGENTIR_HOME, small helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_TRACES = (ROOT / ".." / "shared" / "traces").resolve()
DATA = Path(__file__).resolve().parent / "data"


def shared_trace(relative: str) -> Path:
    """Path of a real sample trace; skips the test when the shared folder is absent."""
    path = SHARED_TRACES / relative
    if not path.exists():
        pytest.skip(f"shared sample traces not available here ({SHARED_TRACES} missing)")
    return path


@pytest.fixture
def shared_traces() -> Path:
    """The folder of real sample traces; skips when it is absent."""
    if not SHARED_TRACES.is_dir():
        pytest.skip(f"shared sample traces not available here ({SHARED_TRACES} missing)")
    return SHARED_TRACES


@pytest.fixture(autouse=True)
def agentir_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty AGENTIR_HOME, never the user's real store."""
    home = tmp_path_factory.mktemp("agentir-home")
    monkeypatch.setenv("AGENTIR_HOME", str(home))
    monkeypatch.setenv("NO_COLOR", "1")
    return home
