"""A dead-end proxy on 127.0.0.1 that records where a CLI tried to go, and lets it go nowhere.

Point ``HTTPS_PROXY``/``HTTP_PROXY`` at it (with ``NO_PROXY=127.0.0.1,localhost`` so the model
server is reached directly): each attempt's request line (``CONNECT host:443``, or a plain
``GET http://...``) is kept, and the answer is a 403. A CLI that ignores the proxy variables is
not seen here; ``DOCS/agents.md`` says how CI also runs these tests with no network at all.
"""

from __future__ import annotations

import socketserver
import threading


class EgressRecorder:
    def __init__(self) -> None:
        self.attempts: list[str] = []
        self._lock = threading.Lock()
        recorder = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                line = self.rfile.readline(4096).decode(errors="replace").strip()
                with recorder._lock:
                    recorder.attempts.append(line)
                self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="egress-recorder", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def proxy_env(self) -> dict[str, str]:
        """The variables that send every non-local request here (both spellings: tools differ)."""
        names = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy")
        return {**{name: self.url for name in names}, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}

    def __enter__(self) -> EgressRecorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
