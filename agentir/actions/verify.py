"""Steady-state checks: run the runbook's verification commands and keep what they said.

Each check is an argv list run without a shell (a check that wants one says `sh -c ...`), in
its own process group so a timeout kills everything it started. Output is kept as a redacted
tail: enough to see why a check failed, never a credential.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from agentir.analysis.secrets import redact

TAIL_CHARS = 4000
DEFAULT_TIMEOUT = 600.0


@dataclass(frozen=True)
class CheckSpec:
    """A check to run: a name, an argv and a timeout in seconds."""

    name: str
    argv: tuple[str, ...]
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True)
class CheckResult:
    """What one check did: exit code (None when it could not start or timed out)."""

    name: str
    argv: tuple[str, ...]
    stage: str  # before | after | verify
    cwd: str
    ok: bool
    exit_code: int | None
    timed_out: bool
    duration_s: float
    output_tail: str
    error: str | None = None


def parse_check(text: str, timeout: float = DEFAULT_TIMEOUT) -> CheckSpec:
    """A `--check "pytest -q"` option as a check: split like a shell would, but never run by one."""
    argv = tuple(shlex.split(text))
    if not argv:
        raise ValueError("empty --check command")
    return CheckSpec(name=text.strip()[:80], argv=argv, timeout=timeout)


def run_check(
    spec: CheckSpec, cwd: Path, stage: str, env: Mapping[str, str] | None = None
) -> CheckResult:
    """Run one check to completion or timeout."""
    started = time.monotonic()
    merged = {**os.environ, **(env or {})}
    with tempfile.TemporaryFile() as sink:
        try:
            proc = subprocess.Popen(
                list(spec.argv),
                cwd=cwd,
                env=merged,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: a timeout kills all of it
            )
        except OSError as exc:
            return CheckResult(
                spec.name, spec.argv, stage, str(cwd), False, None, False, 0.0, "", str(exc)
            )
        timed_out = False
        try:
            code: int | None = proc.wait(timeout=spec.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            code = None
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        tail = _tail(sink)
    duration = round(time.monotonic() - started, 3)
    error = f"timed out after {spec.timeout:g}s" if timed_out else None
    return CheckResult(
        spec.name, spec.argv, stage, str(cwd), code == 0, code, timed_out, duration, tail, error
    )


def run_checks(
    specs: Sequence[CheckSpec], cwd: Path, stage: str, env: Mapping[str, str] | None = None
) -> list[CheckResult]:
    """Run every check (all of them, even after a failure: the record should be complete)."""
    return [run_check(spec, cwd, stage, env) for spec in specs]


def _tail(sink: IO[bytes]) -> str:
    size = sink.seek(0, os.SEEK_END)
    sink.seek(max(0, size - TAIL_CHARS * 2))
    text = sink.read().decode("utf-8", "replace")
    return redact(text[-TAIL_CHARS:])


def summary(results: Sequence[CheckResult]) -> dict[str, object]:
    """Timeline-sized summary: pass/fail per check with exit code and a short redacted tail."""
    return {
        "ok": all(r.ok for r in results),
        "checks": [
            {
                "name": r.name,
                "argv": list(r.argv),
                "ok": r.ok,
                "exit_code": r.exit_code,
                "timed_out": r.timed_out,
                "duration_s": r.duration_s,
                "cwd": r.cwd,
                "error": r.error,
                "output_tail": r.output_tail[-1500:],
            }
            for r in results
        ],
    }
