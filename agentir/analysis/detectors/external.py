"""High-risk external effects: what reached beyond the working tree and git cannot undo.

Judged at the end of the session from the fold's effects, because a command's success is
known only once its result arrives. Deploys, publishes, exposed secrets and anything the
effect rules call critical (force push to a protected branch, DROP TABLE, rm -rf /) are
critical; other high-risk effects (database and cloud writes, force push to a feature branch,
destructive commands, webhooks, a plain push to a protected branch) are high. A failed attempt
is one level lower. Plain network access is the permission detector's business.
"""

from __future__ import annotations

import re

from agentir.analysis.detectors.common import Detector, quote
from agentir.analysis.fold import SessionFold
from agentir.model import Effect, Risk

_LOWER = {"critical": "high", "high": "warning", "warning": "info"}
_ALWAYS_CRITICAL = frozenset({"deploy", "publish", "secret_exposure"})
_PROTECTED = re.compile(r"(^|[\s:+/])(main|master|prod|production|release|trunk)\b")
_ARTIFACTS = frozenset(
    {
        "build", "dist", "out", "target", "node_modules", ".venv", "venv", "__pycache__",
        ".pytest_cache", ".mypy_cache", ".ruff_cache", ".next", ".nuxt", ".turbo", ".cache",
        "coverage", "htmlcov", ".tox", ".nox", "tmp", ".parcel-cache", "*.egg-info", ".gradle",
    }
)  # fmt: skip
_WHY = {
    "deploy": "changed a running system",
    "publish": "published to a public registry",
    "secret_exposure": "a secret left the machine (rotate it)",
    "git_push": "changed a shared repository",
    "database": "changed a database",
    "cloud": "changed cloud resources",
    "destructive": "destroyed data",
    "message": "sent a message to people or systems",
    "mcp": "called an MCP tool that may write",
}


def protected_push(effect: Effect, branch: str | None) -> bool:
    """A push whose target is main / master / prod / release (or the session's branch is)."""
    if effect.kind != "git_push":
        return False
    if _PROTECTED.search(effect.target):
        return True
    return "(current branch)" in effect.target and bool(branch and _PROTECTED.search(branch))


def regenerable(effect: Effect) -> bool:
    """`rm -rf build dist node_modules`: only build output and caches, rebuilt by a command."""
    if effect.kind != "destructive" or effect.detail not in ("rm -rf", "find -delete"):
        return False
    targets = effect.target.split()
    return bool(targets) and all(
        t.rstrip("/*").rsplit("/", 1)[-1] in _ARTIFACTS for t in targets if t.rstrip("/*")
    )


def effect_severity(effect: Effect, branch: str | None) -> str | None:
    """The finding severity for an effect that succeeded (or may have), None when routine."""
    if effect.kind in _ALWAYS_CRITICAL or effect.risk is Risk.CRITICAL:
        return "critical"
    if regenerable(effect):
        return "warning"
    if effect.kind == "network":
        return None
    if effect.risk is Risk.HIGH:
        return "warning" if effect.kind == "mcp" else "high"
    if effect.kind == "git_push" and protected_push(effect, branch):
        return "high"
    if effect.kind == "destructive" and effect.risk is Risk.MEDIUM:
        return "warning"
    return None


class ExternalEffectDetector(Detector):
    """One finding per high-risk effect (effects are already folded by kind and target)."""

    name = "external"

    def final(self, fold: SessionFold) -> None:
        """Judge every effect the session had; exposed secrets are grouped by kind."""
        branch = fold.info.get("git_branch")
        branch = branch if isinstance(branch, str) else None
        effects = sorted(fold.effects.values(), key=lambda e: (-e.risk.rank, e.seq))
        secrets: dict[str, list[Effect]] = {}
        for e in effects:
            if e.kind == "secret_exposure":
                secrets.setdefault(e.detail or "secret", []).append(e)
                continue
            severity = effect_severity(e, branch)
            if severity is None:
                continue
            state = ""
            if e.succeeded is False:
                severity = _LOWER[severity]
                state = " — the attempt failed; check it did not land"
            elif e.succeeded is None:
                state = " — outcome unknown"
            times = f" ({e.count} times)" if e.count > 1 else ""
            detail = f" ({quote(e.detail, 80)})" if e.detail else ""
            why = _WHY.get(e.kind, "reached an external system")
            if regenerable(e):
                why = "deleted build output or caches (regenerable)"
            if e.kind == "git_push" and protected_push(e, branch) and e.risk is not Risk.CRITICAL:
                why = "pushed to a protected branch"
            self.emit(
                severity,
                f"{e.kind}: {quote(e.target, 100)}{detail}{times} at seq {e.seq}: {why}{state}",
                [e.seq],
                e.source or None,
                kind=e.kind,
                target=e.target,
                risk=e.risk.value,
                succeeded=e.succeeded,
            )
        for detail, group in secrets.items():
            group.sort(key=lambda e: e.seq)
            listed = ", ".join(f"{e.target} (seq {e.seq})" for e in group[:3])
            more = f" and {len(group) - 3} more" if len(group) > 3 else ""
            count = f"{len(group)} secrets" if len(group) > 1 else "a secret"
            self.emit(
                "critical",
                f"secret_exposure: {count} ({quote(detail, 60)}): {listed}{more}: "
                f"{_WHY['secret_exposure']}",
                [e.seq for e in group],
                group[0].source or None,
                kind="secret_exposure",
                targets=[e.target for e in group[:50]],
                count=len(group),
            )
