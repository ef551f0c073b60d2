"""The kill switch's judgement of one tool call and of the spend so far, shared by guard and watch.

A call is judged before it runs (`agentir guard`, a PreToolUse hook) or as soon as the trace
shows it (`agentir watch`), with the same rules the detectors apply to a finished trace and
the same policy: the paths it would write (scope: forbidden, outside `paths.allowed_write`,
sensitive), the tool, command and hosts it uses (permissions), and what it would do beyond
the working tree (external: deploys, publishes, force pushes, destructive commands). Paths
are judged against the session's root (where it started) so that a `cd` cannot move the
fence. Each judgement is a `Trigger`: the kill-switch trigger it belongs to and a `Finding`
worded like the detector's.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentir.analysis.detectors.common import quote
from agentir.analysis.detectors.scope import path_rule, project_relative, written
from agentir.analysis.effects import EffectHit, effects_of, tool_effects
from agentir.analysis.paths import absolute
from agentir.analysis.shell import SimpleCommand, changes_of, split_commands
from agentir.analysis.tools import intended_changes, shell_command
from agentir.model import Finding, Risk, ToolCall
from agentir.policy import Policy, name_matches

MAX_COMMAND = 10_000  # characters searched per command (user regexes on untrusted text)
_NOT_HOSTS = frozenset({"package registry", "web search", "web", "?", "(default remote)"})
# Among equally severe triggers, the one that says most about the call leads the reason.
_ORDER = {"permissions": 0, "external": 1, "scope": 2, "budget": 3, "loop": 4}
_SCOPE_RULES = {
    "forbidden": ("high", "would write a forbidden path"),
    "outside": ("high", "would write outside the allowed write paths"),
    "sensitive": ("warning", "would write a sensitive file (CI, hooks, agent settings)"),
}


@dataclass(frozen=True)
class Trigger:
    """One reason to pull the kill switch: its trigger name and the finding behind it."""

    trigger: str  # budget / scope / permissions / loop / external / a detector name
    finding: Finding


def _finding(detector: str, severity: str, message: str, call: ToolCall, **data: object) -> Finding:
    return Finding(detector, severity, message, (call.seq,), {"source": str(call.source), **data})


def judge_call(
    policy: Policy, call: ToolCall, cwd: str | None, root: str | None = None
) -> list[Trigger]:
    """Every trigger a tool call meets: scope, permissions and external effects.

    `cwd` resolves the call's relative paths; `root` (default: `cwd`) is the session
    directory that `paths.allowed_write` entries such as `.` mean.
    """
    command = shell_command(call)
    cmds = split_commands(command, call.cwd or cwd) if command else []
    out = _scope(policy, call, cmds, command, cwd, root or cwd)
    hits = effects_of(cmds) if command else tool_effects(call.name, call.args, call.agent)
    out += _permissions(policy, call, command, hits)
    out += _external(call, hits)
    return out


# --------------------------------------------------------------------------- scope


def written_paths(call: ToolCall, cmds: list[SimpleCommand] | None = None) -> list[str]:
    """The raw paths a call would write (edit tools, or the shell command's writes)."""
    command = shell_command(call)
    if command is not None:
        split = cmds if cmds is not None else split_commands(command, call.cwd)
        changes = [c for c, _ in changes_of(split)]
    else:
        changes = list(intended_changes(call))
    return [p for change in changes for p, _ in written(change)]


def path_verdict(
    policy: Policy, raw: str, cwd: str | None, root: str | None
) -> tuple[str, str, str] | None:
    """(rule, why, shown path) when writing `raw` breaks the path policy, else None
    (the scope detector's judgement of a finished trace)."""
    full = absolute(raw, cwd)
    rel = project_relative(full, root)
    rule, why = path_rule(policy, full, rel, root)
    if not rule:
        return None
    shown = rel if rel is not None else full
    return rule, why if rule == "outside" else f"matched {why}", shown


def _scope(
    policy: Policy,
    call: ToolCall,
    cmds: list[SimpleCommand],
    command: str | None,
    cwd: str | None,
    root: str | None,
) -> list[Trigger]:
    out: list[Trigger] = []
    seen: set[str] = set()
    for raw in written_paths(call, cmds if command else None):
        verdict = path_verdict(policy, raw, call.cwd or cwd, root)
        if verdict is None or verdict[2] in seen:
            continue
        rule, why, shown = verdict
        seen.add(shown)
        severity, what = _SCOPE_RULES[rule]
        message = f"{what}: {quote(shown, 100)} [{why}]"
        out.append(Trigger("scope", _finding("scope", severity, message, call, rule=rule)))
    return out


# --------------------------------------------------------------------------- permissions


def _permissions(
    policy: Policy, call: ToolCall, command: str | None, hits: list[EffectHit]
) -> list[Trigger]:
    out: list[Trigger] = []
    tools = policy.tools
    rule = name_matches(tools.forbidden, call.name)
    if rule:
        message = f"uses forbidden tool {quote(call.name, 60)} [matched {rule}]"
        finding = _finding("permissions", "high", message, call, rule="forbidden_tool")
        out.append(Trigger("permissions", finding))
    elif tools.allowed and not name_matches(tools.allowed, call.name):
        message = f"uses tool {quote(call.name, 60)}, which is not in tools.allowed"
        finding = _finding("permissions", "warning", message, call, rule="tool_not_allowed")
        out.append(Trigger("permissions", finding))
    if command:
        text = command[:MAX_COMMAND]
        for r in policy.commands.forbidden:
            if r.regex.search(text):
                message = f"runs a forbidden command: `{quote(command, 80)}` ({r.reason})"
                finding = _finding(
                    "permissions",
                    "high",
                    message,
                    call,
                    rule="forbidden_command",
                    pattern=r.pattern,
                )
                out.append(Trigger("permissions", finding))
    network = policy.network
    for hit in hits:
        if hit.kind != "network":
            continue
        host = hit.target.lower()
        if host in _NOT_HOSTS or ("." not in host and ":" not in host and host != "localhost"):
            continue
        if name_matches(network.allowed_hosts, host):
            continue
        if hit.risk is Risk.LOW and not network.include_reads:
            continue
        severity = "high" if hit.risk.rank >= Risk.HIGH.rank else "warning"
        what = hit.detail or "network request"
        message = f"reaches a host not in network.allowed_hosts: {quote(host, 80)} ({what})"
        finding = _finding(
            "permissions", severity, message, call, rule="host_not_allowed", host=host
        )
        out.append(Trigger("permissions", finding))
    return out


# --------------------------------------------------------------------------- external


def _external(call: ToolCall, hits: list[EffectHit]) -> list[Trigger]:
    from agentir.analysis.detectors.external import effect_severity
    from agentir.model import Effect

    out: list[Trigger] = []
    for hit in hits:
        if hit.kind in ("network", "secret_exposure"):
            continue  # plain network access is the permissions trigger's business
        effect = Effect(hit.kind, hit.target, call.seq, hit.risk, hit.detail, str(call.source))
        severity = effect_severity(effect, None)
        if severity is None:
            continue
        detail = f" ({quote(hit.detail, 60)})" if hit.detail else ""
        message = f"{hit.kind}: {quote(hit.target, 100)}{detail}: reaches beyond the working tree"
        finding = _finding("external", severity, message, call, kind=hit.kind, target=hit.target)
        out.append(Trigger("external", finding))
    return out


# --------------------------------------------------------------------------- budget


def judge_budget(
    policy: Policy,
    spent_usd: float | None,
    used_tokens: int,
    *,
    next_usd: float = 0.0,
    next_tokens: int = 0,
    seq: int = 0,
    source: str = "",
) -> list[Trigger]:
    """The budget trigger when spend (plus the expected next model call) crosses a limit."""
    budget = policy.budget
    out: list[Trigger] = []
    data = {"source": source} if source else {}
    if budget.usd is not None and spent_usd is not None and spent_usd + next_usd > budget.usd:
        if spent_usd > budget.usd:
            message = f"spent ${spent_usd:,.2f}, over the ${budget.usd:,.2f} budget"
        else:
            message = (
                f"spent ${spent_usd:,.2f} of the ${budget.usd:,.2f} budget; the model call that "
                f"reads this result would cost about ${next_usd:,.2f} more and cross it"
            )
        finding = Finding(
            "cost", "high", message, (seq,), {**data, "rule": "budget_usd", "spent": spent_usd}
        )
        out.append(Trigger("budget", finding))
    if budget.tokens is not None and used_tokens + next_tokens > budget.tokens:
        if used_tokens > budget.tokens:
            message = f"used {used_tokens:,} tokens, over the {budget.tokens:,} budget"
        else:
            message = (
                f"used {used_tokens:,} of the {budget.tokens:,} token budget; the next model "
                f"call would add about {next_tokens:,} and cross it"
            )
        finding = Finding(
            "cost", "high", message, (seq,), {**data, "rule": "budget_tokens", "used": used_tokens}
        )
        out.append(Trigger("budget", finding))
    return out


def firing(policy: Policy, triggers: list[Trigger]) -> list[Trigger]:
    """The triggers the policy's kill switch acts on, most severe first."""
    ks = policy.kill_switch
    from agentir.policy import SEVERITY_LEVELS

    kept = [t for t in triggers if ks.fires(t.trigger, t.finding.severity)]
    return sorted(
        kept,
        key=lambda t: (-SEVERITY_LEVELS.index(t.finding.severity), _ORDER.get(t.trigger, 9)),
    )
