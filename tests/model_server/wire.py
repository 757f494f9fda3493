"""The response side of one request, and what a protocol module gives the server."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol

from .script import Turn


class Exchange(Protocol):
    """What a protocol module gives the server for one request."""

    name: str

    def is_main(self, body: dict[str, Any]) -> bool: ...

    def respond(self, reply: Reply, body: dict[str, Any], turn: Turn) -> None: ...


class Reply:
    """The response side of one request, for the protocol modules: JSON or a server-sent event stream."""

    def __init__(self, handler: BaseHTTPRequestHandler) -> None:
        self._handler = handler

    def json(self, payload: Any, status: int = 200) -> None:
        data = json.dumps(payload).encode()
        self._handler.send_response(status)
        self._handler.send_header("Content-Type", "application/json")
        self._handler.send_header("Content-Length", str(len(data)))
        self._handler.end_headers()
        self._handler.wfile.write(data)

    def start_stream(self) -> None:
        # No length: the stream ends when the connection closes (every response closes it).
        self._handler.send_response(200)
        self._handler.send_header("Content-Type", "text/event-stream")
        self._handler.send_header("Cache-Control", "no-cache")
        self._handler.end_headers()

    def event(self, data: Any, event: str | None = None) -> None:
        lines = f"event: {event}\n" if event else ""
        payload = data if isinstance(data, str) else json.dumps(data)
        self._handler.wfile.write(f"{lines}data: {payload}\n\n".encode())
        self._handler.wfile.flush()
