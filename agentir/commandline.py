"""Runbook command templates: `{placeholder}` values substituted per argv element, never spliced.

A template is trusted (it comes from a runbook); the values are not (session ids, trace paths and
titles come from trace files and responders). A list template substitutes inside each argv element,
so a value stays one argument whatever it contains. A string template runs through `/bin/sh -c`
only when the runbook says `shell: true`, and then every value is shlex-quoted first.
Only `{lowercase.dotted}` names are placeholders, so JSON braces in a template stay literal.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence

from agentir.errors import ActionError

PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*)\}")

KNOWN_PLACEHOLDERS = frozenset(
    {
        "incident.id",
        "incident.severity",
        "incident.title",
        "incident.dir",
        "session.id",
        "session.cwd",
        "session.agent",
        "trace",
        "repo",
        "commit",
        "actor",
        "now",
    }
)
SHELL = "/bin/sh"


class TemplateValueError(ActionError):
    """A command needs a value nobody supplied (e.g. {repo} with no repository known)."""

    code = "missing_value"


def placeholders(template: str | Sequence[str]) -> list[str]:
    """Every placeholder name used in a template, in order of appearance."""
    parts = [template] if isinstance(template, str) else list(template)
    return [m.group(1) for part in parts for m in PLACEHOLDER.finditer(part)]


def quoted_placeholders(template: str) -> list[str]:
    """Placeholders inside quotes in a shell template: quoting their value there would break out."""
    found: list[str] = []
    quote: str | None = None
    index = 0
    while index < len(template):
        char = template[index]
        if char == "\\" and quote != "'":
            index += 2
            continue
        if quote is None and char in "'\"":
            quote = char
        elif quote is not None and char == quote:
            quote = None
        elif quote is not None and char == "{":
            match = PLACEHOLDER.match(template, index)
            if match:
                found.append(match.group(1))
                index = match.end()
                continue
        index += 1
    return found


def substitute(text: str, values: Mapping[str, object], *, quote: bool = False) -> str:
    """Replace each `{name}` in one string; each value is inserted once and never re-scanned."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        value = values.get(name)
        if value is None:
            raise TemplateValueError(
                f"the command needs {{{name}}} but no value for it is known",
                hint=f"pass the value the runbook step expects ({name}) or edit the runbook",
            )
        text = str(value)
        return shlex.quote(text) if quote else text

    return PLACEHOLDER.sub(replace, text)


def render_argv(
    template: str | Sequence[str], values: Mapping[str, object], *, shell: bool = False
) -> list[str]:
    """The argv to execute: a list template per element; a string only with shell=True."""
    if isinstance(template, str):
        if not shell:
            raise ActionError(
                "a command given as one string needs `shell: true`",
                hint="write the command as a list of arguments instead",
            )
        inside = quoted_placeholders(template)
        if inside:
            raise ActionError(
                f"{{{inside[0]}}} sits inside quotes in a shell command",
                hint="leave placeholders bare: agentir quotes every value itself",
            )
        return [SHELL, "-c", substitute(template, values, quote=True)]
    return [substitute(part, values) for part in template]


def display(argv: Sequence[str]) -> str:
    """A copy-pasteable rendering of an argv for plans and logs."""
    return shlex.join(argv)
