"""The health pages: permissions, what they show, staleness, refresh, query counts."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from fakes.cluster_gen import MODES, generate_cluster
from secrets_app.health.diagnosis import CATALOGUE
from secrets_app.health.fixes import fix_for
from secrets_app.health.service import sweep_cluster
from secrets_app.models import Binding, ClusterSweep, HealthSnapshot, HealthStatus
from tests.factories import ClusterFactory
from tests.health_portal.health_support import load_cluster, make_bindings

pytestmark = pytest.mark.django_db

# Per page, whatever the number of bindings: session, user, roles, data, the
# count and page of the table and its snapshot prefetch; the namespace page
# also counts its bindings by status and reads its trend (snapshots). The
# overview counts the bindings per cluster and status, then reads the clusters
# with their last sweeps (two queries, #19).
MAX_QUERIES = {"overview": 6, "cluster": 10, "namespace": 10}


def _urls(cluster, namespace="team-000"):
    return {
        "overview": reverse("health-overview"),
        "cluster": reverse("health-cluster", args=[cluster.name]),
        "namespace": reverse("health-namespace", args=[cluster.name, namespace]),
    }


@pytest.fixture
def swept(fake, kube_cluster):
    generated, bindings = load_cluster(
        fake, kube_cluster, pods=120, bindings=len(MODES), mix=MODES, seed=7
    )
    sweep_cluster(kube_cluster.pk)
    return generated, bindings


def test_anonymous_users_are_sent_to_login(kube_cluster):
    anonymous = Client()
    for url in [*_urls(kube_cluster).values()]:
        response = anonymous.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
    response = anonymous.post(reverse("health-refresh", args=[kube_cluster.name]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_refresh_only_accepts_post(web, kube_cluster):
    assert web.get(reverse("health-refresh", args=[kube_cluster.name])).status_code == 405
    assert web.post(reverse("health-refresh", args=["no-such-cluster"])).status_code == 404


def test_binding_page_shows_cause_and_fix_beside_the_error(web, swept):
    generated, bindings = swept
    for target_id, mode in generated.modes.items():
        want = generated.expected[target_id].diagnosis
        if not mode.startswith("catalogue:") or want is None:
            continue
        binding = bindings[target_id]
        page = web.get(binding.get_absolute_url()).content.decode()
        diagnosis = CATALOGUE[int(mode.split(":")[1])]
        snap = HealthSnapshot.objects.get(binding=binding)
        if diagnosis.code != want:
            continue  # e.g. catalogue:1 without pods: a static finding explains it
        # The fix names this binding's values where the catalogue's has placeholders.
        fix = fix_for(diagnosis.code, Binding.objects.get(pk=binding.pk)) or diagnosis.fix
        assert "<" not in fix.replace("<the cluster's OIDC issuer", "")
        for text in (diagnosis.title, diagnosis.cause, fix, snap.last_error):
            assert escape(text) in page, (mode, text)
        assert "Cause:" in page and "Fix:" in page
        failing = snap.details["failing_pods"][0]
        assert escape(failing["pod"]) in page
        assert f"{snap.pods_mounted} of {snap.pods_expected} pods mounted" in page


def test_binding_page_shows_the_checks(web, fake, kube_cluster):
    modes = ["healthy", "wrong_annotation", "synced_secret_missing"]
    generated, bindings = load_cluster(
        fake, kube_cluster, pods=30, bindings=3, mix=modes, seed=2, sync_fraction=1.0
    )
    sweep_cluster(kube_cluster.pk)
    healthy, annotated, unsynced = (bindings[t.id] for t in generated.targets)
    page = web.get(healthy.get_absolute_url()).content.decode()
    assert "annotated with the binding's role" in page
    assert "svc-00000-db</code> present" in page
    assert "a1b2c3d4-0000-4000-8000-000000000001" in page
    page = web.get(annotated.get_absolute_url()).content.decode()
    assert "annotated with another role" in page
    assert escape(CATALOGUE[1].title) not in page  # the static finding explains it
    assert "ServiceAccount annotated with another role" in page
    page = web.get(unsynced.get_absolute_url()).content.decode()
    assert "svc-00002-db</code> missing" in page


def test_an_unknown_message_is_shown_verbatim(web, fake, kube_cluster):
    generated, bindings = load_cluster(
        fake, kube_cluster, pods=10, bindings=1, mix=["catalogue:16"], seed=3
    )
    weird = 'desc = the <flux> capacitor is "empty"'
    for obj in generated.objects:
        if obj["kind"] == "Event" and "invalid parameters" in obj["message"]:
            # Keep the kubelet's wrapper (it names the volume), change the provider's words.
            head = obj["message"].split("desc = invalid parameters")[0]
            fake.add({**obj, "message": head + weird})
    sweep_cluster(kube_cluster.pk)
    binding = bindings[generated.targets[0].id]
    snap = HealthSnapshot.objects.get(binding=binding)
    assert snap.status == "failing" and snap.last_error.endswith(weird)
    assert snap.diagnosis_code == "" and snap.details["diagnosis"] is None
    page = web.get(binding.get_absolute_url()).content.decode()
    assert escape(snap.last_error) in page
    assert "Unknown cause" in page and "shown verbatim" in page


def test_dashboards_list_bindings_worst_first(web, swept, kube_cluster):
    urls = _urls(kube_cluster)
    overview = web.get(urls["overview"])
    assert overview.status_code == 200
    body = overview.content.decode()
    # One sweep: a point per status (a line needs two).
    assert "<svg" in body and "kind-health" in body and "trend-dot-failing" in body
    cluster_page = web.get(urls["cluster"])
    assert cluster_page.status_code == 200
    rows = cluster_page.context["table"].page.object_list.data
    statuses = [r.health_status for r in rows]
    order = ["failing", "degraded", "unknown", "pending", "healthy"]
    assert statuses == sorted(statuses, key=order.index)
    body = cluster_page.content.decode()
    assert "Refresh now" in body and "team-000" in body
    failing = next(b for b in rows if b.health_status == "failing" and b.latest[0].last_error)
    assert escape(failing.latest[0].details["diagnosis"]["title"]) in body
    assert web.get(urls["namespace"]).status_code == 200


def test_the_nav_links_to_the_dashboard(web):
    page = web.get(reverse("health-overview")).content.decode()
    assert f'<a href="{reverse("health-overview")}">Health</a>' in page


def test_unreachable_cluster_pages_show_the_last_snapshot_as_stale(web, fake, swept, kube_cluster):
    generated, bindings = swept
    fake.down()
    failed = sweep_cluster(kube_cluster.pk)
    assert failed.ok is False
    binding = bindings[generated.targets[0].id]
    page = web.get(binding.get_absolute_url())
    assert page.status_code == 200
    body = page.content.decode()
    assert "stale" in body and "could not read the cluster" in body
    assert "pods mounted" in body  # the last snapshot is still there
    for name, url in _urls(kube_cluster).items():
        response = web.get(url)
        assert response.status_code == 200, name
        assert b"stale" in response.content or name == "overview"
    assert b"failed" in web.get(_urls(kube_cluster)["overview"]).content
    assert b"failed" in web.get(_urls(kube_cluster)["cluster"]).content


def test_a_cluster_never_reached_still_renders(web, fake, kube_cluster):
    _, bindings = load_cluster(fake, kube_cluster, pods=10, bindings=2, seed=1)
    fake.down()
    sweep_cluster(kube_cluster.pk)
    binding = next(iter(bindings.values()))
    page = web.get(binding.get_absolute_url())
    assert page.status_code == 200 and b"Not swept yet" in page.content
    for url in _urls(kube_cluster).values():
        assert web.get(url).status_code == 200


def test_old_verdicts_are_marked_stale(web, settings, swept):
    settings.HEALTH_STALE_MINUTES = 15
    generated, bindings = swept
    binding = bindings[generated.targets[0].id]
    page = web.get(binding.get_absolute_url()).content.decode()
    assert 'class="stale"' not in page
    Binding.objects.filter(pk=binding.pk).update(
        health_checked_at=timezone.now() - timedelta(hours=2)
    )
    page = web.get(binding.get_absolute_url()).content.decode()
    assert 'class="stale"' in page and "No sweep has succeeded for a while" in page


def test_refresh_enqueues_a_sweep_after_commit(
    web, kube_cluster, broker, django_capture_on_commit_callbacks
):
    url = reverse("health-refresh", args=[kube_cluster.name])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = web.post(url, follow=True)
    assert len(callbacks) == 1
    assert response.redirect_chain[-1][0] == reverse("health-cluster", args=[kube_cluster.name])
    assert b"is queued" in response.content
    queued = [json.loads(m) for m in broker.lrange("celery", 0, -1)]
    assert [(m["headers"]["task"], m["headers"]["argsrepr"]) for m in queued] == [
        ("secrets_app.tasks.health.sweep_cluster_task", f"({kube_cluster.pk},)")
    ]


def _many_bindings(cluster, n: int) -> None:
    """n bindings over 3 namespaces, each with two snapshots, plus a day of sweeps."""
    targets = generate_cluster(pods=0, bindings=n, bindings_per_namespace=-(-n // 3)).targets
    bindings = make_bindings(cluster, targets)
    now = timezone.now()
    statuses = HealthStatus.values
    snaps = []
    for i, b in enumerate(bindings.values()):
        status = statuses[i % len(statuses)]
        for age in (10, 5):
            snaps.append(
                HealthSnapshot(
                    binding=b,
                    status=status,
                    pods_expected=2,
                    pods_mounted=1,
                    last_error="boom" if status == "failing" else "",
                    details={"diagnosis": None},
                    taken_at=now - timedelta(minutes=age),
                )
            )
        b.health_status, b.health_checked_at = status, now
    HealthSnapshot.objects.bulk_create(snaps)
    Binding.objects.bulk_update(bindings.values(), ["health_status", "health_checked_at"])
    ClusterSweep.objects.bulk_create(
        ClusterSweep(
            cluster=cluster,
            started_at=now - timedelta(minutes=30 * k),
            ok=True,
            counts={"failing": k % 4, "healthy": n},
        )
        for k in range(48)
    )


@pytest.mark.parametrize("n", [3, 150])
def test_query_counts_do_not_grow_with_bindings(web, n, django_assert_max_num_queries):
    cluster = ClusterFactory(name="big")
    ClusterFactory(name="other")
    _many_bindings(cluster, n)
    for name, url in _urls(cluster).items():
        with django_assert_max_num_queries(MAX_QUERIES[name]):
            response = web.get(url)
        assert response.status_code == 200
    if n > 50:
        page2 = web.get(_urls(cluster)["cluster"] + "?page=2")
        assert page2.context["table"].page.number == 2
