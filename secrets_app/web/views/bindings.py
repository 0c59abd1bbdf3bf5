"""Binding pages. Sections that other capabilities own (health, verification,
pull requests) are template includes fed by context built here."""

from __future__ import annotations

import csv

from django.db.models import Count, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from secrets_app.bindings.history import binding_history
from secrets_app.bindings.usage import usage
from secrets_app.models import (
    AccessRequest,
    Binding,
    BindingSecret,
    BindingSource,
    BindingState,
    Cluster,
    HealthSnapshot,
    Namespace,
    RequestState,
)
from secrets_app.ownership.team_names import with_team_name
from secrets_app.pagecache.fragments import (
    TABLE_PARAMETERS,
    cached_fragment,
    cached_value,
    depends_on,
    plain_query,
    query_part,
)
from secrets_app.pagecache.generations import FLEET_KEY
from secrets_app.requests import extension, revocation, workflow
from secrets_app.requests.permissions import can_request_change, can_request_revocation
from secrets_app.requests.preview import deletion_listing
from secrets_app.web.filters import BindingFilter
from secrets_app.web.forms.decisions import ExtendForm, RevokeForm
from secrets_app.web.paginators import DeferredJoinPaginator
from secrets_app.web.tables import BindingTable
from secrets_app.web.views.binding_sections import (
    drift_section,
    health_section,
    verification_section,
    versions_section,
)


def binding_queryset():
    """Bindings with what their page and their CSV row show: cluster,
    request, requester, owning team, and secrets by file name."""
    return with_team_name(
        Binding.objects.select_related("cluster", "request", "request__requester")
    ).prefetch_related(Prefetch("secrets", queryset=BindingSecret.objects.order_by("alias")))


def binding_detail(
    request: HttpRequest, pk: int, *, status: int = 200, extra: dict | None = None
) -> HttpResponse:
    binding = get_object_or_404(binding_queryset().select_related("owner"), pk=pk)
    revocations = list(binding.revocations.select_related("requester").order_by("-created_at"))
    # A revocation whose pull requests merged still waits (revoking) for the
    # cluster and AWS to confirm: it is still the one in progress.
    in_progress = (*workflow.OPEN_STATES, RequestState.REVOKING)
    pending = next((r for r in revocations if r.state in in_progress), None)
    history = binding_history(binding)
    changing = next(
        (e.request for e in history if e.kind == "change" and e.request.state in in_progress),
        None,
    )
    can_revoke = (
        binding.state == BindingState.ACTIVE
        and pending is None
        and changing is None
        and can_request_revocation(request.user, binding)
    )
    may_change = binding.state == BindingState.ACTIVE and can_request_change(request.user, binding)
    can_change = (
        may_change
        and binding.source == BindingSource.PORTAL
        and pending is None
        and changing is None
    )
    extending = extension.open_extension(binding)
    # Only a binding with a date can be extended; one that never expires has nothing to move.
    can_extend = (
        may_change and binding.expires_on is not None and extending is None and pending is None
    )
    context = {
        "binding": binding,
        "secrets": binding.secrets.all(),
        "usage": usage(binding),
        **health_section(binding),
        **drift_section(binding, history),
        **verification_section(binding),
        **versions_section(binding),
        "revocations": revocations,
        "pending_revocation": pending,
        "can_revoke": can_revoke,
        "history": history,
        "pending_change": changing,
        "can_change": can_change,
        "revoke_form": RevokeForm(),
        "pending_extension": extending,
        "can_extend": can_extend,
        "extend_form": ExtendForm(),
        **(revocation_files_context(binding) if can_revoke else {}),
        **(extra or {}),
    }
    return render(request, "secrets_app/binding_detail.html", context, status=status)


def revocation_files_context(binding: Binding) -> dict:
    """What a revocation would delete, shown where it is asked for. An
    imported binding's files are searched for in the repositories: the page
    loads them afterwards (``binding-revoke-files``) rather than wait."""
    if binding.source == BindingSource.IMPORTED:
        return {"revocation_files_url": reverse("binding-revoke-files", args=[binding.pk])}
    return revocation_files(binding)


def revocation_files(binding: Binding) -> dict:
    try:
        deletes = revocation.revocation_deletes(binding)
    except workflow.WorkflowError as refused:
        return {"revocation_refusal": refused.message}
    return {"revocation_listing": deletion_listing(deletes)}


class BindingListView(SingleTableMixin, FilterView):
    """Every binding, portal-made and imported: filter, search, sort, export.

    The filter form and the table are one cached fragment (secrets_app/pagecache),
    keyed on the query string and the generations of the tables they read."""

    template_name = "secrets_app/binding_list.html"
    body_template_name = "secrets_app/_binding_list_body.html"
    filters_template_name = "secrets_app/_binding_filters.html"
    #: The filter form reads the clusters (its choices), nothing else.
    form_reads = depends_on(Cluster)
    #: What the form and the table read (tests/pagecache checks the SQL of
    #: every filter and every sort against it).
    reads = depends_on(
        Binding,
        BindingSecret,
        Cluster,
        HealthSnapshot,
        Namespace,
        "auth_group",  # team names
    )
    #: Only the requester filter reads requests and users: approvals write
    #: requests all day, and every other list stays cached through them.
    requester_reads = depends_on(AccessRequest, "auth_user")

    def reads_for(self, request: HttpRequest) -> tuple[str, ...]:
        return self.reads + (self.requester_reads if "requester" in request.GET else ())

    table_class = BindingTable
    filterset_class = BindingFilter
    # 25 rows, as GitHub lists: django-tables2 spends ~0.1 ms per cell on this
    # machine, so 50 rows of 9 columns were half of the page's time (bench/load.py).
    # Deferred join: the page's ids first, the select list's subqueries for
    # those 25 rows only, however deep the page (secrets_app/web/paginators.py).
    table_pagination = {"per_page": 25, "paginator_class": DeferredJoinPaginator}

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.filterset = self.get_filterset(self.get_filterset_class())
        # The form shows the filters' values: the same on every page and sort,
        # and it changes only with the clusters (its choices).
        cacheable = plain_query(request, (*self.filterset.base_filters, *TABLE_PARAMETERS))
        filters = cached_fragment(
            "binding-filters",
            (self.filters_part(),),
            self.form_reads,
            lambda: render_to_string(self.filters_template_name, {"filter": self.filterset}),
            cacheable=cacheable,
        )
        body = cached_fragment(
            "binding-list",
            (query_part(request),),
            (*self.reads_for(request), FLEET_KEY),
            self.render_body,
            cacheable=cacheable,
        )
        return render(request, self.template_name, {"filters": filters, "body": body})

    def filters_part(self) -> tuple:
        return query_part(self.request, without=("page", "sort", "per_page"))

    def render_body(self) -> str:
        """FilterView.get's work, the table rendered to the fragment's HTML."""
        if not hasattr(self, "filterset"):
            self.filterset = self.get_filterset(self.get_filterset_class())
        if not self.filterset.is_bound or self.filterset.is_valid() or not self.get_strict():
            self.object_list = self.filterset.qs
        else:
            self.object_list = self.filterset.queryset.none()
        context = self.get_context_data(filter=self.filterset, object_list=self.object_list)
        return render_to_string(self.body_template_name, {**context, "request": self.request})

    def get_table_pagination(self, table):
        pagination = super().get_table_pagination(table)
        keys = (*self.reads_for(self.request), FLEET_KEY)
        cacheable = plain_query(self.request, (*self.filterset.base_filters, *TABLE_PARAMETERS))
        pagination["cached_count"] = lambda count: cached_value(
            "binding-count", (self.filters_part(),), keys, count, cacheable=cacheable
        )
        return pagination

    def get_queryset(self):
        # A correlated count rather than Count() over a join: with the join,
        # PostgreSQL grouped every filtered binding (by all of its columns)
        # before taking a page, ~300 ms at 10k bindings (bench/load.py).
        secret_count = (
            BindingSecret.objects.filter(binding=OuterRef("pk"))
            .order_by()
            .values("binding")
            .annotate(n=Count("pk"))
            .values("n")
        )
        # Only the cluster is shown: joining the request and its requester made
        # the rows too wide to sort in memory.
        # The owning team is a subquery as well: one row of the namespaces'
        # (cluster, name) index per binding shown.
        return with_team_name(
            Binding.objects.select_related("cluster")
            .only(*LIST_FIELDS)
            .annotate(secret_count=Coalesce(Subquery(secret_count), 0))
            .order_by("cluster__name", "namespace", "service_account")
        )


#: The columns the list's rows read (``BindingTable``: its columns, the
#: standing badge, the link): a binding has six JSON columns and its cluster
#: twenty-odd fields, which the ORM decoded and built for every row shown.
#: A field missing here costs one query per row; the page's constant-query
#: test (tests/inventory/test_binding_list.py) would see it.
LIST_FIELDS = (
    "cluster__name",
    "namespace",
    "service",
    "service_account",
    "source",
    "state",
    "health_status",
    "health_checked_at",
    "verification_ok",
    "removal_merged_at",
    "leftovers",
    "has_drift",
)


CSV_COLUMNS = [
    "cluster",
    "environment",
    "namespace",
    "service",
    "service_account",
    "secret_provider_class",
    "role_arn",
    "source",
    "state",
    "health",
    "requester",
    "team",
    "secrets",
]


def binding_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered inventory as CSV, streamed (it may be tens of thousands of rows)."""
    bindings = BindingFilter(
        request.GET,
        queryset=binding_queryset().order_by("cluster__name", "namespace", "service_account"),
    ).qs

    def rows():
        buffer = _Echo()
        writer = csv.writer(buffer)
        yield writer.writerow(CSV_COLUMNS)
        for b in bindings.iterator(chunk_size=2000):
            yield writer.writerow(
                _safe_cells(
                    [
                        b.cluster.name,
                        b.cluster.environment,
                        b.namespace,
                        b.service,
                        b.service_account,
                        b.secret_provider_class,
                        b.role_arn,
                        b.source,
                        b.state,
                        b.health_status,
                        b.request.requester.get_username() if b.request else "",
                        b.team_name or "",
                        " ".join(s.arn for s in b.secrets.all()),
                    ]
                )
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="bindings.csv"'
    return response


class _Echo:
    def write(self, value: str) -> str:
        return value


def _safe_cells(cells: list[str]) -> list[str]:
    # A cell starting with = + - @ is a formula to spreadsheet programs.
    return ["'" + c if c[:1] in ("=", "+", "-", "@") else c for c in map(str, cells)]
