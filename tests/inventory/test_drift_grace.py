"""A fresh binding's drift section waits for the cluster to apply it
(``PORTAL_DRIFT_GRACE_MINUTES``, counted from the merge of its grant or its
latest change) instead of reporting what is simply not applied yet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import transaction

from secrets_app.bindings.drift_grace import applied_at, grace_until, quiet_until
from secrets_app.bindings.history import binding_history
from secrets_app.events.audit import audit_record
from secrets_app.models import Binding, RequestState
from tests.factories import AccessRequestFactory, BindingFactory, UserFactory
from tests.support.clients import client_for

pytestmark = pytest.mark.django_db

MERGED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DRIFT = [
    {
        "code": "sa-missing",
        "where": "serviceaccount",
        "expected": "shop/api-secrets",
        "actual": "not found",
        "message": "The ServiceAccount does not exist.",
    }
]
WAITING = "Waiting for the cluster to apply it"
DIFFERS = "The cluster or AWS differs from what the portal expects."


@pytest.fixture
def web(db):
    return client_for(UserFactory(username="sre"))


def _granted(**fields) -> Binding:
    """A portal binding whose grant merged at MERGED, with what the first
    sweep after it found (nothing applied yet)."""
    with time_machine.travel(MERGED, tick=False):
        grant = AccessRequestFactory(state=RequestState.ACTIVE)
        binding = BindingFactory(request=grant, namespace="shop", service="api")
    values = {
        "drift": DRIFT,
        "has_drift": True,
        "drift_checked_at": MERGED + timedelta(minutes=2),
        **fields,
    }
    Binding.objects.filter(pk=binding.pk).update(**values)
    return Binding.objects.get(pk=binding.pk)


def _page(web, binding, at: datetime) -> str:
    with time_machine.travel(at, tick=False):
        return web.get(binding.get_absolute_url()).content.decode()


def test_drift_waits_during_the_grace_period_then_shows(web, settings):
    settings.PORTAL_DRIFT_GRACE_MINUTES = 15
    binding = _granted()
    page = _page(web, binding, MERGED + timedelta(minutes=5))
    assert WAITING in page and DIFFERS not in page
    assert "The ServiceAccount does not exist." not in page  # quiet: no table
    assert 'datetime="2026-03-02T09:15:00+00:00"' in page  # when it will report

    page = _page(web, binding, MERGED + timedelta(minutes=15, seconds=1))
    assert WAITING not in page and DIFFERS in page
    assert "The ServiceAccount does not exist." in page


def test_the_grace_is_a_setting(web, settings):
    settings.PORTAL_DRIFT_GRACE_MINUTES = 60
    binding = _granted()
    assert WAITING in _page(web, binding, MERGED + timedelta(minutes=45))
    settings.PORTAL_DRIFT_GRACE_MINUTES = 0
    assert DIFFERS in _page(web, binding, MERGED + timedelta(seconds=1))


def test_no_drift_found_since_the_merge_is_said_at_once(web, settings):
    settings.PORTAL_DRIFT_GRACE_MINUTES = 15
    binding = _granted(drift=[], has_drift=False)
    page = _page(web, binding, MERGED + timedelta(minutes=5))
    assert WAITING not in page and "No drift" in page


def test_imported_bindings_have_no_grace(web, settings):
    settings.PORTAL_DRIFT_GRACE_MINUTES = 15
    with time_machine.travel(MERGED, tick=False):
        imported = BindingFactory(source="imported")
    Binding.objects.filter(pk=imported.pk).update(
        drift=DRIFT, has_drift=True, drift_checked_at=MERGED
    )
    imported.refresh_from_db()
    assert grace_until(imported, binding_history(imported), MERGED) is None
    assert DIFFERS in _page(web, imported, MERGED + timedelta(minutes=1))


def test_a_merged_change_starts_the_grace_again(settings):
    settings.PORTAL_DRIFT_GRACE_MINUTES = 15
    binding = _granted()
    changed_at = MERGED + timedelta(hours=3)
    with time_machine.travel(changed_at, tick=False):
        change = AccessRequestFactory(
            kind="change", changes=binding, state=RequestState.CHANGED, cluster=binding.cluster
        )
        with transaction.atomic():
            audit_record(
                actor=None,
                action="binding.changed",
                obj=binding,
                request=change,
                after={"request": change.pk, "added": ["b"], "removed": [], "changed": []},
            )
    history = binding_history(binding)
    assert applied_at(history) == changed_at
    assert quiet_until(binding, history, changed_at + timedelta(minutes=1)) == (
        changed_at + timedelta(minutes=15)
    )
    assert quiet_until(binding, history, changed_at + timedelta(minutes=16)) is None
    # A change still in flight is not applied: it starts nothing.
    change.state = RequestState.PENDING
    change.save(update_fields=["state"])
    history = binding_history(binding)
    assert applied_at(history) == MERGED
    assert quiet_until(binding, history, changed_at + timedelta(minutes=1)) is None
