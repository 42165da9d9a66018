"""A small newsroom served on loopback: feeds and pages from memory, for the demo, tests and benchmarks."""
from __future__ import annotations

import gzip
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    conditional: bool = True  # answer If-None-Match with 304
    gzip: bool = False


Handler = Callable[[BaseHTTPRequestHandler], None]


class _Server(ThreadingHTTPServer):
    # socketserver's backlog is 5: a burst of feed polls or page fetches overflows it, and each
    # dropped SYN costs the client a 1 s retransmit that no real news site would cause.
    request_queue_size = 1024


class Newsroom:
    """Serves registered paths on 127.0.0.1; records every request it receives."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.routes: dict[str, Page | Handler] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        newsroom = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def handle(self) -> None:
                try:
                    super().handle()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (size limit, timeout): expected in tests

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                with newsroom._lock:
                    newsroom.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                route = newsroom.routes.get(self.path) or newsroom.routes.get(self.path.split("?", 1)[0])
                if route is None:
                    self._send(Page(b"not found", "text/plain", 404))
                elif callable(route):
                    route(self)
                else:
                    self._send(route)

            def _send(self, page: Page) -> None:
                etag = '"' + hashlib.sha1(page.body).hexdigest()[:16] + '"'
                if page.conditional and page.status == 200 and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = gzip.compress(page.body) if page.gzip else page.body
                self.send_response(page.status)
                self.send_header("Content-Type", page.content_type)
                self.send_header("Content-Length", str(len(body)))
                if page.gzip:
                    self.send_header("Content-Encoding", "gzip")
                if page.conditional and page.status == 200:
                    self.send_header("ETag", etag)
                for key, value in page.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

        self._server = _Server((host, port), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = str(self._server.server_address[0]), self._server.server_address[1]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def add(self, path: str, route: Page | Handler) -> str:
        self.routes[path] = route
        return self.url(path)

    def paths_requested(self) -> list[str]:
        with self._lock:
            return [p for p, _ in self.requests]

    def __enter__(self) -> Newsroom:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
