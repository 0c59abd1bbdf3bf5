"""The 24-hour trend: points for one sweep and short histories, "now" equal
to the page's table, the same window and numbers in its folded table, and a
trend of its own on the namespace page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from secrets_app.health.chart import MARKERS_UP_TO
from secrets_app.health.history import record_past_sweeps
from secrets_app.health.trend import BUCKETS, namespace_trend, trend
from secrets_app.models import ClusterSweep, HealthSnapshot
from tests.factories import BindingFactory, ClusterFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_cached_charts():
    cache.clear()


@pytest.fixture
def cluster():
    made = ClusterFactory(name="trend")
    for i, status in enumerate(["failing", "degraded", "healthy", "healthy"]):
        BindingFactory(cluster=made, namespace="shop", service=f"svc-{i}", health_status=status)
    BindingFactory(cluster=made, namespace="web", service="svc-web", health_status="pending")
    return made


def _sweeps(cluster, *ages_minutes: int, counts=None) -> None:
    now = timezone.now()
    ClusterSweep.objects.bulk_create(
        ClusterSweep(
            cluster=cluster,
            started_at=now - timedelta(minutes=age),
            ok=True,
            counts=counts or {"failing": 1, "degraded": 1, "pending": 1, "healthy": 2},
        )
        for age in ages_minutes
    )


def _svg(body: str) -> str:
    return body[body.index("<svg") : body.index("</svg>")]


def _cluster_page(web, cluster) -> str:
    return web.get(reverse("health-cluster", args=[cluster.name])).content.decode()


def test_a_single_sweep_is_a_point_per_status(web, cluster):
    _sweeps(cluster, 1)
    svg = _svg(_cluster_page(web, cluster))
    assert svg.count("<circle") == 4  # failing, degraded, unknown, pending
    assert "<polyline" not in svg  # a line needs two points
    for status in ("failing", "degraded", "unknown", "pending"):
        assert f'class="trend-dot trend-dot-{status}"' in svg


def test_a_short_history_marks_every_sample(web, cluster):
    _sweeps(cluster, 100, 40)  # buckets 45 and 47, carried to now (48)
    svg = _svg(_cluster_page(web, cluster))
    assert svg.count("<polyline") == 4
    assert svg.count("<circle") == 4 * 4  # buckets 45..48, each marked


def test_a_long_history_marks_where_the_line_ends(web, cluster):
    _sweeps(cluster, *range(5, 24 * 60, 30))
    points = [p for p in trend(cluster) if p.counts is not None]
    assert len(points) > MARKERS_UP_TO
    svg = _svg(_cluster_page(web, cluster))
    assert svg.count("<polyline") == 4 and svg.count("<circle") == 4


def test_now_is_the_tables_count_in_the_label_the_caption_and_the_data(web, cluster):
    # The last sweep saw 5 failing; since then bindings changed: the table
    # (and so "now") has 1 failing, 1 degraded, 1 pending, 2 healthy.
    _sweeps(cluster, 90, counts={"failing": 5})
    page = _cluster_page(web, cluster)
    namespaces = web.get(reverse("health-cluster", args=[cluster.name])).context["namespaces"]
    table = [sum(row["counts"][i] for row in namespaces) for i in range(5)]
    assert table == [1, 1, 0, 1, 2]
    assert 'aria-label="trend: bindings needing attention, last 24 hours: now 1 failing, ' in page
    assert "now 1 failing, 1 degraded, 0 unknown, 1 pending" in page
    caption = re.sub(r"<[^>]+>", "", page[page.index('class="trend-now"') :].split("</p>")[0])
    assert "(5 bindings)" in caption
    assert "1 failing · 1 degraded · 0 unknown · 1 pending · 2 healthy" in caption
    # The folded table: the same window (hourly over the day) and numbers.
    data = page[
        page.index('class="trend-data"') : page.index("</details>", page.index("trend-data"))
    ]
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</th>((?:<td>\d+</td>)+)</tr>", data)
    assert rows[-1][0] == "now"
    assert [int(n) for n in re.findall(r"\d+", rows[-1][1])] == table
    assert [int(n) for n in re.findall(r"\d+", rows[0][1])] == [5, 0, 0, 0, 0]  # the sweep
    assert len(rows) == 2  # the sweep's hour, then now: nothing before it


def test_the_overview_agrees_with_its_cluster_table(web, cluster):
    _sweeps(cluster, 3)
    page = web.get(reverse("health-overview"))
    clusters = page.context["clusters"]
    totals = [sum(c.status_counts[i] for c in clusters) for i in range(5)]
    body = page.content.decode()
    words = " · ".join(
        f"{n} {s}"
        for n, s in zip(
            totals, ["failing", "degraded", "unknown", "pending", "healthy"], strict=True
        )
    )
    assert words in re.sub(r"<[^>]+>", "", body)


def test_the_namespace_page_has_its_own_trend(web, cluster):
    shop = list(cluster.bindings.filter(namespace="shop").order_by("service"))
    web_binding = cluster.bindings.get(namespace="web")
    now = timezone.now()
    HealthSnapshot.objects.bulk_create(
        [
            HealthSnapshot(binding=shop[0], status="failing", taken_at=now - timedelta(hours=2)),
            HealthSnapshot(binding=shop[1], status="pending", taken_at=now - timedelta(hours=2)),
            HealthSnapshot(binding=shop[0], status="healthy", taken_at=now - timedelta(minutes=50)),
            # Another namespace's binding never counts here.
            HealthSnapshot(
                binding=web_binding, status="failing", taken_at=now - timedelta(hours=2)
            ),
        ]
    )
    points = namespace_trend(cluster, "shop", now=now)
    assert len(points) == BUCKETS
    known = [p.counts for p in points if p.counts is not None]
    assert known[0] == {"failing": 1, "degraded": 0, "unknown": 0, "pending": 1, "healthy": 0}
    assert known[-1] == {"failing": 0, "degraded": 0, "unknown": 0, "pending": 1, "healthy": 1}

    body = web.get(reverse("health-namespace", args=[cluster.name, "shop"])).content.decode()
    assert "Last 24 hours" in body and "trend/shop: bindings needing attention" in body
    assert _svg(body).count("<polyline") == 4
    # "Now" is the namespace's table: 1 failing, 1 degraded, 2 healthy.
    assert "now 1 failing, 1 degraded, 0 unknown, 0 pending" in body


def test_a_recorded_day_of_sweeps_tells_one_story_in_every_trend(cluster):
    shop = list(cluster.bindings.filter(namespace="shop"))
    web_binding = cluster.bindings.get(namespace="web")
    now = timezone.now()
    samples = []
    for k in range(48):  # every 30 minutes, oldest first; shop[0] fails for the last 6 hours
        verdicts = dict.fromkeys(shop, "healthy") | {web_binding.pk: "pending"}
        if k >= 36:
            verdicts[shop[0]] = "failing"
        samples.append((now - timedelta(minutes=30 * (47 - k) + 1), verdicts))
    assert record_past_sweeps(cluster, samples) == 48
    assert ClusterSweep.objects.filter(cluster=cluster).count() == 48

    whole = trend(cluster, now=now)
    shop_only = namespace_trend(cluster, "shop", now=now)
    assert all(p.counts is not None for p in whole)
    assert [p.counts["failing"] for p in whole] == [p.counts["failing"] for p in shop_only]
    assert [p.counts["pending"] for p in whole] == [1] * BUCKETS
    assert whole[0].counts["failing"] == 0 and whole[-1].counts["failing"] == 1
