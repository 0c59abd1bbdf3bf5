import functools

import django_filters
from django import forms
from django.db.models import Q

from secrets_app.bindings.usage import unused_q
from secrets_app.models import (
    AccessRequest,
    Binding,
    BindingSecret,
    BindingSource,
    BindingState,
    Cluster,
    Environment,
    HealthStatus,
    RequestState,
)
from secrets_app.models.bindings import WORKING
from secrets_app.ownership import teams
from secrets_app.web.widget_html import PythonWidgetsForm

#: Binding.has_drift: True, False, or None when never compared.
DRIFT_CHOICES = [("yes", "Drift"), ("no", "No drift"), ("unchecked", "Not checked")]
#: Binding.stale_since: pods past the grace period on a rotated secret's old version.
VERSION_CHOICES = [("stale", "Stale: old version"), ("current", "No stale version")]
#: Binding.last_mounted_at: no pod mounted it for PORTAL_UNUSED_DAYS days.
USAGE_CHOICES = [("unused", "Unused"), ("used", "Mounted recently")]
#: Binding.standing, as far as a filter needs it.
STANDING_CHOICES = [
    ("working", "Working"),
    ("active", "Active, not working yet"),
    ("confirming", "Revoking: waiting for the cluster / AWS"),
]


def trimmed(limit: int):
    """A text filter method sees its value stripped and cut to ``limit``
    characters; a blank value filters nothing."""

    def decorate(method):
        @functools.wraps(method)
        def filter_by(self, queryset, name, value):
            value = value.strip()[:limit]
            return method(self, queryset, name, value) if value else queryset

        return filter_by

    return decorate


def workload_matches(value: str) -> Q:
    """The search terms a request and a binding share: service, namespace,
    ServiceAccount."""
    return (
        Q(service__icontains=value)
        | Q(namespace__icontains=value)
        | Q(service_account__icontains=value)
    )


class ListedChoices(forms.models.ModelChoiceIterator):
    """The options in one plain query. Django's iterator uses
    ``QuerySet.iterator()``: on PostgreSQL a server-side cursor, three round
    trips (DECLARE, FETCH, CLOSE) for a select of fifty clusters."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():
            yield self.choice(obj)


class ClusterField(forms.ModelChoiceField):
    """A cluster by name (what people and scripts type) or by id (what the
    page's select sends)."""

    iterator = ListedChoices

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, str) and not value.isdigit():
            cluster = self.queryset.filter(name=value.strip()).first()
            if cluster is None:
                raise self.unknown(value)
            return cluster
        try:
            return super().to_python(value)
        except forms.ValidationError:
            raise self.unknown(value) from None

    @staticmethod
    def unknown(value) -> forms.ValidationError:
        return forms.ValidationError(
            "No cluster has the name or id %(value)s.",
            code="invalid_choice",
            params={"value": value},
        )


class ClusterFilter(django_filters.ModelChoiceFilter):
    """``cluster``: the same filter on the pages and in the API."""

    field_class = ClusterField

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Cluster.objects.all())
        kwargs.setdefault("empty_label", "Any cluster")
        kwargs.setdefault("label", "Cluster")
        super().__init__(**kwargs)


class RequestFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    state = django_filters.ChoiceFilter(choices=RequestState.choices, empty_label="Any state")
    cluster = ClusterFilter()

    class Meta:
        model = AccessRequest
        fields = ["q", "state", "cluster"]

    @trimmed(200)
    def search(self, queryset, name, value):
        return queryset.filter(
            workload_matches(value)
            | Q(secrets__secret__icontains=value)
            | Q(secrets__alias__icontains=value)
        ).distinct()


class BindingFilter(django_filters.FilterSet):
    """Filters of the bindings inventory (the page, its CSV export, the API)."""

    q = django_filters.CharFilter(method="search", label="Search")
    # Its options show the clusters' names only: not the twenty-odd other
    # fields of every cluster, on every list page.
    cluster = ClusterFilter(queryset=Cluster.objects.only("name"))
    environment = django_filters.ChoiceFilter(
        field_name="cluster__environment", choices=Environment.choices, empty_label="Any env"
    )
    namespace = django_filters.CharFilter(lookup_expr="exact")
    service = django_filters.CharFilter(lookup_expr="icontains")
    secret = django_filters.CharFilter(method="by_secret", label="Secret ARN or name")
    requester = django_filters.CharFilter(method="by_person", label="Requester or owner")
    team = django_filters.CharFilter(method="by_team", label="Owning team")
    state = django_filters.ChoiceFilter(choices=BindingState.choices, empty_label="Any state")
    standing = django_filters.ChoiceFilter(
        choices=STANDING_CHOICES, method="by_standing", empty_label="Any standing", label="Standing"
    )
    health_status = django_filters.ChoiceFilter(
        choices=HealthStatus.choices, empty_label="Any health", label="Health"
    )
    source = django_filters.ChoiceFilter(choices=BindingSource.choices, empty_label="Any source")
    drift = django_filters.ChoiceFilter(
        choices=DRIFT_CHOICES, method="by_drift", empty_label="Any drift", label="Drift"
    )
    versions = django_filters.ChoiceFilter(
        choices=VERSION_CHOICES, method="by_versions", empty_label="Any version", label="Versions"
    )
    usage = django_filters.ChoiceFilter(
        choices=USAGE_CHOICES, method="by_usage", empty_label="Any use", label="Use"
    )

    class Meta:
        model = Binding
        # Its 15 widgets (9 selects, one of every cluster) written in Python
        # rather than through a template per <option> (web/widget_html.py).
        form = PythonWidgetsForm
        fields = [
            "q",
            "cluster",
            "environment",
            "namespace",
            "service",
            "secret",
            "requester",
            "team",
            "state",
            "standing",
            "health_status",
            "source",
            "drift",
            "versions",
            "usage",
        ]

    @trimmed(200)
    def search(self, queryset, name, value):
        matching_secrets = BindingSecret.objects.filter(
            Q(name__icontains=value) | Q(arn__icontains=value)
        ).values("binding_id")
        return queryset.filter(
            workload_matches(value) | Q(role_arn__icontains=value) | Q(pk__in=matching_secrets)
        )

    @trimmed(150)
    def by_person(self, queryset, name, value):
        # Imported bindings have an owner and no request; portal ones have both
        # (the owner is the requester unless an admin handed the binding over).
        return queryset.filter(Q(owner__username=value) | Q(request__requester__username=value))

    @trimmed(150)
    def by_team(self, queryset, name, value):
        # The team (a group, by name) that owns the binding's namespace, as the
        # binding's page shows it; whoever asked for it may have left that team.
        return queryset.filter(teams.owned_by(value))

    def by_standing(self, queryset, name, value):
        if value == "working":
            return queryset.filter(WORKING)
        if value == "active":
            return queryset.filter(state=BindingState.ACTIVE).exclude(WORKING)
        return queryset.filter(state=BindingState.REVOKING, removal_merged_at__isnull=False)

    def by_drift(self, queryset, name, value):
        if value == "unchecked":
            return queryset.filter(has_drift__isnull=True)
        return queryset.filter(has_drift=(value == "yes"))

    def by_versions(self, queryset, name, value):
        return queryset.filter(stale_since__isnull=(value != "stale"))

    def by_usage(self, queryset, name, value):
        if value == "unused":
            return queryset.filter(unused_q())
        return queryset.filter(state=BindingState.ACTIVE).exclude(unused_q())

    @trimmed(2048)
    def by_secret(self, queryset, name, value):
        return queryset.filter(
            pk__in=BindingSecret.objects.filter(Q(arn=value) | Q(name=value)).values("binding_id")
        )
