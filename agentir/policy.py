"""The incident policy the detectors enforce: budgets, paths, tools, commands, hosts, thresholds.

A policy comes from `agentir.yaml` (top-level key `policy:`, the nearest file from the current
directory upwards), from `--policy FILE` (the policy at the top level or under `policy:`), or
from the shipped defaults below, which suit a coding agent when nobody wrote a policy. Every
list may contain the entry `"@defaults"`, which stands for the shipped list at that place, so
a team can add a rule without dropping the shipped ones. Validation reports every error at
once, each with file, line and key path. `agentir.example.yaml` documents every key.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from agentir.config import YamlDoc, find_config, load_yaml
from agentir.errors import ConfigError

DEFAULTS_TOKEN = "@defaults"
_CONFIG_KEYS = frozenset({"settings", "alerts", "drills"})  # other sections of an agentir.yaml
_HOME = r"(?:~|/home/[^/]+|/Users/[^/]+|/root)"


# --------------------------------------------------------------------------- patterns


@dataclass(frozen=True)
class PathPattern:
    """A gitignore-like glob: `/abs/**`, `~/x/**`, `rel/dir/**`, `name*` (any depth), `.` (cwd)."""

    text: str
    kind: str  # cwd / absolute / home / relative / name
    regex: re.Pattern[str] | None
    negated: bool = False

    def matches(self, full: str, rel: str | None) -> bool:
        """Does the absolute path `full` (or `rel`, its form inside the cwd) match?"""
        if self.kind == "cwd":
            return rel is not None
        assert self.regex is not None
        if self.kind == "relative":
            return rel is not None and bool(self.regex.match(rel))
        if self.kind == "name":
            return bool(self.regex.match(rel if rel is not None else full))
        return bool(self.regex.match(full))


def _translate(glob: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(glob):
        c = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = glob.find("]", i + 2)
            if end < 0:
                raise ValueError("unclosed '[' in glob")
            body = glob[i + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


def compile_path(text: str) -> PathPattern:
    """Compile one path glob (raises ValueError when it is not a usable glob)."""
    negated = text.startswith("!")
    glob = (text[1:] if negated else text).strip()
    if not glob:
        raise ValueError("empty path pattern")
    if glob in (".", "./", "**", "./**"):
        return PathPattern(text, "cwd", None, negated)
    if glob.endswith("/") and glob != "/":
        glob = glob.rstrip("/")
    tail = "(?:/.*)?$"  # as in gitignore, a pattern that names a directory covers its content
    if glob.startswith("~/") or glob == "~":
        kind, body = "home", _HOME + _translate(glob[1:])
    elif glob.startswith("/"):
        kind, body = "absolute", _translate(glob)
    elif "/" in glob:
        kind, body = "relative", _translate(glob.removeprefix("./"))
    else:
        kind, body = "name", "(?:.*/)?" + _translate(glob)
    return PathPattern(text, kind, re.compile(body + tail), negated)


def match_paths(patterns: tuple[PathPattern, ...], full: str, rel: str | None) -> str | None:
    """The pattern that decides `full` (last match wins; a `!` pattern un-matches), or None."""
    decided: PathPattern | None = None
    for p in patterns:
        if p.matches(full, rel):
            decided = None if p.negated else p
    return decided.text if decided else None


@dataclass(frozen=True)
class CommandRule:
    """A forbidden command pattern (a regex searched in the command line) and why."""

    pattern: str
    reason: str
    regex: re.Pattern[str]


def _rule(pattern: str, reason: str) -> CommandRule:
    return CommandRule(pattern, reason, re.compile(pattern))


def name_matches(patterns: tuple[str, ...], name: str) -> str | None:
    """The first glob (case-insensitive) matching a tool or host name, or None."""
    lowered = name.lower()
    for p in patterns:
        if fnmatch.fnmatchcase(lowered, p.lower()):
            return p
    return None


# --------------------------------------------------------------------------- defaults

DEFAULT_ALLOWED_WRITE = (".", "/tmp/**", "/private/tmp/**", "/var/folders/**", "/dev/null")
DEFAULT_FORBIDDEN_PATHS = (
    ".git/",
    ".env",
    ".env.*",
    "!.env.example",
    "!.env.sample",
    "!.env.template",
    "!.env.dist",
    "*.pem",
    "*.key",
    "id_rsa*",
    "id_ed25519*",
    "id_ecdsa*",
    ".ssh/",
    "~/.ssh/**",
    "~/.aws/**",
    "~/.kube/**",
    "~/.config/gcloud/**",
    "~/.docker/config.json",
    "~/.netrc",
    "~/.npmrc",
    "~/.pypirc",
    "~/.bashrc",
    "~/.zshrc",
    "~/.profile",
    "secrets/",
    "/etc/**",
    "/usr/**",
    "/bin/**",
    "/sbin/**",
    "/boot/**",
    "/System/**",
)
DEFAULT_SENSITIVE_PATHS = (
    ".github/workflows/**",
    ".github/actions/**",
    ".gitlab-ci.yml",
    ".circleci/**",
    ".buildkite/**",
    "Jenkinsfile",
    ".travis.yml",
    "azure-pipelines.yml",
    "bitbucket-pipelines.yml",
    "CODEOWNERS",
    ".pre-commit-config.yaml",
    ".husky/**",
    ".claude/settings.json",
    ".claude/settings.local.json",
    "~/.claude/settings.json",
    "~/.codex/config.toml",
    "~/.gemini/settings.json",
)
DEFAULT_FORBIDDEN_COMMANDS = (
    (
        r"\bgit\s+(?:-\S+\s+)*push\b[^;&|\n]*\s(?:-f|--force|--force-with-lease)(?:[\s=]|$)",
        "force push rewrites shared history",
    ),
    (
        r"\brm\s+(?:-\S+\s+)*-[A-Za-z]*[rR][A-Za-z]*\s+(?:-\S+\s+)*(?:/|/\*|~/?|\$HOME/?)(?:[\s;&|)]|$)",
        "recursive delete of / or the home directory",
    ),
    (
        r"\b(?:curl|wget)\b[^|;&\n]*\|\s*(?:sudo\s+)?(?:ba|z|da)?sh\b",
        "pipes a download into a shell (remote code execution)",
    ),
    (r"\bchmod\s+(?:-\S+\s+)*0?777\b", "makes files world-writable"),
    (r"\bmkfs(?:\.\w+)?\b|\bdd\b[^;&|\n]*\bof=/dev/", "formats or overwrites a disk"),
    (r"\bgit\s+(?:commit|push|merge|rebase)\b[^;&|\n]*\s--no-verify\b", "skips the git hooks"),
)
DEFAULT_ALLOWED_HOSTS = (
    "localhost",
    "*.localhost",
    "127.0.0.1",
    "::1",
    "0.0.0.0",
    "github.com",
    "*.github.com",
    "*.githubusercontent.com",
    "gitlab.com",
    "bitbucket.org",
    "pypi.org",
    "*.pypi.org",
    "files.pythonhosted.org",
    "registry.npmjs.org",
    "registry.yarnpkg.com",
    "crates.io",
    "*.crates.io",
    "proxy.golang.org",
    "sum.golang.org",
    "rubygems.org",
    "repo.maven.apache.org",
    "repo1.maven.org",
    "*.docker.io",
    "ghcr.io",
)
DEFAULT_RISKY_MODES = ("bypassPermissions", "danger-full-access", "never", "yolo")


# --------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class Budget:
    """Spend limits per session; None switches a limit off."""

    usd: float | None = 10.0
    tokens: int | None = None  # input + output + cache-write tokens (cache reads excluded)


@dataclass(frozen=True)
class Paths:
    """Where the agent may write (globs relative to the session cwd unless absolute / ~)."""

    allowed_write: tuple[PathPattern, ...] = ()
    forbidden: tuple[PathPattern, ...] = ()
    sensitive: tuple[PathPattern, ...] = ()
    task_scope: bool = True  # flag changes far from the paths the task names


@dataclass(frozen=True)
class Tools:
    """Tool names (globs, case-insensitive); an empty `allowed` allows every tool."""

    allowed: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()


@dataclass(frozen=True)
class Commands:
    """Forbidden shell command patterns (regexes)."""

    forbidden: tuple[CommandRule, ...] = ()


@dataclass(frozen=True)
class Network:
    """Hosts the agent may send data to; `include_reads` also checks plain fetches."""

    allowed_hosts: tuple[str, ...] = DEFAULT_ALLOWED_HOSTS
    include_reads: bool = False


@dataclass(frozen=True)
class Authorization:
    """Permission, sandbox and approval modes that remove the human from the loop."""

    risky_modes: tuple[str, ...] = DEFAULT_RISKY_MODES


@dataclass(frozen=True)
class Loops:
    """Loop and failure thresholds (a count above `identical_calls` is a loop)."""

    identical_calls: int = 3
    same_error: int = 3
    alternating_window: int = 6
    messages_without_tools: int = 8
    failures_consecutive: int = 3
    failures_window: tuple[int, int] = (5, 10)
    polling_calls: int = 20
    stuck_factor: int = 2  # the stuck (high) level is this many times the warning threshold


@dataclass(frozen=True)
class CostSpiral:
    """Cost per model call accelerating while no new file changes."""

    window: int = 6
    factor: float = 2.5
    min_usd: float = 1.0


@dataclass(frozen=True)
class Context:
    """Context growth thresholds."""

    growth_window: int = 10
    growth_tokens_per_call: int = 15_000
    compactions_warning: int = 3
    near_limit: float = 0.9


KILL_SWITCH_TRIGGERS = (
    "budget", "scope", "permissions", "loop", "external",
    "cost", "failures", "context", "hallucination", "stops",
)  # fmt: skip
SEVERITY_LEVELS = ("info", "warning", "high", "critical")


@dataclass(frozen=True)
class KillSwitch:
    """What `agentir guard` blocks and `agentir watch` contains: triggers, lowest severity."""

    triggers: tuple[str, ...] = ("budget", "scope", "permissions", "loop")
    min_severity: str = "warning"  # the loop warning is the 4th identical call: it must fire
    levels: tuple[tuple[str, str], ...] = ()  # per-trigger lowest severity, overriding the above
    budget_lookahead: bool = True  # guard: block when the next model call would cross the budget
    open_incident: bool = False  # guard: open (or join) an incident on a block
    alert_on_block: bool = True  # guard: send the configured alerts on a block

    def threshold(self, trigger: str) -> str | None:
        """The lowest severity that fires `trigger`, None when the trigger is off."""
        if trigger not in self.triggers:
            return None
        return dict(self.levels).get(trigger, self.min_severity)

    def fires(self, trigger: str, severity: str) -> bool:
        """Whether a finding of `severity` for `trigger` pulls the kill switch."""
        level = self.threshold(trigger)
        if level is None or severity not in SEVERITY_LEVELS:
            return False
        return SEVERITY_LEVELS.index(severity) >= SEVERITY_LEVELS.index(level)


def _default_paths() -> Paths:
    return Paths(
        tuple(compile_path(p) for p in DEFAULT_ALLOWED_WRITE),
        tuple(compile_path(p) for p in DEFAULT_FORBIDDEN_PATHS),
        tuple(compile_path(p) for p in DEFAULT_SENSITIVE_PATHS),
    )


def _default_commands() -> Commands:
    return Commands(tuple(_rule(p, r) for p, r in DEFAULT_FORBIDDEN_COMMANDS))


@dataclass(frozen=True)
class Policy:
    """Everything the detectors check, with the shipped defaults."""

    budget: Budget = field(default_factory=Budget)
    paths: Paths = field(default_factory=_default_paths)
    tools: Tools = field(default_factory=Tools)
    commands: Commands = field(default_factory=_default_commands)
    network: Network = field(default_factory=Network)
    authorization: Authorization = field(default_factory=Authorization)
    loops: Loops = field(default_factory=Loops)
    cost_spiral: CostSpiral = field(default_factory=CostSpiral)
    context: Context = field(default_factory=Context)
    kill_switch: KillSwitch = field(default_factory=KillSwitch)
    source: str = "built-in defaults"

    @classmethod
    def from_dict(
        cls, data: Any, doc: YamlDoc | None = None, prefix: tuple[str | int, ...] = ()
    ) -> Policy:
        """Build and validate a policy from parsed YAML; ConfigError lists every error."""
        from agentir.policy_schema import build

        errors: list[str] = []
        policy = build(cls(), data, _Where(doc, prefix, errors))
        if errors:
            where = str(doc.path) if doc else "the policy"
            raise ConfigError(
                f"invalid policy in {where} ({len(errors)} error(s)):\n  " + "\n  ".join(errors),
                hint="fix each line listed; agentir.example.yaml documents every key",
            )
        return replace(policy, source=str(doc.path) if doc else "inline")


@dataclass
class _Where:
    """Formats error locations (`file:line: key.path: message`) and collects errors."""

    doc: YamlDoc | None
    prefix: tuple[str | int, ...]
    errors: list[str]

    def error(self, keys: tuple[str | int, ...], message: str) -> None:
        """Record an error at `keys` (relative to the policy's root)."""
        path = (*self.prefix, *keys)
        if self.doc is not None:
            self.errors.append(f"{self.doc.where(*path)}: {message}")
        else:
            self.errors.append(f"{'.'.join(map(str, path)) or '(top level)'}: {message}")


def load_policy(path: Path | None = None, start: Path | None = None) -> Policy:
    """`path` (top level or `policy:`), else $AGENTIR_POLICY, else agentir.yaml's `policy:`."""
    explicit = path or (
        Path(os.environ["AGENTIR_POLICY"]) if os.environ.get("AGENTIR_POLICY") else None
    )
    if explicit is not None:
        doc = load_yaml(explicit.expanduser())
        data = doc.data
        if isinstance(data, Mapping) and ("policy" in data or _CONFIG_KEYS & set(data)):
            if data.get("policy") is None:  # a whole agentir.yaml (alerts, settings) without one
                return replace(Policy(), source=f"built-in defaults ({explicit} has no policy)")
            return Policy.from_dict(data["policy"], doc, ("policy",))
        return Policy.from_dict(data, doc)
    found = find_config(start)
    if found is None:
        return Policy()
    doc = load_yaml(found)
    if doc.data is None:
        return Policy()
    if not isinstance(doc.data, Mapping):
        raise ConfigError(f"{found}:1: the top level must be a mapping", hint="see the README")
    if doc.data.get("policy") is None:
        return replace(Policy(), source=f"built-in defaults ({found} has no policy section)")
    return Policy.from_dict(doc.data["policy"], doc, ("policy",))
