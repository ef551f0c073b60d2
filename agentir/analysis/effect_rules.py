"""External effects of one program run: network clients, remote shells, deploy tools, package
registries, cloud and database CLIs, mail. One function per family; `RULES` maps a program to
its function (git, gh and destructive commands are in `effect_git`)."""

from __future__ import annotations

import re
from collections.abc import Callable

from agentir.analysis.effect_base import EffectHit, host, operands, urls_in
from agentir.analysis.effect_git import gh_effects, git_effects
from agentir.analysis.shell import SimpleCommand
from agentir.model import Risk

Rule = Callable[[SimpleCommand, "SimpleCommand | None"], list[EffectHit]]

_SCP_HOST = re.compile(r"^(?:[^@/\s]+@)?([A-Za-z0-9.\-]+):")
_SQL_WRITE = re.compile(
    r"\b(DROP|TRUNCATE|DELETE\s+FROM|UPDATE\s+\w+\s+SET|INSERT\s+INTO|ALTER\s+TABLE|GRANT|REVOKE"
    r"|CREATE\s+(?:TABLE|DATABASE|USER|ROLE))\b",
    re.IGNORECASE,
)
_SQL_DESTROY = re.compile(r"\b(DROP\s+(?:TABLE|DATABASE|SCHEMA)|TRUNCATE)\b", re.IGNORECASE)
_DELETE_NO_WHERE = re.compile(
    r"\bDELETE\s+FROM\s+[\w.\"]+\s*(?:;|$|\"|')(?![\s\S]*\bWHERE\b)", re.IGNORECASE
)
_FLUSH = re.compile(r"\bFLUSH(ALL|DB)\b", re.IGNORECASE)
_CLOUD_READ = re.compile(
    r"^(describe|list|get|ls|show|head|wait|help|version|--version|info|whoami|account|config"
    r"|auth|configure|sts)",
    re.IGNORECASE,
)
_CLOUD_DESTROY = re.compile(
    r"(delete|terminate|remove|rm|rb|destroy|purge|drop|deregister|detach)", re.IGNORECASE
)

NETWORK_PROGRAMS = frozenset(
    {"curl", "wget", "http", "https", "httpie", "xh", "nc", "ncat", "netcat", "telnet", "ftp",
     "sftp", "lftp", "aria2c"}
)  # fmt: skip
REMOTE_PROGRAMS = frozenset({"ssh", "scp", "rsync", "mosh"})
# program -> (verbs that deploy or change a system, verbs that destroy one)
DEPLOY: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "kubectl": (frozenset({"apply", "create", "replace", "patch", "delete", "rollout", "scale",
                           "set", "edit", "drain", "cordon", "exec", "cp", "run", "expose",
                           "annotate", "label", "autoscale"}), frozenset({"delete", "drain"})),
    "helm": (frozenset({"install", "upgrade", "uninstall", "delete", "rollback"}),
             frozenset({"uninstall", "delete"})),
    "terraform": (frozenset({"apply", "destroy", "import", "taint", "untaint"}),
                  frozenset({"destroy"})),
    "tofu": (frozenset({"apply", "destroy", "import"}), frozenset({"destroy"})),
    "pulumi": (frozenset({"up", "destroy", "update", "refresh"}), frozenset({"destroy"})),
    "serverless": (frozenset({"deploy", "remove"}), frozenset({"remove"})),
    "sls": (frozenset({"deploy", "remove"}), frozenset({"remove"})),
    "vercel": (frozenset({"deploy", "--prod", "promote", "rollback", "remove", "rm"}),
               frozenset({"remove", "rm"})),
    "netlify": (frozenset({"deploy"}), frozenset()),
    "fly": (frozenset({"deploy", "scale", "destroy", "apps"}), frozenset({"destroy"})),
    "flyctl": (frozenset({"deploy", "scale", "destroy", "apps"}), frozenset({"destroy"})),
    "heroku": (frozenset({"container:release", "releases:rollback", "apps:destroy", "ps:scale",
                          "config:set"}), frozenset({"apps:destroy"})),
    "cdk": (frozenset({"deploy", "destroy"}), frozenset({"destroy"})),
    "firebase": (frozenset({"deploy"}), frozenset()),
    "wrangler": (frozenset({"deploy", "publish", "delete"}), frozenset({"delete"})),
    "railway": (frozenset({"up", "down"}), frozenset({"down"})),
    "ansible-playbook": (frozenset(), frozenset()),
    "docker": (frozenset({"push"}), frozenset()),
    "podman": (frozenset({"push"}), frozenset()),
    "skaffold": (frozenset({"run", "deploy", "delete"}), frozenset({"delete"})),
    "argocd": (frozenset({"app"}), frozenset()),
}  # fmt: skip
PUBLISH: dict[str, frozenset[str]] = {
    "npm": frozenset({"publish", "unpublish", "deprecate"}),
    "yarn": frozenset({"publish", "npm"}),
    "pnpm": frozenset({"publish"}),
    "twine": frozenset({"upload"}),
    "cargo": frozenset({"publish", "yank"}),
    "gem": frozenset({"push", "yank"}),
    "poetry": frozenset({"publish"}),
    "flit": frozenset({"publish"}),
    "hatch": frozenset({"publish"}),
    "uv": frozenset({"publish"}),
    "mvn": frozenset({"deploy"}),
    "gradle": frozenset({"publish"}),
    "dotnet": frozenset({"nuget"}),
}
CLOUD = frozenset(
    {"aws", "gcloud", "gsutil", "bq", "az", "doctl", "oci", "ibmcloud", "aliyun", "s3cmd",
     "linode-cli", "hcloud"}
)  # fmt: skip
DB_CLIENTS = frozenset(
    {"psql", "mysql", "mariadb", "sqlite3", "mongo", "mongosh", "redis-cli", "sqlcmd", "cqlsh",
     "clickhouse-client", "pg_dump", "pg_restore", "mysqldump", "dropdb", "createdb"}
)  # fmt: skip
MAIL_PROGRAMS = frozenset({"mail", "mailx", "sendmail", "mutt", "msmtp", "swaks"})
MESSAGE_HOSTS = (
    "hooks.slack.com", "discord.com/api/webhooks", "discordapp.com/api/webhooks",
    "outlook.office.com/webhook", "api.telegram.org", "webhook.office.com", "api.pagerduty.com",
    "events.pagerduty.com",
)  # fmt: skip
_SHELLS = ("sh", "bash", "zsh", "python", "python3")
_DEPLOY_VALUE_OPTIONS = frozenset(
    {"-f", "-n", "--namespace", "--context", "-c", "--file", "--values", "-t"}
)
_CLOUD_VALUE_OPTIONS = frozenset(
    {"--region", "--profile", "--project", "-g", "--resource-group", "--output", "-o", "--query"}
)
_SSH_VALUE_OPTIONS = frozenset({"-i", "-p", "-P", "-o", "-e", "-l", "-F", "-J"})


def network(cmd: SimpleCommand, following: SimpleCommand | None) -> list[EffectHit]:
    """HTTP and socket clients: riskier when they send data, upload, or feed a shell."""
    prog, argv = cmd.program, cmd.argv
    urls = urls_in(argv)
    target = host(urls[0]) if urls else next((a for a in operands(argv) if "." in a), "?")
    writes = any(a in ("-X", "--request") for a in argv) and any(
        m in argv for m in ("POST", "PUT", "PATCH", "DELETE")
    )
    upload = any(
        a in ("-T", "--upload-file", "-F", "--form") or a.startswith(("-d@", "--data-binary=@"))
        for a in argv
    ) or any(a.startswith("@") for a in argv)
    data = any(a.startswith(("-d", "--data", "--json", "--post")) for a in argv) or (
        prog in ("http", "https", "xh") and any("=" in a for a in operands(argv))
    )
    if any(h in u for u in urls for h in MESSAGE_HOSTS):
        return [EffectHit("message", target, Risk.HIGH, f"{prog} to a chat / paging webhook")]
    if following is not None and following.program in _SHELLS:
        return [EffectHit("network", target, Risk.HIGH, f"{prog} piped into a shell (remote code)")]
    if upload:
        return [EffectHit("network", target, Risk.HIGH, f"{prog} uploads data")]
    if writes or data:
        return [EffectHit("network", target, Risk.MEDIUM, f"{prog} sends a request with data")]
    return [EffectHit("network", target, Risk.LOW, f"{prog} request")]


def remote(cmd: SimpleCommand, following: SimpleCommand | None) -> list[EffectHit]:
    """ssh (a remote shell) and file copies to other hosts."""
    prog = cmd.program
    target = "?"
    for a in operands(cmd.argv, _SSH_VALUE_OPTIONS):
        if prog == "ssh":
            target = a.split("@")[-1]
            break
        m = _SCP_HOST.match(a)
        if m:
            target = m.group(1)
            break
    risk = Risk.MEDIUM if prog == "ssh" else Risk.HIGH
    return [EffectHit("network", target, risk, f"{prog} to a remote host")]


def deploy(cmd: SimpleCommand, following: SimpleCommand | None) -> list[EffectHit]:
    """Deploy and infrastructure tools: a changing verb deploys, a destroying one is critical."""
    prog, argv = cmd.program, cmd.argv
    verbs, destroy = DEPLOY[prog]
    ops = operands(argv, _DEPLOY_VALUE_OPTIONS)
    verb = ops[0] if ops else ""
    if prog in ("docker", "podman") and verb != "push":
        return []
    if not verbs or verb in verbs or any(a in verbs for a in argv[1:]):
        target = " ".join(ops[:3]) or prog
        destroys = verb in destroy or any(a in destroy for a in argv[1:])
        risk = Risk.CRITICAL if destroys else Risk.HIGH
        return [EffectHit("deploy", f"{prog} {target}".strip(), risk, f"{prog} {verb}".strip())]
    if prog in ("kubectl", "helm"):
        return [EffectHit("cloud", f"{prog} {verb}".strip(), Risk.LOW, "cluster read access")]
    return []


def packages(cmd: SimpleCommand, following: SimpleCommand | None) -> list[EffectHit]:
    """Publishing to a public registry (high), or downloading packages (low)."""
    prog = cmd.program
    ops = operands(cmd.argv)
    if prog in PUBLISH and ops and ops[0] in PUBLISH[prog]:
        detail = f"{prog} {ops[0]} (public registry)"
        return [EffectHit("publish", f"{prog} {ops[0]}", Risk.HIGH, detail)]
    if (
        prog in ("npm", "pnpm", "yarn", "uv")
        and ops
        and ops[0] in ("install", "add", "i", "ci", "pip", "sync")
    ):
        detail = f"{prog} {ops[0]} downloads packages"
        return [EffectHit("network", "package registry", Risk.LOW, detail)]
    if prog in ("pip", "pip3") and ops[:1] == ["install"]:
        return [
            EffectHit("network", "package registry", Risk.LOW, "pip install downloads packages")
        ]
    return []


def cloud(cmd: SimpleCommand, following: SimpleCommand | None) -> list[EffectHit]:
    """Cloud CLIs: reads are low, changes high, identity and destruction critical."""
    prog = cmd.program
    ops = operands(cmd.argv, _CLOUD_VALUE_OPTIONS)
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
    return [EffectHit("cloud", f"{prog} {service} {verb}".strip(), risk, "cloud CLI")]


def database(cmd: SimpleCommand, following: SimpleCommand | None) -> list[EffectHit]:
    """Database clients, judged by the statements they carry (heredocs included)."""
    prog, argv = cmd.program, cmd.argv
    text = " ".join(argv) + ("\n" + cmd.heredoc if cmd.heredoc else "")
    if (
        prog == "dropdb"
        or _SQL_DESTROY.search(text)
        or _DELETE_NO_WHERE.search(text)
        or _FLUSH.search(text)
    ):
        risk, detail = Risk.CRITICAL, "destructive database statement"
    elif _SQL_WRITE.search(text) or prog in ("pg_restore", "createdb"):
        risk, detail = Risk.HIGH, "database write"
    else:
        risk, detail = Risk.MEDIUM, "database access"
    target = next((host(u) for u in urls_in(argv)), None) or _db_host(argv) or prog
    return [EffectHit("database", target, risk, detail)]


def _db_host(argv: list[str]) -> str | None:
    for i, a in enumerate(argv):
        if a in ("-h", "--host") and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--host="):
            return a.split("=", 1)[1]
    return None


def mail(cmd: SimpleCommand, following: SimpleCommand | None) -> list[EffectHit]:
    """Mail senders."""
    recipients = operands(cmd.argv, frozenset({"-s", "-c", "-b", "-r", "-a"}))
    target = next((a for a in recipients if "@" in a), "?")
    return [EffectHit("message", target, Risk.HIGH, f"{cmd.program} sends mail")]


def _git(cmd: SimpleCommand, following: SimpleCommand | None) -> list[EffectHit]:
    return git_effects(cmd.argv)


def _gh(cmd: SimpleCommand, following: SimpleCommand | None) -> list[EffectHit]:
    return gh_effects(cmd.argv)


RULES: dict[str, Rule] = {
    **dict.fromkeys(NETWORK_PROGRAMS, network),
    **dict.fromkeys(REMOTE_PROGRAMS, remote),
    "git": _git,
    "gh": _gh,
    "glab": _gh,
    **dict.fromkeys(DEPLOY, deploy),
    **dict.fromkeys((*PUBLISH, "pip", "pip3"), packages),
    **dict.fromkeys(CLOUD, cloud),
    **dict.fromkeys(DB_CLIENTS, database),
    **dict.fromkeys(MAIL_PROGRAMS, mail),
}
