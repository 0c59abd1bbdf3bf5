"""Every committed write moves the generation of the table it wrote: ORM
saves, queryset updates, bulk operations and raw cursors alike; a rolled-back
one moves nothing, and nothing moves before the commit. Real PostgreSQL and
Redis, committed transactions (transaction=True)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from secrets_app.models import Binding, Cluster, ClusterSweep, HealthSnapshot
from secrets_app.pagecache import generations, tracking
from secrets_app.pagecache.generations import FLEET_KEY, cluster_key, table_key
from tests.factories import BindingFactory, ClusterFactory

pytestmark = pytest.mark.django_db(transaction=True)

BINDING = table_key(Binding._meta.db_table)
CLUSTER = table_key(Cluster._meta.db_table)


def gen(key: str) -> int:
    return generations.read([key])[key]


def moved(key: str, before: int) -> bool:
    return gen(key) > before


@pytest.fixture
def binding():
    return BindingFactory()


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda b: b.save(update_fields=["namespace"]), id="save"),
        pytest.param(lambda b: Binding.objects.filter(pk=b.pk).update(namespace="x"), id="update"),
        pytest.param(
            lambda b: Binding.objects.bulk_update([Binding(pk=b.pk, namespace="y")], ["namespace"]),
            id="bulk_update",
        ),
        pytest.param(
            lambda b: Binding.objects.bulk_create([BindingFactory.build(cluster=b.cluster)]),
            id="bulk_create",
        ),
        pytest.param(lambda b: Binding.objects.filter(pk=b.pk).delete(), id="delete"),
        pytest.param(
            lambda b: connection.cursor().execute(
                "UPDATE secrets_app_binding SET namespace = %s WHERE id = %s", ["z", b.pk]
            ),
            id="raw cursor",
        ),
    ],
)
def test_every_kind_of_write_moves_its_table(binding, write):
    before = gen(BINDING)
    write(binding)
    assert moved(BINDING, before)


def test_nothing_moves_before_the_commit_and_everything_after(binding):
    before = gen(BINDING)
    with transaction.atomic():
        Binding.objects.filter(pk=binding.pk).update(namespace="later")
        assert gen(BINDING) == before
        assert tracking.uncommitted([BINDING])
        assert not tracking.uncommitted([CLUSTER])
    assert moved(BINDING, before)
    assert not tracking.uncommitted([BINDING])


def test_a_rolled_back_write_moves_nothing(binding):
    before = gen(BINDING)
    with pytest.raises(RuntimeError), transaction.atomic():
        Binding.objects.filter(pk=binding.pk).update(namespace="never")
        raise RuntimeError
    assert gen(BINDING) == before
    assert not tracking.uncommitted([BINDING])


def test_a_rolled_back_savepoint_inside_a_committed_transaction(binding):
    before_binding, before_cluster = gen(BINDING), gen(CLUSTER)
    with transaction.atomic():
        Cluster.objects.filter(pk=binding.cluster_id).update(name="renamed")
        try:
            with transaction.atomic():
                Binding.objects.filter(pk=binding.pk).update(namespace="never")
                raise RuntimeError
        except RuntimeError:
            pass
    assert moved(CLUSTER, before_cluster)
    # The savepoint's write never happened; moving its table too would only
    # have cost a rebuild, but Django dropped the callback with the savepoint.
    assert gen(BINDING) == before_binding


def test_reads_move_nothing(binding):
    before = gen(BINDING)
    with transaction.atomic():
        list(Binding.objects.select_for_update().filter(pk=binding.pk).values("pk"))
        list(Binding.objects.all())
    assert gen(BINDING) == before


def test_a_sweeps_writes_move_its_cluster_not_the_tables():
    cluster, other = ClusterFactory(name="swept"), ClusterFactory(name="other")
    binding = BindingFactory(cluster=cluster)
    keys = [BINDING, cluster_key(cluster.pk), cluster_key(other.pk), FLEET_KEY]
    before = generations.read(keys)
    with tracking.cluster_writes(cluster.pk, [Binding, HealthSnapshot, ClusterSweep]):
        Binding.objects.filter(pk=binding.pk).update(health_status="healthy")
        # A table outside the scope still moves its own generation.
        Cluster.objects.filter(pk=other.pk).update(active=False)
    after = generations.read(keys)
    assert after[BINDING] == before[BINDING]
    assert after[cluster_key(cluster.pk)] > before[cluster_key(cluster.pk)]
    assert after[FLEET_KEY] > before[FLEET_KEY]
    assert after[cluster_key(other.pk)] == before[cluster_key(other.pk)]
    assert gen(CLUSTER) > 0


def test_writes_from_another_thread_connection_move_too(binding):
    """A Celery worker's or gunicorn thread's connection is created later: the
    tracker is installed on every connection as it is made."""
    before = gen(BINDING)

    def elsewhere():
        try:
            Binding.objects.filter(pk=binding.pk).update(namespace="thread")
        finally:
            connections.close_all()

    worker = threading.Thread(target=elsewhere)
    worker.start()
    worker.join()
    assert moved(BINDING, before)


def test_a_flushed_cache_never_restarts_a_generation_below_what_it_was(binding, settings):
    from django.core.cache import caches

    before = gen(BINDING)
    caches[settings.PORTAL_PAGE_CACHE_ALIAS].delete(generations.redis_key(BINDING))
    assert gen(BINDING) > before


def test_an_unreachable_cache_neither_fails_a_write_nor_serves_generations(binding, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
        }
    }
    with transaction.atomic():
        Binding.objects.filter(pk=binding.pk).update(namespace="cache-down")
    assert Binding.objects.get(pk=binding.pk).namespace == "cache-down"
    assert generations.read([BINDING]) is None
