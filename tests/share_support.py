"""An incident with a trace (and a secret in its title), a team repository, and a local HTTP
server that records what a webhook receives."""

from __future__ import annotations

import socket
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from pathlib import Path

from agentir.incidents.store import IncidentStore
from tests.remediate_support import Repo
from tests.similar_support import STEPS, claude_session
from tests.webhook import Receiver
from tests.webhook import webhook_server as local_webhook

FAKE_TOKEN = "ghp_" + "Sh4r3F4k3T" * 3 + "ABCDEF"
SID = "66666666-aaaa-4bbb-8ccc-000000000006"
HOOK_PATH = "/services/T000/B000/" + "s3cr3tw3bh00kp4th"


def incident_with_trace(root: Path) -> tuple[IncidentStore, str, Path]:
    """An open SEV2 incident on a small Claude Code session (its trace preserved as evidence)."""
    root.mkdir(parents=True, exist_ok=True)
    when = datetime(2026, 3, 10, 10, 0, tzinfo=timezone.utc)
    trace = claude_session(root / "session.jsonl", SID, root, STEPS["incident"], when)
    store = IncidentStore()
    incident = store.open(
        f"agent pasted {FAKE_TOKEN} into clamp <!channel>", "SEV2", sessions=[SID], traces=[trace]
    )
    store.add_evidence(incident.id, trace)
    return store, incident.id, trace


def team_repo(root: Path) -> Repo:
    """The team's incident repository, with one commit of its own."""
    repo = Repo(root).init()
    repo.commit("readme", {"README.md": "# incidents\n"}, "Start", "2026-01-01T00:00:00Z")
    return repo


def webhook_server(status: int = 200) -> AbstractContextManager[Receiver]:
    """The local webhook receiver on the share tests' secret-looking path, answering `status`."""
    return local_webhook(status=status, path=HOOK_PATH)


def closed_port_url() -> str:
    """A URL on a local port nothing listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}{HOOK_PATH}"
