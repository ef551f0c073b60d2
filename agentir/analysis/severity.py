"""Suggest an incident level (SEV1 / SEV2 / SEV3) with reasons that cite evidence.

SEV1: the agent's actions reached production or external systems, destroyed or corrupted
data, or exposed a secret. SEV2: the work looks finished but findings say it is wrong.
SEV3: the agent failed or stopped visibly. When unsure, the higher level.
"""

from __future__ import annotations

from agentir.model import Assessment, Effect, Risk, SeveritySuggestion

_SEV1_KINDS = {"deploy", "publish", "secret_exposure"}
_LEVEL = {"SEV1": 1, "SEV2": 2, "SEV3": 3}


def _cite(effect: Effect) -> str:
    state = "" if effect.succeeded is not False else " (attempt failed)"
    return f"{effect.kind} {effect.target}{state} at seq {effect.seq} ({effect.source})"


def suggest(a: Assessment) -> SeveritySuggestion:
    """The suggested level and the reasons for it, highest level first."""
    sev1: list[str] = []
    for e in a.effects:
        if (
            e.kind in _SEV1_KINDS
            or e.risk is Risk.CRITICAL
            or (
                e.risk is Risk.HIGH
                and e.kind in ("git_push", "database", "cloud", "message", "destructive")
            )
        ):
            sev1.append(_cite(e))
    for f in a.findings:
        if f.severity == "critical":
            sev1.append(f"{f.detector}: {f.message} (seq {', '.join(map(str, f.seqs[:5]))})")
    if sev1:
        return SeveritySuggestion("SEV1", tuple(sev1[:20]))
    sev2 = [f"{f.detector}: {f.message}" for f in a.findings if f.severity == "high"]
    if sev2:
        return SeveritySuggestion("SEV2", tuple(sev2[:20]))
    sev3: list[str] = [f"{f.detector}: {f.message}" for f in a.findings if f.severity == "warning"]
    if a.counts.tool_errors:
        sev3.append(
            f"{a.counts.tool_errors} failed tool call(s), first at seq {a.failures[0].seq}"
            if a.failures
            else f"{a.counts.tool_errors} failed tool call(s)"
        )
    if a.counts.errors:
        sev3.append(f"{a.counts.errors} agent or API error(s)")
    if sev3:
        return SeveritySuggestion("SEV3", tuple(sev3[:20]))
    return SeveritySuggestion(None, ("no finding, failure or external effect",))


def at_or_above(level: str | None, threshold: str) -> bool:
    """True when `level` is as severe as `threshold` or more (SEV1 is the most severe)."""
    if level is None:
        return False
    return _LEVEL.get(level, 9) <= _LEVEL.get(threshold, 0)
