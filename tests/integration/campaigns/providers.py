"""Real local providers for the channel adapters' tests: an SMTP server (aiosmtpd) and an HTTP
messaging/CRM API (http.server), each on a free loopback port and able to go down and come back."""

from __future__ import annotations

import json
import socket
import threading
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    """Collects every message; `start()`/`stop()` bring the server up and down on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[Message] = []
        self._controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.original_content or envelope.content))
        return "250 OK"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def with_header(self, name: str, value: str) -> list[Message]:
        return [m for m in self.messages if m[name] == value]


class HttpProvider:
    """A provider API: 503 while `down`, otherwise 202; records (idempotency key, JSON body) of accepted calls."""

    def __init__(self) -> None:
        self.down = False
        self.accepted: list[tuple[str, dict[str, Any]]] = []
        self.refused = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if provider.down:
                    provider.refused += 1
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                provider.accepted.append((self.headers["Idempotency-Key"], body))
                out = json.dumps({"id": f"msg-{len(provider.accepted)}"}).encode()
                self.send_response(202)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def idempotency_keys(self) -> list[str]:
        return [k for k, _ in self.accepted]

    def close(self) -> None:
        self._server.shutdown()
