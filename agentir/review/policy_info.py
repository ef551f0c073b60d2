"""Which policy and detectors a review judges the sessions against, described for people.

Detectors and the policy loader live in other modules; when this build has none, the review
still renders and says so.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentir.analysis.fold import Observer
from agentir.errors import ConfigError
from agentir.review.collect import ObserverFactory


@dataclass(frozen=True)
class PolicyInfo:
    """The policy in force and the detectors that ran (or why none did)."""

    available: bool
    source: str | None
    rules: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    factory: ObserverFactory | None = field(default=None, compare=False)


def load(policy_file: Path | None = None, start: Path | None = None) -> PolicyInfo:
    """The policy (`--policy`, $AGENTIR_POLICY, or the nearest agentir.yaml) and its detectors."""
    try:
        policy_mod = importlib.import_module("agentir.policy")
        detectors = importlib.import_module("agentir.analysis.detectors")
    except ImportError:
        return PolicyInfo(False, None, notes=("the detectors are not part of this build",))
    notes: list[str] = []
    try:
        policy = policy_mod.load_policy(policy_file, start)
    except ConfigError as exc:
        if policy_file is not None:
            raise
        notes.append(f"{exc.message.splitlines()[0]}; the built-in defaults stood in")
        policy = policy_mod.Policy()
    make = getattr(detectors, "default_observers", None)
    if make is None:
        return PolicyInfo(False, str(policy.source), describe(policy), (*notes, "no detectors"))

    def factory() -> Sequence[Observer]:
        return list(make(policy))

    return PolicyInfo(True, str(policy.source), describe(policy), tuple(notes), factory)


def describe(policy: Any) -> tuple[str, ...]:
    """The policy's main limits as short lines (what a responder checks first)."""
    out: list[str] = []
    budget = getattr(policy, "budget", None)
    if budget is not None:
        usd = f"${budget.usd:g}" if budget.usd is not None else "no USD limit"
        tok = f"{budget.tokens:,} tokens" if budget.tokens is not None else "no token limit"
        out.append(f"budget per session: {usd}, {tok}")
    loops = getattr(policy, "loops", None)
    if loops is not None:
        out.append(
            f"loops: more than {loops.identical_calls} identical calls, "
            f"{loops.same_error} identical errors, {loops.failures_consecutive} failures in a row"
        )
    paths = getattr(policy, "paths", None)
    if paths is not None:
        allowed = ", ".join(p.text for p in paths.allowed_write[:6]) or "anywhere"
        out.append(f"writes allowed in: {allowed}")
        out.append(f"forbidden paths: {len(paths.forbidden)} pattern(s)")
    tools = getattr(policy, "tools", None)
    if tools is not None:
        out.append(
            "tools: "
            + (f"only {', '.join(tools.allowed[:6])}" if tools.allowed else "any")
            + (f"; never {', '.join(tools.forbidden[:6])}" if tools.forbidden else "")
        )
    commands = getattr(policy, "commands", None)
    if commands is not None:
        out.append(f"forbidden commands: {len(commands.forbidden)} pattern(s)")
    network = getattr(policy, "network", None)
    if network is not None:
        out.append(f"network: {len(network.allowed_hosts)} allowed host pattern(s)")
    auth = getattr(policy, "authorization", None)
    if auth is not None:
        out.append(f"risky modes flagged: {', '.join(auth.risky_modes)}")
    return tuple(out)
