"""The health overview's cluster rows, rendered in Python (issue #19).

Fifty clusters of twelve cells through the template engine (a node walk per
cell, ``{% url %}``, ``|timesince``, ``|truncatechars``) took about 6 ms, more
than the overview's two queries together. ``cluster_rows`` writes the same
HTML, byte for byte (tests/health_portal/test_health_cluster_rows.py holds
the template it replaced and compares): each value escaped and localised as
``{{ }}`` does, and what repeats down the table (an environment's label, a
sweep's age, a number) made once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.template.defaultfilters import truncatechars
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince

from secrets_app.health.status import SEVERITY


class _Cells:
    """Per table: what repeats, made once."""

    def __init__(self) -> None:
        self.now = timezone.now()
        self.numbers: dict[int, str] = {}
        self.ages: dict[datetime, str] = {}
        self.list_url = reverse("binding-list")

    def number(self, n: int) -> str:
        # As ``{{ n }}``: localised (a thousands separator when configured).
        try:
            return self.numbers[n]
        except KeyError:
            shown = self.numbers[n] = conditional_escape(localize(n))
            return shown

    def age(self, at: datetime) -> str:
        # As ``{{ at|timesince }}``, against one "now" for the whole table.
        try:
            return self.ages[at]
        except KeyError:
            shown = self.ages[at] = conditional_escape(timesince(at, self.now))
            return shown


def _last_sweep(cells: _Cells, c) -> str:
    if c.last_sweep_at is None:
        return "—"
    if c.last_sweep_ok:
        return f"{cells.age(c.last_sweep_at)} ago"
    error = conditional_escape(truncatechars(c.last_sweep_error, 160))
    return (
        f'<span class="badge health-failing">failed</span> {cells.age(c.last_sweep_at)} ago: '
        f'<span class="wrap">{error}</span>'
    )


def _stale(cells: _Cells, c) -> str:
    if not c.n_stale:
        return "0"
    return format_html(
        '<a href="{}?cluster={}&amp;versions=stale">{}</a>',
        cells.list_url,
        cells.number(c.pk),
        cells.number(c.n_stale),
    )


def cluster_rows(clusters: Sequence) -> SafeString:
    """The ``<tr>`` of each cluster from ``selectors.cluster_overview``, with
    the whitespace the template had (pages compare as they were)."""
    if not clusters:
        return mark_safe(  # noqa: S308 (a constant)
            f'\n    <tr><td colspan="{len(SEVERITY) + 5}">No clusters.</td></tr>\n  '
        )
    cells = _Cells()
    labels: dict[str, str] = {}
    out = []
    for c in clusters:
        url = conditional_escape(reverse("health-cluster", args=[c.name]))
        env = labels.get(c.environment)
        if env is None:
            env = labels[c.environment] = conditional_escape(c.get_environment_display())
        counts = "".join(f"<td>{cells.number(n)}</td>" for n in c.status_counts)
        out.append(
            "\n    <tr>\n"
            f'      <td><a href="{url}">{conditional_escape(c.name)}</a></td>\n'
            f"      <td>{env}</td>\n"
            f"      {counts}\n"
            f"      <td>{cells.number(c.n_total)}</td>\n"
            f"      <td>{_stale(cells, c)}</td>\n"
            f"      <td>{_last_sweep(cells, c)}</td>\n"
            "    </tr>\n  "
        )
    return mark_safe("".join(out))  # noqa: S308 (every value escaped above)
