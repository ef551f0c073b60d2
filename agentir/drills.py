"""Drill scenarios and answers files: find, load and check them (errors name file, line and key).

Scenarios are YAML files with `kind: drill` in a `scenarios/` folder beside the runbooks: the
same lookup order as runbooks (`--runbooks DIR` or $AGENTIR_RUNBOOKS, the nearest
`.agentir/runbooks/`, the shipped `runbooks/`), a scenario id in a higher folder overriding the
same id further down. An answers file scripts a drill run (for CI practice and tests).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentir.config import YamlDoc, duplicate_keys, load_section, load_yaml
from agentir.drill_schema import ScenarioError, validate_scenario
from agentir.errors import ConfigError, UsageError
from agentir.scenarios.spec import Scenario, scenario_from_data
from agentir.schema_checks import SchemaChecker, did_you_mean, invalid_yaml

SCENARIO_DIR = "scenarios"
DEFAULT_CADENCE_DAYS = 90
RESULTS = ("done", "skip", "gap")
ANSWER_KEYS = (
    "facilitator", "participants", "default", "steps", "timing", "actions", "hot_wash",
    "action_items",
)  # fmt: skip


@dataclass(frozen=True)
class Answer:
    """What the team did with a step: done, skip (with a reason) or gap (with a note)."""

    result: str  # done | skip | gap
    note: str = ""


@dataclass(frozen=True)
class ActionItem:
    """A follow-up from the drill."""

    what: str
    owner: str = ""
    due: str = ""


@dataclass(frozen=True)
class Answers:
    """A scripted drill: one answer per step, minutes per step, hot-wash notes, action items."""

    path: Path | None = None
    steps: Mapping[str, Answer] = field(default_factory=dict)
    default: Answer | None = None
    timing: Mapping[str, float] = field(default_factory=dict)
    actions: Mapping[str, Answer] = field(default_factory=dict)
    hot_wash: Mapping[int, str] = field(default_factory=dict)
    action_items: tuple[ActionItem, ...] = ()
    facilitator: str = ""
    participants: tuple[str, ...] = ()
    lines: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (section, id) -> line

    def unknown_ids(self, step_ids: set[str], action_ids: set[str]) -> list[str]:
        """`file:line: section.id: ...` for ids this drill will never ask about (typos)."""
        known = {"steps": step_ids, "timing": step_ids, "actions": action_ids}
        out = []
        for (section, key), line in sorted(self.lines.items(), key=lambda item: item[1]):
            if key not in known[section]:
                tip = did_you_mean(key, sorted(known[section]))
                what = "step in the runbook" if section != "actions" else "expected action"
                out.append(f"{self.path}:{line}: {section}.{key}: no such {what}{tip}")
        return out


def parse_answer(value: Any) -> Answer | None:
    """`done` | `skip: reason` | `gap: note` (or `{skip: reason}`); short forms d, s, g too.

    None when the text is not an answer, or a skip / gap lacks its reason."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, note),) = value.items()
        value = f"{key}: {'' if note is None else note}"
    if not isinstance(value, str):
        return None
    text = value.strip()
    head, sep, rest = text.partition(":")
    if not sep:
        head, _, rest = text.partition(" ")
    word = head.strip().lower()
    full = {"d": "done", "s": "skip", "skipped": "skip", "g": "gap"}.get(word, word)
    note = rest.strip()
    if full not in RESULTS or (full != "done" and not note):
        return None
    return Answer(full, note)


def _load(path: Path) -> tuple[YamlDoc | None, list[ScenarioError]]:
    try:
        doc = load_yaml(path)
    except ConfigError as exc:
        return None, [invalid_yaml(path, exc)]
    if doc.data is None:
        return None, [ScenarioError(str(path), 1, "", "the file is empty")]
    text = path.read_text(encoding="utf-8")
    return doc, [
        ScenarioError(str(path), line, key, "duplicate key") for line, key in duplicate_keys(text)
    ]


def parse_scenario(path: Path) -> tuple[Scenario | None, list[ScenarioError]]:
    """Load and check one scenario file: (scenario, []) or (None, every error in line order)."""
    doc, errors = _load(path)
    if doc is None:
        return None, errors
    errors = sorted(errors + validate_scenario(doc), key=lambda e: e.line)
    if errors:
        return None, errors
    return scenario_from_data(doc.data, path, doc.lines), []


def scenario_files(folder: Path) -> list[Path]:
    """The scenario files of a folder (top level, .yaml/.yml, sorted)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml"))


def scenario_dirs(runbooks_dir: Path | None = None, start: Path | None = None) -> list[Path]:
    """The scenario folders consulted, highest priority first."""
    from agentir.runbooks import runbook_dirs

    return [
        d / SCENARIO_DIR for d in runbook_dirs(runbooks_dir, start) if (d / SCENARIO_DIR).is_dir()
    ]


def validate_paths(paths: list[Path]) -> list[ScenarioError]:
    """Every error in the scenario files (folders: every file in them) and duplicate ids."""
    errors: list[ScenarioError] = []
    seen: dict[str, Path] = {}
    for target in paths:
        files = scenario_files(target) if target.is_dir() else [target]
        if target.is_dir() and not files:
            errors.append(ScenarioError(str(target), 1, "", "no scenario files (*.yaml) here"))
        for path in files:
            scenario, found = parse_scenario(path)
            errors += found
            if scenario is None:
                continue
            if scenario.id in seen:
                errors.append(
                    ScenarioError(str(path), scenario.lines.get("id") or 1, "id",
                                  f"{scenario.id!r} is already defined by {seen[scenario.id]}")
                )  # fmt: skip
            seen[scenario.id] = path
    return errors


def _invalid(errors: list[ScenarioError], target: Path) -> ConfigError:
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return ConfigError(
        f"invalid drill scenario: {errors[0]}{more}",
        hint=f"run `agentir drill validate {target}` to list every error",
    )


def load_library(
    runbooks_dir: Path | None = None, start: Path | None = None
) -> dict[str, Scenario]:
    """Every scenario by id, higher-priority folders overriding the same id."""
    library: dict[str, Scenario] = {}
    for folder in reversed(scenario_dirs(runbooks_dir, start)):
        for path in scenario_files(folder):
            scenario, errors = parse_scenario(path)
            if scenario is None:
                raise _invalid(errors, path)
            library[scenario.id] = scenario
    return dict(sorted(library.items()))


def find_scenario(name: str, runbooks_dir: Path | None = None) -> Scenario:
    """A scenario by id (from the library) or by the path of its file."""
    candidate = Path(name).expanduser()
    if candidate.suffix in (".yaml", ".yml") or candidate.is_file():
        if not candidate.is_file():
            raise UsageError(f"no scenario file at {candidate}", hint="check the path")
        scenario, errors = parse_scenario(candidate)
        if scenario is None:
            raise _invalid(errors, candidate)
        return scenario
    library = load_library(runbooks_dir)
    if name not in library:
        known = ", ".join(library) or "none"
        raise UsageError(f"no drill scenario {name!r}", hint=f"known scenarios: {known}")
    return library[name]


def cadence_days(config: Path | None = None) -> int:
    """Days between drills of one scenario: agentir.yaml `drills: {cadence_days: N}`, else 90."""
    section, doc = load_section("drills", config)
    if section is None:
        return DEFAULT_CADENCE_DAYS
    where = doc.where("drills") if doc else "agentir.yaml"
    if not isinstance(section, dict):
        raise ConfigError(f"{where}: expected a mapping", hint="drills: {cadence_days: 90}")
    unknown = [k for k in section if k != "cadence_days"]
    if unknown:
        raise ConfigError(
            f"{doc.where('drills', str(unknown[0])) if doc else where}: unknown key",
            hint="the drills section has one key: cadence_days",
        )
    value = section.get("cadence_days", DEFAULT_CADENCE_DAYS)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        spot = doc.where("drills", "cadence_days") if doc else where
        raise ConfigError(f"{spot}: expected a whole number of days >= 1, got {value!r}")
    return value


def load_answers(path: Path) -> Answers:
    """Read and check an answers file; ConfigError listing every problem with its line."""
    doc, errors = _load(path)
    if doc is None:
        raise _answers_error(errors)
    checker = _AnswersChecker(doc)
    answers = checker.build()
    errors += checker.errors
    if errors:
        raise _answers_error(sorted(errors, key=lambda e: e.line))
    return answers


def _answers_error(errors: list[ScenarioError]) -> ConfigError:
    listing = "\n  ".join(str(e) for e in errors)
    return ConfigError(
        f"invalid answers file:\n  {listing}",
        hint="steps: {STEP: done | 'skip: why' | 'gap: what is missing'}, timing: {STEP: minutes}",
    )


class _AnswersChecker(SchemaChecker):
    def answers(self, data: dict[str, Any], key: str) -> dict[str, Answer]:
        out: dict[str, Answer] = {}
        raw = data.get(key) or {}
        if not isinstance(raw, dict):
            self.err((key,), "expected a mapping of id to an answer")
            return out
        for step, value in raw.items():
            answer = parse_answer(value)
            if answer is None:
                self.err(
                    (key, str(step)), f"expected done, 'skip: reason' or 'gap: note', got {value!r}"
                )
            else:
                out[str(step)] = answer
        return out

    def build(self) -> Answers:
        data = self.doc.data
        if not isinstance(data, dict):
            self.err((), "expected a mapping (steps, timing, hot_wash, action_items)")
            return Answers(self.doc.path)
        for key in data:
            if key not in ANSWER_KEYS:
                self.err((str(key),), f"unknown key; allowed: {', '.join(ANSWER_KEYS)}")
        default = None
        if "default" in data:
            default = parse_answer(data["default"])
            if default is None:
                self.err(("default",), "expected done, 'skip: reason' or 'gap: note'")
        timing: dict[str, float] = {}
        raw_timing = data.get("timing") or {}
        if not isinstance(raw_timing, dict):
            self.err(("timing",), "expected a mapping of step id to minutes")
            raw_timing = {}
        for step, minutes in raw_timing.items():
            if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or minutes < 0:
                self.err(("timing", str(step)), f"expected minutes >= 0, got {minutes!r}")
            else:
                timing[str(step)] = float(minutes)
        return Answers(
            path=self.doc.path,
            steps=self.answers(data, "steps"),
            default=default,
            timing=timing,
            actions=self.answers(data, "actions"),
            hot_wash=self.hot_wash(data.get("hot_wash")),
            action_items=self.items(data.get("action_items")),
            facilitator=str(data.get("facilitator") or ""),
            participants=tuple(str(p) for p in data.get("participants") or ()),
            lines={
                (section, str(key)): self.doc.line_of(section, str(key)) or 1
                for section in ("steps", "timing", "actions")
                if isinstance(data.get(section), dict)
                for key in data[section]
            },
        )

    def hot_wash(self, value: Any) -> dict[int, str]:
        if value is None:
            return {}
        if isinstance(value, list):
            return {i: str(v) for i, v in enumerate(value) if v is not None}
        if isinstance(value, dict):
            out: dict[int, str] = {}
            for key, text in value.items():
                if isinstance(key, int) and key >= 1:
                    out[key - 1] = str(text)
                else:
                    self.err(("hot_wash", str(key)), "use the question's number (1, 2, ...)")
            return out
        self.err(("hot_wash",), "expected a list of notes, one per question")
        return {}

    def items(self, value: Any) -> tuple[ActionItem, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.err(("action_items",), "expected a list")
            return ()
        out: list[ActionItem] = []
        for i, item in enumerate(value):
            if isinstance(item, str) and item.strip():
                out.append(ActionItem(item.strip()))
            elif isinstance(item, dict) and isinstance(item.get("what"), str):
                unknown = [k for k in item if k not in ("what", "owner", "due")]
                if unknown:
                    self.err(
                        ("action_items", i, str(unknown[0])),
                        "unknown key; allowed: what, owner, due",
                    )
                out.append(
                    ActionItem(
                        item["what"].strip(),
                        str(item.get("owner") or ""),
                        str(item.get("due") or ""),
                    )
                )
            else:
                self.err(("action_items", i), "expected text or {what, owner, due}")
        return tuple(out)
