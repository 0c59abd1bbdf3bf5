"""Request id and HTTP metrics middleware (first in MIDDLEWARE, so they see
every response, redirects and 404s included)."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .logging import request_id_var
from .metrics import observe_request

HEADER = "X-Request-ID"
# A caller's id is reused only when it is safe to echo into headers and logs.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


def incoming_request_id(request: HttpRequest) -> str:
    """The caller's X-Request-ID when valid, else a fresh one."""
    given = request.headers.get(HEADER, "")
    if VALID_REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = incoming_request_id(request)
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[HEADER] = request_id
        return response


class MetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        # The route name, not the path: /requests/1/ and /requests/2/ are one
        # series, and unmatched paths (scanners) cannot grow the label set.
        match = getattr(request, "resolver_match", None)
        route = (match.view_name if match else "") or "unmatched"
        observe_request(
            request.method or "", route, response.status_code, time.perf_counter() - started
        )
        return response
