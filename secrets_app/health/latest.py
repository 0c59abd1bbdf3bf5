"""The newest snapshots of a page of bindings, as light rows (issue #19).

The health dashboards show, per binding, what its latest snapshot counted
(pods, diagnosis, last error) and whether its last few were all pending. A
``Prefetch`` of ``HealthSnapshot`` instances made ~150 model instances per
page (every column, ``taken_at`` parsed, the prefetch machinery around
them): the largest part of the cluster page's time once the rows were
rendered in Python. Here the same window (the newest
``HEALTH_PENDING_SWEEPS`` per binding, newest first) is one query of only the
columns the pages read, each row a ``LatestSnapshot``.

Window functions are portable (PostgreSQL, and SQLite >= 3.25 for the demo);
filtering on one is Django's own (>= 4.2) subquery, no raw SQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.db.models.query import ModelIterable

from secrets_app.models import Binding, HealthSnapshot

#: The snapshot columns the dashboards and ``health.pending`` read.
COLUMNS = ("status", "pods_expected", "pods_mounted", "last_error", "details")


@dataclass(slots=True)
class LatestSnapshot:
    """What a dashboard row reads of one ``HealthSnapshot`` (same attribute names)."""

    status: str
    pods_expected: int
    pods_mounted: int
    last_error: str
    details: dict[str, Any] = field(default_factory=dict)


def window() -> int:
    """How many snapshots per binding: enough to tell one pending for a while."""
    return max(1, settings.HEALTH_PENDING_SWEEPS)


def latest_snapshots(binding_ids: Sequence[int]) -> dict[int, list[LatestSnapshot]]:
    """Binding id -> its newest snapshots, newest first (one query, none for no ids)."""
    if not binding_ids:
        return {}
    rank = Window(
        RowNumber(),
        partition_by=F("binding_id"),
        order_by=[F("taken_at").desc(), F("id").desc()],
    )
    rows = (
        HealthSnapshot.objects.filter(binding_id__in=binding_ids)
        .annotate(rank=rank)
        .filter(rank__lte=window())
        .order_by("binding_id", "rank")
        .values_list("binding_id", *COLUMNS)
    )
    found: dict[int, list[LatestSnapshot]] = {}
    for binding_id, *values in rows:
        found.setdefault(binding_id, []).append(LatestSnapshot(*values))
    return found


def attach_latest(bindings: Sequence[Binding]) -> None:
    """Set ``latest`` on each binding, as ``Prefetch(..., to_attr="latest")`` did."""
    found = latest_snapshots([b.pk for b in bindings])
    for binding in bindings:
        binding.latest = found.get(binding.pk, [])


class WithLatestIterable(ModelIterable):
    """A queryset's model rows with ``latest`` attached when it is evaluated:
    after the table's ordering and slicing, so only the shown page's
    snapshots are read (as a prefetch would)."""

    def __iter__(self) -> Iterator[Binding]:
        rows = list(super().__iter__())
        attach_latest(rows)
        yield from rows
