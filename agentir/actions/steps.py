"""Runbook steps as side effects: render a command step's argv, run it, and judge deadlines.

The argv comes from `Runbook.render` (values substituted per argument, never spliced into a
shell string). Output is captured, cut to its tail and redacted before it is shown or
recorded, because a revocation command may well echo the credential it revokes.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from agentir.analysis.secrets import redact
from agentir.commandline import display
from agentir.errors import AgentirError
from agentir.incidents.records import Incident, to_iso

OUTPUT_LIMIT = 4000  # characters of output kept (the tail: errors come last)
DEFAULT_TIMEOUT = 600.0
NEW_INCIDENT = "<new incident>"  # stands in for the id in a dry-run before one is opened
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class PlannedCommand:
    """A command step with its rendered argv, or why it cannot be rendered."""

    step_id: str
    title: str
    argv: tuple[str, ...] | None
    error: str | None
    needs_confirmation: bool
    on_failure: str

    @property
    def shown(self) -> str:
        """The argv as one copy-pasteable, redacted line (or the rendering error)."""
        if self.argv is None:
            return f"(cannot render: {self.error})"
        return clean_text(display(self.argv))


@dataclass(frozen=True)
class CommandOutcome:
    """What running (or not running) one command step came to."""

    step_id: str
    argv: tuple[str, ...] | None
    status: str  # done | failed | declined | not_run
    exit_code: int | None = None
    output: str = ""
    error: str | None = None
    duration_s: float = 0.0
    on_failure: str = "stop"

    @property
    def ok(self) -> bool:
        """Whether the step ran and exited 0."""
        return self.status == "done"

    def record(self) -> dict[str, Any]:
        """Timeline details: redacted argv and output, never a raw secret."""
        return {
            "step": self.step_id,
            "result": self.status,
            "argv": [clean_text(a) for a in self.argv] if self.argv is not None else None,
            "exit_code": self.exit_code,
            "output": self.output,
            "error": self.error,
            "duration_s": self.duration_s,
            "on_failure": self.on_failure,
        }


def clean_text(text: str, limit: int | None = None) -> str:
    """Redacted text without control characters, keeping the tail when over `limit`."""
    out = _CONTROL.sub("?", redact(text))
    if limit is not None and len(out) > limit:
        out = f"…[{len(out) - limit} characters before]" + out[-limit:]
    return out


def template_values(
    incident: Incident | None,
    *,
    incident_dir: Path | None = None,
    session: Mapping[str, str | None] | None = None,
    trace: str | None = None,
    repo: str | None = None,
    commit: str | None = None,
    actor: str | None = None,
    now: datetime,
) -> dict[str, object]:
    """The placeholder values a runbook command may use; unknown ones are left out."""
    values: dict[str, object] = {"now": to_iso(now) or ""}
    if incident is not None:
        values.update(
            {
                "incident.id": incident.id or NEW_INCIDENT,
                "incident.severity": incident.severity,
                "incident.title": incident.title,
            }
        )
    if incident_dir is not None:
        values["incident.dir"] = str(incident_dir)
    for key, value in (session or {}).items():
        if value:
            values[f"session.{key}"] = value
    optional = {"trace": trace, "repo": repo, "commit": commit, "actor": actor}
    values.update({k: v for k, v in optional.items() if v})
    return values


def incident_values(store: Any, ref: str, actor: str | None = None) -> dict[str, object]:
    """The placeholder values of a recorded incident: its first session and trace, its frozen
    repository and first frozen commit."""
    incident = store.get(ref)
    return template_values(
        incident,
        incident_dir=store.path(ref),
        session={"id": incident.sessions[0] if incident.sessions else None},
        trace=incident.traces[0] if incident.traces else None,
        repo=incident.freeze.repo,
        commit=incident.freeze.commits[0] if incident.freeze.commits else None,
        actor=actor,
        now=store.now(),
    )


def plan_command(runbook: Any, step: Any, values: Mapping[str, object]) -> PlannedCommand:
    """Render one command step; a missing value becomes the plan's error, not an exception."""
    argv: tuple[str, ...] | None = None
    error = None
    try:
        argv = tuple(runbook.render(step, values))
    except AgentirError as exc:
        error = exc.message
    return PlannedCommand(
        step_id=step.id,
        title=step.title,
        argv=argv,
        error=error,
        needs_confirmation=bool(step.confirm or step.destructive),
        on_failure=step.on_failure,
    )


def run_command(
    planned: PlannedCommand, *, timeout: float = DEFAULT_TIMEOUT, cwd: Path | None = None
) -> CommandOutcome:
    """Run a planned command (no shell unless the runbook asked for one); capture its output."""

    def outcome(status: str, **extra: Any) -> CommandOutcome:
        return CommandOutcome(
            planned.step_id, planned.argv, status, on_failure=planned.on_failure, **extra
        )

    if planned.argv is None:
        return outcome("failed", error=planned.error)
    clock = time.monotonic()
    try:
        proc = subprocess.run(
            list(planned.argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            cwd=cwd,
            env=dict(os.environ),
            check=False,
        )
    except FileNotFoundError:
        return outcome("failed", error=f"{planned.argv[0]}: command not found")
    except subprocess.TimeoutExpired as exc:
        return outcome(
            "failed",
            output=clean_text(_decode(exc.output), OUTPUT_LIMIT),
            error=f"timed out after {timeout:g}s",
            duration_s=round(time.monotonic() - clock, 3),
        )
    except OSError as exc:
        return outcome("failed", error=str(exc))
    return outcome(
        "done" if proc.returncode == 0 else "failed",
        exit_code=proc.returncode,
        output=clean_text(_decode(proc.stdout), OUTPUT_LIMIT),
        error=None if proc.returncode == 0 else f"exit code {proc.returncode}",
        duration_s=round(time.monotonic() - clock, 3),
    )


def _decode(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", errors="replace")


def step_deadline(
    incident: Incident, deadline: timedelta | None, at: datetime
) -> dict[str, Any] | None:
    """A step's deadline judged at `at`: {due, state (met | missed), seconds_left}."""
    if deadline is None or incident.opened_at is None:
        return None
    due = incident.opened_at + deadline
    left = int((due - at).total_seconds())
    return {"due": due, "state": "met" if at <= due else "missed", "seconds_left": left}
