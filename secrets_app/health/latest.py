"""The newest snapshots of a page of bindings, as light rows (issue #19).

The health dashboards show, per binding, what its latest snapshot counted
(pods, diagnosis, last error) and whether its last few were all pending. A
``Prefetch`` of ``HealthSnapshot`` instances made ~150 model instances per
page (every column, ``taken_at`` parsed, the prefetch machinery around
them): the largest part of the cluster page's time once the rows were
rendered in Python. Here the same window (the newest
``HEALTH_PENDING_SWEEPS`` per binding, newest first) is one query of only the
columns the pages read, each row a ``LatestSnapshot``.

Window functions are standard SQL (PostgreSQL, and SQLite >= 3.25 for the
demo); the query is written out because Django's filtered-window form
(QUALIFY emulated with copied expressions) cost more to build than to run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
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
    details: dict[str, Any]


def window() -> int:
    """How many snapshots per binding: enough to tell one pending for a while."""
    return max(1, settings.HEALTH_PENDING_SWEEPS)


def latest_snapshots(binding_ids: Sequence[int]) -> dict[int, list[LatestSnapshot]]:
    """Binding id -> its newest snapshots, newest first (one query, none for no ids)."""
    if not binding_ids:
        return {}
    found: dict[int, list[LatestSnapshot]] = {}
    with connection.cursor() as cursor:
        cursor.execute(_window_sql(len(binding_ids)), [*binding_ids, window()])
        for binding_id, status, expected, mounted, error, details in cursor.fetchall():
            # JSON comes as text from both backends (Django's own jsonb loader
            # on PostgreSQL, TEXT on SQLite), decoded as JSONField does.
            details = json.loads(details) if isinstance(details, str) else details
            found.setdefault(binding_id, []).append(
                LatestSnapshot(status, expected, mounted, error, details)
            )
    return found


def _window_sql(n: int) -> str:
    """Standard SQL (window functions: PostgreSQL, SQLite >= 3.25): the ORM's
    form of the same query (a filtered ``Window`` annotation) cost more to
    compile than to run. Names come from the model and are quoted; the ids
    and the window size are parameters."""
    q = connection.ops.quote_name
    columns = ", ".join(q(c) for c in ("binding_id", *COLUMNS))
    order = f"{q('taken_at')} DESC, {q('id')} DESC"
    rank = f"ROW_NUMBER() OVER (PARTITION BY {q('binding_id')} ORDER BY {order})"
    marks = ", ".join(["%s"] * n)
    table = q(HealthSnapshot._meta.db_table)
    inner = f"SELECT {columns}, {rank} AS {q('rank')} FROM {table}"  # noqa: S608
    return (
        f"SELECT {columns} FROM ({inner} WHERE {q('binding_id')} IN ({marks})) ranked "  # noqa: S608
        f"WHERE {q('rank')} <= %s ORDER BY {q('binding_id')}, {q('rank')}"
    )


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
