"""What a hostile review of the page cache found, each a way to serve a stale
or foreign fragment, fill Redis or hang a page, and each failing before its
fix: a write whose bump a Redis blink lost,
a Redis that accepts and never answers, query strings minting entries, two
databases of one name on one Redis, EXPLAIN ANALYZE. Real PostgreSQL and
Redis, committed transactions; only settings (and Django's own connection
settings) are changed."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import time_machine
from django.conf import settings
from django.db import connections, transaction
from django.test import override_settings
from django.utils import timezone
from prometheus_client import REGISTRY

from secrets_app.models import Binding
from secrets_app.pagecache import generations
from secrets_app.pagecache.fragments import cached_value, depends_on
from tests.factories import BindingFactory
from tests.support.clients import client_for

pytestmark = pytest.mark.django_db(transaction=True)

KEYS = depends_on(Binding)
BINDING = generations.table_key(Binding._meta.db_table)


def served(page: str, result: str) -> float:
    sample = {"page": page, "result": result}
    return REGISTRY.get_sample_value("portal_page_cache_total", sample) or 0.0


def redis_at(url: str) -> dict:
    """The project's cache settings (its socket timeouts included) at ``url``."""
    return {"default": {**settings.CACHES["default"], "LOCATION": url}}


@pytest.fixture
def frozen() -> Iterator[None]:
    # One minute for the whole test: the key's minute must not be what
    # rescues (or breaks) a check.
    with time_machine.travel(timezone.now().replace(second=5), tick=False):
        yield


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A port that accepts connections and never answers (a Redis that is
    hung, swapping, or behind a dropped route): closed at the end, which
    resets whatever still waits on it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    try:
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    finally:
        server.close()


def finishes_within(seconds: float, work) -> bool:
    done = threading.Event()

    def run():
        try:
            work()
        finally:
            done.set()

    threading.Thread(target=run, daemon=True).start()
    return done.wait(seconds)


# --- 1. A committed write whose bump was lost -------------------------------


def test_a_write_committed_while_redis_blinked_is_not_served_stale_after(frozen):
    """bump() swallows a failed INCR: the row changed, its generation did not,
    and every worker serves the old fragment until the minute turns."""
    binding = BindingFactory(namespace="before")

    def namespace():
        return Binding.objects.get(pk=binding.pk).namespace

    assert cached_value("review-blink", (), KEYS, namespace) == "before"
    unreachable = override_settings(CACHES=redis_at("redis://127.0.0.1:9/0"))
    with unreachable, transaction.atomic():
        Binding.objects.filter(pk=binding.pk).update(namespace="after")
    assert cached_value("review-blink", (), KEYS, namespace) == "after"


# --- 2. A Redis that does not answer ---------------------------------------


def test_a_silent_redis_does_not_hang_a_page(silent_redis):
    """The CACHES entry has no socket timeouts: redis-py waits forever."""
    with override_settings(CACHES=redis_at(silent_redis)):
        assert finishes_within(5, lambda: cached_value("review-hang", (), KEYS, lambda: "x"))


def test_a_silent_redis_does_not_hang_a_committed_write(silent_redis):
    """The bump runs in every write's on_commit: robust=True catches errors,
    not a wait. Each approval, sweep and admin save would hang after COMMIT."""
    with override_settings(CACHES=redis_at(silent_redis)):
        assert finishes_within(5, lambda: generations.bump([BINDING]))


# --- 3. The key space is the query string's --------------------------------


def test_parameters_no_filter_knows_make_no_cache_entries(db, frozen):
    """Otherwise any logged-in user could mint fragments (and counts) without
    end: each unknown parameter value a new entry of a full page of HTML."""
    from tests.factories import UserFactory

    BindingFactory.create_batch(3)
    web = client_for(UserFactory())
    web.get("/bindings/?utm_source=a")
    misses = served("binding-list", "miss")
    web.get("/bindings/?utm_source=b")
    assert served("binding-list", "miss") == misses


# --- 4. The database's identity in the key ---------------------------------


def test_two_databases_of_one_name_never_share_a_fragment(db, frozen):
    """The key holds the database's NAME only. Two deployments (staging and
    production, both "portal", on two hosts) on one Redis with the default
    KEY_PREFIX share generations and fragments: each is served the other's."""
    assert cached_value("review-db", (), KEYS, lambda: "production rows") == "production rows"
    settings_dict = connections["default"].settings_dict
    host = settings_dict["HOST"]
    settings_dict["HOST"] = "staging-db.internal"
    try:
        seen = cached_value("review-db", (), KEYS, lambda: "staging rows")
    finally:
        settings_dict["HOST"] = host
    assert seen == "staging rows"


# --- 7. A statement that reads as a non-write ------------------------------


def test_explain_analyze_of_an_update_moves_its_table():
    """EXPLAIN ANALYZE runs the statement it explains; writes.py counts any
    statement starting with EXPLAIN as a read (a DBA's or a debugging
    session's raw cursor, rare)."""
    binding = BindingFactory(namespace="before")
    before = generations.read([BINDING])[BINDING]
    with connections["default"].cursor() as cursor:
        cursor.execute(
            'EXPLAIN ANALYZE UPDATE "secrets_app_binding" SET "namespace" = %s WHERE "id" = %s',
            ["after", binding.pk],
        )
    assert Binding.objects.get(pk=binding.pk).namespace == "after"
    assert generations.read([BINDING])[BINDING] > before
