"""Query filters of the list endpoints (django-filter, so that bad values
are a 400 naming the parameter, never a 500)."""

from __future__ import annotations

from django.db.models import QuerySet
from django_filters import rest_framework as filters

from secrets_app.models import (
    AccessRequest,
    Binding,
    BindingSource,
    BindingState,
    HealthStatus,
    RequestState,
)
from secrets_app.web.filters import (
    DRIFT_CHOICES,
    USAGE_CHOICES,
    VERSION_CHOICES,
    BindingFilter,
    RequestFilter,
)


class RequestAPIFilter(filters.FilterSet):
    all = filters.BooleanFilter(
        method="everyone",
        label="true: everyone's requests (anyone may follow any request); default: only yours.",
    )
    state = filters.ChoiceFilter(choices=RequestState.choices)
    cluster = filters.CharFilter(field_name="cluster__name", label="Cluster name.")
    requester = filters.CharFilter(field_name="requester__username", label="Requester's username.")
    q = filters.CharFilter(
        method="search", label="Search service, namespace, ServiceAccount, secret and alias."
    )

    class Meta:
        model = AccessRequest
        fields = ["all", "state", "cluster", "requester", "q"]

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if not self.form.cleaned_data.get("all"):
            queryset = queryset.filter(requester=self.request.user)
        return super().filter_queryset(queryset)

    def everyone(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset  # applied in filter_queryset, where "absent" is visible too

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # The requests page's search, so the API finds what the page finds.
        return RequestFilter.search(self, queryset, name, value)


class BindingAPIFilter(filters.FilterSet):
    cluster = filters.CharFilter(field_name="cluster__name", label="Cluster name.")
    namespace = filters.CharFilter()
    service = filters.CharFilter()
    secret = filters.CharFilter(method="by_secret", label="Secret ARN or name (exact).")
    state = filters.ChoiceFilter(choices=BindingState.choices)
    health = filters.ChoiceFilter(field_name="health_status", choices=HealthStatus.choices)
    source = filters.ChoiceFilter(choices=BindingSource.choices)
    drift = filters.ChoiceFilter(
        choices=DRIFT_CHOICES, method="by_drift", label="yes, no or unchecked."
    )
    team = filters.CharFilter(
        method="by_team", label="Name of the team that owns the binding's namespace."
    )
    versions = filters.ChoiceFilter(
        choices=VERSION_CHOICES,
        method="by_versions",
        label="stale: pods run an old version of a rotated secret; current: none does.",
    )

    usage = filters.ChoiceFilter(
        choices=USAGE_CHOICES,
        method="by_usage",
        label="unused: active and no pod mounted it for PORTAL_UNUSED_DAYS days; used: the rest.",
    )

    class Meta:
        model = Binding
        fields = [
            "cluster",
            "namespace",
            "service",
            "secret",
            "state",
            "health",
            "source",
            "drift",
            "team",
            "versions",
            "usage",
        ]

    # The page's filters, so that the API and the inventory agree.
    by_drift = BindingFilter.by_drift
    by_secret = BindingFilter.by_secret
    by_team = BindingFilter.by_team
    by_versions = BindingFilter.by_versions
    by_usage = BindingFilter.by_usage
