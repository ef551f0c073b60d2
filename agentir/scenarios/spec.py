"""A drill scenario as data: the briefing, the injects, what the generated trace and repository
hold, the expected actions and the discussion questions.

Built from a document that `agentir.drill_schema` has already checked, so construction here
does not validate again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentir.scenarios.tracewriter import DEFAULT_MODELS, Usage

DEFAULT_BEAT_MINUTES = 0.5
DEFAULT_USER = ("Dev Person", "dev@example.com")


@dataclass(frozen=True)
class Inject:
    """A new fact revealed to the team at a minute of the drill."""

    at_minute: float
    text: str


@dataclass(frozen=True)
class Beat:
    """One thing the agent did: message | run | write | edit | read | commit | repeat."""

    kind: str
    value: str  # the text, command, path (relative to the repository) or commit id
    output: str = ""
    exit: int = 0
    content: str = ""
    old: str = ""
    new: str = ""
    fails: str | None = None
    say: str | None = None
    minutes: float = DEFAULT_BEAT_MINUTES
    tokens: Usage | None = None
    grow: float = 1.0
    beats: tuple[Beat, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class TraceSpec:
    """The agent session the generator writes."""

    agent: str
    task: str
    beats: tuple[Beat, ...]
    model: str
    mode: str | None = None  # Claude Code permission mode / Codex approval policy
    started_minutes_ago: float = 60.0
    available_at_minute: float | None = None  # the trace reaches the team only then


@dataclass(frozen=True)
class CommitSpec:
    """A commit of the scenario's repository, by a human or by the agent."""

    id: str
    by: str  # human | agent
    message: str
    files: Mapping[str, str | None]  # path -> new content, None deletes
    trailer: bool = False
    author: tuple[str, str] | None = None
    line: int = 0


@dataclass(frozen=True)
class RepoSpec:
    """The repository: its first commit's files, then commits in history order."""

    files: Mapping[str, str]
    commits: tuple[CommitSpec, ...] = ()
    branch: str = "main"
    user: tuple[str, str] = DEFAULT_USER


@dataclass(frozen=True)
class ExpectedAction:
    """An action the team should take in a phase: a runbook step id or a named action."""

    phase: str
    id: str
    text: str = ""
    line: int = 0


@dataclass(frozen=True)
class Scenario:
    """One tabletop scenario."""

    id: str
    title: str
    severity: str
    briefing: str
    trace: TraceSpec
    repo: RepoSpec
    questions: tuple[str, ...]
    path: Path
    injects: tuple[Inject, ...] = ()
    expected: tuple[ExpectedAction, ...] = ()
    contacts: tuple[str, ...] = ()
    kill_switch: bool = False
    lines: Mapping[str, int] = field(default_factory=dict)

    def expected_in(self, phase: str) -> tuple[ExpectedAction, ...]:
        """The expected actions of one phase."""
        return tuple(a for a in self.expected if a.phase == phase)


def parse_author(text: str) -> tuple[str, str] | None:
    """`Name <email>` -> (name, email); None when it is not in that form."""
    name, sep, rest = text.partition("<")
    if not sep or not rest.endswith(">") or not name.strip() or not rest[:-1].strip():
        return None
    return name.strip(), rest[:-1].strip()


def _usage(raw: Mapping[str, Any] | None) -> Usage | None:
    if not raw:
        return None
    base = Usage()
    return Usage(
        int(raw.get("input", base.input)),
        int(raw.get("output", base.output)),
        int(raw.get("cache_read", base.cache_read)),
        int(raw.get("cache_write", base.cache_write)),
    )


BEAT_KINDS = ("message", "run", "write", "edit", "read", "commit", "repeat")


def beat_kind(raw: Mapping[str, Any]) -> str | None:
    """Which action a beat mapping describes (the first action key it has)."""
    return next((k for k in BEAT_KINDS if k in raw), None)


def _beat(
    raw: Mapping[str, Any], lines: Mapping[tuple[Any, ...], int], path: tuple[Any, ...]
) -> Beat:
    kind = beat_kind(raw) or "message"
    value = raw[kind]
    children = tuple(
        _beat(child, lines, (*path, "beats", i)) for i, child in enumerate(raw.get("beats") or [])
    )
    fails = raw.get("fails")
    return Beat(
        kind=kind,
        value=str(value),
        output=str(fails if fails is not None else raw.get("output", "")),
        exit=int(raw.get("exit", 1 if fails is not None else 0)),
        content=str(raw.get("content", "")),
        old=str(raw.get("old", "")),
        new=str(raw.get("new", "")),
        fails=str(fails) if fails is not None else None,
        say=raw.get("say"),
        minutes=float(raw.get("minutes", DEFAULT_BEAT_MINUTES)),
        tokens=_usage(raw.get("tokens")),
        grow=float(raw.get("grow", 1.0)),
        beats=children,
        line=lines.get(path, 0),
    )


def scenario_from_data(
    data: Mapping[str, Any], path: Path, lines: Mapping[tuple[Any, ...], int]
) -> Scenario:
    """Build a Scenario from a checked document."""
    trace = data["trace"]
    agent = trace.get("agent", "claude-code")
    repo = data["repo"]
    user = repo.get("user") or {}
    commits = []
    for i, raw in enumerate(repo.get("commits") or []):
        commits.append(
            CommitSpec(
                id=raw["id"],
                by=raw["by"],
                message=raw["message"],
                files=dict(raw.get("files") or {}),
                trailer=bool(raw.get("trailer", False)),
                author=parse_author(raw["author"]) if raw.get("author") else None,
                line=lines.get(("repo", "commits", i), 0),
            )
        )
    expected = [
        ExpectedAction(
            phase=phase,
            id=item if isinstance(item, str) else item["id"],
            text="" if isinstance(item, str) else str(item.get("text") or ""),
            line=lines.get(("expected", phase, i), 0),
        )
        for phase, items in (data.get("expected") or {}).items()
        for i, item in enumerate(items or [])
    ]
    return Scenario(
        id=data["id"],
        title=data["title"],
        severity=data["severity"],
        briefing=str(data["briefing"]).strip(),
        trace=TraceSpec(
            agent=agent,
            task=str(trace["task"]).strip(),
            beats=tuple(
                _beat(b, lines, ("trace", "beats", i)) for i, b in enumerate(trace["beats"])
            ),
            model=trace.get("model") or DEFAULT_MODELS[agent],
            mode=trace.get("mode"),
            started_minutes_ago=float(trace.get("started_minutes_ago", 60)),
            available_at_minute=(
                float(trace["available_at_minute"])
                if trace.get("available_at_minute") is not None
                else None
            ),
        ),
        repo=RepoSpec(
            files=dict(repo.get("files") or {}),
            commits=tuple(commits),
            branch=repo.get("branch", "main"),
            user=(user.get("name", DEFAULT_USER[0]), user.get("email", DEFAULT_USER[1])),
        ),
        questions=tuple(str(q).strip() for q in data["questions"]),
        path=path,
        injects=tuple(
            sorted(
                (
                    Inject(float(i["at_minute"]), str(i["text"]).strip())
                    for i in data.get("injects") or []
                ),
                key=lambda x: x.at_minute,
            )
        ),
        expected=tuple(expected),
        contacts=tuple(data.get("contacts") or ()),
        kill_switch=bool(data.get("kill_switch", False)),
        lines={"severity": lines.get(("severity",), 0), "id": lines.get(("id",), 0)},
    )
