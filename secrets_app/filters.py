import django_filters
from django.db.models import Q

from secrets_app.models import AccessRequest, Cluster, RequestState


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
