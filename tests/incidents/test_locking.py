"""File locks time out with a clear error instead of hanging; atomic writes replace whole files."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from agentir.errors import IncidentError
from agentir.incidents.locking import atomic_write, file_lock, is_temp_name


def test_lock_times_out_in_the_main_thread(tmp_path: Path) -> None:
    lock = tmp_path / ".lock"
    with file_lock(lock):
        start = time.monotonic()
        # A second open file description on the same file conflicts, even in one process.
        with pytest.raises(IncidentError, match="timed out"), file_lock(lock, timeout=0.3):
            pass
        assert 0.25 < time.monotonic() - start < 5
    with file_lock(lock, timeout=0.3):  # released: free again
        pass


def test_lock_times_out_in_a_worker_thread(tmp_path: Path) -> None:
    lock = tmp_path / ".lock"
    errors: list[Exception] = []

    def contend() -> None:
        try:
            with file_lock(lock, timeout=0.3):
                pass
        except IncidentError as exc:
            errors.append(exc)

    with file_lock(lock):
        worker = threading.Thread(target=contend)
        worker.start()
        worker.join(timeout=10)
    assert len(errors) == 1 and "timed out" in str(errors[0])


def test_waiter_gets_the_lock_when_it_is_released(tmp_path: Path) -> None:
    lock = tmp_path / ".lock"
    acquired = threading.Event()

    def hold_briefly() -> None:
        with file_lock(lock):
            acquired.set()
            time.sleep(0.3)

    holder = threading.Thread(target=hold_briefly)
    holder.start()
    acquired.wait(5)
    start = time.monotonic()
    with file_lock(lock, timeout=10):
        waited = time.monotonic() - start
    holder.join()
    assert 0.1 < waited < 5


def test_atomic_write_replaces_and_cleans_up(tmp_path: Path) -> None:
    target = tmp_path / "state.yaml"
    atomic_write(target, "one\n")
    atomic_write(target, b"two\n")
    assert target.read_text() == "two\n"
    assert [p.name for p in tmp_path.iterdir()] == ["state.yaml"]
    assert is_temp_name(".state.yaml.abc123.tmp") and not is_temp_name("state.yaml")
