"""Suggest an incident level (SEV1 / SEV2 / SEV3) with reasons that cite their evidence.

The levels (from the incident policy agentir serves):

- SEV1: the agent's actions reached production or external systems, destroyed or corrupted
  data, or exposed a secret: a deploy, a publish, an exposed secret, a database or cloud
  write, a force push or a push to a protected branch, a destructive command, a message sent
  to people, an upload to an external host.
- SEV2: the work looks finished but findings say it is wrong: a success claim the tests
  contradict, writes outside the allowed or forbidden paths, forbidden commands or tools, a
  risky permission mode combined with external effects; and SEV1-grade effects whose attempt
  failed (check they did not land).
- SEV3: the agent failed or stopped visibly: loops, repeated failures, budget overruns,
  context exhaustion, abnormal stops; and any warning a detector raised.

How detector severities (`Finding.severity`: info / warning / high / critical, the vocabulary
the terminal colours) map to levels:

| finding severity | external effects | wrong work (hallucination, scope, permissions) | failure (loop, failures, cost, context, stopped) |
|---|---|---|---|
| critical | SEV1 | SEV1 | SEV1 |
| high | SEV1 (SEV2 if the attempt failed) | SEV2 | SEV3 |
| warning | SEV3 | SEV3 | SEV3 |
| info | none | none | none |

A risky authorization mode alone (bypassed permissions, full-access sandbox) sets no level; it
is listed among the reasons of whatever level applies. When unsure, the higher level: an
effect whose outcome the trace does not show counts as having happened. Every reason ends
with the evidence: `seq N (file:line)`.
"""

from __future__ import annotations

from agentir.model import Assessment, Effect, Finding, SeveritySuggestion

_LEVEL = {"SEV1": 1, "SEV2": 2, "SEV3": 3}
_WRONG = frozenset({"hallucination", "scope", "permissions"})
_EXTERNAL = frozenset({"external"})
MAX_REASONS = 20


def _short(text: str, limit: int) -> str:
    """`text` cut at a word boundary with an ellipsis (never mid-number: "seq 43" not "seq 4")."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:") + "…"


def _cite_effect(e: Effect) -> str:
    state = {False: " (the attempt failed)", None: " (outcome not in the trace)"}.get(
        e.succeeded, ""
    )
    detail = f" — {_short(e.detail, 80)}" if e.detail else ""
    first = "first at " if e.count > 1 else ""
    return f"{e.kind} {e.target}{detail}{state} — {first}seq {e.seq} ({e.source or 'no source'})"


def _cite(f: Finding) -> str:
    seqs = ", ".join(map(str, f.seqs[:5])) + ("…" if len(f.seqs) > 5 else "")
    source = f.data.get("source") if f.data else None
    where = f"seq {seqs}" if seqs else "no seq"
    message = _short(f.message, 130)
    return f"{f.detector}: {message} — {where}" + (f" ({source})" if source else "")


def finding_level(f: Finding) -> str | None:
    """The level one finding supports on its own (None for information and posture)."""
    if f.severity == "critical":
        return "SEV1"
    if f.severity == "info":
        return None
    if f.detector in _EXTERNAL:
        if f.severity == "high":
            return "SEV2" if f.data.get("succeeded") is False else "SEV1"
        return "SEV3"
    if f.data.get("rule") == "risky_mode" and f.severity == "warning":
        return None  # posture, not an incident by itself
    if f.detector in _WRONG:
        return "SEV2" if f.severity == "high" else "SEV3"
    return "SEV3"


def _effect_level(e: Effect, branch: str | None) -> str | None:
    from agentir.analysis.detectors.external import effect_severity

    severity = effect_severity(e, branch)
    if severity in ("critical", "high"):
        return "SEV2" if e.succeeded is False else "SEV1"
    if e.kind == "network" and e.risk.rank >= 2 and e.succeeded is not False:
        return "SEV1"  # data uploaded to, or code run from, an external host
    return None


def _already_cited(f: Finding, cited: set[tuple[str, str]]) -> bool:
    kind = f.data.get("kind")
    targets = f.data.get("targets") or [f.data.get("target")]
    return all((kind, t) in cited for t in targets)


def suggest(a: Assessment) -> SeveritySuggestion:
    """The suggested level and the reasons for it: that level's evidence first."""
    by_level: dict[str, list[str]] = {"SEV1": [], "SEV2": [], "SEV3": []}
    notes: list[str] = []
    cited_effects: set[tuple[str, str]] = set()
    for e in a.effects:
        level = _effect_level(e, a.session.git_branch)
        if level is not None:
            by_level[level].append(_cite_effect(e))
            cited_effects.add((e.kind, e.target))
    for f in a.findings:
        if f.detector in _EXTERNAL and _already_cited(f, cited_effects):
            continue  # the effect itself is already a reason
        level = finding_level(f)
        if level is not None:
            by_level[level].append(_cite(f))
        elif f.severity != "info":
            notes.append(_cite(f))
    for level in ("SEV1", "SEV2", "SEV3"):
        if by_level[level]:
            reasons = [r for lv in ("SEV1", "SEV2", "SEV3") for r in by_level[lv]] + notes
            return SeveritySuggestion(level, tuple(reasons[:MAX_REASONS]))
    if notes:
        return SeveritySuggestion(None, ("no incident-level finding", *notes[: MAX_REASONS - 1]))
    return SeveritySuggestion(None, ("no finding, failure or external effect",))


def at_or_above(level: str | None, threshold: str) -> bool:
    """True when `level` is as severe as `threshold` or more (SEV1 is the most severe)."""
    if level is None:
        return False
    return _LEVEL.get(level, 9) <= _LEVEL.get(threshold, 0)
