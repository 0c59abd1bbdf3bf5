"""Binding pages. Sections that other capabilities own (health, verification,
pull requests) are template includes fed by context built here."""

from __future__ import annotations

import csv

from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from secrets_app.filters import BindingFilter
from secrets_app.models import Binding, BindingSecret, HealthSnapshot, VerificationResult
from secrets_app.tables import BindingTable


def binding_queryset():
    return Binding.objects.select_related("cluster", "request", "request__requester")


def binding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    binding = get_object_or_404(
        binding_queryset().prefetch_related(
            Prefetch("secrets", queryset=BindingSecret.objects.order_by("alias"))
        ),
        pk=pk,
    )
    context = {
        "binding": binding,
        "secrets": binding.secrets.all(),
        "snapshot": HealthSnapshot.objects.filter(binding=binding).first(),
        "verification": VerificationResult.objects.filter(binding=binding).first(),
    }
    return render(request, "secrets_app/binding_detail.html", context)


class BindingListView(SingleTableMixin, FilterView):
    """Every binding, portal-made and imported: filter, search, sort, export."""

    template_name = "secrets_app/binding_list.html"
    table_class = BindingTable
    filterset_class = BindingFilter
    table_pagination = {"per_page": 50}

    def get_queryset(self):
        return (
            binding_queryset()
            .annotate(secret_count=Count("secrets", distinct=True))
            .order_by("cluster__name", "namespace", "service_account")
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
    "secrets",
]


def binding_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered inventory as CSV, streamed (it may be tens of thousands of rows)."""
    bindings = BindingFilter(
        request.GET,
        queryset=binding_queryset()
        .prefetch_related(Prefetch("secrets", queryset=BindingSecret.objects.order_by("alias")))
        .order_by("cluster__name", "namespace", "service_account"),
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
