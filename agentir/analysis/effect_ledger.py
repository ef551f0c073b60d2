"""The external effects of a session: one per (kind, target), riskiest outcome kept, counted;
and the secrets it exposed, each reported once (its risk raised when it is used later)."""

from __future__ import annotations

from dataclasses import replace

from agentir.analysis.effect_base import EffectHit
from agentir.analysis.secrets import find_secrets
from agentir.analysis.text import clean
from agentir.model import Effect, Risk

MAX_EFFECTS = 5_000


class EffectLedger:
    """Effects folded by (kind, target), capped at `limit` (the rest are counted)."""

    def __init__(self, limit: int = MAX_EFFECTS) -> None:
        self.effects: dict[tuple[str, str], Effect] = {}
        self.limit = limit
        self.omitted = 0
        self._secrets: dict[str, tuple[str, str]] = {}  # fingerprint -> effect key

    def add(self, hit: EffectHit, seq: int, source: str, ok: bool | None) -> Effect:
        """Record one effect; a repeat keeps the first step and the higher risk, and counts."""
        key = (hit.kind, hit.target)
        effect = Effect(
            kind=hit.kind,
            target=clean(hit.target, 300),
            seq=seq,
            risk=hit.risk,
            detail=clean(hit.detail, 300),
            source=source,
            succeeded=ok,
        )
        existing = self.effects.get(key)
        if existing is not None:
            better = effect if effect.risk.rank > existing.risk.rank else existing
            self.effects[key] = replace(
                better,
                seq=existing.seq,
                source=existing.source,
                count=existing.count + 1,
                succeeded=existing.succeeded if existing.succeeded else ok,
            )
            return self.effects[key]
        if len(self.effects) >= self.limit:
            self.omitted += 1
            return effect
        self.effects[key] = effect
        return effect

    def scan(self, text: str, seq: int, source: str, where: str) -> tuple[str, list[Effect]]:
        """Report the credentials in `text` as effects; return `text` redacted and the new ones."""
        hits = find_secrets(text)
        new: list[Effect] = []
        for hit in hits:
            # a secret typed into a command or tool input is sent somewhere: worse than read
            risk = Risk.CRITICAL if where in ("command", "tool input") else Risk.HIGH
            key = self._secrets.get(hit.fingerprint)
            if key is not None:
                seen = self.effects.get(key)
                if seen is not None:
                    detail = (
                        seen.detail
                        if risk.rank <= seen.risk.rank
                        else f"{seen.detail}; then used in a {where} at seq {seq}"
                    )
                    self.effects[key] = replace(
                        seen,
                        risk=max(seen.risk, risk, key=lambda r: r.rank),
                        detail=detail,
                        count=seen.count + 1,
                    )
                continue
            hit_effect = EffectHit("secret_exposure", hit.label, risk, f"{hit.kind} in {where}")
            effect = self.add(hit_effect, seq, source, None)
            self._secrets[hit.fingerprint] = (effect.kind, effect.target)
            new.append(effect)
        if not hits:
            return text, new
        parts: list[str] = []
        last = 0
        for hit in hits:
            parts += [text[last : hit.start], hit.label]
            last = hit.end
        parts.append(text[last:])
        return "".join(parts), new

    def settle(self, hits: list[EffectHit], seq: int, ok: bool | None) -> None:
        """Mark the effects of a call that failed (at that step) or succeeded."""
        for hit in hits:
            key = (hit.kind, hit.target)
            current = self.effects.get(key)
            if current is None:
                continue
            if ok is False and current.seq == seq:
                self.effects[key] = replace(current, succeeded=False)
            elif ok is True:
                self.effects[key] = replace(current, succeeded=True)

    def ranked(self) -> tuple[Effect, ...]:
        """Every effect, riskiest first, then in trace order."""
        return tuple(sorted(self.effects.values(), key=lambda e: (-e.risk.rank, e.seq)))
