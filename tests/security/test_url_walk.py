"""Every URL pattern of the resolver, requested as every role, answers
exactly what the table in url_table.py says."""

from __future__ import annotations

import pytest
from django.db import transaction

from tests.security.url_table import TABLE
from tests.security.walk import build_url, describe, fetch, matches, url_patterns
from tests.security.world import ROLES

pytestmark = pytest.mark.django_db


def test_every_url_pattern_is_in_the_table():
    keys = [key for key, _ in url_patterns()]
    missing = [key for key in keys if key not in TABLE]
    assert not missing, (
        "URL patterns with no expected statuses in tests/security/url_table.py "
        f"(add each with what every role should get): {missing}"
    )
    stale = sorted(set(TABLE) - set(keys))
    assert not stale, f"Entries in tests/security/url_table.py for no URL pattern: {stale}"


CASES = [(key, "get") for key in TABLE] + [
    (key, "post") for key, entry in TABLE.items() if entry.post is not None
]


@pytest.mark.parametrize(("key", "method"), CASES, ids=[f"{m}-{k}" for k, m in CASES])
def test_each_role_gets_the_expected_status(world, key, method):
    entry = TABLE[key]
    expected = dict(zip(ROLES, getattr(entry, method), strict=True))
    url = build_url(key, entry, world.ids)
    wrong = []
    for role in ROLES:
        # Each role starts from the same objects: a POST by one (an approval,
        # a cancel) is rolled back before the next role asks.
        with transaction.atomic():
            response = fetch(world.client(role), method, url, entry, world.ids)
            transaction.set_rollback(True)
        assert response.status_code < 500, (role, method, url, describe(response))
        if not matches(response, expected[role]):
            wrong.append(f"{role}: expected {expected[role]}, got {describe(response)}")
    assert not wrong, f"{method.upper()} {url} ({key}):\n  " + "\n  ".join(wrong)
