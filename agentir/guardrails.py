"""Structural guardrail recommendations derived from what a session did and what detectors found.

Each recommendation names the exact change: an `agentir.yaml` policy snippet, a Claude Code
`permissions.deny` rule or hook (`agentir guard install`), a Codex `config.toml` setting, a
credential to revoke or scope down, or branch protection. None of them is a prompt change:
a line in a prompt is advice the agent may ignore; these are limits it cannot.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from agentir.model import Assessment, Effect, Finding, Risk

HARMFUL = (Risk.HIGH, Risk.CRITICAL)
PROGRAM = re.compile(r"^[A-Za-z0-9_.+-]{1,40}$")


@dataclass(frozen=True)
class Change:
    """One exact configuration change: where it goes and what to write."""

    target: str  # what is changed, for people: "agentir policy", "Claude Code settings", ...
    file: str  # where: agentir.yaml, .claude/settings.json, ~/.codex/config.toml, ...
    language: str  # yaml, json, toml, sh
    snippet: str


@dataclass(frozen=True)
class Guardrail:
    """A structural change that would have stopped (or limited) this incident."""

    id: str
    kind: str  # branch-protection, permission, credentials, budget, loop-limit, path, network, hook, sandbox
    title: str
    why: str
    evidence: tuple[tuple[str, int], ...] = ()  # (session id, seq)
    changes: tuple[Change, ...] = field(default_factory=tuple)


def yaml_policy(body: str) -> Change:
    """An agentir.yaml change: `body` under the `policy:` key."""
    return Change("agentir policy", "agentir.yaml", "yaml", "policy:\n" + _indent(body, 2))


def _indent(text: str, n: int) -> str:
    return "\n".join((" " * n + line) if line else line for line in text.splitlines())


def claude_deny(rules: Iterable[str]) -> Change:
    """A Claude Code settings change: these rules under permissions.deny."""
    body = {"permissions": {"deny": sorted(set(rules))}}
    return Change(
        "Claude Code permissions",
        ".claude/settings.json (or managed-settings.json to enforce it for everyone)",
        "json",
        json.dumps(body, indent=2),
    )


GUARD = Change(
    "agentir guard (a PreToolUse hook that blocks the call)",
    ".claude/settings.json",
    "sh",
    "agentir guard install --project .",
)


def commands_rule(pattern: str, reason: str) -> Change:
    """An agentir.yaml forbidden-command rule, the shipped ones kept."""
    return yaml_policy(
        'commands:\n  forbidden:\n    - "@defaults"\n'
        f"    - pattern: '{pattern}'\n      reason: {json.dumps(reason)}"
    )


def evidence_of(session: str, items: Iterable[Effect | Finding | int]) -> list[tuple[str, int]]:
    """(session, seq) pairs citing effects, findings (their first step) or steps."""
    out = []
    for item in items:
        if isinstance(item, int):
            out.append((session, item))
        elif isinstance(item, Effect):
            out.append((session, item.seq))
        elif item.seqs:
            out.append((session, min(item.seqs)))
    return out


class Builder:
    """Collects recommendations by id, merging evidence from several sessions."""

    def __init__(self) -> None:
        self.items: dict[str, Guardrail] = {}
        self.order: list[str] = []

    def add(self, g: Guardrail) -> None:
        """Add a recommendation, or merge it into the one with the same id."""
        known = self.items.get(g.id)
        if known is None:
            self.items[g.id] = g
            self.order.append(g.id)
            return
        evidence = tuple(sorted(set(known.evidence) | set(g.evidence)))
        changes = known.changes + tuple(c for c in g.changes if c not in known.changes)
        self.items[g.id] = Guardrail(
            known.id, known.kind, known.title, known.why, evidence, changes
        )


def recommend(sessions: Sequence[Assessment]) -> list[Guardrail]:
    """The guardrails these sessions call for, most important first (deterministic)."""
    # the rules build on the types above, so they are imported here, not at the top
    from agentir import guardrail_rules as rules

    builder = Builder()
    for a in sessions:
        sid = a.session.id
        claude = a.session.agent == "claude-code"
        codex = a.session.agent in ("codex", "codex-exec")
        harmful = [e for e in a.effects if e.risk in HARMFUL]
        rules.apply(builder, a, claude, codex)
        if harmful or any(f.severity in ("high", "critical") for f in a.findings):
            seqs = evidence_of(sid, harmful[:3])
            builder.add(
                Guardrail(
                    "guard-hook",
                    "hook",
                    "Enforce the policy while the agent runs, not after",
                    "The policy only judged the trace afterwards; a PreToolUse hook blocks a "
                    "forbidden call before it runs (exit 2), and agentir watch pauses any "
                    "other agent on a trigger.",
                    tuple(seqs),
                    (GUARD,)
                    if claude
                    else (
                        Change(
                            "agentir watch",
                            "the agent host",
                            "sh",
                            "agentir watch TRACE  # pauses the agent's process tree on a trigger",
                        ),
                    ),
                )
            )
    return [builder.items[i] for i in sorted(builder.order, key=_priority)]


_PRIORITY = (
    "protect-branch",
    "revoke-secrets",
    "authorization",
    "codex-sandbox",
    "no-database",
    "no-deploy",
    "no-publish",
    "no-cloud",
    "no-message",
    "no-destructive",
    "write-scope",
    "network-allowlist",
    "mcp-deny",
    "budget",
    "loop-limit",
    "failure-limit",
    "context-limit",
    "ci-gate",
    "guard-hook",
)


def _priority(gid: str) -> tuple[int, str]:
    return (_PRIORITY.index(gid) if gid in _PRIORITY else len(_PRIORITY), gid)


def finding_family(detector: str) -> str:
    """Group detector names: loop, failures, scope, permission, cost, context, claims, effects."""
    name = detector.lower()
    for family, words in (
        ("loop", ("loop", "repeat", "stuck", "alternat")),
        ("failures", ("fail", "error")),
        ("cost", ("cost", "budget", "spend", "spiral")),
        ("context", ("context", "compact")),
        ("claims", ("halluc", "claim", "success")),
        ("scope", ("scope", "path", "outside")),
        ("permission", ("permission", "forbidden", "tool", "command", "network", "host", "auth")),
    ):
        if any(w in name for w in words):
            return family
    return "effects"


def owner_repo(url: str | None) -> str | None:
    """`owner/repo` from a git remote URL, or None."""
    if not url:
        return None
    match = re.search(r"[:/]([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$", url)
    return f"{match.group(1)}/{match.group(2)}" if match else None


def shell_word(text: str) -> str:
    """`text` as one shell word (quoted when it needs to be)."""
    return text if re.fullmatch(r"[A-Za-z0-9_./-]+", text) else "'" + text.replace("'", "") + "'"
