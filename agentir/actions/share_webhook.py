"""`agentir incident share --webhook URL`: a short summary POSTed as Slack-compatible JSON
(`{"text": …}`), with urllib and a timeout.

The summary holds only what the incident record says (id, severity, status, title, sessions,
deadlines, action items, where it was shared), redacted, with Slack's control characters
escaped so a title cannot ping `<!channel>`. The URL itself is a secret (a Slack incoming
webhook URL is its own credential): only its scheme and host are ever shown or recorded.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from agentir import __version__
from agentir.actions.share import FolderShare
from agentir.analysis.secrets import redact
from agentir.errors import ActionError, UsageError
from agentir.incidents.records import Incident

DEFAULT_TIMEOUT = 10.0
MAX_TEXT = 1500


@dataclass(frozen=True)
class WebhookResult:
    """The outcome of one POST (target is scheme://host[:port], never the full URL)."""

    target: str
    status: int
    ok: bool
    error: str | None = None
    text: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain data for --json and the timeline (the text is not repeated there)."""
        return {"target": self.target, "status": self.status, "ok": self.ok, "error": self.error}


def target_of(url: str) -> str:
    """scheme://host[:port] of a webhook URL (UsageError unless http or https with a host)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise UsageError("--webhook is not a valid URL", hint="https://hooks.slack.com/…") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError("--webhook must be an http(s) URL", hint="https://hooks.slack.com/…")
    return f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port else "")


def _slack(text: str) -> str:
    """Escape Slack's three control characters (so `<!channel>` or `<url|x>` stay text)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def summary(incident: Incident, share: FolderShare | None, now: Any) -> str:
    """A few lines for the team channel, redacted and escaped."""
    title = " ".join(incident.title.split())[:200]
    lines = [f"*{incident.id}* ({incident.severity}, {incident.status}): {title}"]
    if incident.sessions:
        shown = ", ".join(incident.sessions[:3])
        more = f" (+{len(incident.sessions) - 3} more)" if len(incident.sessions) > 3 else ""
        lines.append(f"Agent session(s): {shown}{more}")
    states = incident.deadline_states(now)
    if states:
        lines.append("Deadlines: " + ", ".join(f"{k} {v}" for k, v in states.items()))
    items = incident.action_items
    if items:
        open_items = sum(1 for i in items if i.done_at is None)
        lines.append(f"Action items: {open_items} open of {len(items)}")
    tests = incident.extra.get("test_suggestions") if isinstance(incident.extra, dict) else None
    if isinstance(tests, list) and tests:
        lines.append(f"Adversarial test suggestions: {len(tests)}")
    if share is not None:
        where = f"{share.folder}/" + (f" (commit {share.commit[:10]})" if share.commit else "")
        lines.append(f"Review, timeline and evidence index shared to the team folder {where}")
    text = _slack(redact("\n".join(lines)))
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def post(url: str, text: str, timeout: float = DEFAULT_TIMEOUT) -> WebhookResult:
    """POST {"text": text}; ActionError (one line, host only) when it fails or answers non-2xx."""
    target = target_of(url)
    body = json.dumps({"text": text}).encode("utf-8")
    request = urllib.request.Request(
        url.strip(),
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": f"agentir/{__version__}"},
    )
    try:
        # the scheme was checked in target_of: only http(s) reaches urlopen
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        raise ActionError(
            f"webhook {target} answered HTTP {exc.code}", hint="check the webhook URL"
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ActionError(
            f"webhook {target} failed: {_reason(reason)}",
            hint="the team folder share (if any) is done; retry the webhook alone",
        ) from None
    if not 200 <= status < 300:
        raise ActionError(f"webhook {target} answered HTTP {status}", hint="check the webhook URL")
    return WebhookResult(target, status, True, None, text)


def _reason(reason: object) -> str:
    text = " ".join(str(reason).split())
    return redact(text)[:160] or type(reason).__name__
