"""Detectors: small observers of the session fold that say what went wrong.

Each detector sees every event once (with what the fold derived from it), keeps bounded
state, and returns `Finding`s that cite the evidence seqs (and the source of the first one in
`data["source"]`). `default_observers(policy)` builds a fresh set for one session;
`observer_factory(policy)` is what `assess_trace` takes (picklable, for worker processes).
The detector modules are imported on first use, so that importing one helper module (as the
guard hook does before every tool call) does not load all nine.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from agentir.policy import Policy

if TYPE_CHECKING:
    from agentir.analysis.detectors.common import Detector
    from agentir.analysis.fold import Observer


def _classes() -> tuple[type[Detector], ...]:
    from agentir.analysis.detectors.context import ContextDetector
    from agentir.analysis.detectors.cost_spiral import CostDetector
    from agentir.analysis.detectors.external import ExternalEffectDetector
    from agentir.analysis.detectors.failures import FailureDetector
    from agentir.analysis.detectors.hallucination import HallucinationDetector
    from agentir.analysis.detectors.loops import LoopDetector
    from agentir.analysis.detectors.permissions import PermissionDetector
    from agentir.analysis.detectors.scope import ScopeDetector
    from agentir.analysis.detectors.stops import StopDetector

    return (
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


def __getattr__(name: str) -> Any:
    """`DETECTORS` and `Detector`, imported when first asked for."""
    if name == "DETECTORS":
        return _classes()
    if name == "Detector":
        from agentir.analysis.detectors.common import Detector

        return Detector
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _policy(policy: Policy | Mapping[str, Any] | None) -> Policy:
    if policy is None:
        return Policy()
    if isinstance(policy, Policy):
        return policy
    return Policy.from_dict(policy)  # a raw `policy:` mapping (validated, no line numbers)


def default_observers(policy: Policy | Mapping[str, Any] | None = None) -> list[Observer]:
    """A fresh instance of every detector for one session."""
    p = _policy(policy)
    return [cls(p) for cls in _classes()]


def observer_factory(policy: Policy | None = None) -> partial[list[Observer]]:
    """A zero-argument factory for `assess_trace` (picklable with its policy)."""
    return partial(default_observers, _policy(policy))


__all__ = ["DETECTORS", "Detector", "default_observers", "observer_factory"]
