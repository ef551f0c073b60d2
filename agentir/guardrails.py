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
from pathlib import PurePosixPath

from agentir.model import Assessment, Effect, Finding, Risk

HARMFUL = (Risk.HIGH, Risk.CRITICAL)
_PROGRAM = re.compile(r"^[A-Za-z0-9_.+-]{1,40}$")
_RISKY_CLAUDE_MODES = ("bypassPermissions",)
_RISKY_SANDBOXES = ("danger-full-access",)
_RISKY_APPROVALS = ("never",)

# Per effect kind: forbidden command regexes (fixed text, never from a trace) and why.
_KIND_PATTERNS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "database": (
        r"\b(?:psql|mysql|mariadb|sqlite3|mongosh?|redis-cli)\b.*\b(?:DELETE|DROP|TRUNCATE|UPDATE|ALTER|INSERT)\b",
        "database writes go through a reviewed migration, not the agent",
        ("psql", "mysql", "mongosh", "redis-cli"),
    ),
    "deploy": (
        r"\b(?:kubectl\s+(?:apply|delete|rollout|scale)|helm\s+(?:install|upgrade|uninstall)|terraform\s+(?:apply|destroy)|fly\s+deploy|vercel\b.*--prod|gh\s+workflow\s+run)\b",
        "deploys go through the pipeline, not the agent",
        ("kubectl", "helm", "terraform", "fly", "vercel"),
    ),
    "publish": (
        r"\b(?:npm|pnpm|yarn)\s+publish\b|\btwine\s+upload\b|\bcargo\s+publish\b|\bgh\s+release\s+create\b|\bdocker\s+push\b",
        "releases are cut by the release job, not the agent",
        ("npm publish", "twine", "cargo publish", "docker push"),
    ),
    "cloud": (
        r"\b(?:aws|gcloud|az)\s+\S+\s+(?:create|delete|put|update|set|remove|terminate|rm)\b",
        "cloud changes go through infrastructure code review",
        ("aws", "gcloud", "az"),
    ),
    "message": (
        r"\b(?:curl|wget|http)\b.*\b(?:hooks\.slack\.com|discord(?:app)?\.com/api/webhooks|api\.pagerduty\.com)\b|\b(?:sendmail|mail|mutt)\b",
        "the agent does not message people or page anyone",
        ("curl", "sendmail"),
    ),
    "destructive": (
        r"\bgit\s+(?:reset\s+--hard|clean\s+-[A-Za-z]*f|checkout\s+--\s+\.|restore\s+\.)|\bfind\b.*\s-delete\b",
        "discarding work needs a human",
        ("git reset --hard", "git clean -f"),
    ),
}


_ENV_NAMES = {
    "database": "DATABASE_URL PROD_DATABASE_URL PGPASSWORD MYSQL_PWD",
    "deploy": "KUBECONFIG HELM_KUBETOKEN TF_TOKEN_app_terraform_io VERCEL_TOKEN FLY_API_TOKEN",
    "publish": "NPM_TOKEN NODE_AUTH_TOKEN TWINE_PASSWORD CARGO_REGISTRY_TOKEN",
    "cloud": "AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE",
    "message": "SLACK_WEBHOOK_URL SLACK_BOT_TOKEN PAGERDUTY_TOKEN",
    "destructive": "GIT_SSH_COMMAND",
}


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


def _yaml_policy(body: str) -> Change:
    return Change("agentir policy", "agentir.yaml", "yaml", "policy:\n" + _indent(body, 2))


def _indent(text: str, n: int) -> str:
    return "\n".join((" " * n + line) if line else line for line in text.splitlines())


def _claude_deny(rules: Iterable[str]) -> Change:
    body = {"permissions": {"deny": sorted(set(rules))}}
    return Change(
        "Claude Code permissions",
        ".claude/settings.json (or managed-settings.json to enforce it for everyone)",
        "json",
        json.dumps(body, indent=2),
    )


_GUARD = Change(
    "agentir guard (a PreToolUse hook that blocks the call)",
    ".claude/settings.json",
    "sh",
    "agentir guard install --project .",
)


def _commands_rule(pattern: str, reason: str) -> Change:
    return _yaml_policy(
        'commands:\n  forbidden:\n    - "@defaults"\n'
        f"    - pattern: '{pattern}'\n      reason: {json.dumps(reason)}"
    )


def _ev(session: str, items: Iterable[Effect | Finding | int]) -> list[tuple[str, int]]:
    out = []
    for item in items:
        if isinstance(item, int):
            out.append((session, item))
        elif isinstance(item, Effect):
            out.append((session, item.seq))
        elif item.seqs:
            out.append((session, min(item.seqs)))
    return out


class _Builder:
    """Collects recommendations by id, merging evidence from several sessions."""

    def __init__(self) -> None:
        self.items: dict[str, Guardrail] = {}
        self.order: list[str] = []

    def add(self, g: Guardrail) -> None:
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
    builder = _Builder()
    for a in sessions:
        sid = a.session.id
        claude = a.session.agent == "claude-code"
        codex = a.session.agent in ("codex", "codex-exec")
        harmful = [e for e in a.effects if e.risk in HARMFUL]
        _pushes(builder, a, sid, claude)
        for kind in ("database", "deploy", "publish", "cloud", "message", "destructive"):
            hits = [e for e in harmful if e.kind == kind]
            if hits:
                builder.add(_kind_rule(kind, hits, sid, claude))
        _secrets(builder, a, sid, claude)
        _network(builder, a, sid, claude, codex)
        _paths(builder, a, sid, claude, codex)
        _mcp(builder, a, sid, claude)
        _authorization(builder, a, sid, claude, codex)
        _findings(builder, a, sid)
        if harmful or any(f.severity in ("high", "critical") for f in a.findings):
            seqs = _ev(sid, harmful[:3])
            builder.add(
                Guardrail(
                    "guard-hook",
                    "hook",
                    "Enforce the policy while the agent runs, not after",
                    "The policy only judged the trace afterwards; a PreToolUse hook blocks a "
                    "forbidden call before it runs (exit 2), and agentir watch pauses any "
                    "other agent on a trigger.",
                    tuple(seqs),
                    (_GUARD,)
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


def _pushes(builder: _Builder, a: Assessment, sid: str, claude: bool) -> None:
    pushes = [e for e in a.effects if e.kind == "git_push" and e.risk in HARMFUL]
    if not pushes:
        return
    branch = a.session.git_branch or "main"
    repo = _owner_repo(a.session.repository_url) or "OWNER/REPO"
    protection = {
        "required_status_checks": {"strict": True, "contexts": []},
        "enforce_admins": True,
        "required_pull_request_reviews": {"required_approving_review_count": 1},
        "restrictions": None,
        "allow_force_pushes": False,
        "allow_deletions": False,
    }
    changes = [
        Change(
            "branch protection",
            f"GitHub repository {repo}",
            "sh",
            f"gh api -X PUT repos/{_shell_word(repo)}/branches/{_shell_word(branch)}/protection "
            f"--input - <<'EOF'\n{json.dumps(protection, indent=2)}\nEOF",
        )
    ]
    if claude:
        changes.append(
            _claude_deny(
                [
                    "Bash(git push --force:*)",
                    "Bash(git push -f:*)",
                    "Bash(git push --force-with-lease:*)",
                    f"Bash(git push origin {branch}:*)",
                ]
            )
        )
    builder.add(
        Guardrail(
            "protect-branch",
            "branch-protection",
            f"Protect {branch} against force pushes and direct pushes",
            "The agent pushed to a shared branch"
            + (" with --force" if any("force" in e.detail for e in pushes) else "")
            + "; branch protection refuses that whoever holds the credentials.",
            tuple(_ev(sid, pushes)),
            tuple(changes),
        )
    )


def _kind_rule(kind: str, hits: list[Effect], sid: str, claude: bool) -> Guardrail:
    pattern, reason, programs = _KIND_PATTERNS[kind]
    changes = [_commands_rule(pattern, reason)]
    seen = [p for p in (_program(e) for e in hits) if p]
    if claude:
        changes.append(_claude_deny(f"Bash({p}:*)" for p in (seen or list(programs[:2]))))
    changes.append(
        Change(
            "credentials (least privilege)",
            "the agent's environment",
            "sh",
            f"# remove {kind} credentials from the agent's environment; give it a read-only or "
            f"staging-only role instead\nunset {_ENV_NAMES[kind]}  # the usual names; check yours",
        )
    )
    titles = {
        "database": "Take production database write access away from the agent",
        "deploy": "Deploys only through the pipeline: the agent cannot deploy",
        "publish": "Publishing only through the release job",
        "cloud": "No cloud write access for the agent",
        "message": "The agent cannot send messages or page people",
        "destructive": "Block commands that discard work",
    }
    return Guardrail(
        f"no-{kind}",
        "permission",
        titles[kind],
        f"The agent ran {len(hits)} high-risk {kind} action(s); {reason}.",
        tuple(_ev(sid, hits)),
        tuple(changes),
    )


def _program(effect: Effect) -> str | None:
    word = effect.target.split(" ", 1)[0] if effect.target else ""
    return word if _PROGRAM.match(word) and not word.startswith("-") else None


def _secrets(builder: _Builder, a: Assessment, sid: str, claude: bool) -> None:
    secrets = [e for e in a.effects if e.kind == "secret_exposure"]
    if not secrets:
        return
    labels = sorted({e.target for e in secrets})
    changes = [
        Change(
            "credentials",
            "the issuing systems (GitHub, AWS, ...)",
            "sh",
            "# revoke and reissue each exposed credential, scoped to what the agent needs:\n"
            + "\n".join(f"#   {label}" for label in labels[:10]),
        ),
        _yaml_policy(
            'paths:\n  forbidden:\n    - "@defaults"\n    - ".env"\n    - "**/secrets/**"'
        ),
    ]
    if claude:
        changes.append(_claude_deny(["Read(./.env)", "Read(./.env.*)", "Bash(cat .env:*)"]))
    builder.add(
        Guardrail(
            "revoke-secrets",
            "credentials",
            "Revoke the exposed credentials and keep secrets out of the agent's reach",
            f"{len(labels)} credential(s) appeared in the session; a secret in a trace is "
            "compromised. Short-lived, least-privilege tokens limit what the next leak costs.",
            tuple(_ev(sid, secrets)),
            tuple(changes),
        )
    )


def _network(builder: _Builder, a: Assessment, sid: str, claude: bool, codex: bool) -> None:
    hits = [e for e in a.effects if e.kind == "network" and e.risk in HARMFUL]
    if not hits:
        return
    hosts = sorted({e.target for e in hits})
    changes = [
        _yaml_policy(
            'network:\n  include_reads: true\n  allowed_hosts:\n    - "@defaults"\n'
            "    # only hosts the agent needs; the ones it reached are NOT listed: "
            + ", ".join(json.dumps(h) for h in hosts[:5])
        )
    ]
    if claude:
        rules = ["Bash(curl:*)", "Bash(wget:*)"] + [
            f"WebFetch(domain:{h})" for h in hosts if _PROGRAM.match(h)
        ]
        changes.append(_claude_deny(rules))
    if codex:
        changes.append(
            Change(
                "Codex sandbox",
                "~/.codex/config.toml",
                "toml",
                'sandbox_mode = "workspace-write"\n\n[sandbox_workspace_write]\nnetwork_access = false',
            )
        )
    builder.add(
        Guardrail(
            "network-allowlist",
            "network",
            "Allow network access only to listed hosts",
            f"The agent sent data to {len(hosts)} host(s) no policy allowed.",
            tuple(_ev(sid, hits)),
            tuple(changes),
        )
    )


def _paths(builder: _Builder, a: Assessment, sid: str, claude: bool, codex: bool) -> None:
    outside = [f for f in a.files if not f.inside_cwd and f.done]
    if not outside:
        return
    dirs = sorted({str(PurePosixPath(f.path).parent) for f in outside})
    changes = [_yaml_policy('paths:\n  allowed_write:\n    - "."\n    - "/tmp/**"')]
    if claude:
        rules = []
        for d in dirs[:10]:
            rules += [f"Edit(/{d}/**)", f"Write(/{d}/**)"] if d.startswith("/") else []
        if rules:
            changes.append(_claude_deny(rules))
    if codex:
        changes.append(
            Change(
                "Codex sandbox",
                "~/.codex/config.toml",
                "toml",
                'sandbox_mode = "workspace-write"  # writes only inside the workspace',
            )
        )
    builder.add(
        Guardrail(
            "write-scope",
            "path",
            "Restrict writes to the repository the agent works in",
            f"The agent wrote {len(outside)} file(s) outside its working directory.",
            tuple(_ev(sid, [f.first_seq for f in outside])),
            tuple(changes),
        )
    )


def _mcp(builder: _Builder, a: Assessment, sid: str, claude: bool) -> None:
    hits = [e for e in a.effects if e.kind == "mcp" and e.risk in HARMFUL]
    if not hits:
        return
    tools = sorted({e.target for e in hits})
    changes = [
        _yaml_policy(
            "tools:\n  forbidden:\n"
            + "".join(
                f"    - {json.dumps('mcp__' + t.replace('/', '__'))}\n" for t in tools[:10]
            ).rstrip("\n")
        )
    ]
    if claude:
        changes.append(_claude_deny(f"mcp__{t.replace('/', '__')}" for t in tools[:10]))
    builder.add(
        Guardrail(
            "mcp-deny",
            "permission",
            "Deny the MCP tools that reached external systems",
            f"{len(tools)} MCP tool(s) acted on external systems.",
            tuple(_ev(sid, hits)),
            tuple(changes),
        )
    )


def _authorization(builder: _Builder, a: Assessment, sid: str, claude: bool, codex: bool) -> None:
    s = a.session
    if claude and s.permission_mode in _RISKY_CLAUDE_MODES:
        body = {
            "permissions": {"defaultMode": "default", "disableBypassPermissionsMode": "disable"}
        }
        builder.add(
            Guardrail(
                "authorization",
                "permission",
                "Never run the agent with bypassed permissions",
                f"The session ran in permission mode {s.permission_mode}: no call needed "
                "approval. Disable that mode in managed settings.",
                (),
                (
                    Change(
                        "Claude Code managed settings",
                        "/etc/claude-code/managed-settings.json",
                        "json",
                        json.dumps(body, indent=2),
                    ),
                ),
            )
        )
    risky_sandbox = s.sandbox in _RISKY_SANDBOXES
    if codex and (risky_sandbox or s.approval_policy in _RISKY_APPROVALS):
        builder.add(
            Guardrail(
                "codex-sandbox",
                "sandbox",
                "Run Codex sandboxed, with approval for anything outside it",
                f"The session ran with sandbox {s.sandbox or 'unknown'} and approval policy "
                f"{s.approval_policy or 'unknown'}.",
                (),
                (
                    Change(
                        "Codex config",
                        "~/.codex/config.toml",
                        "toml",
                        'sandbox_mode = "workspace-write"\napproval_policy = "on-request"\n\n'
                        "[sandbox_workspace_write]\nnetwork_access = false",
                    ),
                ),
            )
        )


def _findings(builder: _Builder, a: Assessment, sid: str) -> None:
    by_family: dict[str, list[Finding]] = {}
    for f in a.findings:
        if f.severity in ("info",):
            continue
        by_family.setdefault(finding_family(f.detector), []).append(f)
    usage = a.usage
    repo = _owner_repo(a.session.repository_url) or "OWNER/REPO"
    branch = a.session.git_branch or "main"
    if "cost" in by_family:
        spent = usage.cost_usd or 0.0
        limit = max(1, int(spent * 0.5) or 1)
        builder.add(
            _simple(
                "budget",
                "budget",
                "Enforce a cost budget per session",
                f"Cost findings fired; the session spent ${spent:.2f}.",
                sid,
                by_family["cost"],
                _yaml_policy(
                    f"budget:\n  usd: {limit}\n  tokens: {max(100_000, usage.peak_context_tokens * 10)}"
                ),
            )
        )
    if "loop" in by_family:
        builder.add(
            _simple(
                "loop-limit",
                "loop-limit",
                "Stop the agent when it repeats itself",
                "Loop findings fired: the same call repeated without progress.",
                sid,
                by_family["loop"],
                _yaml_policy("loops:\n  identical_calls: 3\n  same_error: 3\n  stuck_factor: 2"),
            )
        )
    if "failures" in by_family:
        builder.add(
            _simple(
                "failure-limit",
                "loop-limit",
                "Stop the agent after repeated failures",
                "Repeated failed tool calls went on unchecked.",
                sid,
                by_family["failures"],
                _yaml_policy("loops:\n  failures_consecutive: 3\n  failures_window: [5, 10]"),
            )
        )
    if "context" in by_family:
        builder.add(
            _simple(
                "context-limit",
                "budget",
                "Limit context growth per session",
                "Context grew fast; a token budget ends the session before it spirals.",
                sid,
                by_family["context"],
                _yaml_policy(
                    "context:\n  growth_tokens_per_call: 15000\n  compactions_warning: 2\n"
                    f"budget:\n  tokens: {max(100_000, usage.peak_context_tokens * 10)}"
                ),
            )
        )
    if "claims" in by_family:
        builder.add(
            _simple(
                "ci-gate",
                "branch-protection",
                "Merges need passing checks, whatever the agent reports",
                "The agent claimed success the trace does not support; only a required check "
                "decides.",
                sid,
                by_family["claims"],
                Change(
                    "branch protection",
                    f"GitHub repository {repo}",
                    "sh",
                    f"gh api -X PATCH repos/{_shell_word(repo)}/branches/{_shell_word(branch)}"
                    "/protection/required_status_checks -F strict=true -f 'contexts[]=tests'",
                ),
            )
        )


def _simple(
    gid: str, kind: str, title: str, why: str, sid: str, found: list[Finding], change: Change
) -> Guardrail:
    return Guardrail(gid, kind, title, why, tuple(_ev(sid, found)), (change,))


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


def _owner_repo(url: str | None) -> str | None:
    if not url:
        return None
    match = re.search(r"[:/]([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$", url)
    return f"{match.group(1)}/{match.group(2)}" if match else None


def _shell_word(text: str) -> str:
    return text if re.fullmatch(r"[A-Za-z0-9_./-]+", text) else "'" + text.replace("'", "") + "'"
