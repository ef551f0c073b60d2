"""An incident with a trace (and a secret in its title), a team repository, and a local HTTP
server that records what a webhook receives."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from agentir.incidents.store import IncidentStore
from tests.remediate_support import Repo
from tests.similar_support import STEPS, claude_session

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


@dataclass
class Hook:
    """What the local webhook server received."""

    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def webhook_server(status: int = 200) -> Iterator[Hook]:
    """A real HTTP server on 127.0.0.1 in a thread, answering `status` to every POST."""
    hook = Hook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            hook.requests.append(
                {
                    "path": self.path,
                    "content_type": self.headers.get("Content-Type"),
                    "body": body.decode("utf-8"),
                    "json": json.loads(body),
                }
            )
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            return  # keep the test output quiet

    server = HTTPServer(("127.0.0.1", 0), Handler)
    hook.url = f"http://127.0.0.1:{server.server_address[1]}{HOOK_PATH}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def closed_port_url() -> str:
    """A URL on a local port nothing listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}{HOOK_PATH}"
