"""Safe writes for the incident store: advisory file locks and atomic file replacement."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from agentir.errors import IncidentError

# Long enough for a slow disk, short enough that a stuck holder is reported, not waited on forever.
DEFAULT_LOCK_TIMEOUT = 120.0
_TEMP_SUFFIX = ".tmp"


@contextlib.contextmanager
def file_lock(path: Path, timeout: float | None = DEFAULT_LOCK_TIMEOUT) -> Iterator[None]:
    """Hold an exclusive flock on `path` (created if missing); released on exit or process death."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, path, timeout)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, path: Path, timeout: float | None) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        pass
    if timeout is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
    elif _can_use_alarm():
        _acquire_with_alarm(fd, path, timeout)
    else:
        _acquire_polling(fd, path, timeout)


def _timed_out(path: Path, timeout: float) -> IncidentError:
    return IncidentError(
        f"timed out after {timeout:.0f}s waiting for the lock {path}",
        hint="another agentir process holds it; check `ps` for a stuck agentir command",
    )


def _can_use_alarm() -> bool:
    # SIGALRM can only be handled in the main thread, and must not clobber someone else's timer.
    return (
        threading.current_thread() is threading.main_thread()
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0
    )


class _LockTimeout(Exception):
    pass


def _acquire_with_alarm(fd: int, path: Path, timeout: float) -> None:
    """A blocking flock (the kernel wakes waiters fairly) interrupted by SIGALRM at the timeout."""

    def expire(signum: int, frame: object) -> None:
        raise _LockTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    try:
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _LockTimeout:
        raise _timed_out(path, timeout) from None
    finally:
        signal.signal(signal.SIGALRM, previous)


def _acquire_polling(fd: int, path: Path, timeout: float) -> None:
    """Outside the main thread: poll (a waiter can be starved by a busy writer, so less fair)."""
    deadline = time.monotonic() + timeout
    delay = 0.0005
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise _timed_out(path, timeout) from None
            time.sleep(delay)
            delay = min(delay * 2, 0.01)


def fsync_dir(folder: Path) -> None:
    """Flush a directory entry (after a rename) so the new name survives a crash."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on directories; the rename itself is still atomic
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes | str, *, mode: int = 0o644) -> None:
    """Replace `path` with `data` atomically: temp file in the same folder, fsync, rename."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=_TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    fsync_dir(path.parent)


def append_line(path: Path, line: bytes) -> None:
    """Append one complete line with a single write and fsync it (callers hold the lock)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        view = memoryview(line)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)


def is_temp_name(name: str) -> bool:
    """True for the temp files atomic_write leaves only if the process died mid-write."""
    return name.startswith(".") and name.endswith(_TEMP_SUFFIX)
