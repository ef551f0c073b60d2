"""A local webhook receiver for alert tests: http.server on 127.0.0.1 in a thread."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_PATH = "/services/T000/B000/SECRETPATH"


@dataclass
class Receiver:
    """What the server received, and the statuses it answers with (then `status`)."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)  # JSON bodies answered 200
    headers: list[dict[str, str]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)  # every request, any answer
    statuses: list[int] = field(default_factory=list)
    status: int = 200
    got: threading.Event = field(default_factory=threading.Event)


@contextmanager
def webhook_server(
    statuses: list[int] | None = None, *, status: int = 200, path: str = DEFAULT_PATH
) -> Iterator[Receiver]:
    """Serve POSTs on a free port of 127.0.0.1 until the block ends: first answer `statuses` in
    turn, then `status` to every request."""
    receiver = Receiver(statuses=list(statuses or []), status=status)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            status = receiver.statuses.pop(0) if receiver.statuses else receiver.status
            receiver.requests.append(
                {
                    "path": self.path,
                    "content_type": self.headers.get("Content-Type"),
                    "body": body.decode("utf-8"),
                    "json": json.loads(body),
                }
            )
            if status == 200:
                receiver.received.append(json.loads(body))
                receiver.headers.append(dict(self.headers))
                receiver.got.set()
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
