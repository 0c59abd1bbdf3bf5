"""A loopback fake of a Slack incoming webhook, for tests.

Accepts ``POST <path>`` with a JSON body ``{"text": ...}`` as Slack does
(``200 ok``; ``400 invalid_payload`` for a bad body; ``404 no_service`` for a
wrong path, i.e. a wrong or revoked URL), records every call, and injects
faults: ``fail_next`` (an error status, optionally with ``Retry-After``),
``delay_next`` (answer late, for client timeouts), ``fail_always``.

    with FakeSlackWebhook() as slack:
        settings.SLACK_WEBHOOK_URL = slack.url
        ...
        assert slack.texts == ["..."]
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: Shaped like a real webhook path (team, channel bot, token), so that log
#: redaction of such paths can be tested against it.
DEFAULT_PATH = "/services/T0PORTAL00/B0PORTAL00/FakeWebhookToken0123456789"


@dataclass(frozen=True, slots=True)
class Call:
    path: str
    content_type: str
    body: bytes
    status: int


@dataclass(slots=True)
class _Fault:
    status: int = 0
    body: str = ""
    retry_after: float | None = None
    delay: float = 0.0


class FakeSlackWebhook:
    def __init__(self, *, path: str = DEFAULT_PATH) -> None:
        self.path = path
        self.calls: list[Call] = []
        self.posts: list[dict[str, Any]] = []  # accepted payloads, in order
        self._faults: list[_Fault] = []
        self._always: _Fault | None = None
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- fault injection ---------------------------------------------------
    def fail_next(
        self,
        times: int = 1,
        *,
        status: int = 500,
        body: str = "internal_error",
        retry_after: float | None = None,
    ) -> None:
        with self._lock:
            self._faults += [_Fault(status, body, retry_after) for _ in range(times)]

    def delay_next(self, times: int = 1, *, seconds: float) -> None:
        with self._lock:
            self._faults += [_Fault(delay=seconds) for _ in range(times)]

    def fail_always(self, *, status: int = 500, body: str = "internal_error") -> None:
        with self._lock:
            self._always = _Fault(status, body)

    def heal(self) -> None:
        with self._lock:
            self._faults.clear()
            self._always = None

    # --- what was received ---------------------------------------------------
    @property
    def texts(self) -> list[str]:
        return [p["text"] for p in self.posts]

    @property
    def url(self) -> str:
        assert self._server is not None, "start the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.path}"

    # --- server ----------------------------------------------------------------
    def _next_fault(self) -> _Fault | None:
        with self._lock:
            if self._faults:
                return self._faults.pop(0)
            return self._always

    def _handle(self, handler: BaseHTTPRequestHandler) -> tuple[int, str, dict[str, str]]:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        content_type = handler.headers.get("Content-Type", "")
        status, answer, headers = self._answer(handler.path, content_type, body)
        with self._lock:
            self.calls.append(Call(handler.path, content_type, body, status))
        return status, answer, headers

    def _answer(self, path: str, content_type: str, body: bytes) -> tuple[int, str, dict[str, str]]:
        fault = self._next_fault()
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.status:
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = f"{fault.retry_after:g}"
            return fault.status, fault.body, headers
        if path != self.path:
            return 404, "no_service", {}
        try:
            payload = json.loads(body)
        except ValueError:
            return 400, "invalid_payload", {}
        if not content_type.startswith("application/json") or not isinstance(
            payload.get("text") if isinstance(payload, dict) else None, str
        ):
            return 400, "invalid_payload", {}
        with self._lock:
            self.posts.append(payload)
        return 200, "ok", {}

    def start(self) -> FakeSlackWebhook:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                status, answer, headers = fake._handle(self)
                data = answer.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeSlackWebhook:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
