"""A stand-in agent process for drills and the demo: a small Python loop with one child.

Its command line names the session id (as a real agent's does, or its environment), so
`agentir contain SESSION` finds it, and its child is found as part of its tree. It does nothing
but sleep. `stop()` is the safety net: whatever containment did or did not do, it kills what is
left by recorded identity (pid and start time, so a reused pid is never hit) and reaps it.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentir.errors import ActionError

MARKER = "agentir-stand-in-agent"
_CHILD = "import time\nwhile True:\n    time.sleep(0.5)\n"
_PARENT = f"""
import signal, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", {_CHILD!r}], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

def stop(signum, frame):
    child.terminate()
    try:
        child.wait(2)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
    sys.exit(0)

signal.signal(signal.SIGTERM, stop)
while True:
    time.sleep(0.2)
"""


@dataclass
class StandIn:
    """A running stand-in agent and the identities of its processes."""

    session_id: str
    process: subprocess.Popen[bytes]
    handles: list[Any] = field(default_factory=list)  # psutil.Process of parent and child

    @property
    def pids(self) -> list[int]:
        """The pids of the stand-in's processes (parent first)."""
        return [h.pid for h in self.handles]

    def alive(self) -> list[int]:
        """The pids still alive (running or stopped; zombies count as gone)."""
        import psutil

        out = []
        for handle in self.handles:
            try:
                if handle.is_running() and handle.status() != psutil.STATUS_ZOMBIE:
                    out.append(handle.pid)
            except psutil.NoSuchProcess:
                continue
        return out

    def stopped(self) -> list[int]:
        """The pids paused by SIGSTOP."""
        import psutil

        out = []
        for handle in self.handles:
            try:
                if handle.is_running() and handle.status() == psutil.STATUS_STOPPED:
                    out.append(handle.pid)
            except psutil.NoSuchProcess:
                continue
        return out

    def stop(self, timeout: float = 5.0) -> list[int]:
        """Kill whatever is left (by identity) and reap it; the pids that survived (none)."""
        import psutil

        live = []
        for handle in self.handles:
            try:
                if handle.is_running():
                    handle.kill()  # SIGKILL ends a stopped process too
                    live.append(handle)
            except psutil.NoSuchProcess:
                continue
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout)
        _, survivors = psutil.wait_procs(live, timeout=timeout)
        return [p.pid for p in survivors if _not_zombie(p)]


def _not_zombie(proc: Any) -> bool:
    import psutil

    try:
        return bool(proc.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def start_stand_in(session_id: str, cwd: Path, timeout: float = 10.0) -> StandIn:
    """Start the stand-in agent for `session_id` in `cwd`; returns once its child runs too."""
    import psutil

    process = subprocess.Popen(
        [sys.executable, "-c", _PARENT, MARKER, "--session", session_id],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, like an agent started from a terminal
    )
    stand_in = StandIn(session_id, process)
    parent = psutil.Process(process.pid)
    stand_in.handles.append(parent)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = parent.children()
        if children:
            stand_in.handles.extend(children)
            return stand_in
        if process.poll() is not None:
            break
        time.sleep(0.05)
    stand_in.stop()
    raise ActionError(
        "the stand-in agent process did not start its child", hint="is python runnable here?"
    )
