"""The scripted model server: one HTTP server on 127.0.0.1 (a free port) for every protocol.

Each request is recorded (path, headers, JSON body, whether it was the agent's main loop) so a
test can assert what the CLI sent. A main-loop request takes the script's next turn; the
protocol module for its path renders it. Failures are the server's own: an HTTP 500, a hang
until the server stops, a connection dropped without a response.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .protocols import EXCHANGES_BY_PATH
from .script import Script, Turn
from .wire import Exchange, Reply


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any  # the parsed JSON, or the raw text when it was not JSON
    protocol: str  # "anthropic", "responses", "chat", or "other" for a path no protocol serves
    main: bool  # took a scripted turn (the agent's main loop)


class ModelServer:
    """A scripted model on ``http://127.0.0.1:<port>``; use as a context manager."""

    def __init__(self, script: Script | None = None, exchanges: dict[str, Exchange] | None = None) -> None:
        self.script = script or Script()
        self.requests: list[RecordedRequest] = []
        self._exchanges = exchanges or EXCHANGES_BY_PATH
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._http.daemon_threads = True
        # A short poll interval: stop() waits for the serving loop to notice, once per test.
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="model-server", daemon=True)

    @property
    def port(self) -> int:
        return self._http.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def main_requests(self, protocol: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.main and (protocol is None or r.protocol == protocol)]

    def __enter__(self) -> ModelServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stopping.set()  # releases every hanging request
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=10)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode(errors="replace") if length else ""
        try:
            body: Any = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            body = raw
        path = handler.path.split("?", 1)[0]
        exchange = next((ex for suffix, ex in self._exchanges.items() if path.endswith(suffix)), None)
        main = exchange is not None and isinstance(body, dict) and handler.command == "POST" and exchange.is_main(body)
        self._record(RecordedRequest(handler.command, handler.path, dict(handler.headers.items()), body,
                                     exchange.name if exchange else "other", main))
        reply = Reply(handler)
        if exchange is None or handler.command != "POST" or not isinstance(body, dict):
            reply.json({"error": {"type": "not_found", "message": f"scripted model: nothing at {handler.path}"}},
                       status=404)
            return
        turn = self.script.next_turn() if main else AUXILIARY_TURN
        if turn.failure == "http_500":
            reply.json({"error": {"type": "api_error", "message": "scripted failure"}}, status=500)
        elif turn.failure == "hang":
            self._stopping.wait()
        elif turn.failure == "drop":
            pass  # the connection closes with no response at all
        else:
            exchange.respond(reply, body, turn)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                self.close_connection = True
                try:
                    server._serve(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the agent gave up on the request: its own business

            do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _any

            def end_headers(self) -> None:
                self.send_header("Connection", "close")
                super().end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the record is the log

        return Handler


# Side requests (a session title) get a short answer and never consume the script.
AUXILIARY_TURN = Turn.say("ok")


def refused_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound then closed), for "connection refused" tests."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
