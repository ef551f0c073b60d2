"""What every effect rule shares: the hit it returns and small argv helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from agentir.model import Risk

_URL = re.compile(r"\b(?:https?|ftp|wss?)://[^\s'\"<>|;)]+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class EffectHit:
    """An external effect found in a command or tool call (before it gets a seq)."""

    kind: str
    target: str
    risk: Risk
    detail: str = ""


def urls_in(argv: list[str]) -> list[str]:
    """Every URL in the arguments."""
    return [m.group(0) for a in argv for m in _URL.finditer(a)]


def host(url: str) -> str:
    """The host name of a URL (the URL itself when it has none)."""
    try:
        return urlsplit(url).hostname or url
    except ValueError:
        return url


def operands(argv: list[str], skip_values: frozenset[str] = frozenset()) -> list[str]:
    """Operands of a command (options dropped, and the values of `skip_values` options)."""
    out: list[str] = []
    skip = False
    for a in argv[1:]:
        if skip:
            skip = False
            continue
        if a.startswith("-"):
            if a in skip_values:
                skip = True
            continue
        out.append(a)
    return out
