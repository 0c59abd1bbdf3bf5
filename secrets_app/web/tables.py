from urllib.parse import urlencode

import django_tables2 as tables
from django.db.models import OuterRef, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

from secrets_app.health.pending import long_pending, pending_reason
from secrets_app.health.selectors import is_stale, severity
from secrets_app.models import AccessRequest, Binding, BindingSecret, RequestKind
from secrets_app.requests.approvals import approvals_needed
from secrets_app.templatetags.health_tags import mount_error
from secrets_app.web.fast_rows import FastRowsMixin


class StateColumn(tables.Column):
    def render(self, value, record):
        return format_html(
            '<span class="badge state-{}">{}</span>', record.state, record.get_state_display()
        )


class StandingColumn(tables.Column):
    """A binding's state refined (``Binding.standing``): "working", or what it
    waits for, and while revoking what the last look still found."""

    def render(self, value, record):
        standing = record.standing
        badge = format_html(
            '<span class="badge standing-{}">{}</span>', standing.word, standing.word.capitalize()
        )
        if not standing.waiting_for:
            return badge
        left = "; ".join(f"{e.get('where')}: {e.get('what')}" for e in record.leftovers or ())
        return format_html(
            '{} <small class="muted">{}{}</small>',
            badge,
            standing.waiting_for,
            f" (still there: {left})" if left and record.removal_merged_at else "",
        )


class ServiceColumn(tables.Column):
    """The service, marked when the request revokes or changes access rather than grants it."""

    def render(self, value, record):
        if record.kind == RequestKind.REVOKE:
            return format_html('<span class="badge kind-revoke">Revoke</span> {}', value)
        if record.kind == RequestKind.CHANGE:
            return format_html('<span class="badge kind-change">Change</span> {}', value)
        if record.kind == RequestKind.EXTEND:
            return format_html('<span class="badge kind-change">Extend</span> {}', value)
        return value


def team_column() -> tables.Column:
    """The team owning the row's namespace (``ownership.team_names``), "—" for none."""
    return tables.Column(accessor="team_name", verbose_name="Team", order_by=("team_name",))


class RequestTable(tables.Table):
    id = tables.Column(linkify=True, verbose_name="#")
    service = ServiceColumn(linkify=True)
    cluster = tables.Column(accessor="cluster__name", verbose_name="Cluster")
    namespace = tables.Column()
    team = team_column()
    secret_count = tables.Column(verbose_name="Secrets", orderable=False)
    state = StateColumn()
    created_at = tables.DateTimeColumn(verbose_name="Filed", format="Y-m-d H:i")

    class Meta:
        model = AccessRequest
        fields = (
            "id",
            "service",
            "cluster",
            "namespace",
            "team",
            "secret_count",
            "state",
            "created_at",
        )
        attrs = {"class": "table"}
        empty_text = "No requests yet."


class ApprovalQueueTable(tables.Table):
    id = tables.Column(linkify=True, verbose_name="#")
    service = ServiceColumn(linkify=True)
    requester = tables.Column(accessor="requester__username", verbose_name="Requester")
    cluster = tables.Column(accessor="cluster__name", verbose_name="Cluster")
    environment = tables.Column(accessor="cluster__environment", verbose_name="Env")
    namespace = tables.Column()
    team = team_column()
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
            "team",
            "approvals",
            "submitted_at",
        )
        attrs = {"class": "table"}
        empty_text = "Nothing waits for approval."

    def render_approvals(self, value, record):
        required = record.cluster.required_approvals
        needed = approvals_needed(value, required)
        still = f"{needed} more needed" if needed else "no more needed"
        mark = (
            format_html(' <span class="badge approved-by-you">{}</span>', "You approved")
            if getattr(record, "approved_by_me", False)
            else ""
        )
        return format_html(
            '{} of {} <small class="muted">· {}</small>{}', value, required, still, mark
        )

    def render_submitted_at(self, value):
        return format_html('<time datetime="{}">{}</time>', value.isoformat(), timesince(value))


def secret_access_url(secret: str, page: str | None = None) -> str:
    """The "who can read this secret" page of one secret (ARNs hold ':' and
    '/'); ``page``: that page's path, when the caller reversed it already."""
    return (page or reverse("secret-access")) + "?" + urlencode({"secret": secret})


def url_by_pk(viewname: str):
    """``pk -> reverse(viewname, args=[pk])`` for a table's rows, reversed
    once: ``reverse()`` costs ~25 us, twice a row on a list page. The path of
    an ``<int:pk>`` is the same around the pk's digits."""
    marker = 9_876_543_210_123
    head, tail = reverse(viewname, args=[marker]).split(str(marker))
    return lambda pk: f"{head}{int(pk)}{tail}"


class BindingTable(FastRowsMixin, tables.Table):
    service = tables.Column()  # linked to the binding's page (render_service)
    cluster = tables.Column(accessor="cluster__name", verbose_name="Cluster")
    namespace = tables.Column()
    team = team_column()
    service_account = tables.Column(verbose_name="ServiceAccount")
    secret_count = tables.Column(verbose_name="Secrets", orderable=False)
    source = tables.Column()
    state = StandingColumn()
    health_status = tables.Column(verbose_name="Health")
    has_drift = tables.Column(verbose_name="Drift", empty_values=())

    class Meta:
        model = Binding
        fields = (
            "service",
            "cluster",
            "namespace",
            "team",
            "service_account",
            "secret_count",
            "source",
            "state",
            "health_status",
            "has_drift",
        )
        attrs = {"class": "table"}
        empty_text = "No bindings match."

    def __init__(self, data=None, *args, **kwargs):
        if isinstance(data, QuerySet):
            # The first secret (by file name) links to who else can read it; a
            # subquery in the page's own SELECT, so the page costs no extra query.
            first = BindingSecret.objects.filter(binding=OuterRef("pk")).order_by("alias", "id")
            data = data.annotate(
                first_secret_arn=Subquery(first.values("arn")[:1]),
                first_secret_name=Subquery(first.values("name")[:1]),
            )
        super().__init__(data, *args, **kwargs)
        # What linkify=True and secret_access_url() give, reversed once per table.
        self._binding_url = url_by_pk("binding-detail")
        self._secret_access = reverse("secret-access")

    def render_service(self, value, record):
        return format_html('<a href="{}">{}</a>', self._binding_url(record.pk), value)

    def render_secret_count(self, value, record):
        arn = getattr(record, "first_secret_arn", None)
        if not arn:
            return value
        name = record.first_secret_name or arn
        link = format_html('<a href="{}">{}</a>', secret_access_url(arn, self._secret_access), name)
        if value > 1:
            return format_html('{} <span class="muted">+{} more</span>', link, value - 1)
        return link

    def render_has_drift(self, value, record):
        if value is None:
            return format_html('<span class="muted">{}</span>', "not checked")
        if value:
            return format_html('<span class="badge sev-error">{}</span>', "drift")
        return format_html('<span class="badge sev-ok">{}</span>', "none")

    def render_health_status(self, value, record):
        return status_badge(record.health_status, record.get_health_status_display())

    def order_health_status(self, queryset, is_descending):
        # By severity (``health.status.SEVERITY``), worst first, not by the
        # words' alphabet (degraded, failing, healthy, ...).
        key = "-health_severity" if is_descending else "health_severity"
        ordered = queryset.annotate(health_severity=severity()).order_by(
            key, "cluster__name", "namespace", "service_account"
        )
        return ordered, True


# --- Health pages ---------------------------------------------------------


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


#: A primary key no binding has, to find where the pk goes in a reversed URL.
_PK = 987654321987


class BindingHealthTable(FastRowsMixin, tables.Table):
    """Bindings from ``selectors.bindings_with_latest`` (``latest`` prefetched)."""

    # Linked by render_service: the same <a href> as linkify=True, without its
    # per-cell attribute machinery and URL resolving.
    service = tables.Column(order_by=("service",))
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
        # Cells that repeat down the page, made once per table: a sweep dates
        # all its bindings alike, a namespace and a status recur on many rows.
        self._made: dict = {}

    def _once(self, key, make):
        try:
            return self._made[key]
        except KeyError:
            made = self._made[key] = make()
            return made

    @staticmethod
    def _snapshot(record):
        latest = getattr(record, "latest", None)
        return latest[0] if latest else None

    def render_service(self, value, record):
        # The binding page's URL made once and completed per row: reverse()
        # resolves the pattern every time (a tenth of the table's body).
        head, tail = self._once(
            "binding-url", lambda: reverse("binding-detail", args=[_PK]).split(str(_PK))
        )
        return format_html('<a href="{}{}{}">{}</a>', head, record.pk, tail, value)

    def render_namespace(self, value, record):
        def link():
            url = reverse("health-namespace", args=[record.cluster.name, value])
            return format_html('<a href="{}">{}</a>', url, value)

        return self._once(("namespace", record.cluster.name, value), link)

    def render_health_status(self, value, record):
        status, checked_at = record.health_status, record.health_checked_at
        badge = self._once(
            ("badge", status),
            lambda: status_badge(status, record.get_health_status_display()),
        )
        stale = self._once(
            ("stale", status, checked_at), lambda: stale_marker(status, checked_at, self.now)
        )
        snaps = getattr(record, "latest", None) or []
        why = ""
        if snaps and long_pending(record, snaps):
            why = format_html(
                '<small class="muted pending-cell">{}</small>', pending_reason(record, snaps[0])
            )
        return format_html("{}{}{}", badge, stale, why)

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
        # What differs from row to row, not the kubelet's common wrapper.
        return mount_error(snap.last_error, 160)

    def render_health_checked_at(self, value):
        return self._once(
            ("checked", value),
            lambda: format_html(
                '<time datetime="{}">{} ago</time>', value.isoformat(), timesince(value, self.now)
            ),
        )
