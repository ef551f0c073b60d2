"""Alerts: configuration errors with lines, the webhook against a local server, the command run
without a shell, retries, redaction, and the record on the incident (contain included)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentir.alerts import Alert, AlertConfig, contain_alert, load_alerts, notify, send
from agentir.errors import ConfigError
from agentir.incidents.store import IncidentStore
from tests.webhook import webhook_server

FINDING = {
    "detector": "loop",
    "severity": "warning",
    "message": "`pytest` ran 4 times",
    "seqs": [4],
}
TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"  # credential-shaped, opens nothing


def _alert(**kw: object) -> Alert:
    values: dict[str, object] = {
        "text": f"agentir watch paused the agent: it printed {TOKEN}",
        "source": "watch",
        "action": "paused",
        "finding": FINDING,
        "incident": {"id": "INC-20260105-0001", "severity": "SEV3", "title": "t", "status": "open"},
        "session": "s-123456",
        "trace": "/tmp/t.jsonl",
    }
    values.update(kw)
    return Alert(**values)  # type: ignore[arg-type]


def _config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "agentir.yaml"
    path.write_text(body)
    return path


# --------------------------------------------------------------------------- configuration


def test_no_file_or_no_section_means_no_alerts(tmp_path: Path) -> None:
    assert not load_alerts(start=tmp_path).configured
    path = _config(tmp_path, "policy:\n  budget: {usd: 5}\n")
    assert not load_alerts(path).configured


def test_every_configuration_error_is_listed_with_its_line(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        "alerts:\n"
        "  command: notify-send agentir\n"
        "  webhook: ftp://example.com/hook\n"
        "  timeout: 0\n"
        "  retries: many\n"
        "  webhok: https://x.example\n",
    )
    with pytest.raises(ConfigError) as info:
        load_alerts(path)
    message = info.value.message
    assert "(5 error(s))" in message
    assert "agentir.yaml:2: alerts.command: must be a list of arguments" in message
    assert (
        "agentir.yaml:3: alerts.webhook: must be an http(s) URL, got 'ftp://example.com/…'"
        in message
    )
    assert "agentir.yaml:4: alerts.timeout: must be a number of seconds" in message
    assert "agentir.yaml:5: alerts.retries: must be a whole number from 0 to 10" in message
    assert "agentir.yaml:6: alerts.webhok: unknown key (did you mean 'webhook'?)" in message


def test_placeholders_are_checked_and_the_webhook_can_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _config(tmp_path, "alerts:\n  command: [echo, '{incident.nope}']\n")
    with pytest.raises(ConfigError, match=r"unknown placeholder \{incident.nope\}"):
        load_alerts(path)
    monkeypatch.setenv("ONCALL_HOOK", "https://hooks.example.com/services/abc")
    path = _config(tmp_path, "alerts:\n  webhook_env: ONCALL_HOOK\n  retries: 0\n")
    config = load_alerts(path)
    assert config.webhook == "https://hooks.example.com/services/abc" and config.retries == 0


# --------------------------------------------------------------------------- webhook


def test_the_webhook_gets_the_payload_with_slack_text_redacted() -> None:
    with webhook_server() as server:
        (delivery,) = send(AlertConfig(webhook=server.url), _alert())
    assert delivery.ok and delivery.status == 200 and delivery.attempts == 1
    assert delivery.target == "http://127.0.0.1:" + server.url.split(":")[2].split("/")[0] + "/…"
    assert "SECRETPATH" not in json.dumps(delivery.record())  # the URL path is the secret
    (payload,) = server.received
    assert set(payload) >= {"text", "incident", "finding"}
    assert payload["text"].startswith("agentir watch paused the agent")
    assert TOKEN not in payload["text"] and "[REDACTED" in payload["text"]
    assert payload["finding"] == {**FINDING}
    assert payload["incident"]["id"] == "INC-20260105-0001"
    assert server.headers[0]["Content-Type"] == "application/json"


def test_the_webhook_is_retried_after_a_server_error_but_not_after_a_bad_request() -> None:
    with webhook_server(statuses=[503, 500]) as server:
        (delivery,) = send(AlertConfig(webhook=server.url, retries=2), _alert())
    assert delivery.ok and delivery.attempts == 3 and len(server.received) == 1
    with webhook_server(statuses=[404, 404]) as server:
        (delivery,) = send(AlertConfig(webhook=server.url, retries=2), _alert())
    assert not delivery.ok and delivery.attempts == 1 and delivery.error == "HTTP 404"


def test_an_unreachable_webhook_is_reported_not_raised() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    (delivery,) = send(
        AlertConfig(webhook=f"http://127.0.0.1:{port}/x", retries=1, timeout=2), _alert()
    )
    assert not delivery.ok and delivery.attempts == 2
    assert delivery.error is not None and delivery.error.startswith("cannot reach http://127.0.0.1")
    assert time.monotonic() - started < 10


# --------------------------------------------------------------------------- command


def test_the_command_gets_values_as_separate_arguments_and_the_payload_on_stdin(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out.json"
    script = tmp_path / "page.py"
    script.write_text(
        "import json, sys\n"
        f"json.dump({{'argv': sys.argv[1:], 'stdin': json.load(sys.stdin)}}, open({str(out)!r}, 'w'))\n"
    )
    session = "s-123; touch /tmp/pwned-$(id -u)"  # a value is one argument, never shell
    config = AlertConfig(
        command=(
            sys.executable,
            str(script),
            "--incident",
            "{incident.id}",
            "{session.id}",
            "[{finding.severity}]",
        )
    )
    (delivery,) = send(config, _alert(session=session))
    assert (
        delivery.ok
        and delivery.channel == "command"
        and delivery.target == Path(sys.executable).name
    )
    seen = json.loads(out.read_text())
    assert seen["argv"] == ["--incident", "INC-20260105-0001", session, "[warning]"]
    assert seen["stdin"]["finding"]["detector"] == "loop" and TOKEN not in seen["stdin"]["text"]


def test_a_failing_command_is_retried_and_a_missing_one_reported(tmp_path: Path) -> None:
    counter = tmp_path / "n"
    script = tmp_path / "flaky.py"
    script.write_text(
        "import pathlib, sys\n"
        f"p = pathlib.Path({str(counter)!r}); n = int(p.read_text()) if p.exists() else 0\n"
        "p.write_text(str(n + 1)); sys.stderr.write('pager down\\n'); sys.exit(0 if n >= 1 else 3)\n"
    )
    (ok,) = send(AlertConfig(command=(sys.executable, str(script)), retries=2), _alert())
    assert ok.ok and ok.attempts == 2 and counter.read_text() == "2"
    broken = tmp_path / "broken.py"
    broken.write_text("import sys; sys.stderr.write('pager down\\n'); sys.exit(3)\n")
    (bad,) = send(AlertConfig(command=(sys.executable, str(broken)), retries=1), _alert())
    assert not bad.ok and bad.attempts == 2 and bad.error == "exit code 3: pager down"
    (missing,) = send(AlertConfig(command=(str(tmp_path / "no-such-program"),)), _alert())
    assert not missing.ok and missing.error is not None and missing.error.startswith("cannot run")


# --------------------------------------------------------------------------- recording


def test_notify_records_the_deliveries_on_the_incident(tmp_path: Path) -> None:
    store = IncidentStore()
    incident = store.open("t", "SEV3", sessions=["s-123456"], actor="tester")
    with webhook_server() as server:
        sent = notify(
            _alert(), config=AlertConfig(webhook=server.url), store=store, incident_id=incident.id
        )
    assert [d.ok for d in sent] == [True]
    entry = store.timeline(incident.id)[-1]
    assert entry.action == "alert.sent" and entry.details["deliveries"][0]["channel"] == "webhook"


def test_an_invalid_alerts_section_is_a_failed_delivery_not_an_exception(tmp_path: Path) -> None:
    _config(tmp_path, "alerts:\n  retries: -1\n")
    store = IncidentStore()
    incident = store.open("t", "SEV3", actor="tester")
    (failed,) = notify(_alert(), store=store, incident_id=incident.id, start=tmp_path)
    assert not failed.ok and "alerts.retries" in (failed.error or "")
    assert store.timeline(incident.id)[-1].action == "alert.failed"


def test_contain_alerts_when_it_opens_an_incident(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentir.actions.containment import ContainRequest, apply_contain, plan_contain
    from tests.actions.contain_helpers import RUNBOOKS

    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True
    )
    try:
        with webhook_server() as server:
            monkeypatch.setenv(
                "AGENTIR_CONFIG", str(_config(tmp_path, f"alerts:\n  webhook: {server.url}\n"))
            )
            store = IncidentStore()
            request = ContainRequest(pids=(proc.pid,), severity="SEV2", runbooks_dir=RUNBOOKS)
            outcome = apply_contain(plan_contain(request, store), store, confirm=lambda _c: False)
            assert server.got.wait(10)
        assert outcome.opened and outcome.contained
        (payload,) = server.received
        assert payload["source"] == "contain" and payload["incident"]["id"] == outcome.incident_id
        assert payload["text"].startswith(f"agentir contain opened {outcome.incident_id} (SEV2)")
        actions = [e.action for e in store.timeline(outcome.incident_id)]
        assert "alert.sent" in actions
        monkeypatch.delenv("AGENTIR_CONFIG")  # no alerts configured: nothing sent, nothing recorded
        assert contain_alert(store, outcome.incident_id, "tester", "x") == []
    finally:
        proc.kill()
        proc.wait(timeout=10)
