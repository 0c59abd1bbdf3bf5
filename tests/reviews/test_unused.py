"""Unused access: the sweep stamps when a pod last mounted a binding; past
PORTAL_UNUSED_DAYS without one the binding is "unused" on its page, in the
inventory filter and in the API."""

from __future__ import annotations

import datetime

import pytest
import time_machine

from secrets_app.bindings.usage import usage
from secrets_app.health.service import sweep_cluster
from secrets_app.models import Binding
from tests.factories import BindingFactory, UserFactory
from tests.health_portal.health_support import load_cluster
from tests.support.clients import api_client_for, client_for

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)


def test_the_sweep_stamps_the_last_mount_and_keeps_it_when_pods_go(fake, kube_cluster):
    with time_machine.travel(NOW, tick=False):
        generated, bindings = load_cluster(
            fake, kube_cluster, pods=12, bindings=2, mix=["healthy", "no_pods"], seed=3
        )
        sweep_cluster(kube_cluster.pk)
    mounted, idle = (Binding.objects.get(pk=bindings[t.id].pk) for t in generated.targets)
    assert mounted.last_mounted_at == NOW
    assert idle.last_mounted_at is None

    # The pods go away: later sweeps keep the last mount, and past the
    # setting's days both are unused (the never-mounted one from its creation).
    fake.clear()
    with time_machine.travel(NOW + 29 * DAY, tick=False):
        sweep_cluster(kube_cluster.pk)
        assert not usage(Binding.objects.get(pk=mounted.pk)).unused
        assert not usage(Binding.objects.get(pk=idle.pk)).unused
    with time_machine.travel(NOW + 31 * DAY, tick=False):
        sweep_cluster(kube_cluster.pk)
        mounted.refresh_from_db()
        assert mounted.last_mounted_at == NOW
        assert usage(mounted).unused and usage(mounted).idle_days == 31
        assert usage(Binding.objects.get(pk=idle.pk)).unused


def test_unused_counts_from_creation_and_the_setting(settings, db):
    settings.PORTAL_UNUSED_DAYS = 30
    with time_machine.travel(NOW, tick=False):
        never = BindingFactory()
        seen = BindingFactory(last_mounted_at=NOW)
    with time_machine.travel(NOW + 29 * DAY, tick=False):
        assert not usage(Binding.objects.get(pk=never.pk)).unused
    with time_machine.travel(NOW + 31 * DAY, tick=False):
        u = usage(Binding.objects.get(pk=never.pk))
        assert u.unused and u.idle_days == 31 and u.last_mounted_at is None
        assert usage(Binding.objects.get(pk=seen.pk)).unused
        settings.PORTAL_UNUSED_DAYS = 60
        assert not usage(Binding.objects.get(pk=seen.pk)).unused


def test_filter_page_api_and_binding_page_say_unused(db):
    with time_machine.travel(NOW, tick=False):
        old = BindingFactory(service="old-one", last_mounted_at=NOW)
        BindingFactory(service="fresh-one")
    user = UserFactory(username="viewer")
    with time_machine.travel(NOW + 40 * DAY, tick=False):
        fresh = BindingFactory(service="new-one", last_mounted_at=NOW + 40 * DAY)
        web = client_for(user)
        page = web.get("/bindings/?usage=unused").content.decode()
        assert "old-one" in page and "fresh-one" in page and "new-one" not in page
        page = web.get("/bindings/?usage=used").content.decode()
        assert "new-one" in page and "old-one" not in page

        api = api_client_for(user)
        rows = api.get("/api/bindings/?usage=unused").json()["results"]
        assert {r["service"] for r in rows} == {"old-one", "fresh-one"}
        assert all(r["unused"] for r in rows)
        one = next(r for r in rows if r["service"] == "old-one")
        assert one["last_mounted_at"].startswith("2026-11-02T09:00")
        assert api.get("/api/bindings/?usage=bogus").status_code == 400
        assert api.get(f"/api/bindings/{fresh.pk}/").json()["unused"] is False

        detail = web.get(old.get_absolute_url()).content.decode()
        assert "unused for 40 days" in detail and "2026-11-02 09:00 UTC" in detail
        assert "never seen mounted" not in detail
