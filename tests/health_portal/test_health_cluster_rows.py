"""The overview's rows written in Python (web/cluster_rows.py) are the HTML
the template loop they replaced wrote, byte for byte: links, labels, numbers,
a failed sweep's escaped and cut error, no sweep, stale versions, no rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template import engines
from django.utils import timezone

from secrets_app.health import selectors
from secrets_app.health.status import SEVERITY
from secrets_app.models import ClusterSweep
from secrets_app.web.cluster_rows import cluster_rows
from tests.factories import BindingFactory, ClusterFactory

pytestmark = pytest.mark.django_db

# templates/secrets_app/_cluster_health_table.html's loop before #19.
LOOP = """{% for c in clusters %}
    <tr>
      <td><a href="{% url 'health-cluster' c.name %}">{{ c.name }}</a></td>
      <td>{{ c.get_environment_display }}</td>
      {% for n in c.status_counts %}<td>{{ n }}</td>{% endfor %}
      <td>{{ c.n_total }}</td>
      <td>{% if c.n_stale %}<a href="{% url 'binding-list' %}?cluster={{ c.pk }}&amp;versions=stale">{{ c.n_stale }}</a>{% else %}0{% endif %}</td>
      <td>{% if c.last_sweep_at is None %}—{% elif c.last_sweep_ok %}{{ c.last_sweep_at|timesince }} ago{% else %}<span class="badge health-failing">failed</span> {{ c.last_sweep_at|timesince }} ago: <span class="wrap">{{ c.last_sweep_error|truncatechars:160 }}</span>{% endif %}</td>
    </tr>
  {% empty %}
    <tr><td colspan="{{ severity|length|add:5 }}">No clusters.</td></tr>
  {% endfor %}"""


def _template(clusters) -> str:
    template = engines["django"].from_string(LOOP)
    return template.render({"clusters": clusters, "severity": SEVERITY})


def test_rows_are_the_templates():
    now = timezone.now()
    prod = ClusterFactory(name="prod-1", environment="prod")
    dev = ClusterFactory(name="dev-1", environment="dev")
    ClusterFactory(name="quiet")  # never swept
    for i, status in enumerate(["failing", "failing", "healthy", "pending", "unknown"]):
        BindingFactory(cluster=prod, health_status=status, stale_since=now if i % 2 else None)
    BindingFactory(cluster=dev, health_status="degraded")
    error = "connect <timeout> & " + "x" * 300  # escaped, and cut to 160
    ClusterSweep.objects.create(
        cluster=prod, started_at=now - timedelta(hours=3), ok=False, error=error
    )
    ClusterSweep.objects.create(cluster=dev, started_at=now - timedelta(minutes=7), ok=True)
    clusters = selectors.cluster_overview()
    assert len(clusters) == 3
    ours = str(cluster_rows(clusters))
    assert ours == _template(clusters)
    assert "connect &lt;timeout&gt; &amp; " in ours and "x" * 200 not in ours
    assert "versions=stale" in ours and "—" in ours


def test_no_clusters_is_the_templates_empty_row():
    assert str(cluster_rows([])) == _template([])
