"""Runbooks: one YAML file per severity with the steps of each phase; load, validate, render.

Lookup order, per severity: `--runbooks DIR` (or $AGENTIR_RUNBOOKS) > the nearest
`.agentir/runbooks/` from the current directory upwards > the shipped `runbooks/`. A folder may
hold only some severities; the others come from the next folder down. Only top-level `*.yaml` /
`*.yml` files are runbooks, and a file whose top-level `kind` is not `runbook` (a drill scenario)
is left alone.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from agentir.commandline import TemplateValueError, render_argv
from agentir.config import YamlDoc, duplicate_keys, env_setting, load_yaml
from agentir.errors import ConfigError
from agentir.resources import shipped_dir
from agentir.runbook_schema import (
    BUILTINS,
    DESTRUCTIVE_BUILTINS,
    PHASES,
    RunbookError,
    validate_document,
)
from agentir.schema_checks import invalid_yaml, parse_duration

__all__ = [
    "BUILTINS",
    "DESTRUCTIVE_BUILTINS",
    "PHASES",
    "Check",
    "Contact",
    "Runbook",
    "RunbookError",
    "Step",
    "TemplateValueError",
    "load_dir",
    "load_runbook",
    "load_runbooks",
    "parse_duration",
    "render_command",
    "runbook_dirs",
    "validate_dir",
]

LOCAL_DIR = Path(".agentir") / "runbooks"


@dataclass(frozen=True)
class Contact:
    """Someone to reach: a role (on_call, agent_infra, escalation), a name and how to reach them."""

    role: str
    name: str
    reach: str


@dataclass(frozen=True)
class Step:
    """One runbook step."""

    id: str
    phase: str
    title: str
    kind: str
    instructions: str = ""
    deadline: timedelta | None = None
    command: tuple[str, ...] | str | None = None
    shell: bool = False
    builtin: str | None = None
    confirm: bool = False
    destructive: bool = False
    on_failure: str = "stop"
    owner: str | None = None
    line: int = 0


@dataclass(frozen=True)
class Check:
    """A verification check run after remediation: a command that must exit 0 within timeout."""

    name: str
    command: tuple[str, ...]
    timeout: float = 600.0


@dataclass(frozen=True)
class Runbook:
    """The runbook of one severity."""

    severity: str
    path: Path
    title: str = ""
    description: str = ""
    phases: Mapping[str, tuple[Step, ...]] = field(default_factory=dict)
    contacts: tuple[Contact, ...] = ()
    traces_location: str = ""
    replays: str = ""
    vars: Mapping[str, str] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()

    def steps(self, phase: str | None = None) -> tuple[Step, ...]:
        """The steps of one phase, or of every phase in order."""
        if phase is not None:
            if phase not in PHASES:
                raise ConfigError(f"unknown phase {phase!r}", hint=f"one of {', '.join(PHASES)}")
            return self.phases.get(phase, ())
        return tuple(step for name in PHASES for step in self.phases.get(name, ()))

    def step(self, step_id: str) -> Step:
        """The step with this id."""
        for step in self.steps():
            if step.id == step_id:
                return step
        raise ConfigError(f"{self.severity} runbook has no step {step_id!r}", hint=str(self.path))

    def phase_deadlines(self) -> dict[str, timedelta]:
        """Per phase, the latest step deadline (from incident open); phases without none."""
        out: dict[str, timedelta] = {}
        for name in PHASES:
            deadlines = [s.deadline for s in self.phases.get(name, ()) if s.deadline is not None]
            if deadlines:
                out[name] = max(deadlines)
        return out

    def contact(self, role: str) -> list[Contact]:
        """The contacts with this role (escalation may have several)."""
        return [c for c in self.contacts if c.role == role]

    def template_values(self, values: Mapping[str, object]) -> dict[str, object]:
        """`values` plus this runbook's `vars.NAME` entries (given values win)."""
        merged: dict[str, object] = {f"vars.{k}": v for k, v in self.vars.items()}
        merged.update(values)
        return merged

    def render(self, step: Step, values: Mapping[str, object]) -> list[str]:
        """The argv of a command step, with this runbook's vars available."""
        return render_command(step, self.template_values(values))

    def render_check(self, check: Check, values: Mapping[str, object]) -> list[str]:
        """The argv of a verification check."""
        return render_argv(check.command, self.template_values(values))


def render_command(step: Step, values: Mapping[str, object]) -> list[str]:
    """The argv of a command step: values substituted per element (quoted if shell: true)."""
    if step.command is None:
        raise ConfigError(f"step {step.id!r} has no command", hint="only command steps run argv")
    return render_argv(step.command, values, shell=step.shell)


def _build(data: Mapping[str, Any], path: Path, lines: Mapping[tuple[Any, ...], int]) -> Runbook:
    phases: dict[str, tuple[Step, ...]] = {}
    for phase in PHASES:
        steps = []
        for index, raw in enumerate(data.get("phases", {}).get(phase) or []):
            builtin = raw.get("builtin")
            command = raw.get("command")
            steps.append(
                Step(
                    id=raw["id"],
                    phase=phase,
                    title=raw["title"],
                    kind=raw["kind"],
                    instructions=(raw.get("instructions") or "").strip(),
                    deadline=parse_duration(raw["deadline"]) if raw.get("deadline") else None,
                    command=tuple(command) if isinstance(command, list) else command,
                    shell=bool(raw.get("shell", False)),
                    builtin=builtin,
                    confirm=bool(raw.get("confirm", False)),
                    destructive=bool(raw.get("destructive", False))
                    or builtin in DESTRUCTIVE_BUILTINS,
                    on_failure=raw.get("on_failure", "stop"),
                    owner=raw.get("owner"),
                    line=lines.get(("phases", phase, index), 0),
                )
            )
        phases[phase] = tuple(steps)
    contacts_raw = data.get("contacts") or {}
    contacts = [
        Contact(role, c["name"], c["reach"])
        for role in ("on_call", "agent_infra")
        if (c := contacts_raw.get(role))
    ]
    contacts += [
        Contact("escalation", c["name"], c["reach"]) for c in contacts_raw.get("escalation") or []
    ]
    traces = data.get("traces") or {}
    checks = [
        Check(c["name"], tuple(c["command"]), float(c.get("timeout", 600)))
        for c in (data.get("verification") or {}).get("checks") or []
    ]
    return Runbook(
        severity=data["severity"],
        path=path,
        title=data.get("title") or "",
        description=(data.get("description") or "").strip(),
        phases=phases,
        contacts=tuple(contacts),
        traces_location=traces.get("location") or "",
        replays=traces.get("replays") or "",
        vars={str(k): str(v) for k, v in (data.get("vars") or {}).items()},
        checks=tuple(checks),
    )


def runbook_files(folder: Path) -> list[Path]:
    """The candidate runbook files of a folder (top level, .yaml/.yml, sorted)."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml"))


def parse_document(path: Path) -> tuple[YamlDoc | None, list[RunbookError]]:
    """Load one runbook file and check it; (None, errors) when it is not YAML at all."""
    try:
        doc = load_yaml(path)
    except ConfigError as exc:
        return None, [invalid_yaml(path, exc)]
    if isinstance(doc.data, dict) and doc.data.get("kind", "runbook") != "runbook":
        return None, []
    errors = [
        RunbookError(str(path), line, key, "duplicate key")
        for line, key in duplicate_keys(path.read_text(encoding="utf-8"))
    ]
    return doc, sorted(errors + validate_document(doc), key=lambda e: e.line)


def _parse_dir(folder: Path) -> tuple[dict[str, Runbook], list[RunbookError]]:
    if not folder.is_dir():
        return {}, [RunbookError(str(folder), 1, "", "not a folder of runbooks")]
    found: dict[str, Runbook] = {}
    errors: list[RunbookError] = []
    files = runbook_files(folder)
    for path in files:
        doc, file_errors = parse_document(path)
        errors.extend(file_errors)
        if doc is None or file_errors:
            continue
        runbook = _build(doc.data, path, doc.lines)
        if runbook.severity in found:
            errors.append(
                RunbookError(
                    str(path),
                    doc.line_of("severity") or 1,
                    "severity",
                    f"{runbook.severity} is already defined by {found[runbook.severity].path.name}",
                )
            )
            continue
        found[runbook.severity] = runbook
    if not found and not errors:
        errors.append(RunbookError(str(folder), 1, "", "no runbook files (*.yaml) in this folder"))
    return found, errors


def validate_dir(folder: Path) -> list[RunbookError]:
    """Every error in every runbook of a folder (empty list: the folder is valid)."""
    return _parse_dir(folder)[1]


def local_dir(start: Path | None = None) -> Path | None:
    """The nearest repository-local `.agentir/runbooks/` from `start` (default cwd) upwards."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / LOCAL_DIR
        if candidate.is_dir():
            return candidate
    return None


def runbook_dirs(explicit: Path | None = None, start: Path | None = None) -> list[Path]:
    """The folders consulted, highest priority first."""
    chosen = explicit or (Path(v).expanduser() if (v := env_setting("runbooks")) else None)
    dirs: list[Path] = []
    if chosen is not None:
        if not chosen.is_dir():
            raise ConfigError(f"no runbook folder at {chosen}", hint="check --runbooks")
        dirs.append(chosen)
    local = local_dir(start)
    if local is not None:
        dirs.append(local)
    dirs.append(shipped_dir("runbooks"))
    unique: list[Path] = []
    for folder in dirs:
        if all(not os.path.samefile(folder, seen) for seen in unique):
            unique.append(folder)
    return unique


def load_dir(folder: Path) -> dict[str, Runbook]:
    """The runbooks of one folder alone; ConfigError when any of them is invalid."""
    found, errors = _parse_dir(folder)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(
            f"invalid runbook: {errors[0]}{more}",
            hint=f"run `agentir runbook validate {folder}` to list every error",
        )
    return found


def load_runbooks(dir: Path | None = None, start: Path | None = None) -> dict[str, Runbook]:
    """The runbook of each severity, higher-priority folders overriding per severity."""
    merged: dict[str, Runbook] = {}
    for folder in reversed(runbook_dirs(dir, start)):
        merged.update(load_dir(folder))
    return merged


def load_runbook(severity: str, dir: Path | None = None, start: Path | None = None) -> Runbook:
    """The runbook for one severity."""
    runbooks = load_runbooks(dir, start)
    if severity not in runbooks:
        raise ConfigError(
            f"no runbook for {severity}",
            hint="add one with `severity: {severity}` to a runbook folder",
        )
    return runbooks[severity]
