"""Test-side network helpers for the AWS tests.

``RecordingProxy`` is a loopback reverse proxy put in front of moto's server:
it records every request the adapter sends (moto's own recorder writes to a
file chosen at import time, which is awkward to share between tests) and can
answer the next N matching requests itself, which is how the tests inject
throttling and 5xx faults without touching the project's code.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}
_SCOPE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def service(self) -> str:
        match = _SCOPE.search(self.headers.get("authorization", ""))
        return match.group(1) if match else ""

    @property
    def operation(self) -> str:
        """``service:Operation`` for JSON (X-Amz-Target) and query (Action=)
        protocols; ``service:METHOD /path`` for REST ones (EKS)."""
        target = self.headers.get("x-amz-target", "")
        if target:
            return f"{self.service}:{target.rsplit('.', 1)[-1]}"
        action = parse_qs(self.body.decode("utf-8", "replace")).get("Action")
        if action:
            return f"{self.service}:{action[0]}"
        return f"{self.service}:{self.method} {urlsplit(self.path).path}"


@dataclass
class Fault:
    """Answer up to ``times`` requests matching ``when`` with a canned response."""

    when: Callable[[Recorded], bool]
    times: int
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    used: int = 0


class RecordingProxy:
    def __init__(self, upstream: str):
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> RecordingProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def operations(self) -> list[str]:
        with self._lock:
            return [r.operation for r in self.requests]

    def count(self, operation: str) -> int:
        return self.operations().count(operation)

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def inject(
        self,
        when: Callable[[Recorded], bool],
        *,
        times: int,
        status: int,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> Fault:
        fault = Fault(when, times, status, body, headers or {})
        with self._lock:
            self.faults.append(fault)
        return fault

    def _take_fault(self, rec: Recorded) -> Fault | None:
        with self._lock:
            self.requests.append(rec)
            for fault in self.faults:
                if fault.used < fault.times and fault.when(rec):
                    fault.used += 1
                    return fault
        return None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                rec = Recorded(self.command, self.path, headers, body)
                fault = proxy._take_fault(rec)
                if fault is not None:
                    self._reply(fault.status, list(fault.headers.items()), fault.body)
                    return
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=30)
                try:
                    conn.request(self.command, self.path, body=body, headers=dict(self.headers))
                    resp = conn.getresponse()
                    data = resp.read()
                    kept = [(k, v) for k, v in resp.getheaders() if k.lower() not in _HOP_BY_HOP]
                    self._reply(resp.status, kept, data)
                finally:
                    conn.close()

            def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle

        return Handler


def json_error(code: str, message: str) -> bytes:
    """An error body in the AWS JSON protocol (Secrets Manager, KMS)."""
    return json.dumps({"__type": code, "message": message}).encode()


def query_error(code: str, message: str) -> bytes:
    """An error body in the AWS query protocol (IAM, STS)."""
    return (
        "<ErrorResponse><Error><Type>Sender</Type>"
        f"<Code>{code}</Code><Message>{message}</Message></Error>"
        "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
    ).encode()
