"""One severity order, worst first, wherever health is sorted or counted."""

from __future__ import annotations

import pytest
from django.urls import reverse

from secrets_app.health.chart import DRAWN
from secrets_app.health.status import NEEDS_ATTENTION, SEVERITY, HealthStatus, severity_rank
from tests.factories import BindingFactory, ClusterFactory

pytestmark = pytest.mark.django_db

WORST_FIRST = ["failing", "degraded", "unknown", "pending", "healthy"]


def test_the_order_is_defined_once_worst_first():
    assert [s.value for s in SEVERITY] == WORST_FIRST
    assert set(SEVERITY) == set(HealthStatus)
    assert [severity_rank(s) for s in WORST_FIRST] == [0, 1, 2, 3, 4]
    assert severity_rank("no-such-status") == len(SEVERITY)
    # The trend draws the ones needing attention, in the same order.
    assert list(DRAWN) == [s.value for s in NEEDS_ATTENTION] == WORST_FIRST[:-1]


@pytest.fixture
def one_of_each():
    cluster = ClusterFactory(name="sev")
    # Created in alphabetical order of status, so an alphabetical sort and
    # the creation order both differ from the severity order.
    for status in sorted(WORST_FIRST):
        BindingFactory(
            cluster=cluster, namespace="ns", service=f"svc-{status}", health_status=status
        )
    return cluster


def test_the_binding_list_sorts_health_by_severity(web, one_of_each):
    url = reverse("binding-list")
    page = web.get(url, {"sort": "health_status"})
    rows = page.context["table"].page.object_list.data
    assert [b.health_status for b in rows] == WORST_FIRST
    page = web.get(url, {"sort": "-health_status"})
    rows = page.context["table"].page.object_list.data
    assert [b.health_status for b in rows] == WORST_FIRST[::-1]


def test_the_cluster_page_counts_and_lists_in_that_order(web, one_of_each):
    page = web.get(reverse("health-cluster", args=[one_of_each.name]))
    assert [b.health_status for b in page.context["table"].page.object_list.data] == WORST_FIRST
    body = page.content.decode()
    heads = [body.index(f'<th scope="col" class="num">{s.capitalize()}</th>') for s in WORST_FIRST]
    assert heads == sorted(heads)
    assert page.context["namespaces"][0]["counts"] == [1, 1, 1, 1, 1]
