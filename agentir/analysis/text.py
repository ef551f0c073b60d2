"""Trace text made safe to keep: redacted, without control characters, bounded in length."""

from __future__ import annotations

import re

from agentir.analysis.secrets import redact

TEXT_LIMIT = 2_000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean(text: str, limit: int = TEXT_LIMIT) -> str:
    """Redacted, control-character-free, bounded text for storing in an assessment."""
    return plain(redact(text), limit)


def plain(text: str, limit: int = TEXT_LIMIT) -> str:
    """Control-character-free, bounded text (for text that is already redacted)."""
    if len(text) > limit:
        text = text[:limit] + f"…[{len(text) - limit} more characters]"
    return _CONTROL.sub(" ", text)
