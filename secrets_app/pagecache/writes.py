"""Which tables an SQL statement writes, read off its text.

Django's SQL compilers start every write with ``INSERT INTO "table"``,
``UPDATE "table"`` or ``DELETE FROM "table"``; that is all the parser needs.
Anything else that is not plainly a read (DDL, ``TRUNCATE``, a ``WITH`` that
modifies data, a statement we cannot name) is reported as ``ANY_TABLE``,
which every cached fragment depends on: when in doubt, forget everything.
"""

from __future__ import annotations

import re

#: Stands for "some table, we cannot tell which": every fragment reads it.
ANY_TABLE = "*"

_WRITE = re.compile(
    r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+[`"]?([A-Za-z0-9_]+)[`"]?\s', re.I
)
_STATEMENT = re.compile(r"\b(?:SELECT|INSERT|UPDATE|DELETE|WITH)\b", re.I)
_MODIFYING = re.compile(r"\b(?:INSERT|UPDATE|DELETE|MERGE)\b", re.I)
# Statements that change no rows: reads and transaction control.
_NOT_WRITES = (
    "SELECT",
    "SAVEPOINT",
    "RELEASE",
    "ROLLBACK",
    "BEGIN",
    "COMMIT",
    "SET ",
    "SHOW",
    "EXPLAIN",
)

_NOTHING: frozenset[str] = frozenset()
_EVERYTHING = frozenset({ANY_TABLE})


def written_tables(sql: str) -> frozenset[str]:
    """The tables ``sql`` may write: none for a read, ``{ANY_TABLE}`` when unsure."""
    head = sql.lstrip()[:10].upper()
    if head.startswith("EXPLAIN") and "ANALYZE" in sql.upper():
        # EXPLAIN ANALYZE runs the statement it explains: judge that one.
        explained = _STATEMENT.search(sql)
        return written_tables(sql[explained.start() :]) if explained else _EVERYTHING
    if head.startswith(_NOT_WRITES):
        # SELECT ... FOR UPDATE locks rows but changes none.
        return _NOTHING
    if head.startswith("WITH"):
        return _EVERYTHING if _MODIFYING.search(sql) else _NOTHING
    match = _WRITE.match(sql)
    return frozenset({match.group(1)}) if match else _EVERYTHING
