"""The tables whose body is rendered in Python (web/fast_rows.py) show the
same cells as django-tables2's own template would: values, choices' labels,
render methods, links, escaping, the empty row."""

import re

import pytest
from django.test import RequestFactory
from django_tables2 import RequestConfig

from secrets_app.health import selectors
from secrets_app.models import Binding
from secrets_app.web.tables import BindingHealthTable, BindingTable
from tests.factories import BindingFactory, BindingSecretFactory

pytestmark = pytest.mark.django_db


def _html(table_class, data, template=None, **kwargs):
    table = table_class(data, **kwargs)
    if template:
        table.template_name = template
    request = RequestFactory().get("/")
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    html = table.as_html(request)
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", html)).strip()


def _both(table_class, data, **kwargs):
    fast = _html(table_class, data, **kwargs)
    library = _html(table_class, data, template="django_tables2/table.html", **kwargs)
    return fast, library


def test_binding_table_body_matches_the_library(cluster):
    statuses = ["healthy", "failing", "pending", "unknown"]
    for i, status in enumerate(statuses):
        b = BindingFactory(
            cluster=cluster,
            namespace=f"team-{i}",
            service=f"svc-<{i}>",  # escaped in the cell and the link
            health_status=status,
            has_drift=[None, True, False, None][i],
        )
        for k in range(i % 3):
            BindingSecretFactory(binding=b, alias=f"a{k}", name=f"svc/{i}/{k}")
    fast, library = _both(BindingTable, Binding.objects.select_related("cluster"))
    assert fast == library
    assert fast.count("<tr") == 1 + len(statuses)
    assert "svc-&lt;1&gt;" in fast and "svc-<1>" not in fast
    assert "sev-error" in fast and "not checked" in fast


def test_health_table_body_matches_the_library(cluster):
    for i, status in enumerate(["failing", "healthy", "degraded"]):
        BindingFactory(cluster=cluster, namespace=f"ns-{i}", health_status=status)
    data = selectors.bindings_with_latest(cluster)
    fast, library = _both(BindingHealthTable, data)
    assert fast == library
    fast, library = _both(BindingHealthTable, data, exclude=("namespace",))
    assert fast == library


def test_empty_table_says_so(cluster):
    fast, library = _both(BindingTable, Binding.objects.none())
    assert fast == library
    assert "No bindings match." in fast
