"""Which tables a statement writes, read off Django's SQL."""

from __future__ import annotations

import pytest

from secrets_app.pagecache.writes import ANY_TABLE, written_tables


@pytest.mark.parametrize(
    ("sql", "tables"),
    [
        ('INSERT INTO "secrets_app_binding" ("a") VALUES (%s)', {"secrets_app_binding"}),
        ('  UPDATE "secrets_app_binding" SET "a" = CASE WHEN ...', {"secrets_app_binding"}),
        (
            'DELETE FROM "secrets_app_healthsnapshot" WHERE "id" IN (%s)',
            {"secrets_app_healthsnapshot"},
        ),
        ("insert into secrets_app_cluster (name) values ('x')", {"secrets_app_cluster"}),
        ('SELECT "a" FROM "secrets_app_binding" FOR UPDATE', set()),
        ('SAVEPOINT "s1"', set()),
        ('RELEASE SAVEPOINT "s1"', set()),
        ('ROLLBACK TO SAVEPOINT "s1"', set()),
        ("SET TIME ZONE 'UTC'", set()),
        ("WITH x AS (SELECT 1) SELECT * FROM x", set()),
        # Anything else may change anything: every fragment is forgotten.
        ('WITH moved AS (DELETE FROM "t" RETURNING *) SELECT 1', {ANY_TABLE}),
        ('TRUNCATE "secrets_app_binding", "secrets_app_cluster" CASCADE', {ANY_TABLE}),
        ('ALTER TABLE "secrets_app_binding" ADD COLUMN "x" integer', {ANY_TABLE}),
        ('CREATE TABLE "t" ("id" integer)', {ANY_TABLE}),
        ("COPY secrets_app_binding FROM STDIN", {ANY_TABLE}),
        # EXPLAIN ANALYZE runs what it explains.
        ('EXPLAIN ANALYZE UPDATE "secrets_app_binding" SET "a" = 1', {"secrets_app_binding"}),
        ('EXPLAIN (ANALYZE, BUFFERS) DELETE FROM "t" WHERE true', {"t"}),
        ('EXPLAIN ANALYZE SELECT 1 FROM "t"', set()),
        ('EXPLAIN SELECT 1 FROM "t"', set()),
    ],
)
def test_statements(sql, tables):
    assert written_tables(sql) == tables
