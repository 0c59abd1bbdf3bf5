"""Query filters of the list endpoints: the pages' own filter sets
(``web.filters``), so that a filter has one name and one meaning on the
page and in the API, plus what only the API needs. django-filter makes a
bad value a 400 naming the parameter, never a 500; ``base`` refuses
parameters no filter knows."""

from __future__ import annotations

from django.db.models import QuerySet
from django_filters import rest_framework as filters

from secrets_app.models import HealthStatus
from secrets_app.web.filters import BindingFilter, ClusterFilter, RequestFilter

_CLUSTER = "Cluster name (or id)."


class RequestAPIFilter(RequestFilter):
    all = filters.BooleanFilter(
        method="everyone",
        label="true: everyone's requests (anyone may follow any request); default: only yours.",
    )
    cluster = ClusterFilter(label=_CLUSTER)
    requester = filters.CharFilter(field_name="requester__username", label="Requester's username.")

    class Meta(RequestFilter.Meta):
        fields = [*RequestFilter.Meta.fields, "all", "requester"]

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if not self.form.cleaned_data.get("all"):
            queryset = queryset.filter(requester=self.request.user)
        return super().filter_queryset(queryset)

    def everyone(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset  # applied in filter_queryset, where "absent" is visible too


class BindingAPIFilter(BindingFilter):
    cluster = ClusterFilter(label=_CLUSTER)
    # Its name before the API took the page's (``health_status``): still read.
    health = filters.ChoiceFilter(
        field_name="health_status",
        choices=HealthStatus.choices,
        label="Deprecated alias of health_status.",
    )

    class Meta(BindingFilter.Meta):
        fields = [*BindingFilter.Meta.fields, "health"]
