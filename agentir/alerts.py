"""Alerts for the on-call engineer, configured once and sent by guard, watch and contain.

`agentir.yaml` (top level, beside `policy:`):

    alerts:
      command: [notify-send, agentir, "{text}"]   # an argv list, run without a shell
      webhook: https://hooks.slack.com/services/...   # POST of the JSON payload
      webhook_env: AGENTIR_ALERT_WEBHOOK            # or the URL from this variable
      timeout: 5                                    # seconds per attempt
      retries: 2                                    # further attempts after a failure

The payload is `{"text", "incident", "finding", "session", "trace", "source", "action"}`;
`text` is what Slack (and compatible chat webhooks) shows. The command gets the payload on
stdin, and `{text}`, `{incident.id}`, `{incident.severity}`, `{session.id}`, `{trace}`,
`{finding.detector}`, `{finding.severity}`, `{finding.message}`, `{source}` and `{action}`
are replaced inside each argument (a value never becomes more than one argument). Secrets
in the text and the finding are redacted, and the webhook URL (whose path is often the
secret) is shown only as scheme and host. Sending never raises: each channel's outcome is
returned (and recorded on the incident by the caller).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentir.errors import ConfigError

PLACEHOLDERS = frozenset(
    {
        "text", "incident.id", "incident.severity", "incident.title", "session.id", "trace",
        "finding.detector", "finding.severity", "finding.message", "source", "action",
    }
)  # fmt: skip
_KEYS = ("command", "webhook", "webhook_env", "timeout", "retries")
MAX_TEXT = 3000


@dataclass(frozen=True)
class AlertConfig:
    """Where alerts go; nothing configured means no alert is sent."""

    command: tuple[str, ...] | None = None
    webhook: str | None = None
    timeout: float = 5.0
    retries: int = 2
    source: str = ""

    @property
    def configured(self) -> bool:
        """Whether any channel is set."""
        return bool(self.command or self.webhook)


@dataclass(frozen=True)
class Alert:
    """One alert: what happened, to which session, and the finding and incident behind it."""

    text: str
    source: str  # guard / watch / contain
    action: str  # blocked / paused / killed / contained / ...
    finding: Mapping[str, Any] | None = None
    incident: Mapping[str, Any] | None = None
    session: str | None = None
    trace: str | None = None

    def payload(self) -> dict[str, Any]:
        """The JSON body (redacted, bounded)."""
        from agentir.analysis.secrets import redact

        finding = dict(self.finding) if self.finding else None
        if finding is not None and isinstance(finding.get("message"), str):
            finding["message"] = redact(finding["message"])[:MAX_TEXT]
        return {
            "text": redact(self.text)[:MAX_TEXT],
            "incident": dict(self.incident) if self.incident else None,
            "finding": finding,
            "session": self.session,
            "trace": self.trace,
            "source": self.source,
            "action": self.action,
        }


@dataclass(frozen=True)
class Delivery:
    """How sending on one channel went."""

    channel: str  # command / webhook
    target: str  # redacted: the program, or scheme://host of the webhook
    ok: bool
    attempts: int
    error: str | None = None
    status: int | None = None  # the HTTP status or the command's exit code
    extra: Mapping[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """For the incident timeline and JSON output."""
        return {
            "channel": self.channel,
            "target": self.target,
            "ok": self.ok,
            "attempts": self.attempts,
            "error": self.error,
            "status": self.status,
        }


# --------------------------------------------------------------------------- configuration


def load_alerts(path: Path | None = None, start: Path | None = None) -> AlertConfig:
    """The `alerts:` section of `path`, else of the nearest agentir.yaml (none: no alerts).

    Raises ConfigError listing every problem with its file and line.
    """
    from agentir.config import find_config, load_section

    found = path or find_config(start)
    if found is None:
        return AlertConfig()
    data, doc = load_section("alerts", found)
    if data is None:
        return AlertConfig(source=str(found))
    errors: list[str] = []

    def error(key: str | None, message: str) -> None:
        keys = ("alerts", key) if key else ("alerts",)
        where = doc.where(*keys) if doc is not None else ".".join(keys)
        errors.append(f"{where}: {message}")

    config = _parse(data, error, str(found))
    if errors:
        raise ConfigError(
            f"invalid alerts in {found} ({len(errors)} error(s)):\n  " + "\n  ".join(errors),
            hint="see `alerts:` in agentir.example.yaml",
        )
    return config


def _parse(data: Any, error: Any, source: str) -> AlertConfig:
    from agentir.commandline import placeholders
    from agentir.schema_checks import did_you_mean

    if not isinstance(data, Mapping):
        error(None, f"must be a mapping, got {type(data).__name__}")
        return AlertConfig(source=source)
    for key in data:
        if key not in _KEYS:
            error(str(key), f"unknown key{did_you_mean(str(key), list(_KEYS))}")
    command = data.get("command")
    argv: tuple[str, ...] | None = None
    if command is not None:
        if isinstance(command, str):
            error("command", "must be a list of arguments (it runs without a shell)")
        elif not (
            isinstance(command, list) and command and all(isinstance(a, str) for a in command)
        ):
            error("command", f"must be a non-empty list of strings, got {command!r}")
        else:
            unknown = [n for n in placeholders(command) if n not in PLACEHOLDERS]
            if unknown:
                error("command", f"unknown placeholder {{{unknown[0]}}}")
            argv = tuple(command)
    webhook = data.get("webhook")
    env_name = data.get("webhook_env")
    if webhook is not None and not _is_url(webhook):
        error("webhook", f"must be an http(s) URL, got {_shown_url(str(webhook))!r}")
        webhook = None
    if env_name is not None:
        if not isinstance(env_name, str) or not env_name.strip():
            error("webhook_env", "must be the name of an environment variable")
        elif webhook is None and os.environ.get(env_name):
            webhook = os.environ[env_name]
            if not _is_url(webhook):
                error("webhook_env", f"${env_name} does not hold an http(s) URL")
                webhook = None
    timeout = data.get("timeout", 5.0)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 120:
        error("timeout", f"must be a number of seconds above 0 and at most 120, got {timeout!r}")
        timeout = 5.0
    retries = data.get("retries", 2)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
        error("retries", f"must be a whole number from 0 to 10, got {retries!r}")
        retries = 2
    return AlertConfig(argv, webhook, float(timeout), retries, source)


def _is_url(value: Any) -> bool:
    from urllib.parse import urlsplit

    if not isinstance(value, str):
        return False
    parts = urlsplit(value.strip())
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _shown_url(url: str) -> str:
    """scheme://host[:port] only: a webhook's path and query are its secret."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(unparsable URL)"
    return f"{parts.scheme}://{host}{port}/…"


# --------------------------------------------------------------------------- sending


def send(config: AlertConfig, alert: Alert) -> list[Delivery]:
    """Send `alert` on every configured channel; never raises."""
    import orjson

    body = orjson.dumps(alert.payload())
    out: list[Delivery] = []
    if config.command:
        out.append(_run_command(config, alert, body))
    if config.webhook:
        out.append(_post(config, body))
    return out


def _values(alert: Alert) -> dict[str, object]:
    payload = alert.payload()
    finding = payload["finding"] or {}
    incident = payload["incident"] or {}
    values: dict[str, object] = {
        "text": payload["text"],
        "incident.id": incident.get("id") or "",
        "incident.severity": incident.get("severity") or "",
        "incident.title": incident.get("title") or "",
        "session.id": alert.session or "",
        "trace": alert.trace or "",
        "finding.detector": finding.get("detector") or "",
        "finding.severity": finding.get("severity") or "",
        "finding.message": finding.get("message") or "",
        "source": alert.source,
        "action": alert.action,
    }
    return {k: str(v) for k, v in values.items()}


def _run_command(config: AlertConfig, alert: Alert, body: bytes) -> Delivery:
    import subprocess

    from agentir.commandline import render_argv

    assert config.command is not None
    target = Path(config.command[0]).name
    try:
        argv = render_argv(list(config.command), _values(alert))
    except Exception as exc:  # a template problem is reported, never raised
        return Delivery("command", target, False, 0, f"cannot build the command: {exc}")
    error: str | None = None
    status: int | None = None
    attempts = 0
    for attempt in range(config.retries + 1):
        attempts = attempt + 1
        try:
            proc = subprocess.run(
                argv, input=body, capture_output=True, timeout=config.timeout, check=False
            )
        except subprocess.TimeoutExpired:
            error = f"timed out after {config.timeout:g}s"
        except OSError as exc:
            return Delivery("command", target, False, attempts, f"cannot run: {exc.strerror}")
        else:
            status = proc.returncode
            if status == 0:
                return Delivery("command", target, True, attempts, None, status)
            tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            error = f"exit code {status}" + (f": {tail[0][:200]}" if tail[0] else "")
        _pause(attempt, config)
    return Delivery("command", target, False, attempts, error, status)


def _post(config: AlertConfig, body: bytes) -> Delivery:
    import urllib.error
    import urllib.request

    from agentir import __version__

    assert config.webhook is not None
    target = _shown_url(config.webhook)
    error: str | None = None
    status: int | None = None
    attempts = 0
    for attempt in range(config.retries + 1):
        attempts = attempt + 1
        request = urllib.request.Request(
            config.webhook,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": f"agentir/{__version__}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=config.timeout) as response:
                status = int(response.status)
            if 200 <= status < 300:
                return Delivery("webhook", target, True, attempts, None, status)
            error = f"HTTP {status}"
        except urllib.error.HTTPError as exc:
            status, error = exc.code, f"HTTP {exc.code}"
            if 400 <= exc.code < 500 and exc.code not in (408, 429):
                break  # the request itself is wrong: retrying will not help
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            error = f"cannot reach {target}: {reason}"
        _pause(attempt, config)
    return Delivery("webhook", target, False, attempts, error, status)


def _pause(attempt: int, config: AlertConfig) -> None:
    if attempt < config.retries:
        time.sleep(min(0.5 * (attempt + 1), 2.0))


# --------------------------------------------------------------------------- for callers


def notify(
    alert: Alert,
    *,
    config: AlertConfig | None = None,
    store: Any = None,
    incident_id: str | None = None,
    actor: str | None = None,
    start: Path | None = None,
) -> list[Delivery]:
    """Load the alert settings (unless given), send, and record the outcome on the incident.

    An invalid `alerts:` section is reported as a failed delivery, never raised: the
    action that triggered the alert has already happened and must still be recorded.
    """
    if config is None:
        try:
            config = load_alerts(start=start)
        except ConfigError as exc:
            failed = [Delivery("config", "alerts", False, 0, exc.message)]
            _record(store, incident_id, failed, actor)
            return failed
    if not config.configured:
        return []
    deliveries = send(config, alert)
    _record(store, incident_id, deliveries, actor)
    return deliveries


def _record(store: Any, ref: str | None, deliveries: list[Delivery], actor: str | None) -> None:
    if store is None or ref is None or not deliveries:
        return
    ok = all(d.ok for d in deliveries)
    details = {"deliveries": [d.record() for d in deliveries]}
    store.append(ref, "alert.sent" if ok else "alert.failed", details, actor)


def incident_summary(incident: Any) -> dict[str, Any]:
    """The incident as the payload shows it."""
    return {
        "id": getattr(incident, "id", None),
        "title": getattr(incident, "title", None),
        "severity": getattr(incident, "severity", None),
        "status": getattr(incident, "status", None),
    }


def contain_alert(store: Any, ref: str, actor: str | None, summary: str) -> list[Delivery]:
    """The alert `agentir contain` sends when it opens an incident (if alerts are set)."""
    incident = store.get(ref)
    session = incident.sessions[0] if incident.sessions else None
    text = (
        f"agentir contain opened {incident.id} ({incident.severity}): {incident.title} — {summary}"
    )
    alert = Alert(
        text,
        "contain",
        "contained",
        incident=incident_summary(incident),
        session=session,
        trace=incident.traces[0] if incident.traces else None,
    )
    return notify(alert, store=store, incident_id=ref, actor=actor)
