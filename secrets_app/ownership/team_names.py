"""The owning team's name beside each binding or request, in the same query.

A binding or a request names its cluster and namespace; the ``Namespace``
row of that pair says which team owns it. Lists annotate the name with a
correlated subquery (one per row, in the list's own SELECT, on the
``(cluster, name)`` unique index) rather than a query per row.
"""

from __future__ import annotations

from django.db.models import Model, OuterRef, QuerySet, Subquery

from secrets_app.models import Namespace

#: The attribute ``with_team_name`` adds: the team's name, or None.
TEAM_NAME = "team_name"


def owning_team_name() -> Subquery:
    """The owning team's name of the outer row's (``cluster_id``, ``namespace``)."""
    # At most one row ((cluster, name) is unique): without order_by(), the
    # model's default ordering (cluster name, name) joined the cluster and
    # sorted inside every row's subquery.
    owner = (
        Namespace.objects.filter(cluster_id=OuterRef("cluster_id"), name=OuterRef("namespace"))
        .order_by()
        .values("team__name")[:1]
    )
    return Subquery(owner)


def with_team_name(queryset: QuerySet) -> QuerySet:
    """Bindings or requests with ``team_name`` (None: no team owns the namespace)."""
    return queryset.annotate(**{TEAM_NAME: owning_team_name()})


def team_name_of(row: Model) -> str | None:
    """``row.team_name`` when annotated, else one query (a single object's page)."""
    if hasattr(row, TEAM_NAME):
        return getattr(row, TEAM_NAME)
    return (
        Namespace.objects.filter(cluster_id=row.cluster_id, name=row.namespace)
        .values_list("team__name", flat=True)
        .first()
    )
