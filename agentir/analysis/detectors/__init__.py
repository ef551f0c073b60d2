"""Detectors: small observers of the session fold that say what went wrong.

Each detector sees every event once (with what the fold derived from it), keeps bounded
state, and returns `Finding`s that cite the evidence seqs (and the source of the first one in
`data["source"]`). `default_observers(policy)` builds a fresh set for one session;
`observer_factory(policy)` is what `assess_trace` takes (picklable, for worker processes).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from agentir.analysis.detectors.common import Detector
from agentir.analysis.detectors.context import ContextDetector
from agentir.analysis.detectors.cost_spiral import CostDetector
from agentir.analysis.detectors.external import ExternalEffectDetector
from agentir.analysis.detectors.failures import FailureDetector
from agentir.analysis.detectors.hallucination import HallucinationDetector
from agentir.analysis.detectors.loops import LoopDetector
from agentir.analysis.detectors.permissions import PermissionDetector
from agentir.analysis.detectors.scope import ScopeDetector
from agentir.analysis.detectors.stops import StopDetector
from agentir.analysis.fold import Observer
from agentir.policy import Policy

DETECTORS: tuple[type[Detector], ...] = (
    LoopDetector,
    FailureDetector,
    ScopeDetector,
    PermissionDetector,
    CostDetector,
    ContextDetector,
    HallucinationDetector,
    ExternalEffectDetector,
    StopDetector,
)


def _policy(policy: Policy | Mapping[str, Any] | None) -> Policy:
    if policy is None:
        return Policy()
    if isinstance(policy, Policy):
        return policy
    return Policy.from_dict(policy)  # a raw `policy:` mapping (validated, no line numbers)


def default_observers(policy: Policy | Mapping[str, Any] | None = None) -> list[Observer]:
    """A fresh instance of every detector for one session."""
    p = _policy(policy)
    return [cls(p) for cls in DETECTORS]


def observer_factory(policy: Policy | None = None) -> partial[list[Observer]]:
    """A zero-argument factory for `assess_trace` (picklable with its policy)."""
    return partial(default_observers, _policy(policy))


__all__ = ["DETECTORS", "Detector", "default_observers", "observer_factory"]
