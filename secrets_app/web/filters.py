import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q

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

#: Binding.has_drift: True, False, or None when never compared.
DRIFT_CHOICES = [("yes", "Drift"), ("no", "No drift"), ("unchecked", "Not checked")]


class RequestFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    state = django_filters.ChoiceFilter(choices=RequestState.choices, empty_label="Any state")
    cluster = django_filters.ModelChoiceFilter(
        queryset=Cluster.objects.all(), empty_label="Any cluster"
    )

    class Meta:
        model = AccessRequest
        fields = ["q", "state", "cluster"]

    def search(self, queryset, name, value):
        value = value.strip()[:200]
        if not value:
            return queryset
        return queryset.filter(
            Q(service__icontains=value)
            | Q(namespace__icontains=value)
            | Q(service_account__icontains=value)
            | Q(secrets__secret__icontains=value)
            | Q(secrets__alias__icontains=value)
        ).distinct()


class BindingFilter(django_filters.FilterSet):
    """Filters of the bindings inventory (the page, its CSV export, the API)."""

    q = django_filters.CharFilter(method="search", label="Search")
    cluster = django_filters.ModelChoiceFilter(
        queryset=Cluster.objects.all(), empty_label="Any cluster"
    )
    environment = django_filters.ChoiceFilter(
        field_name="cluster__environment", choices=Environment.choices, empty_label="Any env"
    )
    namespace = django_filters.CharFilter(lookup_expr="exact")
    service = django_filters.CharFilter(lookup_expr="icontains")
    secret = django_filters.CharFilter(method="by_secret", label="Secret ARN or name")
    requester = django_filters.CharFilter(method="by_person", label="Requester or owner")
    team = django_filters.CharFilter(method="by_team", label="Team")
    state = django_filters.ChoiceFilter(choices=BindingState.choices, empty_label="Any state")
    health_status = django_filters.ChoiceFilter(
        choices=HealthStatus.choices, empty_label="Any health", label="Health"
    )
    source = django_filters.ChoiceFilter(choices=BindingSource.choices, empty_label="Any source")
    drift = django_filters.ChoiceFilter(
        choices=DRIFT_CHOICES, method="by_drift", empty_label="Any drift", label="Drift"
    )

    class Meta:
        model = Binding
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
            "health_status",
            "source",
            "drift",
        ]

    def search(self, queryset, name, value):
        value = value.strip()[:200]
        if not value:
            return queryset
        matching_secrets = BindingSecret.objects.filter(
            Q(name__icontains=value) | Q(arn__icontains=value)
        ).values("binding_id")
        return queryset.filter(
            Q(service__icontains=value)
            | Q(namespace__icontains=value)
            | Q(service_account__icontains=value)
            | Q(role_arn__icontains=value)
            | Q(pk__in=matching_secrets)
        )

    def by_person(self, queryset, name, value):
        # Imported bindings have an owner and no request; portal ones have both
        # (the owner is the requester unless an admin handed the binding over).
        value = value.strip()[:150]
        if not value:
            return queryset
        return queryset.filter(Q(owner__username=value) | Q(request__requester__username=value))

    def by_team(self, queryset, name, value):
        # A team is a group of users: the bindings its members own or asked for.
        value = value.strip()[:150]
        if not value:
            return queryset
        members = get_user_model().objects.filter(groups__name=value).values("pk")
        return queryset.filter(Q(owner__in=members) | Q(request__requester__in=members))

    def by_drift(self, queryset, name, value):
        if value == "unchecked":
            return queryset.filter(has_drift__isnull=True)
        return queryset.filter(has_drift=(value == "yes"))

    def by_secret(self, queryset, name, value):
        value = value.strip()[:2048]
        if not value:
            return queryset
        return queryset.filter(
            pk__in=BindingSecret.objects.filter(Q(arn=value) | Q(name=value)).values("binding_id")
        )
