"""Find and redact credentials (API keys, tokens, private keys, password pairs) in any text.

A redacted secret reads `[REDACTED:<kind>:<fp>]`, where `fp` is the first 8 hex digits of
the secret's SHA-256: enough to match it against a key you hold (`printf %s "$KEY" |
sha256sum`), useless to anyone reading the output.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

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
        r"(?:[\"']?\b(?i:[a-z0-9_\-]*(?:password|passwd|pwd|secret|token|api[_\-]?key|"
        r"access[_\-]?key|auth[_\-]?key|private[_\-]?key|client[_\-]?secret))[\"']?\s*[:=]\s*)"
        r"(?P<q>[\"']?)(?P<s>(?![\"'$%{<(\[*])[^\s\"'&;,)}\]]{6,200})(?P=q)",
    ),
)


def _numbered(index: int, pattern: str) -> str:
    """Give a pattern's named groups unique names so all patterns fit in one regex."""
    for name in ("s", "q"):
        pattern = pattern.replace(f"(?P<{name}>", f"(?P<{name}{index}>")
        pattern = pattern.replace(f"(?P={name})", f"(?P={name}{index})")
    return f"(?P<k{index}>{pattern})"


_COMBINED = re.compile("|".join(_numbered(i, pat) for i, (_, pat) in enumerate(_PATTERNS)))
# Kinds recognisable by the value alone: used to name a value found as `NAME=value`.
_BY_VALUE = tuple(
    (kind, re.compile(pat))
    for kind, pat in _PATTERNS
    if kind not in ("password", "bearer-token", "url-credentials", "aws-secret-access-key")
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

# Pieces of text that must be present for any pattern to match: a cheap pre-filter.
_PREFILTER = re.compile(
    r"PRIVATE KEY|AKIA|ASIA|ABIA|ACCA|AROA|AIDA|aws|gh[pousr]_|github_pat_|sk-|xox|hooks\.slack|"
    r"AIza|_live_|_test_|npm_|pypi-|glpat-|eyJ|bearer|://|passw|pwd|secret|token|key",
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
    """Every credential in `text`, in order, non-overlapping."""
    if not text or not _PREFILTER.search(text):
        return []
    hits: list[SecretHit] = []
    done = [m.span() for m in _LABEL.finditer(text)] if "[REDACTED:" in text else []
    for match in _COMBINED.finditer(text):
        if done and any(a <= match.start() < b or a < match.end() <= b for a, b in done):
            continue  # already redacted: redaction is idempotent
        index = next(i for i in range(len(_PATTERNS)) if match.group(f"k{i}") is not None)
        kind, pattern = _PATTERNS[index]
        group = f"s{index}" if "(?P<s>" in pattern else f"k{index}"
        start, end = match.span(group)
        secret = text[start:end]
        if kind == "password":
            if _PLACEHOLDERS.match(secret) or secret.startswith("[REDACTED"):
                continue
            kind = next((k for k, rx in _BY_VALUE if rx.match(secret)), kind)
        if kind in ("bearer-token", "url-credentials") and secret.startswith("[REDACTED"):
            continue
        if kind == "url-credentials" and (secret.startswith("$") or _PLACEHOLDERS.match(secret)):
            continue
        hits.append(SecretHit(kind, start, end, fingerprint(secret)))
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


def contains_secret(text: str) -> bool:
    """True when `text` holds at least one credential."""
    return bool(find_secrets(text))
