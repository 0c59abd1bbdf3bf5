"""Every write Django sends moves the generation of what it wrote, once the
write is committed.

The execute wrapper sits on every database connection (``install``, on
``connection_created``). A write outside a transaction is committed when the
statement returns: its generations move at once. Inside ``atomic`` they move
in an ``on_commit`` callback, so a reader can never cache the rows of before
the commit under the generation of after it; a rolled-back transaction moves
nothing. Until then, the writing connection itself reads its own uncommitted
rows, so it does not use the cache for them (``uncommitted``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model

from secrets_app.pagecache import generations
from secrets_app.pagecache.writes import written_tables


class PendingBump:
    """The generations a transaction's writes will move when it commits."""

    def __init__(self) -> None:
        self.keys: set[str] = set()

    def __call__(self) -> None:
        generations.bump(self.keys)


def track_writes(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    tables = written_tables(sql)
    if tables:
        note_writes(context["connection"], tables)
    return result


def install(sender, connection: BaseDatabaseWrapper, **kwargs) -> None:
    """``connection_created`` receiver: wrap this connection's statements.

    First in the list (outermost), because ``connection.execute_wrapper()``
    removes its own wrapper with ``pop()``: appended after one, ours would be
    the one popped."""
    if track_writes not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, track_writes)


def note_writes(connection: BaseDatabaseWrapper, tables: Iterable[str]) -> None:
    keys = _keys(connection, tables)
    if not connection.in_atomic_block:
        generations.bump(keys)
        return
    # One callback per savepoint level: rolling a savepoint back drops its
    # callback, and with it the generations only its writes would have moved.
    level = set(connection.savepoint_ids)
    pending = next((p for sids, p in _pending(connection) if sids == level), None)
    if pending is None:
        pending = PendingBump()
        # robust: a cache that cannot be reached must not fail a committed
        # write. (Appended like every callback: a callback before it that
        # raises makes Django drop the rest, this one too; the minute in the
        # fragments' keys then bounds what is served, README "Page cache".)
        connection.on_commit(pending, robust=True)
    pending.keys |= keys


def uncommitted(keys: Iterable[str], using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether this connection has written, and not yet committed, rows under ``keys``."""
    keys = set(keys)
    return any(not p.keys.isdisjoint(keys) for _, p in _pending(connections[using]))


@contextlib.contextmanager
def cluster_writes(
    cluster_id: int, models: Iterable[type[Model]], using: str = DEFAULT_DB_ALIAS
) -> Iterator[None]:
    """Writes to ``models``' tables in this block touch rows of one cluster
    only (a sweep's): they move that cluster's generation and the fleet's,
    not the tables'. The caller promises the rows are the cluster's; other
    tables written in the block move their own generations as usual."""
    connection = connections[using]
    previous = getattr(connection, "pagecache_scope", None)
    connection.pagecache_scope = (cluster_id, frozenset(m._meta.db_table for m in models))
    try:
        yield
    finally:
        connection.pagecache_scope = previous


def _keys(connection: BaseDatabaseWrapper, tables: Iterable[str]) -> set[str]:
    scope = getattr(connection, "pagecache_scope", None)
    keys = set()
    for table in tables:
        if scope is not None and table in scope[1]:
            keys.update((generations.cluster_key(scope[0]), generations.FLEET_KEY))
        else:
            keys.add(generations.table_key(table))
    return keys


def _pending(connection: BaseDatabaseWrapper) -> Iterator[tuple[set, PendingBump]]:
    # Django drops the callbacks of a rolled-back transaction or savepoint
    # from run_on_commit: what is found here is what may still commit.
    for savepoints, callback, _robust in connection.run_on_commit:
        if isinstance(callback, PendingBump):
            yield savepoints, callback
