"""Waiting for what happens elsewhere: a real Celery worker, a portal
process, a thread, a fake server. Both helpers poll a predicate until it
returns something truthy."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

INTERVAL = 0.05


def eventually(predicate: Callable[[], T], *, timeout: float = 60.0) -> T | None:
    """Call ``predicate`` until it returns something truthy and return that,
    or, after ``timeout`` seconds, its last (falsy) answer: for a test that
    asserts on it with a message of its own."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(INTERVAL)
    return value


def wait_for(predicate: Callable[[], T], *, timeout: float = 60.0, what: str = "condition") -> T:
    """Call ``predicate`` until it returns something truthy and return that;
    after ``timeout`` seconds, fail with "timed out waiting for <what>"."""
    value = eventually(predicate, timeout=timeout)
    if not value:
        raise AssertionError(f"timed out waiting for {what}")
    return value
