"""A review as CSV for auditors: one row per binding reviewed."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from secrets_app.models import AccessReview

HEADER = [
    "binding",
    "cluster",
    "namespace",
    "service_account",
    "team",
    "secrets",
    "decision",
    "decided_by",
    "decided_at",
    "revocation_request",
]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _safe(value: str) -> str:
    # A spreadsheet runs a cell starting with one of these as a formula.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def rows(review: AccessReview) -> Iterator[list[str]]:
    yield HEADER
    items = review.items.select_related("binding__cluster", "decided_by").order_by(
        "team_name", "binding__cluster__name", "binding__namespace", "binding_id"
    )
    for item in items.iterator(chunk_size=500):
        b = item.binding
        yield [
            str(b.pk),
            b.cluster.name,
            b.namespace,
            b.service_account,
            _safe(item.team_name),
            _safe(" ".join(item.secrets)),
            item.decision,
            item.decided_by.get_username() if item.decided_by else "",
            item.decided_at.isoformat() if item.decided_at else "",
            str(item.revocation_id or ""),
        ]


def csv_lines(review: AccessReview) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in rows(review):
        yield writer.writerow(row)
