"""A paginator whose SQL does not grow with the page number (issue #19).

``LIMIT 25 OFFSET 300`` on the bindings list made PostgreSQL build all 325
rows, the correlated subqueries of their select list included (owning team,
secret count, first secret), and throw 300 away: page 12 cost four times
page 1. ``DeferredJoinPaginator`` takes the page's ids in a subquery that
selects only the id and what ``ORDER BY`` needs, and the page's rows by those
ids, in the same single query:

    SELECT <row and its annotations> FROM binding ...
     WHERE <filters> AND id IN (SELECT id FROM binding ... WHERE <filters>
                                 ORDER BY <order>, id LIMIT 25 OFFSET 300)
     ORDER BY <order>, id

so the subqueries run for the 25 rows shown. The primary key ends both
orderings: OFFSET only pages consistently over a total order (without it,
rows that tie on the sorted column could show on two pages, or none), and
the outer query has to put the 25 rows back in the order that chose them.
Portable SQL: SQLite (the demo) and PostgreSQL both take ``LIMIT`` in an
``IN`` subquery (``allow_sliced_subqueries_with_in``).

For django-tables2 (``table_pagination = {"paginator_class": ...}``): the
paginator is handed the table's ``BoundRows``; page numbers, the count,
``EmptyPage`` for a page past the end (which ``RequestConfig`` turns into the
last page) and the pagination links stay Django's ``Paginator``'s.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from django_tables2.rows import BoundRows


def total_ordering(queryset: QuerySet) -> list:
    """The queryset's ordering (its own, else its model's default) ended by
    the primary key, so that no two rows tie."""
    ordering = list(queryset.query.order_by or queryset.model._meta.ordering or ())
    return [*ordering, "pk"]


def page_of(queryset: QuerySet, bottom: int, top: int) -> QuerySet:
    """Rows ``bottom:top`` of ``queryset`` in its total order, in one query
    whose select list is evaluated for those rows only."""
    ordered = queryset.order_by(*total_ordering(queryset))
    # values("pk") leaves the annotations out of the subquery's SELECT; those
    # that ORDER BY names (the team, the health severity) are still computed
    # there, as they must be to sort.
    ids = ordered.values("pk")[bottom:top]
    return ordered.filter(pk__in=ids)


class DeferredJoinPaginator(Paginator):
    """Django's paginator with ``page_of`` for the rows of a table whose data is a queryset.

    ``cached_count``: a function given the count's computation that may
    answer from a cache instead (the same filters count the same on every
    page and every sort: the view keys it on the filters alone)."""

    def __init__(
        self, *args, cached_count: Callable[[Callable[[], int]], int] | None = None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.cached_count = cached_count

    @cached_property
    def count(self) -> int:
        def counted() -> int:
            return Paginator.count.func(self)

        return counted() if self.cached_count is None else self.cached_count(counted)

    def page(self, number):
        rows = self.object_list
        queryset = getattr(getattr(rows, "data", None), "data", None)
        if not isinstance(rows, BoundRows) or not isinstance(queryset, QuerySet):
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        if top <= bottom:  # no rows at all: page 1 of an empty list
            return self._get_page(rows[0:0], number, self)
        shown = BoundRows(
            data=page_of(queryset, bottom, top), table=rows.table, pinned_data=rows.pinned_data
        )
        return self._get_page(shown, number, self)
