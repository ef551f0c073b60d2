"""External effects of shell commands and tools: what reached beyond the working tree.

Each rule names the kind of effect (network, git_push, deploy, publish, cloud, database,
message, destructive, mcp), its target and a risk level. Rules look at the program and its
arguments, never at the text of arguments alone, so `echo "git push"` is not a push.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from agentir.analysis.shell import SimpleCommand, split_commands
from agentir.model import Risk


@dataclass(frozen=True, slots=True)
class EffectHit:
    """An external effect found in a command or tool call (before it gets a seq)."""

    kind: str
    target: str
    risk: Risk
    detail: str = ""


_URL = re.compile(r"\b(?:https?|ftp|wss?)://[^\s'\"<>|;)]+", re.IGNORECASE)
_SCP_HOST = re.compile(r"^(?:[^@/\s]+@)?([A-Za-z0-9.\-]+):")
_SQL_WRITE = re.compile(
    r"\b(DROP|TRUNCATE|DELETE\s+FROM|UPDATE\s+\w+\s+SET|INSERT\s+INTO|ALTER\s+TABLE|GRANT|REVOKE|CREATE\s+(?:TABLE|DATABASE|USER|ROLE))\b",
    re.IGNORECASE,
)
_SQL_DESTROY = re.compile(r"\b(DROP\s+(?:TABLE|DATABASE|SCHEMA)|TRUNCATE)\b", re.IGNORECASE)
_DELETE_NO_WHERE = re.compile(
    r"\bDELETE\s+FROM\s+[\w.\"]+\s*(?:;|$|\"|')(?![\s\S]*\bWHERE\b)", re.IGNORECASE
)

_NETWORK_PROGRAMS = {
    "curl",
    "wget",
    "http",
    "https",
    "httpie",
    "xh",
    "nc",
    "ncat",
    "netcat",
    "telnet",
    "ftp",
    "sftp",
    "lftp",
    "aria2c",
}
_REMOTE_PROGRAMS = {"ssh", "scp", "rsync", "mosh"}
_DEPLOY = {
    "kubectl": (
        {
            "apply",
            "create",
            "replace",
            "patch",
            "delete",
            "rollout",
            "scale",
            "set",
            "edit",
            "drain",
            "cordon",
            "exec",
            "cp",
            "run",
            "expose",
            "annotate",
            "label",
            "autoscale",
        },
        {"delete", "drain"},
    ),
    "helm": ({"install", "upgrade", "uninstall", "delete", "rollback"}, {"uninstall", "delete"}),
    "terraform": ({"apply", "destroy", "import", "taint", "untaint"}, {"destroy"}),
    "tofu": ({"apply", "destroy", "import"}, {"destroy"}),
    "pulumi": ({"up", "destroy", "update", "refresh"}, {"destroy"}),
    "serverless": ({"deploy", "remove"}, {"remove"}),
    "sls": ({"deploy", "remove"}, {"remove"}),
    "vercel": ({"deploy", "--prod", "promote", "rollback", "remove", "rm"}, {"remove", "rm"}),
    "netlify": ({"deploy"}, set()),
    "fly": ({"deploy", "scale", "destroy", "apps"}, {"destroy"}),
    "flyctl": ({"deploy", "scale", "destroy", "apps"}, {"destroy"}),
    "heroku": (
        {"container:release", "releases:rollback", "apps:destroy", "ps:scale", "config:set"},
        {"apps:destroy"},
    ),
    "cdk": ({"deploy", "destroy"}, {"destroy"}),
    "firebase": ({"deploy"}, set()),
    "wrangler": ({"deploy", "publish", "delete"}, {"delete"}),
    "railway": ({"up", "down"}, {"down"}),
    "ansible-playbook": (set(), set()),
    "docker": ({"push"}, set()),
    "podman": ({"push"}, set()),
    "skaffold": ({"run", "deploy", "delete"}, {"delete"}),
    "argocd": ({"app"}, set()),
}
_PUBLISH = {
    "npm": {"publish", "unpublish", "deprecate"},
    "yarn": {"publish", "npm"},
    "pnpm": {"publish"},
    "twine": {"upload"},
    "cargo": {"publish", "yank"},
    "gem": {"push", "yank"},
    "poetry": {"publish"},
    "flit": {"publish"},
    "hatch": {"publish"},
    "uv": {"publish"},
    "mvn": {"deploy"},
    "gradle": {"publish"},
    "dotnet": {"nuget"},
}
_CLOUD = {
    "aws",
    "gcloud",
    "gsutil",
    "bq",
    "az",
    "doctl",
    "oci",
    "ibmcloud",
    "aliyun",
    "s3cmd",
    "linode-cli",
    "hcloud",
}
_CLOUD_READ = re.compile(
    r"^(describe|list|get|ls|show|head|wait|help|version|--version|info|whoami|account|config|auth|configure|sts)",
    re.IGNORECASE,
)
_CLOUD_DESTROY = re.compile(
    r"(delete|terminate|remove|rm|rb|destroy|purge|drop|deregister|detach)", re.IGNORECASE
)
_DB_CLIENTS = {
    "psql",
    "mysql",
    "mariadb",
    "sqlite3",
    "mongo",
    "mongosh",
    "redis-cli",
    "sqlcmd",
    "cqlsh",
    "clickhouse-client",
    "pg_dump",
    "pg_restore",
    "mysqldump",
    "dropdb",
    "createdb",
}
_MESSAGE_PROGRAMS = {"mail", "mailx", "sendmail", "mutt", "msmtp", "swaks"}
_MESSAGE_HOSTS = (
    "hooks.slack.com",
    "discord.com/api/webhooks",
    "discordapp.com/api/webhooks",
    "outlook.office.com/webhook",
    "api.telegram.org",
    "webhook.office.com",
    "api.pagerduty.com",
    "events.pagerduty.com",
)


def _urls(argv: list[str]) -> list[str]:
    return [m.group(0) for a in argv for m in _URL.finditer(a)]


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or url
    except ValueError:
        return url


def _sub(argv: list[str], skip_values: frozenset[str] = frozenset()) -> list[str]:
    """Operands of a command (options and their values dropped)."""
    out: list[str] = []
    skip = False
    for a in argv[1:]:
        if skip:
            skip = False
            continue
        if a.startswith("-"):
            if a in skip_values:
                skip = True
            continue
        out.append(a)
    return out


def command_effects(command: str, cwd: str | None = None) -> list[EffectHit]:
    """Every external effect of a shell command line."""
    return effects_of(split_commands(command, cwd))


def effects_of(cmds: list[SimpleCommand]) -> list[EffectHit]:
    """Every external effect of already split commands."""
    hits: list[EffectHit] = []
    for i, cmd in enumerate(cmds):
        hits.extend(_simple_effects(cmd, cmds[i + 1] if i + 1 < len(cmds) else None))
    return hits


def _simple_effects(cmd: SimpleCommand, following: SimpleCommand | None) -> list[EffectHit]:
    prog, argv = cmd.program, cmd.argv
    joined = " ".join(argv)
    urls = _urls(argv)
    out: list[EffectHit] = []
    if prog in _NETWORK_PROGRAMS:
        target = _host(urls[0]) if urls else next((a for a in _sub(argv) if "." in a), "?")
        writes = any(a in ("-X", "--request") for a in argv) and any(
            m in argv for m in ("POST", "PUT", "PATCH", "DELETE")
        )
        upload = any(
            a in ("-T", "--upload-file", "-F", "--form") or a.startswith(("-d@", "--data-binary=@"))
            for a in argv
        ) or any(a.startswith("@") for a in argv)
        data = any(a.startswith(("-d", "--data", "--json", "--post")) for a in argv) or (
            prog in ("http", "https", "xh") and any("=" in a for a in _sub(argv))
        )
        pipes_to_shell = following is not None and following.program in (
            "sh",
            "bash",
            "zsh",
            "python",
            "python3",
        )
        if any(h in u for u in urls for h in _MESSAGE_HOSTS):
            out.append(
                EffectHit("message", target, Risk.HIGH, f"{prog} to a chat / paging webhook")
            )
        elif pipes_to_shell:
            out.append(
                EffectHit("network", target, Risk.HIGH, f"{prog} piped into a shell (remote code)")
            )
        elif upload:
            out.append(EffectHit("network", target, Risk.HIGH, f"{prog} uploads data"))
        elif writes or data:
            out.append(
                EffectHit("network", target, Risk.MEDIUM, f"{prog} sends a request with data")
            )
        else:
            out.append(EffectHit("network", target, Risk.LOW, f"{prog} request"))
    elif prog in _REMOTE_PROGRAMS:
        target = "?"
        for a in _sub(argv, frozenset({"-i", "-p", "-P", "-o", "-e", "-l", "-F", "-J"})):
            m = _SCP_HOST.match(a)
            if prog == "ssh":
                target = a.split("@")[-1]
                break
            if m:
                target = m.group(1)
                break
        out.append(
            EffectHit(
                "network",
                target,
                Risk.MEDIUM if prog == "ssh" else Risk.HIGH,
                f"{prog} to a remote host",
            )
        )
    elif prog == "git":
        out.extend(_git_effects(argv))
    elif prog in ("gh", "glab"):
        out.extend(_gh_effects(argv))
    elif prog in _DEPLOY:
        verbs, destroy = _DEPLOY[prog]
        ops = _sub(
            argv,
            frozenset({"-f", "-n", "--namespace", "--context", "-c", "--file", "--values", "-t"}),
        )
        verb = ops[0] if ops else ""
        if prog in ("docker", "podman") and verb != "push":
            pass
        elif not verbs or verb in verbs or any(a in verbs for a in argv[1:]):
            target = " ".join(ops[:3]) or prog
            risk = (
                Risk.CRITICAL
                if verb in destroy or any(a in destroy for a in argv[1:])
                else Risk.HIGH
            )
            out.append(
                EffectHit("deploy", f"{prog} {target}".strip(), risk, f"{prog} {verb}".strip())
            )
        elif prog in ("kubectl", "helm"):
            out.append(
                EffectHit("cloud", f"{prog} {verb}".strip(), Risk.LOW, "cluster read access")
            )
    elif prog in _PUBLISH:
        ops = _sub(argv)
        if ops and ops[0] in _PUBLISH[prog]:
            out.append(
                EffectHit(
                    "publish", f"{prog} {ops[0]}", Risk.HIGH, f"{prog} {ops[0]} (public registry)"
                )
            )
        elif (
            prog in ("npm", "pnpm", "yarn", "uv")
            and ops
            and ops[0] in ("install", "add", "i", "ci", "pip", "sync")
        ):
            out.append(
                EffectHit(
                    "network", "package registry", Risk.LOW, f"{prog} {ops[0]} downloads packages"
                )
            )
    elif prog in ("pip", "pip3") and _sub(argv)[:1] == ["install"]:
        out.append(
            EffectHit("network", "package registry", Risk.LOW, "pip install downloads packages")
        )
    elif prog in _CLOUD:
        ops = _sub(
            argv,
            frozenset(
                {
                    "--region",
                    "--profile",
                    "--project",
                    "-g",
                    "--resource-group",
                    "--output",
                    "-o",
                    "--query",
                }
            ),
        )
        service = ops[0] if ops else ""
        verb = ops[1] if len(ops) > 1 else ""
        if prog == "aws" and service == "s3":
            risk = Risk.HIGH if verb in ("rm", "rb", "mv", "sync", "cp") else Risk.LOW
        elif (
            prog in ("aws", "gcloud", "az")
            and service in ("iam", "sts", "secretsmanager", "kms")
            and not _CLOUD_READ.match(verb or "x")
        ):
            risk = Risk.CRITICAL if _CLOUD_DESTROY.search(verb) else Risk.HIGH
        elif _CLOUD_DESTROY.search(" ".join(ops[1:3])):
            risk = Risk.CRITICAL
        elif not verb or _CLOUD_READ.match(verb) or _CLOUD_READ.match(service):
            risk = Risk.LOW
        else:
            risk = Risk.HIGH
        out.append(EffectHit("cloud", f"{prog} {service} {verb}".strip(), risk, "cloud CLI"))
    elif prog in _DB_CLIENTS:
        text = joined + ("\n" + cmd.heredoc if cmd.heredoc else "")
        if (
            prog in ("dropdb",)
            or _SQL_DESTROY.search(text)
            or _DELETE_NO_WHERE.search(text)
            or re.search(r"\bFLUSH(ALL|DB)\b", text, re.IGNORECASE)
        ):
            risk, detail = Risk.CRITICAL, "destructive database statement"
        elif _SQL_WRITE.search(text) or prog in ("pg_restore", "createdb"):
            risk, detail = Risk.HIGH, "database write"
        else:
            risk, detail = Risk.MEDIUM, "database access"
        target = next((_host(u) for u in _urls(argv)), None) or _db_target(argv) or prog
        out.append(EffectHit("database", target, risk, detail))
    elif prog in _MESSAGE_PROGRAMS:
        target = next(
            (a for a in _sub(argv, frozenset({"-s", "-c", "-b", "-r", "-a"})) if "@" in a), "?"
        )
        out.append(EffectHit("message", target, Risk.HIGH, f"{prog} sends mail"))
    out.extend(_destructive(cmd))
    return out


def _db_target(argv: list[str]) -> str | None:
    for i, a in enumerate(argv):
        if a in ("-h", "--host") and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--host="):
            return a.split("=", 1)[1]
    return None


def _git_effects(argv: list[str]) -> list[EffectHit]:
    args = argv[1:]
    while args and args[0].startswith("-"):
        opt = args.pop(0)
        if opt in ("-C", "-c") and args:
            args.pop(0)
    if not args:
        return []
    sub, rest = args[0], args[1:]
    ops = [a for a in rest if not a.startswith("-")]
    if sub == "push":
        force = any(
            a in ("-f", "--force", "--force-with-lease", "--mirror") or a.startswith("--force")
            for a in rest
        ) or any(a.startswith("+") for a in ops[1:])
        delete = "--delete" in rest or "-d" in rest or any(a.startswith(":") for a in ops[1:])
        remote = ops[0] if ops else "(default remote)"
        refs = " ".join(ops[1:]) or "(current branch)"
        if force or delete:
            what = "force push" if force else "remote branch deletion"
            return [
                EffectHit(
                    "git_push",
                    f"{remote} {refs}",
                    Risk.HIGH if not _protected(refs) else Risk.CRITICAL,
                    what,
                )
            ]
        return [EffectHit("git_push", f"{remote} {refs}", Risk.MEDIUM, "push")]
    if sub in ("clone", "fetch", "pull", "ls-remote"):
        target = next((_host(u) for u in _urls(rest)), ops[0] if ops else "(default remote)")
        return [EffectHit("network", target, Risk.LOW, f"git {sub}")]
    return []


def _protected(refs: str) -> bool:
    return bool(re.search(r"(^|[\s:+/])(main|master|prod|production|release)\b", refs))


def _gh_effects(argv: list[str]) -> list[EffectHit]:
    ops = _sub(
        argv,
        frozenset(
            {
                "-R",
                "--repo",
                "-b",
                "--body",
                "-t",
                "--title",
                "-F",
                "--body-file",
                "-X",
                "--method",
                "-f",
                "--field",
                "-H",
                "--header",
            }
        ),
    )
    if len(ops) < 2:
        return []
    area, verb = ops[0], ops[1]
    target = f"{argv[0].rsplit('/', 1)[-1]} {area} {verb}"
    if area in ("issue", "pr") and verb in (
        "create",
        "comment",
        "review",
        "edit",
        "close",
        "reopen",
    ):
        return [EffectHit("message", target, Risk.MEDIUM, "posts on the code host")]
    if area == "pr" and verb == "merge":
        return [EffectHit("git_push", target, Risk.HIGH, "merges a pull request")]
    if area == "release" and verb in ("create", "upload", "delete", "edit"):
        return [EffectHit("publish", target, Risk.HIGH, "GitHub release")]
    if area == "repo" and verb in ("delete", "archive", "rename", "edit"):
        return [
            EffectHit(
                "cloud",
                target,
                Risk.CRITICAL if verb == "delete" else Risk.HIGH,
                "repository settings",
            )
        ]
    if area == "secret" or area == "variable":
        return [EffectHit("cloud", target, Risk.HIGH, "repository secrets")]
    if area == "api":
        method = next(
            (argv[i + 1] for i, a in enumerate(argv[:-1]) if a in ("-X", "--method")), "GET"
        )
        risk = (
            Risk.LOW
            if method.upper() == "GET" and "-f" not in argv and "--field" not in argv
            else Risk.HIGH
        )
        return [EffectHit("cloud", f"gh api {method} {ops[1]}", risk, "GitHub API call")]
    if area == "workflow" and verb == "run":
        return [EffectHit("deploy", target, Risk.HIGH, "triggers a CI workflow")]
    return [EffectHit("network", target, Risk.LOW, "code host CLI")]


def _destructive(cmd: SimpleCommand) -> list[EffectHit]:
    prog, argv = cmd.program, cmd.argv
    flags = "".join(a[1:] for a in argv[1:] if a.startswith("-") and not a.startswith("--"))
    if prog == "rm" and "r" in flags.lower() and "f" in flags:
        targets = _sub(argv)
        danger = any(
            t in ("/", "~", "~/", "$HOME", "*", ".", "..", "/*", "./*", "$HOME/")
            or t.startswith(("/etc", "/usr", "/var", "/home", "~/"))
            for t in targets
        )
        return [
            EffectHit(
                "destructive",
                " ".join(targets) or "?",
                Risk.CRITICAL if danger else Risk.HIGH,
                "rm -rf",
            )
        ]
    if prog == "git":
        args = [a for a in argv[1:]]
        sub = args[0] if args else ""
        if sub == "reset" and "--hard" in args:
            return [
                EffectHit(
                    "destructive",
                    "git reset --hard " + " ".join(a for a in args[1:] if a != "--hard"),
                    Risk.HIGH,
                    "discards uncommitted work",
                )
            ]
        if sub == "clean" and any("f" in a for a in args[1:] if a.startswith("-")):
            return [
                EffectHit(
                    "destructive",
                    "git clean " + " ".join(args[1:]),
                    Risk.HIGH,
                    "deletes untracked files",
                )
            ]
        discards_all = "." in args[1:] or ("--" in args and args[-1] == ".")
        if sub in ("checkout", "restore") and discards_all:
            return [
                EffectHit("destructive", f"git {sub} .", Risk.HIGH, "discards uncommitted changes")
            ]
        if sub == "branch" and "-D" in args:
            return [
                EffectHit(
                    "destructive",
                    "git branch -D "
                    + " ".join(a for a in args if not a.startswith("-") and a != "branch"),
                    Risk.MEDIUM,
                    "deletes a branch",
                )
            ]
        if sub == "stash" and len(args) > 1 and args[1] in ("drop", "clear"):
            return [
                EffectHit("destructive", f"git stash {args[1]}", Risk.MEDIUM, "drops stashed work")
            ]
        if (
            sub in ("filter-branch", "filter-repo")
            or (sub == "commit" and "--amend" in args)
            or (sub == "rebase")
        ):
            return [EffectHit("destructive", f"git {sub}", Risk.MEDIUM, "rewrites history")]
    if prog == "find" and "-delete" in argv:
        return [
            EffectHit("destructive", " ".join(_sub(argv)[:1]) or ".", Risk.HIGH, "find -delete")
        ]
    if prog in ("mkfs", "wipefs", "fdisk", "parted") or prog.startswith("mkfs."):
        return [EffectHit("destructive", " ".join(argv[1:3]), Risk.CRITICAL, "disk formatting")]
    if prog == "dd" and any(a.startswith("of=/dev/") for a in argv):
        return [
            EffectHit(
                "destructive",
                next(a for a in argv if a.startswith("of=")),
                Risk.CRITICAL,
                "raw device write",
            )
        ]
    if prog in ("chmod", "chown") and ("-R" in argv or "--recursive" in argv):
        return [
            EffectHit(
                "destructive", " ".join(argv[1:4]), Risk.MEDIUM, "recursive permission change"
            )
        ]
    if prog in ("kill", "pkill", "killall") and any(a in ("-9", "-KILL", "-SIGKILL") for a in argv):
        return [EffectHit("destructive", " ".join(argv[1:4]), Risk.MEDIUM, "kills processes")]
    return []


# --------------------------------------------------------------------------- tools

_WEB_FETCH = {
    "webfetch",
    "web_fetch",
    "fetch",
    "browse",
    "browser",
    "fetch_url",
    "read_url",
    "http_request",
    "browse_interactive",
    "open_url",
    "browser_navigate",
}
_WEB_SEARCH = {
    "websearch",
    "web_search",
    "google_web_search",
    "search_web",
    "web_search_call",
    "tavily_search",
    "brave_search",
}
_MCP_WRITE = re.compile(
    r"(create|send|post|delete|remove|update|write|push|publish|merge|comment|deploy|execute|run|insert|drop|transfer|pay|invite|upload)",
    re.IGNORECASE,
)


def tool_effects(name: str, args: Mapping[str, Any], agent: str) -> list[EffectHit]:
    """External effects of a non-shell tool call (web fetch / search, MCP tools, push / PR)."""
    lower = name.lower()
    url = next(
        (str(args[k]) for k in ("url", "uri", "href", "link") if isinstance(args.get(k), str)), ""
    )
    if lower in _WEB_FETCH or lower.startswith("browser_"):
        return [
            EffectHit("network", _host(url) if url else "web", Risk.LOW, f"{name} fetches a page")
        ]
    if lower in _WEB_SEARCH:
        query = str(args.get("query") or args.get("q") or "")[:80]
        return [
            EffectHit(
                "network", "web search", Risk.LOW, f"search: {query}" if query else "web search"
            )
        ]
    if lower in ("push", "git_push"):
        return [
            EffectHit(
                "git_push",
                str(args.get("branch") or args.get("remote") or "remote"),
                Risk.MEDIUM,
                "push",
            )
        ]
    if lower in ("send_pr", "create_pr", "create_pull_request"):
        return [EffectHit("message", "pull request", Risk.MEDIUM, "opens a pull request")]
    server, tool = _mcp_parts(name, agent)
    if server:
        risk = Risk.HIGH if _MCP_WRITE.search(tool) else Risk.MEDIUM
        return [EffectHit("mcp", f"{server}/{tool}", risk, "MCP tool")]
    if lower == "call_tool_mcp":
        tool_name = str(args.get("name") or args.get("tool_name") or "?")
        risk = Risk.HIGH if _MCP_WRITE.search(tool_name) else Risk.MEDIUM
        return [EffectHit("mcp", tool_name, risk, "MCP tool")]
    return []


def _mcp_parts(name: str, agent: str) -> tuple[str, str]:
    if name.startswith("mcp__"):
        parts = name.split("__", 2)
        return (parts[1], parts[2]) if len(parts) == 3 else (parts[-1], "")
    if "__" in name and agent in ("codex", "gemini-cli") and not name.startswith("_"):
        server, _, tool = name.partition("__")
        return server, tool
    return "", ""
