"""The rules behind `guardrails.recommend`: for each thing a session did (or a detector found),
the structural change that would have stopped it, with the exact snippet."""

from __future__ import annotations

import json
from pathlib import PurePosixPath

from agentir.guardrails import (
    HARMFUL,
    PROGRAM,
    Builder,
    Change,
    Guardrail,
    claude_deny,
    commands_rule,
    evidence_of,
    finding_family,
    owner_repo,
    shell_word,
    yaml_policy,
)
from agentir.model import Assessment, Effect, Finding

_RISKY_CLAUDE_MODES = ("bypassPermissions",)
_RISKY_SANDBOXES = ("danger-full-access",)
_RISKY_APPROVALS = ("never",)
KINDS = ("database", "deploy", "publish", "cloud", "message", "destructive")

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


def apply(builder: Builder, a: Assessment, claude: bool, codex: bool) -> None:
    """Every rule, for one session."""
    sid = a.session.id
    harmful = [e for e in a.effects if e.risk in HARMFUL]
    _pushes(builder, a, sid, claude)
    for kind in KINDS:
        hits = [e for e in harmful if e.kind == kind]
        if hits:
            builder.add(_kind_rule(kind, hits, sid, claude))
    _secrets(builder, a, sid, claude)
    _network(builder, a, sid, claude, codex)
    _paths(builder, a, sid, claude, codex)
    _mcp(builder, a, sid, claude)
    _authorization(builder, a, sid, claude, codex)
    _findings(builder, a, sid)


def _pushes(builder: Builder, a: Assessment, sid: str, claude: bool) -> None:
    pushes = [e for e in a.effects if e.kind == "git_push" and e.risk in HARMFUL]
    if not pushes:
        return
    branch = a.session.git_branch or "main"
    repo = owner_repo(a.session.repository_url) or "OWNER/REPO"
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
            f"gh api -X PUT repos/{shell_word(repo)}/branches/{shell_word(branch)}/protection "
            f"--input - <<'EOF'\n{json.dumps(protection, indent=2)}\nEOF",
        )
    ]
    if claude:
        changes.append(
            claude_deny(
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
            tuple(evidence_of(sid, pushes)),
            tuple(changes),
        )
    )


def _kind_rule(kind: str, hits: list[Effect], sid: str, claude: bool) -> Guardrail:
    pattern, reason, programs = _KIND_PATTERNS[kind]
    changes = [commands_rule(pattern, reason)]
    seen = [p for p in (_program(e) for e in hits) if p]
    if claude:
        changes.append(claude_deny(f"Bash({p}:*)" for p in (seen or list(programs[:2]))))
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
        tuple(evidence_of(sid, hits)),
        tuple(changes),
    )


def _program(effect: Effect) -> str | None:
    word = effect.target.split(" ", 1)[0] if effect.target else ""
    return word if PROGRAM.match(word) and not word.startswith("-") else None


def _secrets(builder: Builder, a: Assessment, sid: str, claude: bool) -> None:
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
        yaml_policy('paths:\n  forbidden:\n    - "@defaults"\n    - ".env"\n    - "**/secrets/**"'),
    ]
    if claude:
        changes.append(claude_deny(["Read(./.env)", "Read(./.env.*)", "Bash(cat .env:*)"]))
    builder.add(
        Guardrail(
            "revoke-secrets",
            "credentials",
            "Revoke the exposed credentials and keep secrets out of the agent's reach",
            f"{len(labels)} credential(s) appeared in the session; a secret in a trace is "
            "compromised. Short-lived, least-privilege tokens limit what the next leak costs.",
            tuple(evidence_of(sid, secrets)),
            tuple(changes),
        )
    )


def _network(builder: Builder, a: Assessment, sid: str, claude: bool, codex: bool) -> None:
    hits = [e for e in a.effects if e.kind == "network" and e.risk in HARMFUL]
    if not hits:
        return
    hosts = sorted({e.target for e in hits})
    changes = [
        yaml_policy(
            'network:\n  include_reads: true\n  allowed_hosts:\n    - "@defaults"\n'
            "    # only hosts the agent needs; the ones it reached are NOT listed: "
            + ", ".join(json.dumps(h) for h in hosts[:5])
        )
    ]
    if claude:
        rules = ["Bash(curl:*)", "Bash(wget:*)"] + [
            f"WebFetch(domain:{h})" for h in hosts if PROGRAM.match(h)
        ]
        changes.append(claude_deny(rules))
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
            tuple(evidence_of(sid, hits)),
            tuple(changes),
        )
    )


def _paths(builder: Builder, a: Assessment, sid: str, claude: bool, codex: bool) -> None:
    outside = [f for f in a.files if not f.inside_cwd and f.done]
    if not outside:
        return
    dirs = sorted({str(PurePosixPath(f.path).parent) for f in outside})
    changes = [yaml_policy('paths:\n  allowed_write:\n    - "."\n    - "/tmp/**"')]
    if claude:
        rules = []
        for d in dirs[:10]:
            rules += [f"Edit(/{d}/**)", f"Write(/{d}/**)"] if d.startswith("/") else []
        if rules:
            changes.append(claude_deny(rules))
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
            tuple(evidence_of(sid, [f.first_seq for f in outside])),
            tuple(changes),
        )
    )


def _mcp(builder: Builder, a: Assessment, sid: str, claude: bool) -> None:
    hits = [e for e in a.effects if e.kind == "mcp" and e.risk in HARMFUL]
    if not hits:
        return
    tools = sorted({e.target for e in hits})
    changes = [
        yaml_policy(
            "tools:\n  forbidden:\n"
            + "".join(
                f"    - {json.dumps('mcp__' + t.replace('/', '__'))}\n" for t in tools[:10]
            ).rstrip("\n")
        )
    ]
    if claude:
        changes.append(claude_deny(f"mcp__{t.replace('/', '__')}" for t in tools[:10]))
    builder.add(
        Guardrail(
            "mcp-deny",
            "permission",
            "Deny the MCP tools that reached external systems",
            f"{len(tools)} MCP tool(s) acted on external systems.",
            tuple(evidence_of(sid, hits)),
            tuple(changes),
        )
    )


def _authorization(builder: Builder, a: Assessment, sid: str, claude: bool, codex: bool) -> None:
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


def _findings(builder: Builder, a: Assessment, sid: str) -> None:
    by_family: dict[str, list[Finding]] = {}
    for f in a.findings:
        if f.severity in ("info",):
            continue
        by_family.setdefault(finding_family(f.detector), []).append(f)
    usage = a.usage
    repo = owner_repo(a.session.repository_url) or "OWNER/REPO"
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
                yaml_policy(
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
                yaml_policy("loops:\n  identical_calls: 3\n  same_error: 3\n  stuck_factor: 2"),
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
                yaml_policy("loops:\n  failures_consecutive: 3\n  failures_window: [5, 10]"),
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
                yaml_policy(
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
                    f"gh api -X PATCH repos/{shell_word(repo)}/branches/{shell_word(branch)}"
                    "/protection/required_status_checks -F strict=true -f 'contexts[]=tests'",
                ),
            )
        )


def _simple(
    gid: str, kind: str, title: str, why: str, sid: str, found: list[Finding], change: Change
) -> Guardrail:
    return Guardrail(gid, kind, title, why, tuple(evidence_of(sid, found)), (change,))
