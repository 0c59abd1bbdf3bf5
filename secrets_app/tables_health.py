"""django-tables2 tables of the health pages."""

from __future__ import annotations

import django_tables2 as tables
from django.template.defaultfilters import truncatechars
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

from secrets_app.health.selectors import is_stale
from secrets_app.models import Binding


def status_badge(status: str, label: str | None = None):
    return format_html('<span class="badge health-{}">{}</span>', status, label or status)


def stale_marker(status: str, checked_at, now) -> str:
    if not is_stale(status, checked_at, now):
        return ""
    return format_html(
        ' <span class="stale" title="The last sweep could not read the cluster, or none ran '
        'recently">stale · {} old</span>',
        timesince(checked_at, now),
    )


class BindingHealthTable(tables.Table):
    """Bindings from ``selectors.bindings_with_latest`` (``latest`` prefetched)."""

    service = tables.Column(linkify=True, order_by=("service",))
    namespace = tables.Column()
    health_status = tables.Column(verbose_name="Status", order_by=("severity", "namespace"))
    pods = tables.Column(empty_values=(), orderable=False, verbose_name="Pods mounted")
    diagnosis = tables.Column(empty_values=(), orderable=False)
    last_error = tables.Column(empty_values=(), orderable=False, verbose_name="Last error")
    health_checked_at = tables.Column(verbose_name="Checked")

    class Meta:
        model = Binding
        fields = (
            "service",
            "namespace",
            "health_status",
            "pods",
            "diagnosis",
            "last_error",
            "health_checked_at",
        )
        attrs = {"class": "table"}
        empty_text = "No live bindings here."

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = timezone.now()

    @staticmethod
    def _snapshot(record):
        latest = getattr(record, "latest", None)
        return latest[0] if latest else None

    def render_namespace(self, value, record):
        url = reverse("health-namespace", args=[record.cluster.name, value])
        return format_html('<a href="{}">{}</a>', url, value)

    def render_health_status(self, value, record):
        badge = status_badge(record.health_status, record.get_health_status_display())
        return format_html(
            "{}{}", badge, stale_marker(record.health_status, record.health_checked_at, self.now)
        )

    def render_pods(self, record):
        snap = self._snapshot(record)
        return f"{snap.pods_mounted} of {snap.pods_expected}" if snap else "—"

    def render_diagnosis(self, record):
        snap = self._snapshot(record)
        found = (snap.details or {}).get("diagnosis") if snap else None
        if found:
            return found.get("title", "")
        return "Unknown cause" if snap and snap.last_error else "—"

    def render_last_error(self, record):
        snap = self._snapshot(record)
        if not snap or not snap.last_error:
            return "—"
        return format_html(
            '<span class="wrap" title="{}">{}</span>',
            snap.last_error,
            truncatechars(snap.last_error, 160),
        )

    def render_health_checked_at(self, value):
        return format_html(
            '<time datetime="{}">{} ago</time>', value.isoformat(), timesince(value, self.now)
        )
