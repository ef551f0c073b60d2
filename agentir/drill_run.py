"""`agentir drill run` as one call: load, run, report, log, clean up.

The report folder is `--out DIR` (new or empty) or `$AGENTIR_HOME/drills/<run id>/`. The scratch
workspace lives in its `workspace/` subfolder while the drill runs and is removed afterwards
unless kept. Every finished run is appended to the drill log, which `agentir drill status` reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from agentir.drill_engine import (
    DrillResult,
    DrillSetup,
    DrillView,
    Facilitator,
    SilentView,
    remove_workspace,
    run_drill,
)
from agentir.errors import ConfigError, UsageError
from agentir.scenarios.spec import Scenario


@dataclass(frozen=True)
class DrillOutcome:
    """A finished drill: its result, the report's data, and where things were written."""

    result: DrillResult
    context: dict[str, Any]
    report: Path
    data: Path
    log: Path
    run_id: str


def run_id_for(scenario: Scenario, when: datetime) -> str:
    """`20260301-141500-force-push-leak`."""
    return f"{when.strftime('%Y%m%d-%H%M%S')}-{scenario.id}"


def output_dir(out: Path | None, run_id: str) -> Path:
    """`--out` (new or empty) or a new folder under `$AGENTIR_HOME/drills/`."""
    from agentir.drill_log import drills_dir

    folder = out.expanduser() if out is not None else drills_dir() / run_id
    if out is None:  # two runs of one scenario in the same second get their own folders
        base, number = folder, 1
        while folder.exists():
            number += 1
            folder = base.with_name(f"{base.name}-{number}")
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise UsageError(f"{folder} is not an empty folder", hint="pass --out with a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    return folder.resolve()


def runbook_for(scenario: Scenario, runbooks_dir: Path | None) -> Any:
    """The real runbook of the scenario's severity (the team's, else the shipped one)."""
    from agentir.runbooks import load_runbooks

    runbooks = load_runbooks(runbooks_dir)
    if scenario.severity not in runbooks:
        raise ConfigError(
            f"no {scenario.severity} runbook to drill {scenario.id!r} against",
            hint=f"add a runbook with `severity: {scenario.severity}`",
        )
    return runbooks[scenario.severity]


def drill(
    scenario: Scenario,
    facilitator: Facilitator,
    *,
    runbooks_dir: Path | None = None,
    out: Path | None = None,
    speed: float = 1.0,
    keep: bool = False,
    view: DrillView | None = None,
    template: Path | None = None,
    participants: tuple[str, ...] = (),
    clock: Any = None,
) -> DrillOutcome:
    """Run a drill of `scenario` and write its report; the workspace is removed unless `keep`."""
    from agentir.drill_log import append_run
    from agentir.drill_report import report_context, write_report

    if speed <= 0:
        raise UsageError(f"--speed {speed:g}", hint="a speed above 0 (10 = ten times faster)")
    now = clock or (lambda: datetime.now(timezone.utc))
    runbook = runbook_for(scenario, runbooks_dir)
    script = getattr(facilitator, "answers", None)
    if script is not None:
        steps = {s.id for s in runbook.steps()}
        unknown = script.unknown_ids(steps, {a.id for a in scenario.expected} - steps)
        if unknown:
            listing = "\n  ".join(unknown)
            raise UsageError(
                f"the answers file names what this drill never asks about:\n  {listing}",
                hint=f"the {runbook.severity} runbook is {runbook.path}",
            )
    run_id = run_id_for(scenario, now())
    folder = output_dir(out, run_id)
    setup = DrillSetup(scenario, runbook, folder, facilitator, view or SilentView(), speed, now,
                       participants)  # fmt: skip
    try:
        result = run_drill(setup)
    finally:  # interrupted or not, the scratch goes unless it is to be kept
        if not keep:
            remove_workspace(folder / "workspace")
    report_path = folder / "drill-report.md"
    context = report_context(result, run_id, report_path, kept=keep)
    report, data = write_report(context, folder, template)
    drill_info = context["drill"]
    log = append_run(
        {
            "run_id": run_id,
            "scenario": scenario.id,
            "title": scenario.title,
            "severity": scenario.severity,
            "kill_switch": scenario.kill_switch,
            "started_at": drill_info["started_at"],
            "finished_at": drill_info["finished_at"],
            "mode": result.mode,
            "facilitator": result.facilitator,
            "steps": len(result.steps),
            "gaps": len(context["gaps"]),
            "score": drill_info["score"]["percent"],
            "drill_minutes": result.minutes,
            "report": str(report),
        }
    )
    return DrillOutcome(result, context, report, data, log, run_id)
