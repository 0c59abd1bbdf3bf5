"""The trend's table rows written in Python (chart.trend_rows_html, #19)
are the bytes the template loop wrote: times in the current time zone, the
"now" row, numbers localised."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.template import engines
from django.utils import timezone

from secrets_app.health.chart import trend_rows_html, trend_table
from secrets_app.health.trend import TrendPoint

# templates/secrets_app/_trend.html's loop before #19.
LOOP = (
    '{% for row in rows %}<tr><th scope="row">{% if row.now %}now{% else %}'
    '<time datetime="{{ row.at|date:\'c\' }}">{{ row.at|date:"H:i" }}</time>{% endif %}'
    "</th>{% for n in row.counts %}<td>{{ n }}</td>{% endfor %}</tr>{% endfor %}"
)


def _points() -> list[TrendPoint]:
    start = datetime(2026, 11, 30, 23, 40, 12, 345678, tzinfo=UTC)
    points = [TrendPoint(start - timedelta(minutes=30), None)]
    for i in range(47):
        counts = {"failing": i % 3, "degraded": 1200 + i, "pending": 0, "healthy": 40 - i % 7}
        points.append(TrendPoint(start + timedelta(minutes=30 * i), counts))
    return points


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/St_Johns"])
def test_rows_are_the_templates(settings, zone):
    settings.USE_THOUSAND_SEPARATOR = True  # 1,2xx: localised as {{ n }} does
    rows = trend_table(_points())
    with timezone.override(zone):
        ours = str(trend_rows_html(rows))
        theirs = engines["django"].from_string(LOOP).render({"rows": rows})
    assert ours == theirs
    assert ours.count("<tr>") == len(rows) and ours.endswith("</tr>")
    assert '<th scope="row">now</th>' in ours


def test_no_rows():
    assert str(trend_rows_html([])) == ""
