"""The fake's HTTP side: routes the Kubernetes API paths to the cluster, JSON in and out, and
streams (watches, followed logs) as chunked responses flushed per event or chunk of output, which
urllib3 (under the `kubernetes` client) yields as they arrive."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from .objects import ApiError, parse_selector
from .store import Selection

if TYPE_CHECKING:
    from .cluster import FakeCluster

DEFAULT_WATCH_SECONDS = 300
_NAME = r"([a-z0-9.-]+)"
_ROUTES = [  # (method, pattern, handler name); the groups are namespace and name where present
    ("GET", rf"/apis/batch/v1/namespaces/{_NAME}/jobs", "list_jobs"),
    ("GET", r"/apis/batch/v1/jobs", "list_jobs"),
    ("POST", rf"/apis/batch/v1/namespaces/{_NAME}/jobs", "create_job"),
    ("GET", rf"/apis/batch/v1/namespaces/{_NAME}/jobs/{_NAME}(?:/status)?", "read_job"),
    ("DELETE", rf"/apis/batch/v1/namespaces/{_NAME}/jobs/{_NAME}", "delete_job"),
    ("GET", rf"/api/v1/namespaces/{_NAME}/pods", "list_pods"),
    ("GET", r"/api/v1/pods", "list_pods"),
    ("GET", rf"/api/v1/namespaces/{_NAME}/pods/{_NAME}", "read_pod"),
    ("GET", rf"/api/v1/namespaces/{_NAME}/pods/{_NAME}/log", "read_log"),
    ("GET", r"/version", "version"),
]


class ApiServer:
    def __init__(self, cluster: FakeCluster) -> None:
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(cluster, self))
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="kube-fake-server", daemon=True)

    @property
    def port(self) -> int:
        return self._http.server_address[1]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._http.shutdown()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:  # idle keep-alive connections: their threads end on it
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._http.server_close()
        self._thread.join()

    def opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)


def _handler_class(cluster: FakeCluster, server: ApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        pass
    Handler.cluster, Handler.api_server = cluster, server
    return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    cluster: FakeCluster
    api_server: ApiServer

    def setup(self) -> None:
        super().setup()
        self.api_server.opened(self.connection)

    def finish(self) -> None:
        self.api_server.closed(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the cluster's `requests` is the record

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        from .cluster import RecordedRequest
        url = urlsplit(self.path)
        self.query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        self.cluster.record_request(RecordedRequest(self.command, url.path, dict(self.query)))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            self.body = json.loads(raw) if raw.strip() else {}
            for method, pattern, name in _ROUTES:
                found = re.fullmatch(pattern, url.path)
                if found and method == self.command:
                    getattr(self, name)(*found.groups())
                    return
            if any(re.fullmatch(pattern, url.path) for _, pattern, _ in _ROUTES):
                raise ApiError(405, "MethodNotAllowed", f"the fake does not serve {self.command} {url.path}")
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        except ApiError as error:
            self._json(error.code, error.status())
        except json.JSONDecodeError as error:
            self._json(400, ApiError(400, "BadRequest", f"the request body is not JSON: {error}").status())
        except Exception as error:  # a bug in the fake: said to the client, not a dropped connection
            self._json(500, ApiError(500, "InternalError", f"the fake API server failed: {error!r}").status())
            raise

    # -- routes ------------------------------------------------------------------------------
    def list_jobs(self, namespace: str | None = None) -> None:
        self._list_or_watch(Selection("jobs", namespace, *self._selectors()))

    def list_pods(self, namespace: str | None = None) -> None:
        self._list_or_watch(Selection("pods", namespace, *self._selectors()))

    def create_job(self, namespace: str) -> None:
        self._json(201, self.cluster.create_job(namespace, self.body))

    def read_job(self, namespace: str, name: str) -> None:
        self._json(200, self.cluster.read("jobs", namespace, name))

    def read_pod(self, namespace: str, name: str) -> None:
        self._json(200, self.cluster.read("pods", namespace, name))

    def delete_job(self, namespace: str, name: str) -> None:
        policy = self.query.get("propagationPolicy") or self.body.get("propagationPolicy")
        self._json(200, self.cluster.delete_job(namespace, name, policy))

    def read_log(self, namespace: str, name: str) -> None:
        follow = _true(self.query.get("follow"))
        chunks = self.cluster.open_log(namespace, name, self.query.get("container"), follow)
        if follow:
            self._stream("text/plain", chunks)
        else:
            self._send(200, "text/plain", b"".join(chunks))

    def version(self) -> None:
        self._json(200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-kube-fake", "platform": "linux/amd64"})

    # -- helpers -----------------------------------------------------------------------------
    def _selectors(self) -> tuple[dict[str, str], dict[str, str]]:
        fields = parse_selector(self.query.get("fieldSelector"), "fieldSelector")
        for field in fields:
            if field not in ("metadata.name", "metadata.namespace"):
                raise ApiError(400, "BadRequest", f'field label not supported: {field}')
        return parse_selector(self.query.get("labelSelector"), "labelSelector"), fields

    def _list_or_watch(self, selection: Selection) -> None:
        if not _true(self.query.get("watch")):
            self._json(200, self.cluster.listing(selection))
            return
        timeout = float(self.query.get("timeoutSeconds") or DEFAULT_WATCH_SECONDS)
        events = self.cluster.watch(selection, self.query.get("resourceVersion"), timeout)
        self._stream("application/json", (json.dumps(event).encode() + b"\n" for event in events))

    def _stream(self, content_type: str, chunks: Iterator[bytes]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for chunk in chunks:
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client stopped reading (Watch.stop, a closed response)

    def _json(self, code: int, body: dict[str, Any]) -> None:
        self._send(code, "application/json", json.dumps(body).encode())

    def _send(self, code: int, content_type: str, payload: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def _true(value: str | None) -> bool:
    return (value or "").lower() in ("true", "1")
