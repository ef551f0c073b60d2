"""Find and redact credentials (API keys, tokens, private keys, password pairs) in any text.

A redacted secret reads `[REDACTED:<kind>:<fp>]`, where `fp` is the first 8 hex digits of
the secret's SHA-256: enough to match it against a key you hold (`printf %s "$KEY" |
sha256sum`), useless to anyone reading the output.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

# (kind, pattern). A pattern's group "s" is the secret when present, else the whole match.
_PATTERNS: tuple[tuple[str, str], ...] = (
    (
        "private-key",
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
        r"(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|[\s\S]{0,4000})",
    ),
    ("aws-access-key-id", r"\b(?:AKIA|ASIA|ABIA|ACCA|AROA|AIDA)[0-9A-Z]{16}\b"),
    (
        "aws-secret-access-key",
        r"(?i:aws).{0,20}?(?i:secret|private).{0,20}?[=:]\s*[\"']?"
        r"(?P<s>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])",
    ),
    ("github-token", r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,255}\b"),
    ("github-token", r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b"),
    ("anthropic-api-key", r"\bsk-ant-[A-Za-z0-9]{2,10}-[A-Za-z0-9_\-]{20,}"),
    ("openai-api-key", r"\bsk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}"),
    ("slack-token", r"\bxox[abposr]-[A-Za-z0-9\-]{10,}"),
    (
        "slack-webhook",
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_\-]{20,}",
    ),
    ("google-api-key", r"\bAIza[0-9A-Za-z_\-]{35}"),
    ("stripe-key", r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{20,}"),
    ("npm-token", r"\bnpm_[A-Za-z0-9]{36}\b"),
    ("pypi-token", r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{40,}"),
    ("gitlab-token", r"\bglpat-[A-Za-z0-9_\-]{20,}"),
    ("jwt", r"\beyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,}"),
    ("bearer-token", r"\b(?i:bearer)\s+(?P<s>[A-Za-z0-9_\-\.=:/+]{16,})"),
    ("url-credentials", r"\b[a-z][a-z0-9+.\-]*://[^\s:/@\"']{1,64}:(?P<s>[^\s@/\"']{3,128})@"),
    (
        "password",
        r"(?:(?i:password|passwd|pwd|secret|token|api[_\-]?key|"
        r"access[_\-]?key|auth[_\-]?key|private[_\-]?key|client[_\-]?secret)[\"']?[ \t]*[:=][ \t]*)"
        r"(?P<q>[\"']?)(?P<s>(?![\"'$%{<(\[*])[^\s\"'&;,)}\]]{6,200})(?P=q)",
    ),
)


def _numbered(index: int, pattern: str) -> str:
    """Give a pattern's named groups unique names so all patterns fit in one regex."""
    for name in ("s", "q"):
        pattern = pattern.replace(f"(?P<{name}>", f"(?P<{name}{index}>")
        pattern = pattern.replace(f"(?P={name})", f"(?P={name}{index})")
    return f"(?P<k{index}>{pattern})"


# Lower-case literals one of which must be in the text for a pattern to match at all: a
# cheap `in` test selects the few patterns worth running (results are unchanged, since a
# pattern whose literal is absent cannot match).
_LITERALS: tuple[tuple[str, ...], ...] = (
    ("private key",),
    ("akia", "asia", "abia", "acca", "aroa", "aida"),
    ("aws",),
    ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    ("github_pat_",),
    ("sk-ant-",),
    ("sk-",),
    ("xox",),
    ("hooks.slack.com",),
    ("aiza",),
    ("_live_", "_test_"),
    ("npm_",),
    ("pypi-",),
    ("glpat-",),
    ("eyj",),
    ("bearer",),
    ("://",),
    ("passw", "pwd", "secret", "token", "key"),
)
assert len(_LITERALS) == len(_PATTERNS)


@lru_cache(maxsize=512)
def _combined(active: tuple[int, ...]) -> re.Pattern[str]:
    """One regex of the active patterns, keeping each pattern's own group names."""
    return re.compile("|".join(_numbered(i, _PATTERNS[i][1]) for i in active))


_PASSWORD = len(_PATTERNS) - 1
assert _PATTERNS[_PASSWORD][0] == "password"
_PASSWORD_ANY = re.compile(_PATTERNS[_PASSWORD][1])
_PASSWORD_LOW = re.compile(_PATTERNS[_PASSWORD][1].replace("(?i:", "(?:"))

# Kinds recognisable by the value alone: used to name a value found as `NAME=value`.
_BY_VALUE = tuple(
    (kind, re.compile(pat))
    for kind, pat in _PATTERNS
    if kind not in ("password", "bearer-token", "url-credentials", "aws-secret-access-key")
)
# Values of a `key = value` pair that are code, not a credential: dotted attribute chains
# (`customModel.api_key`), calls, and camelCase / snake_case names without digits.
_CODE = re.compile(
    r"^(?:[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+(?:\(.*)?|[A-Za-z_$][\w$]*\(.*"
    r"|[a-z]+(?:[A-Z][a-z]+)+|[a-z]+(?:_[a-z]+)+|[A-Z]+(?:_[A-Z]+)+)$"
)
_LABEL = re.compile(r"\[REDACTED:[a-z0-9\-]+:[0-9a-f]{8}\]")

# Values that look like a password pair but are placeholders, code or variables.
_PLACEHOLDERS = re.compile(
    r"^(?:none|null|nil|true|false|undefined|changeme|password|secret|token|example|xxx+|\*+|"
    r"redacted.*|\[redacted.*|your[_\-].*|<.*>|process\.env.*|os\.environ.*|os\.getenv.*|"
    r"getenv.*|env\..*|str|string|int|bool|optional.*|self\..*|config\..*|settings\..*|"
    r"required|input|args\..*|kwargs.*|request\..*|params\..*)$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class SecretHit:
    """One credential found in a text (offsets of the secret itself)."""

    kind: str
    start: int
    end: int
    fingerprint: str

    @property
    def label(self) -> str:
        """The redaction marker that replaces the secret."""
        return f"[REDACTED:{self.kind}:{self.fingerprint}]"


def fingerprint(secret: str) -> str:
    """First 8 hex digits of the SHA-256 of a secret."""
    return hashlib.sha256(secret.encode("utf-8", errors="replace")).hexdigest()[:8]


def find_secrets(text: str) -> list[SecretHit]:
    """Every credential in `text`, in order, non-overlapping (the leftmost match wins)."""
    if not text:
        return []
    low = text.lower()
    active = tuple(i for i, lits in enumerate(_LITERALS) if any(lit in low for lit in lits))
    if not active:
        return []
    # (match start, match end, pattern index, secret start, secret end)
    found: list[tuple[int, int, int, int, int]] = []
    others = tuple(i for i in active if i != _PASSWORD)
    if others:
        for m in _combined(others).finditer(text):
            index = next(i for i in others if m.group(f"k{i}") is not None)
            group = f"s{index}" if "(?P<s>" in _PATTERNS[index][1] else f"k{index}"
            found.append((m.start(), m.end(), index, *m.span(group)))
    if _PASSWORD in active:
        # case-sensitive matching on the lower-cased text is several times faster than
        # a case-insensitive pattern; offsets agree when lowering kept the length
        rx, subject = (_PASSWORD_LOW, low) if len(low) == len(text) else (_PASSWORD_ANY, text)
        found += [(m.start(), m.end(), _PASSWORD, *m.span("s")) for m in rx.finditer(subject)]
        found.sort(key=lambda f: (f[0], f[2] == _PASSWORD))
    done = [m.span() for m in _LABEL.finditer(text)] if "[REDACTED:" in text else []
    hits: list[SecretHit] = []
    taken = -1
    for m_start, m_end, index, start, end in found:
        if m_start < taken:
            continue
        if done and any(a <= m_start < b or a < m_end <= b for a, b in done):
            continue  # already redacted: redaction is idempotent
        kind = _PATTERNS[index][0]
        secret = text[start:end]
        if kind == "password":
            if _PLACEHOLDERS.match(secret) or _CODE.match(secret) or secret.startswith("[REDACTED"):
                continue
            kind = next((k for k, rx in _BY_VALUE if rx.match(secret)), kind)
        if kind in ("bearer-token", "url-credentials") and secret.startswith("[REDACTED"):
            continue
        if kind == "url-credentials" and (secret.startswith("$") or _PLACEHOLDERS.match(secret)):
            continue
        hits.append(SecretHit(kind, start, end, fingerprint(secret)))
        taken = m_end
    return hits


def redact(text: str) -> str:
    """`text` with every credential replaced by its redaction marker."""
    hits = find_secrets(text)
    if not hits:
        return text
    out: list[str] = []
    last = 0
    for hit in hits:
        out.append(text[last : hit.start])
        out.append(hit.label)
        last = hit.end
    out.append(text[last:])
    return "".join(out)
