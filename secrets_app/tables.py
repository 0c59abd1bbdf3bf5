import django_tables2 as tables
from django.utils.html import format_html
from django.utils.timesince import timesince

from secrets_app.models import AccessRequest, Binding


class StateColumn(tables.Column):
    def render(self, value, record):
        return format_html(
            '<span class="badge state-{}">{}</span>', record.state, record.get_state_display()
        )


class RequestTable(tables.Table):
    id = tables.Column(linkify=True, verbose_name="#")
    service = tables.Column(linkify=True)
    cluster = tables.Column(accessor="cluster__name", verbose_name="Cluster")
    namespace = tables.Column()
    secret_count = tables.Column(verbose_name="Secrets", orderable=False)
    state = StateColumn()
    created_at = tables.DateTimeColumn(verbose_name="Filed", format="Y-m-d H:i")

    class Meta:
        model = AccessRequest
        fields = ("id", "service", "cluster", "namespace", "secret_count", "state", "created_at")
        attrs = {"class": "table"}
        empty_text = "No requests yet."


class ApprovalQueueTable(tables.Table):
    id = tables.Column(linkify=True, verbose_name="#")
    service = tables.Column(linkify=True)
    requester = tables.Column(accessor="requester__username", verbose_name="Requester")
    cluster = tables.Column(accessor="cluster__name", verbose_name="Cluster")
    environment = tables.Column(accessor="cluster__environment", verbose_name="Env")
    namespace = tables.Column()
    approvals = tables.Column(verbose_name="Approvals", orderable=False)
    submitted_at = tables.Column(verbose_name="Waiting")

    class Meta:
        model = AccessRequest
        fields = (
            "id",
            "service",
            "requester",
            "cluster",
            "environment",
            "namespace",
            "approvals",
            "submitted_at",
        )
        attrs = {"class": "table"}
        empty_text = "Nothing waits for approval."

    def render_approvals(self, value, record):
        return f"{value} of {record.cluster.required_approvals}"

    def render_submitted_at(self, value):
        return format_html('<time datetime="{}">{}</time>', value.isoformat(), timesince(value))


class BindingTable(tables.Table):
    service = tables.Column(linkify=True)
    cluster = tables.Column(accessor="cluster__name", verbose_name="Cluster")
    namespace = tables.Column()
    service_account = tables.Column(verbose_name="ServiceAccount")
    secret_count = tables.Column(verbose_name="Secrets", orderable=False)
    source = tables.Column()
    state = tables.Column()
    health_status = tables.Column(verbose_name="Health")

    class Meta:
        model = Binding
        fields = (
            "service",
            "cluster",
            "namespace",
            "service_account",
            "secret_count",
            "source",
            "state",
            "health_status",
        )
        attrs = {"class": "table"}
        empty_text = "No bindings match."

    def render_health_status(self, value, record):
        return format_html(
            '<span class="badge health-{}">{}</span>',
            record.health_status,
            record.get_health_status_display(),
        )

    def render_state(self, value, record):
        return format_html(
            '<span class="badge state-{}">{}</span>', record.state, record.get_state_display()
        )
