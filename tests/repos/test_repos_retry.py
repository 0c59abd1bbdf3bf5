"""The retry policy and the content fingerprint shared by the backends."""

from __future__ import annotations

import random

import pytest

from secrets_app.integrations.errors import PermanentError, RetryableError
from secrets_app.integrations.repos import (
    RetryPolicy,
    commit_message,
    content_fingerprint,
    fingerprint_of_message,
    is_up_to_date,
)


def test_delays_grow_exponentially_with_full_jitter_and_a_cap():
    policy = RetryPolicy(base=2.0, cap=30.0, max_attempts=10)
    rng = random.Random(42)
    for attempt, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0), (5, 30.0), (9, 30.0)]:
        delays = [policy.delay(attempt, rng=rng) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > 0.8 * ceiling  # full jitter spans the whole range
        assert min(delays) < 0.2 * ceiling


def test_retry_after_is_honoured_but_bounded():
    policy = RetryPolicy(base=1.0, cap=5.0, max_retry_after=60.0)
    rng = random.Random(0)
    assert policy.delay(1, RetryableError("slow down", retry_after=30), rng=rng) == 30.0
    assert policy.delay(1, RetryableError("slow down", retry_after=3600), rng=rng) == 60.0
    # A hint shorter than the backoff does not shorten the backoff.
    assert 0.0 <= policy.delay(3, RetryableError("x", retry_after=0), rng=rng) <= 4.0
    with pytest.raises(ValueError):
        policy.delay(0)


def test_only_retryable_errors_are_retried_and_only_so_often():
    policy = RetryPolicy(max_attempts=3)
    assert policy.should_retry(3, RetryableError("502"))
    assert not policy.should_retry(4, RetryableError("502"))
    assert not policy.should_retry(1, PermanentError("404"))


def test_call_retries_then_gives_up_with_the_last_error():
    calls: list[int] = []
    sleeps: list[float] = []

    def flaky() -> str:
        calls.append(1)
        raise RetryableError(f"attempt {len(calls)}", retry_after=0.5)

    policy = RetryPolicy(base=0.1, cap=0.2, max_attempts=2)
    with pytest.raises(RetryableError, match="attempt 3"):
        policy.call(flaky, sleep=sleeps.append)
    assert len(calls) == 3 and sleeps == [0.5, 0.5]


def test_call_does_not_retry_a_permanent_error():
    def broken() -> None:
        raise PermanentError("401")

    sleeps: list[float] = []
    with pytest.raises(PermanentError):
        RetryPolicy().call(broken, sleep=sleeps.append)
    assert sleeps == []


def test_the_fingerprint_ignores_order_and_sees_every_change():
    a = content_fingerprint("main", {"a": "1", "b": "2"}, ["c"])
    assert a == content_fingerprint("main", {"b": "2", "a": "1"}, ["c", "c"])
    others = [
        content_fingerprint("main", {"a": "1", "b": "3"}, ["c"]),
        content_fingerprint("main", {"a": "1", "b": "2"}, []),
        content_fingerprint("develop", {"a": "1", "b": "2"}, ["c"]),
        content_fingerprint("main", {"a": "1", "b/": "2"}, ["c"]),
    ]
    assert a not in others and len(set(others)) == len(others)


def test_the_trailer_round_trips_through_the_commit_message():
    fp = content_fingerprint("main", {"a": "1"}, [])
    message = commit_message("Grant data-access-service", fp)
    assert message.startswith("Grant data-access-service\n\n")
    assert fingerprint_of_message(message) == fp
    assert is_up_to_date(message, 1, fp)
    assert not is_up_to_date(message, 2, fp)  # a merge commit is not ours
    assert not is_up_to_date("manual fix", 1, fp)
    assert fingerprint_of_message(None) is None
