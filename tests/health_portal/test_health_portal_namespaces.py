"""What a sweep stores about namespaces: the team label (the key is the
setting ``PORTAL_NAMESPACE_TEAM_LABEL``), the owner it resolves to unless
an admin set one, and the ServiceAccounts each workload's pods run as."""

from __future__ import annotations

import logging
import threading

import psycopg
import pytest
from django.db import connection

from fakes.cluster_gen import namespace
from fakes.legacy_objects import deployment_pods, statefulset_pods
from secrets_app.health.service import sweep_cluster
from secrets_app.models import Namespace
from secrets_app.ownership import teams
from tests.factories import NamespaceFactory, TeamFactory
from tests.health_portal.health_support import load_cluster
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db


def rows(cluster) -> dict[str, Namespace]:
    return {n.name: n for n in Namespace.objects.filter(cluster=cluster).select_related("team")}


def test_a_sweep_records_every_namespace_its_label_owner_and_workloads(fake, kube_cluster):
    team = TeamFactory(name="team-000")
    generated, _ = load_cluster(
        fake, kube_cluster, pods=20, bindings=4, mix=["healthy"], seed=3, bindings_per_namespace=2
    )
    fake.add_many(
        [
            namespace("sandbox"),
            namespace("shop", {"team": "team-000", "tier": "gold"}),
            *statefulset_pods("shop", "db", service_account_name="db", classes=[]),
        ]
    )
    sweep = sweep_cluster(kube_cluster.pk)
    assert sweep.ok and sweep.requests == len(fake.requests)
    found = rows(kube_cluster)
    assert set(found) == {"team-000", "team-001", "sandbox", "shop"}
    assert found["team-000"].label_team == "team-000" and found["team-000"].team == team
    # A label naming no group the portal knows: recorded, owned by nobody.
    assert found["team-001"].label_team == "team-001" and found["team-001"].team is None
    assert found["sandbox"].label_team == "" and found["sandbox"].team is None
    assert found["shop"].team == team
    assert all(n.seen_at == found["shop"].seen_at is not None for n in found.values())
    # Each workload with the ServiceAccounts of its active pods, CSI or not.
    target = generated.targets[0]
    key = f"{target.workload_kind}/{target.workload_name}"
    assert found[target.namespace].workload_accounts[key] == [target.service_account]
    assert found["team-000"].workload_accounts["Deployment/plain"] == ["default"]
    assert found["shop"].workload_accounts == {"StatefulSet/db": ["db"]}
    assert found["sandbox"].workload_accounts == {}


def test_a_removed_label_removes_the_owner_and_an_admins_owner_stays(fake, kube_cluster):
    shop, payments = TeamFactory(name="shop"), TeamFactory(name="payments")
    fake.add_many([namespace("web", {"team": "shop"}), namespace("api", {"team": "shop"})])
    sweep_cluster(kube_cluster.pk)
    assert rows(kube_cluster)["web"].team == shop
    teams.set_override(rows(kube_cluster)["api"], payments)

    fake.add_many([namespace("web"), namespace("api")])  # the labels are gone
    sweep_cluster(kube_cluster.pk)
    web, api = rows(kube_cluster)["web"], rows(kube_cluster)["api"]
    assert (web.label_team, web.team) == ("", None)
    assert (api.label_team, api.team, api.team_override) == ("", payments, payments)

    fake.add(namespace("web", {"team": "payments"}))  # labelled again, for another team
    sweep_cluster(kube_cluster.pk)
    assert rows(kube_cluster)["web"].team == payments


def test_the_label_key_is_a_setting(fake, kube_cluster, settings):
    settings.PORTAL_NAMESPACE_TEAM_LABEL = "example.com/owner"
    owner = TeamFactory(name="payments")
    fake.add(namespace("pay", {"example.com/owner": "payments", "team": "shop"}))
    sweep_cluster(kube_cluster.pk)
    pay = rows(kube_cluster)["pay"]
    assert (pay.label_team, pay.team) == ("payments", owner)


def test_a_namespace_gone_from_the_cluster_keeps_its_row_and_owner(fake, kube_cluster):
    TeamFactory(name="shop")
    fake.add(namespace("old", {"team": "shop"}))
    sweep_cluster(kube_cluster.pk)
    first = rows(kube_cluster)["old"]
    fake.remove("Namespace", "", "old")
    sweep_cluster(kube_cluster.pk)
    kept = rows(kube_cluster)["old"]
    assert kept.team == first.team and kept.seen_at == first.seen_at


@pytest.mark.django_db(transaction=True)
def test_a_row_an_admin_adds_during_the_sweep_does_not_undo_the_sweep(fake, kube_cluster, caplog):
    """An admin's hand-made row commits while the sweep inserts the same
    namespace: the sweep's insert fails on the unique key. The health
    verdicts stay stored and the sweep counts as done; the next sweep
    updates the admin's row."""
    # Other tests' in-process workers may have raised the root logger's level.
    caplog.set_level(logging.WARNING, logger="secrets_app.health.service")
    TeamFactory(name="shop")
    _, bindings = load_cluster(fake, kube_cluster, pods=4, bindings=1, mix=["healthy"], seed=1)
    fake.add(namespace("new", {"team": "shop"}))
    admin, watcher = _connect(), _connect(autocommit=True)
    try:
        # The admin's transaction inserts the row and holds it uncommitted:
        # the sweep's insert of "new" waits for it, then fails once it commits.
        admin.execute(
            "INSERT INTO secrets_app_namespace (cluster_id, name, label_team, workload_accounts)"
            " VALUES (%s, 'new', '', '{}')",
            [kube_cluster.pk],
        )
        done: list = []
        worker = threading.Thread(target=_sweep_in_thread, args=(kube_cluster.pk, done))
        worker.start()
        wait_for(lambda: _waiting_on_a_lock(watcher), what="the sweep to wait for the row")
        admin.commit()
        worker.join(30)
    finally:
        admin.close()
        watcher.close()
    assert done and done[0].ok
    assert "namespaces of kind-health not recorded this sweep" in caplog.text
    binding = next(iter(bindings.values()))
    binding.refresh_from_db()
    assert binding.health_status == "healthy"
    assert rows(kube_cluster)["new"].team is None  # the admin's row, not yet swept
    sweep_cluster(kube_cluster.pk)
    assert rows(kube_cluster)["new"].team.name == "shop"


def _connect(**options) -> psycopg.Connection:
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        **options,
    )


def _sweep_in_thread(cluster_id: int, done: list) -> None:
    try:
        done.append(sweep_cluster(cluster_id))
    finally:
        connection.close()  # this thread's own connection


def _waiting_on_a_lock(conn: psycopg.Connection) -> bool:
    found = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
    ).fetchone()
    return bool(found and found[0])


def test_pods_of_a_namespace_the_list_did_not_return_change_nothing(fake, kube_cluster):
    # Deleted between the pods' list and the namespaces' (or a fake without it):
    # its pods say nothing about its label, so the owner recorded stays.
    shop = TeamFactory(name="shop")
    NamespaceFactory(cluster=kube_cluster, name="web", team=shop)
    fake.add_many(deployment_pods("web", "api", service_account_name="api", classes=[]))
    sweep_cluster(kube_cluster.pk)
    web = rows(kube_cluster)["web"]
    assert (web.team, web.label_team, web.workload_accounts, web.seen_at) == (
        shop,
        "shop",
        {},
        None,
    )
