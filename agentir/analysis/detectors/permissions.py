"""Permission scope: forbidden tools and command patterns, network to hosts not allowed, and
sessions that ran with the human taken out of the loop (bypassed permissions, full-access
sandbox, approval never).

By default only requests that send data (POST, uploads, ssh / scp, a download piped into a
shell) are checked against `network.allowed_hosts`; plain fetches are checked too with
`network.include_reads: true`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agentir.analysis.detectors.common import SEVERITY_RANK, Detector, quote, seq_list
from agentir.analysis.effects import command_effects, tool_effects
from agentir.analysis.fold import Derived, SessionFold
from agentir.analysis.tools import shell_command
from agentir.model import Effect, Event, Risk, SessionInfo, ToolCall
from agentir.policy import Policy, name_matches

MAX_KEYS = 50
MAX_COMMAND = 10_000  # characters searched per command (user regexes on untrusted text)
_NOT_HOSTS = frozenset({"package registry", "web search", "web", "?", "(default remote)"})
_MODE_FIELDS = ("permission_mode", "sandbox", "approval_policy")


@dataclass
class _Agg:
    severity: str
    message: str
    seqs: list[int] = field(default_factory=list)
    source: str = ""
    count: int = 0
    data: dict[str, object] = field(default_factory=dict)


class PermissionDetector(Detector):
    """Forbidden tools / commands, hosts not allowed, risky authorization modes."""

    name = "permissions"

    def __init__(self, policy: Policy) -> None:
        super().__init__(policy)
        self.aggs: dict[tuple[str, str], _Agg] = {}
        self.modes: dict[str, tuple[str, int, str]] = {}  # field -> (value, seq, source)

    def feed(self, event: Event, derived: Derived, fold: SessionFold) -> None:
        """Check each tool call and each session header."""
        if isinstance(event, SessionInfo):
            self._modes(event)
        elif isinstance(event, ToolCall):
            self._call(event, derived)

    def _modes(self, ev: SessionInfo) -> None:
        risky = {m.lower() for m in self.policy.authorization.risky_modes}
        for name in _MODE_FIELDS:
            value = getattr(ev, name)
            if isinstance(value, str) and value.lower() in risky and name not in self.modes:
                self.modes[name] = (value, ev.seq, str(ev.source))

    def _add(
        self, key: tuple[str, str], severity: str, message: str, ev: ToolCall, **data: object
    ) -> None:
        agg = self.aggs.get(key)
        if agg is None:
            if len(self.aggs) >= MAX_KEYS:
                self.dropped += 1
                return
            agg = _Agg(severity, message, source=str(ev.source), data=dict(data))
            self.aggs[key] = agg
        elif SEVERITY_RANK[severity] > SEVERITY_RANK[agg.severity]:
            agg.severity, agg.message = severity, message
        agg.count += 1
        if len(agg.seqs) < 30:
            agg.seqs.append(ev.seq)

    def _call(self, ev: ToolCall, derived: Derived) -> None:
        tools = self.policy.tools
        rule = name_matches(tools.forbidden, ev.name)
        if rule:
            self._add(
                ("tool", ev.name),
                "high",
                f"used forbidden tool {quote(ev.name, 60)} [matched {rule}]",
                ev,
                rule="forbidden_tool",
            )
        elif tools.allowed and not name_matches(tools.allowed, ev.name):
            self._add(
                ("tool", ev.name),
                "warning",
                f"used tool {quote(ev.name, 60)}, which is not in tools.allowed",
                ev,
                rule="tool_not_allowed",
            )
        command = shell_command(ev)
        if command:
            text = command[:MAX_COMMAND]
            for r in self.policy.commands.forbidden:
                if r.regex.search(text):
                    self._add(
                        ("command", r.pattern),
                        "high",
                        f"ran a forbidden command: `{quote(command, 80)}` ({r.reason})",
                        ev,
                        rule="forbidden_command",
                        pattern=r.pattern,
                    )
        network = self.policy.network
        for effect in derived.effects:
            if effect.kind != "network":
                continue
            host = effect.target.lower()
            if host in _NOT_HOSTS or ("." not in host and ":" not in host and host != "localhost"):
                continue
            if name_matches(network.allowed_hosts, host):
                continue
            risk, what = _own_risk(ev, command, effect)
            if risk is Risk.LOW and not network.include_reads:
                continue
            severity = "high" if risk.rank >= Risk.HIGH.rank else "warning"
            self._add(
                ("host", host),
                severity,
                f"network to a host not in network.allowed_hosts: {quote(host, 80)} ({what})",
                ev,
                rule="host_not_allowed",
                host=host,
            )

    def final(self, fold: SessionFold) -> None:
        """Aggregated findings, then the authorization posture."""
        for agg in self.aggs.values():
            times = f" ({agg.count} times, seqs {seq_list(agg.seqs)})" if agg.count > 1 else ""
            self.emit(
                agg.severity, agg.message + times, agg.seqs, agg.source, count=agg.count, **agg.data
            )
        if not self.modes:
            return
        modes = ", ".join(
            f"{name.replace('_', ' ')} {value}" for name, (value, _, _) in self.modes.items()
        )
        first = min(self.modes.values(), key=lambda m: m[1])
        external = [
            e
            for e in fold.effects.values()
            if e.kind != "secret_exposure"
            and e.risk.rank >= Risk.MEDIUM.rank
            and e.succeeded is not False
        ]
        seqs = [first[1]] + [e.seq for e in external[:5]]
        if external:
            listed = ", ".join(
                f"{e.kind} {quote(e.target, 40)} (seq {e.seq})" for e in external[:3]
            )
            self.emit(
                "high",
                f"ran with {modes} (no human approval or sandbox) and had external effects: {listed}",
                seqs,
                first[2],
                rule="risky_mode",
                modes={k: v[0] for k, v in self.modes.items()},
            )
        else:
            self.emit(
                "warning",
                f"ran with {modes}: no human approved its actions (seq {first[1]})",
                seqs,
                first[2],
                rule="risky_mode",
                modes={k: v[0] for k, v in self.modes.items()},
            )


def _own_risk(ev: ToolCall, command: str | None, effect: Effect) -> tuple[Risk, str]:
    """The risk of this call's own request (the fold's effect is merged across calls)."""
    hits = command_effects(command, ev.cwd) if command else tool_effects(ev.name, ev.args, ev.agent)
    own = [h for h in hits if h.kind == "network" and h.target.lower() == effect.target.lower()]
    if not own:
        return effect.risk, effect.detail or "network request"
    worst = max(own, key=lambda h: h.risk.rank)
    return worst.risk, worst.detail or "network request"
