"""Which credentials an agent session used, as its trace shows them (names, never values).

Four kinds, each citing the events (seq and source) that show it:

- `env_var`: environment variable names that look like credentials, referenced in a shell
  command (`$AWS_SECRET_ACCESS_KEY`, `${GH_TOKEN}`), assigned (`GITHUB_TOKEN=… cmd`,
  `export X=…`) or read by an inline script (`os.environ["X"]`, `process.env.X`);
- `secret`: a credential value that appeared in the trace, by its redaction label
  `[REDACTED:<kind>:<sha256 prefix>]` (from the assessment's secret_exposure effects);
- `cloud_cli`: a CLI the agent ran that acts with ambient credentials (aws, gcloud, az, gh,
  kubectl, ...), with the credential it implies;
- `url_token`: a URL carrying a credential (userinfo or a token query parameter);
- `credential_file`: a file that holds credentials, read or used by a command or a tool
  (`~/.aws/credentials`, `~/.ssh/id_ed25519`, `~/.kube/config`, `.env`, `~/.netrc`, ...).

Only redacted command text is ever looked at after the first step, so nothing here can
hold a secret value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentir.analysis.secrets import redact
from agentir.analysis.shell import split_commands
from agentir.analysis.tools import shell_command
from agentir.model import Assessment, Event, ToolCall

MAX_CREDENTIALS = 500
MAX_EVIDENCE = 5

_NAME = r"[A-Z_][A-Z0-9_]*"
_REFERENCE = re.compile(r"\$\{?(" + _NAME + r")")
_ASSIGNMENT = re.compile(r"(?:^|[\s;&|(])(?:export\s+|env\s+)?(" + _NAME + r")=")
_SCRIPT_READ = re.compile(
    r"(?:environ(?:\.get)?\s*[\[(]\s*|getenv\s*\(\s*|ENV\s*\[\s*)[\"'](" + _NAME + r")[\"']"
    r"|process\.env\.(" + _NAME + r")|printenv\s+(" + _NAME + r")"
)
_WORD_PARTS = frozenset(
    {"TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASS", "PAT", "KEY", "APIKEY", "AUTH"}
)
_SUBSTRINGS = ("PASSWORD", "PASSWD", "SECRET", "CREDENTIAL", "APIKEY", "API_KEY")
_KNOWN = frozenset(
    {
        "AWS_PROFILE",
        "AWS_ROLE_ARN",
        "KUBECONFIG",
        "DATABASE_URL",
        "MYSQL_PWD",
        "PGPASSFILE",
        "NETRC",
        "VAULT_ADDR",
    }
)
_URL = re.compile(r"\b[a-z][a-z0-9+.\-]*://[^\s\"'<>]+", re.IGNORECASE)
_TOKEN_PARAM = re.compile(
    r"[?&](?:access_token|token|api_key|apikey|key|sig|signature|password|auth)=", re.IGNORECASE
)
_CRED_FILE = re.compile(
    r"(?:[~\w./$-]*/)?(?:\.aws/(?:credentials|config)|\.ssh/id_[\w-]+|\.kube/config"
    r"|\.netrc|\.git-credentials|\.docker/config\.json|\.npmrc|\.pypirc|\.pgpass"
    r"|\.config/gh/hosts\.yml|\.config/gcloud/[\w./-]+|\.vault-token"
    r"|(?<![\w.])\.env(?:\.[\w-]+)?)(?![\w/.-])"
)
_HOST = re.compile(r"://(?:[^/@\s]*@)?([^/:?#\s]+)")

# program -> (credential it acts with, the sub-commands that count; empty: any)
_CLIS: dict[str, tuple[str, tuple[str, ...]]] = {
    "aws": ("AWS credentials (access keys, a profile or a role session)", ()),
    "gcloud": ("Google Cloud credentials (gcloud auth account or service-account key)", ()),
    "gsutil": ("Google Cloud credentials (gcloud auth account or service-account key)", ()),
    "bq": ("Google Cloud credentials (gcloud auth account or service-account key)", ()),
    "az": ("Azure CLI login (a user or a service principal)", ()),
    "gh": ("a GitHub token (GH_TOKEN / GITHUB_TOKEN or gh auth login)", ()),
    "kubectl": ("a Kubernetes credential from the kubeconfig (KUBECONFIG)", ()),
    "helm": ("a Kubernetes credential from the kubeconfig (KUBECONFIG)", ()),
    "terraform": ("the cloud credentials of the Terraform providers", ("apply", "destroy")),
    "docker": ("container registry credentials (docker login)", ("push", "login")),
    "npm": ("an npm token (~/.npmrc or NPM_TOKEN)", ("publish", "login", "token")),
    "twine": ("a PyPI token (~/.pypirc or TWINE_PASSWORD)", ("upload",)),
    "vault": ("a Vault token (VAULT_TOKEN or ~/.vault-token)", ()),
    "psql": ("database credentials (PGPASSWORD, ~/.pgpass)", ()),
    "mysql": ("database credentials (MYSQL_PWD, ~/.my.cnf)", ()),
    "git": ("git remote credentials (credential helper, SSH key or token)", ("push",)),
}


@dataclass(frozen=True)
class Evidence:
    """Where the trace shows a credential: the event's seq and its source (file:line)."""

    seq: int
    source: str


@dataclass(frozen=True)
class CredentialUse:
    """One credential the session used, by name or redaction label, with its evidence."""

    kind: str  # env_var | secret | cloud_cli | url_token
    name: str
    detail: str
    evidence: tuple[Evidence, ...]
    count: int


@dataclass(frozen=True)
class CredentialReport:
    """The credentials of one session, in order of first use."""

    session_id: str | None
    trace: str | None
    credentials: tuple[CredentialUse, ...]
    omitted: int = 0

    def names(self) -> list[str]:
        """`kind:name` of every credential (what the timeline records)."""
        return [f"{c.kind}:{c.name}" for c in self.credentials]


@dataclass
class _Entry:
    kind: str
    name: str
    detail: str
    evidence: list[Evidence] = field(default_factory=list)
    count: int = 0


class CredentialObserver:
    """A fold observer collecting the credentials one session's shell commands use."""

    def __init__(self) -> None:
        self.session_id: str | None = None
        self.entries: dict[tuple[str, str], _Entry] = {}
        self.omitted = 0

    def feed(self, event: Event, derived: Any, fold: Any) -> None:
        """Look at every shell command (its redacted text only)."""
        if self.session_id is None:
            self.session_id = getattr(fold, "session_id", None)
        if not isinstance(event, ToolCall):
            return
        where = Evidence(event.seq, str(event.source))
        command = shell_command(event)
        if command:
            self.command(redact(command), where)
            return
        for key in ("file_path", "path", "filename", "notebook_path"):
            value = event.args.get(key) if isinstance(event.args, dict) else None
            if isinstance(value, str):
                for found in _CRED_FILE.findall(value):
                    self.add(
                        "credential_file", found, f"credential file used by {event.name}", where
                    )

    def finish(self, fold: Any) -> Iterable[Any]:
        """No findings: the credentials are read from the observer afterwards."""
        return ()

    def command(self, text: str, where: Evidence) -> None:
        """Record what one (already redacted) command line shows."""
        for name in env_names(text):
            self.add("env_var", name, "environment variable named in a command", where)
        for found in dict.fromkeys(_CRED_FILE.findall(text)):
            self.add("credential_file", found, "credential file used by a command", where)
        for program, what in cli_credentials(text):
            self.add("cloud_cli", program, what, where)
        for url in _URL.findall(text):
            if "[REDACTED:" in url or _TOKEN_PARAM.search(url):
                host = _HOST.search(url)
                label = host.group(1) if host else url[:60]
                self.add("url_token", label, f"credential in a URL: {url[:200]}", where)

    def add(self, kind: str, name: str, detail: str, where: Evidence) -> None:
        """Count one use; the first few uses are kept as evidence."""
        key = (kind, name)
        entry = self.entries.get(key)
        if entry is None:
            if len(self.entries) >= MAX_CREDENTIALS:
                self.omitted += 1
                return
            entry = self.entries[key] = _Entry(kind, name, detail)
        entry.count += 1
        if len(entry.evidence) < MAX_EVIDENCE:
            entry.evidence.append(where)

    def report(self, assessment: Assessment | None, trace: str | None) -> CredentialReport:
        """The report, with the secrets the assessment found exposed added."""
        in_urls = " ".join(e.detail for e in self.entries.values() if e.kind == "url_token")
        for effect in assessment.effects if assessment is not None else ():
            if effect.kind != "secret_exposure" or effect.target in in_urls:
                continue
            where = Evidence(effect.seq, effect.source)
            self.add(
                "secret", effect.target, effect.detail or "credential value in the trace", where
            )
            self.entries[("secret", effect.target)].count += max(effect.count - 1, 0)
        session = assessment.session.id if assessment is not None else self.session_id
        creds = tuple(
            CredentialUse(e.kind, e.name, e.detail, tuple(e.evidence), e.count)
            for e in self.entries.values()
        )
        return CredentialReport(session, trace, creds, self.omitted)


def env_names(text: str) -> list[str]:
    """Credential-like environment variable names a command line references or sets."""
    found: dict[str, None] = {}
    for match in _REFERENCE.finditer(text):
        found.setdefault(match.group(1), None)
    for match in _ASSIGNMENT.finditer(text):
        found.setdefault(match.group(1), None)
    for match in _SCRIPT_READ.finditer(text):
        name = next(g for g in match.groups() if g)
        found.setdefault(name, None)
    return [name for name in found if is_credential_name(name)]


def is_credential_name(name: str) -> bool:
    """Whether an environment variable name looks like it holds a credential."""
    upper = name.upper()
    if upper in _KNOWN:
        return True
    if any(part in _WORD_PARTS for part in upper.split("_")):
        return True
    return upper.endswith(("TOKEN", "KEY")) or any(s in upper for s in _SUBSTRINGS)


def cli_credentials(text: str) -> list[tuple[str, str]]:
    """(program, credential it implies) for each credential-bearing CLI in a command line."""
    out: dict[str, str] = {}
    for cmd in split_commands(text):
        known = _CLIS.get(cmd.program)
        if known is None:
            continue
        what, verbs = known
        if verbs and not any(v in cmd.argv[1:4] for v in verbs):
            continue
        name = f"{cmd.program} {verbs[0]}" if cmd.program == "git" else cmd.program
        out.setdefault(name, what)
    return list(out.items())


def scan_trace(path: Path, observers: Any = None) -> list[tuple[Assessment, CredentialReport]]:
    """Assess a trace once; per session, the assessment and the credentials it used."""
    from agentir.analysis.assess import assess_trace

    made: list[CredentialObserver] = []

    def factory() -> Sequence[Any]:
        mine = CredentialObserver()
        made.append(mine)
        return [*(observers() if observers else ()), mine]

    result = assess_trace(path, observers=factory)
    # assess_trace builds one fold (one factory call) per session, in session order.
    return [
        (a, obs.report(a, str(result.path))) for a, obs in zip(result.sessions, made, strict=False)
    ]


def detector_observers() -> Any:
    """The detectors' observer factory with the configured policy (as `agentir assess` uses)."""
    try:
        from agentir.analysis.detectors import observer_factory
        from agentir.policy import load_policy
    except ImportError:  # detectors not part of this build
        return None
    return observer_factory(load_policy())
