"""The runbook schema and its checker: every error, each with file, line and key path.

The checker works on a parsed `YamlDoc` (plain data plus the line of each key), so it needs no
YAML library itself; `agentir.runbooks` does the parsing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from agentir.commandline import KNOWN_PLACEHOLDERS, placeholders, quoted_placeholders
from agentir.config import YamlDoc
from agentir.schema_checks import (
    KeyPath,
    SchemaChecker,
    SchemaError,
    describe,
    did_you_mean,
    parse_duration,
)

PHASES = ("contain", "assess", "remediate", "learn")
KINDS = ("manual", "command", "builtin")
BUILTINS = (
    "contain.pause",
    "contain.kill",
    "credentials.list",
    "credentials.revoke",
    "freeze",
    "assess",
    "remediate.plan",
    "remediate.apply",
    "verify",
    "review",
    "share",
)
DESTRUCTIVE_BUILTINS = frozenset({"contain.kill", "credentials.revoke", "remediate.apply"})
ON_FAILURE = ("stop", "continue", "escalate")
OWNER_ROLES = ("on_call", "agent_infra", "escalation")
SEVERITY_VALUES = ("SEV1", "SEV2", "SEV3")

TOP_KEYS = (
    "kind", "severity", "title", "description", "contacts", "traces", "vars", "verification",
    "phases",
)  # fmt: skip
STEP_KEYS = (
    "id", "title", "instructions", "deadline", "kind", "command", "shell", "builtin", "confirm",
    "destructive", "on_failure", "owner",
)  # fmt: skip
CONTACT_KEYS = ("name", "reach")
CHECK_KEYS = ("name", "command", "timeout")

_STEP_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_VAR_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

RunbookError = SchemaError  # one problem in a runbook file


def validate_document(doc: YamlDoc) -> list[RunbookError]:
    """Every schema error of one parsed runbook file, in line order."""
    checker = _Checker(doc)
    checker.check()
    return sorted(checker.errors, key=lambda e: e.line)


class _Checker(SchemaChecker):
    blank_optional_text = True

    def __init__(self, doc: YamlDoc) -> None:
        super().__init__(doc)
        self.vars: set[str] = set()
        self.contact_roles: set[str] = set()

    def choice(
        self, data: Mapping[str, Any], key: str, path: KeyPath, options: Iterable[str]
    ) -> None:
        value = data.get(key)
        options = tuple(options)
        if value not in options:
            tip = did_you_mean(str(value), options)
            self.err((*path, key), f"{value!r} is not one of {', '.join(options)}{tip}")

    def check(self) -> None:
        data = self.mapping(self.doc.data, (), TOP_KEYS)
        if data is None:
            return
        if data.get("kind", "runbook") != "runbook":
            return
        if "severity" not in data:
            self.err((), "missing required key 'severity' (SEV1, SEV2 or SEV3)")
        else:
            self.choice(data, "severity", (), SEVERITY_VALUES)
        self.text(data, "title", (), required=False)
        self.text(data, "description", (), required=False)
        self.check_vars(data.get("vars"))
        self.check_contacts(data.get("contacts"))
        if data.get("traces") is not None:
            traces = self.mapping(data["traces"], ("traces",), ("location", "replays"))
            if traces is not None:
                self.text(traces, "location", ("traces",), required=False)
                self.text(traces, "replays", ("traces",), required=False)
        self.check_verification(data.get("verification"))
        if "phases" not in data:
            self.err((), "missing required key 'phases'")
        else:
            self.check_phases(data["phases"])

    def check_vars(self, value: Any) -> None:
        if value is None:
            return
        if not isinstance(value, dict):
            self.err(("vars",), f"expected a mapping, got {describe(value)}")
            return
        for key, item in value.items():
            if not isinstance(key, str) or not _VAR_NAME.match(key):
                self.err(("vars", str(key)), "variable names are lowercase letters, digits, _")
            elif isinstance(item, (dict, list)) or item is None:
                self.err(("vars", key), f"expected text or a number, got {describe(item)}")
            else:
                self.vars.add(key)

    def check_contacts(self, value: Any) -> None:
        if value is None:
            return
        data = self.mapping(value, ("contacts",), OWNER_ROLES)
        if data is None:
            return
        for role in ("on_call", "agent_infra"):
            if role in data and self.contact(data[role], ("contacts", role)):
                self.contact_roles.add(role)
        if "escalation" in data:
            chain = data["escalation"]
            if not isinstance(chain, list):
                self.err(("contacts", "escalation"), f"expected a list, got {describe(chain)}")
                return
            for index, item in enumerate(chain):
                self.contact(item, ("contacts", "escalation", index))
            if chain:
                self.contact_roles.add("escalation")

    def contact(self, value: Any, path: KeyPath) -> bool:
        data = self.mapping(value, path, CONTACT_KEYS)
        if data is None:
            return False
        name = self.text(data, "name", path, required=True)
        reach = self.text(data, "reach", path, required=True)
        return name is not None and reach is not None

    def check_verification(self, value: Any) -> None:
        if value is None:
            return
        data = self.mapping(value, ("verification",), ("checks",))
        checks = (data or {}).get("checks") or []
        if not isinstance(checks, list):
            self.err(("verification", "checks"), f"expected a list, got {describe(checks)}")
            return
        names: set[str] = set()
        for index, item in enumerate(checks):
            path = ("verification", "checks", index)
            check = self.mapping(item, path, CHECK_KEYS)
            if check is None:
                continue
            name = self.text(check, "name", path, required=True)
            if name in names:
                self.err((*path, "name"), f"duplicate check name {name!r}")
            names.add(name or "")
            if "command" not in check:
                self.err(path, "missing required key 'command'")
            elif self.argv(check["command"], (*path, "command")):
                self.check_placeholders(check["command"], (*path, "command"))
            timeout = check.get("timeout", 600)
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
                self.err((*path, "timeout"), f"expected a number of seconds > 0, got {timeout!r}")

    def argv(self, value: Any, path: KeyPath) -> bool:
        if not isinstance(value, list) or not value:
            self.err(path, f"expected a non-empty list of arguments, got {describe(value)}")
            return False
        for index, part in enumerate(value):
            if not isinstance(part, str) or not part:
                self.err((*path, index), f"expected a non-empty string, got {describe(part)}")
                return False
        return True

    def check_placeholders(self, template: str | list[str], path: KeyPath) -> None:
        for name in placeholders(template):
            known = name in KNOWN_PLACEHOLDERS or (
                name.startswith("vars.") and name[5:] in self.vars
            )
            if not known:
                allowed = ", ".join(sorted(KNOWN_PLACEHOLDERS))
                self.err(path, f"unknown placeholder {{{name}}}; known: {allowed}, vars.NAME")

    def check_phases(self, value: Any) -> None:
        data = self.mapping(value, ("phases",), PHASES)
        if data is None:
            return
        seen: dict[str, int] = {}
        total = 0
        for phase in PHASES:
            steps = data.get(phase)
            if steps is None:
                continue
            if not isinstance(steps, list):
                self.err(("phases", phase), f"expected a list of steps, got {describe(steps)}")
                continue
            for index, step in enumerate(steps):
                total += 1
                self.check_step(step, ("phases", phase, index), seen)
        if total == 0:
            self.err(("phases",), "the runbook has no steps")

    def check_step(self, value: Any, path: KeyPath, seen: dict[str, int]) -> None:
        step = self.mapping(value, path, STEP_KEYS)
        if step is None:
            return
        step_id = self.text(step, "id", path, required=True)
        if step_id is not None:
            if not _STEP_ID.match(step_id):
                self.err(
                    (*path, "id"), f"{step_id!r}: use lowercase letters, digits, '-', '_', '.'"
                )
            elif step_id in seen:
                self.err(
                    (*path, "id"), f"duplicate step id {step_id!r} (first on line {seen[step_id]})"
                )
            else:
                seen[step_id] = self.doc.line_of(*path, "id") or 1
        self.text(step, "title", path, required=True)
        instructions = self.text(step, "instructions", path, required=False)
        if "kind" not in step:
            self.err(path, "missing required key 'kind' (manual, command or builtin)")
            kind = None
        else:
            self.choice(step, "kind", path, KINDS)
            kind = step["kind"]
        if kind == "manual" and not instructions:
            self.err(path, "a manual step needs 'instructions' saying what to do")
        if "deadline" in step:
            try:
                if isinstance(step["deadline"], bool) or parse_duration(
                    step["deadline"]
                ) <= timedelta(0):
                    raise ValueError
            except ValueError:
                self.err(
                    (*path, "deadline"),
                    f'"{step["deadline"]}" is not a duration (use 15m, 1h, 2d)',
                )
        shell = self.flag(step, "shell", path)
        self.check_command(step, path, kind, shell)
        self.check_builtin(step, path, kind)
        confirm = self.flag(step, "confirm", path)
        destructive = self.flag(step, "destructive", path)
        builtin = step.get("builtin")
        if not isinstance(builtin, str):
            builtin = None  # a mapping or list is reported by check_builtin, not a crash here
        if (destructive or builtin in DESTRUCTIVE_BUILTINS) and not confirm:
            why = f"builtin {builtin}" if builtin in DESTRUCTIVE_BUILTINS else "destructive: true"
            self.err((*path, "confirm") if "confirm" in step else path,
                     f"a destructive step ({why}) needs 'confirm: true'")  # fmt: skip
        if "on_failure" in step:
            self.choice(step, "on_failure", path, ON_FAILURE)
        if "owner" in step:
            owner = step["owner"]
            if owner not in OWNER_ROLES:
                self.choice(step, "owner", path, OWNER_ROLES)
            elif owner not in self.contact_roles:
                self.err((*path, "owner"), f"owner {owner!r} has no entry under contacts")

    def check_command(self, step: Mapping[str, Any], path: KeyPath, kind: Any, shell: bool) -> None:
        command = step.get("command")
        if kind != "command":
            if command is not None:
                self.err((*path, "command"), "'command' is only used by kind: command")
            if shell:
                self.err((*path, "shell"), "'shell' is only used by kind: command")
            return
        if command is None:
            self.err(path, "a command step needs 'command' (a list of arguments)")
        elif isinstance(command, str):
            if not shell:
                self.err(
                    (*path, "command"),
                    "a single-string command needs 'shell: true' (or give a list of arguments)",
                )
            elif command.strip():
                self.check_placeholders(command, (*path, "command"))
                for name in quoted_placeholders(command):
                    self.err(
                        (*path, "command"),
                        f"{{{name}}} is inside quotes; leave it bare (every value is quoted)",
                    )
            else:
                self.err((*path, "command"), "empty command")
        elif self.argv(command, (*path, "command")):
            if shell:
                self.err((*path, "shell"), "'shell: true' needs the command as one string")
            self.check_placeholders(command, (*path, "command"))

    def check_builtin(self, step: Mapping[str, Any], path: KeyPath, kind: Any) -> None:
        if kind == "builtin":
            if "builtin" not in step:
                self.err(path, f"a builtin step needs 'builtin' (one of {', '.join(BUILTINS)})")
            else:
                self.choice(step, "builtin", path, BUILTINS)
        elif "builtin" in step:
            self.err((*path, "builtin"), "'builtin' is only used by kind: builtin")
