"""The fleet pages served from the page cache: never stale after a committed
change, a sweep of one cluster leaving the others' pages cached, nothing of
one user in what another is served, relative times that follow the clock,
and pages still served when Redis is gone. Real PostgreSQL, Redis, the real
sweep against the loopback fake Kubernetes API, committed transactions."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client import REGISTRY

from secrets_app.accounts.roles import is_approver
from secrets_app.health.service import sweep_cluster
from secrets_app.models import Binding, BindingState, Cluster, Namespace
from secrets_app.pagecache.fragments import cached_fragment, depends_on
from secrets_app.web.filters import BindingFilter
from secrets_app.web.tables import BindingTable
from secrets_app.web.views import health as health_views
from secrets_app.web.views.bindings import BindingListView
from tests.factories import ClusterFactory, UserFactory
from tests.health_portal.health_support import load_cluster
from tests.support.clients import client_for

pytestmark = pytest.mark.django_db(transaction=True)


def served(page: str, result: str) -> float:
    return (
        REGISTRY.get_sample_value("portal_page_cache_total", {"page": page, "result": result})
        or 0.0
    )


CSRF_VALUE = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+"')


def body(response) -> str:
    """The page's <main>, where the fragment is, with the user's CSRF token
    (in the Refresh form around the fragment) left out."""
    html = response.content.decode()
    return CSRF_VALUE.sub(r'\1…"', html[html.index("<main") : html.index("</main>")])


@pytest.fixture
def swept(fake, kube_cluster):
    """A cluster of 30 bindings in 3 namespaces, swept once."""
    generated, bindings = load_cluster(
        fake, kube_cluster, pods=60, bindings=30, bindings_per_namespace=10
    )
    sweep_cluster(kube_cluster.pk)
    return kube_cluster, generated, bindings


@pytest.fixture
def other(fake):
    """A second cluster, swept (it has no bindings)."""
    cluster = ClusterFactory(name="other-cluster", kube_api_url=fake.url)
    sweep_cluster(cluster.pk)
    return cluster


def test_a_second_visit_is_served_from_the_cache(swept, web):
    cluster = swept[0]
    url = f"/health/clusters/{cluster.name}/"
    first = web.get(url)
    hits = served("health-cluster", "hit")
    with CaptureQueriesContext(connection) as queries:
        again = web.get(url)
    assert served("health-cluster", "hit") == hits + 1
    assert body(again) == body(first)
    # The cluster by name and the user: no binding, snapshot or sweep is read.
    read = " ".join(q["sql"] for q in queries.captured_queries)
    assert "secrets_app_binding" not in read and "healthsnapshot" not in read


def test_a_sweep_shows_at_once_and_leaves_other_clusters_cached(swept, other, fake, web):
    cluster = swept[0]
    mine, theirs = f"/health/clusters/{cluster.name}/", f"/health/clusters/{other.name}/"
    before_mine, before_theirs = body(web.get(mine)), body(web.get(theirs))
    healthy_before = Binding.objects.filter(cluster=cluster, health_status="healthy").count()
    assert healthy_before > 0

    fake.clear()  # every pod is gone: nothing is mounted any more
    sweep_cluster(cluster.pk)

    misses, hits = served("health-cluster", "miss"), served("health-cluster", "hit")
    after_mine = body(web.get(mine))
    assert served("health-cluster", "miss") == misses + 1
    assert after_mine != before_mine
    # The table now says what the sweep stored, not what the cache had.
    statuses = Binding.objects.filter(cluster=cluster).values_list("health_status", flat=True)
    assert "healthy" not in set(statuses)
    assert 'class="badge health-healthy"' not in after_mine.split("<h2>Bindings</h2>")[1]

    assert body(web.get(theirs)) == before_theirs
    assert served("health-cluster", "hit") == hits + 1


def test_the_overview_follows_every_sweep(swept, other, fake, web):
    cluster = swept[0]
    web.get("/health/")
    fake.clear()
    sweep_cluster(cluster.pk)
    misses = served("health-overview", "miss")
    page = body(web.get("/health/"))
    assert served("health-overview", "miss") == misses + 1
    healthy_now = Binding.objects.filter(cluster=cluster, health_status="healthy").count()
    assert healthy_now == 0 and "other-cluster" in page


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda c, b: Binding.objects.filter(pk=b.pk).update(state=BindingState.REVOKED),
            id="revoked by update()",
        ),
        pytest.param(
            lambda c, b: Cluster.objects.filter(pk=c.pk).update(name="renamed"),
            id="cluster renamed",
        ),
        pytest.param(
            lambda c, b: Namespace.objects.filter(cluster=c, name=b.namespace).update(
                team=Group.objects.create(name="new-owners")
            ),
            id="namespace handed to another team",
        ),
        pytest.param(lambda c, b: b.secrets.all().delete(), id="secret removed"),
    ],
)
def test_the_bindings_list_is_never_stale_after_a_change(swept, web, change, settings):
    cluster, _generated, bindings = swept
    binding = next(iter(bindings.values()))
    url = f"/bindings/?namespace={binding.namespace}&sort=service_account"
    before = body(web.get(url))
    change(cluster, binding)
    after = body(web.get(url))
    assert after != before
    settings.PORTAL_PAGE_CACHE = False
    assert after == body(web.get(url))  # what the page says without any cache


def test_one_users_page_holds_nothing_of_another(swept, web):
    cluster = swept[0]
    approver = UserFactory(username="pat-approver", is_staff=True)
    url = f"/health/clusters/{cluster.name}/"
    mine = web.get(url)
    theirs = client_for(approver).get(url)
    token = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
    assert token.findall(mine.content.decode()) != token.findall(theirs.content.decode())
    fragment = body(mine).split("</form>", 1)[1]
    assert fragment == body(theirs).split("</form>", 1)[1]
    assert "csrfmiddlewaretoken" not in fragment and "pat-approver" not in fragment


def test_a_fragment_holding_a_csrf_token_is_refused(db):
    with pytest.raises(ImproperlyConfigured, match="CSRF"):
        cached_fragment(
            "test-page",
            (),
            depends_on(Binding),
            lambda: '<input type="hidden" name="csrfmiddlewaretoken" value="x">',
        )


def test_relative_times_follow_the_clock(swept, web):
    cluster = swept[0]
    url = f"/health/clusters/{cluster.name}/"
    with time_machine.travel(timezone.now() + timedelta(minutes=3), tick=False):
        assert "Last sweep 3\xa0minutes ago" in body(web.get(url))
        assert "Last sweep 3\xa0minutes ago" in body(web.get(url))
    with time_machine.travel(timezone.now() + timedelta(minutes=7), tick=False):
        assert "Last sweep 7\xa0minutes ago" in body(web.get(url))


def test_pages_are_served_uncached_when_redis_is_gone(swept, web, settings):
    cluster = swept[0]
    expected = body(web.get(f"/health/clusters/{cluster.name}/"))
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
        }
    }
    bypassed = served("health-cluster", "bypass")
    response = web.get(f"/health/clusters/{cluster.name}/")
    assert response.status_code == 200
    assert served("health-cluster", "bypass") == bypassed + 1
    assert body(response) == expected


# --- The keys name every table the fragments read ------------------------

TABLE = re.compile(r'(?:FROM|JOIN)\s+"([a-z0-9_]+)"', re.I)


def tables_read(render) -> set[str]:
    with CaptureQueriesContext(connection) as queries:
        render()
    return {t for q in queries.captured_queries for t in TABLE.findall(q["sql"])}


def declared(keys) -> set[str]:
    return {k.removeprefix("table:") for k in keys if k.startswith("table:")}


def list_queries() -> list[str]:
    """Every filter of the list (with a value it accepts) and every sort, both ways."""
    values = {"cluster": "{cluster}", "environment": "dev", "state": "active"}
    queries = ["", "page=2"]
    for name, field in BindingFilter.base_filters.items():
        choices = getattr(field.extra.get("choices"), "__iter__", None) and list(
            field.extra["choices"]
        )
        value = values.get(name) or (choices[0][0] if choices else "team-000")
        queries.append(f"{name}={value}")
    for name, column in BindingTable.base_columns.items():
        if column.orderable is not False:
            queries += [f"sort={name}", f"sort=-{name}"]
    return queries


@pytest.mark.parametrize("query", list_queries())
def test_the_bindings_list_reads_only_what_its_key_names(swept, engineer, query):
    request = RequestFactory().get(f"/bindings/?{query.format(cluster=swept[0].pk)}")
    request.user = engineer
    # The layout's roles (the user's groups) are the user's, not the
    # fragment's: read them first, as the page around it does.
    is_approver(engineer)
    view = BindingListView()
    view.setup(request)
    assert tables_read(view.render_body) <= declared(view.reads_for(request))
    assert tables_read(
        lambda: render_to_string(view.filters_template_name, {"filter": view.filterset})
    ) <= declared(view.form_reads)


def test_the_lists_count_is_shared_by_every_page_and_sort_and_never_stale(swept, web):
    """The count is cached on the filters alone: a write must reach it too."""
    web.get("/bindings/?sort=-service")  # 30 bindings: two pages, the count cached
    assert "page=2" in body(web.get("/bindings/?sort=namespace"))
    keep = Binding.objects.order_by("pk").values_list("pk", flat=True)[:20]
    Binding.objects.exclude(pk__in=list(keep)).delete()
    page = body(web.get("/bindings/?sort=service"))
    assert "page=2" not in page
    assert len(re.findall(r'href="/bindings/\d+/"', page)) == 20


def test_the_dashboards_read_only_what_their_keys_name(swept, engineer):
    cluster = swept[0]
    namespace = Binding.objects.filter(cluster=cluster).values_list("namespace", flat=True)[0]
    request = RequestFactory().get("/?sort=-namespace")
    request.user = engineer
    is_approver(engineer)
    renders = [
        lambda: render_to_string(
            "secrets_app/_health_overview_body.html", health_views._overview_context()
        ),
        lambda: render_to_string(
            "secrets_app/_health_cluster_body.html", health_views._cluster_context(request, cluster)
        ),
        lambda: render_to_string(
            "secrets_app/_health_namespace_body.html",
            health_views._namespace_context(request, cluster, namespace),
        ),
    ]
    for render in renders:
        assert tables_read(render) <= declared(health_views.READS)
