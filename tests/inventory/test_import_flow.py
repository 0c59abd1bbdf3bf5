"""Import from a cluster end to end: a loopback Kubernetes API holding
hand-made bindings, discovery (once by a real Celery worker), the review
page, adopt and dismiss, repeated discovery, permissions, hostile input."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fakes import legacy_objects as legacy
from secrets_app.bindings.adoption import (
    ImportRefused,
    candidates_adopt,
    candidates_dismiss,
    discover_cluster,
)
from secrets_app.models import (
    AuditEvent,
    Binding,
    BindingSecret,
    BindingSource,
    BindingState,
    ImportCandidate,
    TaskRun,
)
from secrets_app.tasks.imports import KIND, discover_bindings, lock_name
from secrets_app.tasks.locks import exclusive
from tests.factories import BindingFactory, ClusterFactory, UserFactory
from tests.support.celery_worker import emptied_broker, running_worker
from tests.support.clients import client_for
from tests.support.waiting import eventually

HOSTILE = '<script>alert("pwned")</script>'


@pytest.fixture
def kube_cluster(db, fake):
    return ClusterFactory(name="legacy-dev", kube_api_url=fake.url)


@pytest.fixture
def broker():
    """Celery's queue and the discovery locks, empty before and after."""
    with emptied_broker("portal:lock:import-discovery:*") as conn:
        yield conn


def page_url(cluster) -> str:
    return reverse("import-cluster", args=[cluster.name])


def decide(client, cluster, action, ids, **extra):
    data = {"action": action, "candidate": [str(i) for i in ids], **extra}
    return client.post(reverse("import-decide", args=[cluster.name]), data, follow=True)


def load_legacy(fake) -> None:
    """Two hand-made bindings, one broken one, and things that are no binding."""
    fake.add_many(
        [
            *legacy.hand_made_binding(
                "payments", "ledger", secrets=["payments/db", "payments/api"]
            ),
            *legacy.hand_made_binding("search", "indexer", replicas=1),
            # Its annotation is no ARN: found, shown, not adoptable.
            legacy.service_account("search", "crawler-secrets", role=HOSTILE),
            legacy.secret_provider_class(
                "search",
                "crawler-secrets",
                objects=[{"objectName": HOSTILE}, {"objectName": "search/crawler-token"}],
            ),
            *legacy.deployment_pods(
                "search",
                "crawler",
                service_account_name="crawler-secrets",
                classes=["crawler-secrets"],
            ),
            legacy.service_account("search", "default"),
            legacy.service_account("payments", "s3-reader", role=legacy.role_arn("s3")),
        ]
    )


def candidate(cluster, namespace, account) -> ImportCandidate:
    return ImportCandidate.objects.get(
        cluster=cluster, namespace=namespace, service_account=account
    )


# -- discovery ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_discover_now_runs_on_a_real_worker_and_the_page_lists_what_it_found(
    fake, kube_cluster, approver, broker
):
    load_legacy(fake)
    client = client_for(approver)
    with running_worker(purge=False):  # the broker fixture emptied the queue
        response = client.post(reverse("import-discover", args=[kube_cluster.name]))
        assert response.status_code == 302
        assert eventually(
            lambda: TaskRun.objects.filter(kind=KIND, outcome="succeeded").exists()
        ), list(TaskRun.objects.values("outcome", "error"))
    run = TaskRun.objects.get(kind=KIND)
    assert run.cluster == kube_cluster and run.task_id
    # Three cluster-wide LISTs, whatever the number of candidates.
    assert run.detail["requests"] == 3 == len(fake.requests)
    assert run.detail["seen"] == {"secretproviderclasses": 3, "pods": 5, "serviceaccounts": 5}
    assert run.detail["counts"] == {"proposed": 3}
    places = sorted(ImportCandidate.objects.values_list("namespace", "service_account"))
    assert places == [
        ("payments", "ledger-secrets"),
        ("search", "crawler-secrets"),
        ("search", "indexer-secrets"),
    ]
    page = client.get(page_url(kube_cluster)).content.decode()
    assert "3 found in 3 requests" in page
    assert 'service <strong>ledger</strong>, Deployment <code class="wrap">ledger</code>' in page
    assert legacy.secret_arn("payments/db") in page
    assert "is not an IAM role ARN" in page


@pytest.mark.django_db
def test_the_request_count_depends_on_the_cluster_size_not_on_candidates(fake, kube_cluster):
    for i in range(12):
        fake.add_many(legacy.hand_made_binding(f"team-{i % 3}", f"app-{i}", replicas=50))
    discovery, counts = discover_cluster(kube_cluster.pk)
    # 12 classes, 600 pods, 12 ServiceAccounts at 500 per page: 1 + 2 + 1.
    assert discovery.requests == 4 == len(fake.requests)
    assert counts == {"proposed": 12}


# -- adopt, repeat, known and gone ----------------------------------------------------


@pytest.mark.django_db
def test_adopting_makes_imported_bindings_and_repeated_discovery_no_duplicates(
    fake, kube_cluster, approver, requester
):
    load_legacy(fake)
    discover_cluster(kube_cluster.pk)
    ledger = candidate(kube_cluster, "payments", "ledger-secrets")
    indexer = candidate(kube_cluster, "search", "indexer-secrets")
    client = client_for(approver)

    response = decide(client, kube_cluster, "adopt", [ledger.pk, indexer.pk], owner="alice")
    assert response.status_code == 200
    assert (
        "2 adopted: payments/ledger-secrets, search/indexer-secrets." in response.content.decode()
    )
    binding = Binding.objects.get(namespace="payments")
    assert (binding.source, binding.owner, binding.service) == ("imported", requester, "ledger")
    assert (binding.workload_kind, binding.workload_name) == ("Deployment", "ledger")
    assert binding.secret_provider_class == "ledger-secrets"
    assert binding.role_arn == legacy.role_arn("ledger-irsa")
    assert sorted(binding.secrets.values_list("arn", "alias")) == [
        (legacy.secret_arn("payments/api"), "secret-1"),
        (legacy.secret_arn("payments/db"), "secret-0"),
    ]
    events = AuditEvent.objects.filter(action="binding.imported")
    assert events.count() == 2 and {e.actor for e in events} == {approver}
    ledger.refresh_from_db()
    assert (ledger.status, ledger.binding, ledger.decided_by) == ("adopted", binding, approver)

    # They are in the inventory, as imported.
    listing = client.get(reverse("binding-list"), {"source": "imported"}).content.decode()
    assert "ledger" in listing and "Imported" in listing

    # Adopting again, and discovering again, changes nothing.
    again = decide(client, kube_cluster, "adopt", [ledger.pk])
    assert "1 already adopted." in again.content.decode()
    for _ in range(2):
        discover_cluster(kube_cluster.pk)
    assert ImportCandidate.objects.count() == 3
    assert Binding.objects.count() == 2 and BindingSecret.objects.count() == 3
    assert AuditEvent.objects.filter(action="binding.imported").count() == 2
    statuses = dict(ImportCandidate.objects.values_list("service_account", "status"))
    assert statuses == {
        "ledger-secrets": "adopted",
        "indexer-secrets": "adopted",
        "crawler-secrets": "proposed",
    }


@pytest.mark.django_db
def test_places_with_a_live_binding_are_known_and_vanished_ones_gone(fake, kube_cluster, approver):
    load_legacy(fake)
    portal_made = BindingFactory(
        cluster=kube_cluster,
        namespace="search",
        service="indexer",
        service_account="indexer-secrets",
        role_arn="",
        source=BindingSource.PORTAL,
    )
    discover_cluster(kube_cluster.pk)
    indexer = candidate(kube_cluster, "search", "indexer-secrets")
    assert (indexer.status, indexer.binding) == ("known", portal_made)
    crawler = candidate(kube_cluster, "search", "crawler-secrets")
    candidates_dismiss(candidate_ids=[crawler.pk], actor=approver)

    page = client_for(approver).get(page_url(kube_cluster)).content.decode()
    assert "Known" in page and f"binding #{portal_made.pk}" in page
    assert f'value="{indexer.pk}"' not in page  # nothing to decide about

    # Everything leaves the cluster.
    fake.clear()
    discovery, counts = discover_cluster(kube_cluster.pk)
    assert discovery.found == []
    statuses = dict(ImportCandidate.objects.values_list("service_account", "status"))
    assert statuses == {
        "ledger-secrets": "gone",
        "indexer-secrets": "gone",
        "crawler-secrets": "dismissed",  # a decision outlives the objects
    }
    assert counts == {"gone": 2, "dismissed": 1}
    ledger = candidate(kube_cluster, "payments", "ledger-secrets")
    refused = decide(client_for(approver), kube_cluster, "adopt", [ledger.pk]).content.decode()
    assert "no longer in the cluster; discover again." in refused

    # It comes back: proposed again; the revoked binding no longer counts.
    load_legacy(fake)
    Binding.objects.filter(pk=portal_made.pk).update(state=BindingState.REVOKED)
    discover_cluster(kube_cluster.pk)
    statuses = dict(ImportCandidate.objects.values_list("service_account", "status"))
    assert statuses == {
        "ledger-secrets": "proposed",
        "indexer-secrets": "proposed",
        "crawler-secrets": "dismissed",
    }
    assert ImportCandidate.objects.count() == 3


@pytest.mark.django_db
def test_a_binding_made_since_the_last_discovery_wins_over_an_adopt(fake, kube_cluster, approver):
    load_legacy(fake)
    discover_cluster(kube_cluster.pk)
    ledger = candidate(kube_cluster, "payments", "ledger-secrets")
    made = BindingFactory(
        cluster=kube_cluster,
        namespace="payments",
        service="ledger",
        service_account="ledger-secrets",
        role_arn="",
    )
    decision = candidates_adopt(candidate_ids=[ledger.pk], actor=approver)
    assert decision.done == [] and "exists already" in decision.refused[0][1]
    ledger.refresh_from_db()
    assert (ledger.status, ledger.binding) == ("known", made)
    assert Binding.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_adopts_make_one_binding(fake, kube_cluster, approver, second_approver):
    load_legacy(fake)
    discover_cluster(kube_cluster.pk)
    ledger = candidate(kube_cluster, "payments", "ledger-secrets")
    barrier = threading.Barrier(2)
    results = []

    def adopt(user):
        try:
            barrier.wait(timeout=10)
            results.append(candidates_adopt(candidate_ids=[ledger.pk], actor=user))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=adopt, args=(u,)) for u in (approver, second_approver)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted((len(r.done), len(r.unchanged)) for r in results) == [(0, 1), (1, 0)]
    assert Binding.objects.count() == 1
    assert AuditEvent.objects.filter(action="binding.imported").count() == 1


# -- the review step: refusals, permissions, hostile input ----------------------------------


@pytest.mark.django_db
def test_refusals_and_bad_input_are_messages_on_the_page_never_errors(fake, kube_cluster, approver):
    load_legacy(fake)
    discover_cluster(kube_cluster.pk)
    other = ClusterFactory(name="elsewhere")
    foreign = ImportCandidate.objects.create(
        cluster=other, namespace="x", service_account="y", last_seen_at=timezone.now()
    )
    crawler = candidate(kube_cluster, "search", "crawler-secrets")
    ledger = candidate(kube_cluster, "payments", "ledger-secrets")
    client = client_for(approver)
    cases = [
        ("adopt", [crawler.pk], {}, "is not an IAM role ARN"),
        ("adopt", [], {}, "Select at least one candidate."),
        ("explode", [ledger.pk], {}, "Choose Adopt or Dismiss."),
        ("adopt", [ledger.pk], {"owner": "nobody-" + HOSTILE}, "there is no active user named"),
        ("adopt", ["1 OR 1=1", "99999999999999999999"], {}, "is not a candidate number."),
        ("adopt", [foreign.pk], {}, f"Candidate #{foreign.pk} does not exist."),
        ("dismiss", [999999], {}, "Candidate #999999 does not exist."),
    ]
    for action, ids, extra, expected in cases:
        response = decide(client, kube_cluster, action, ids, **extra)
        assert response.status_code == 200, (action, ids)
        assert expected in response.content.decode(), (action, ids, expected)
        assert HOSTILE not in response.content.decode()
    assert Binding.objects.count() == 0
    foreign.refresh_from_db()
    assert foreign.status == "proposed"


@pytest.mark.django_db
def test_only_the_platform_team_and_admins_may_act_everyone_may_look(
    fake, kube_cluster, requester, approver, admin_user, broker
):
    load_legacy(fake)
    discover_cluster(kube_cluster.pk)
    ledger = candidate(kube_cluster, "payments", "ledger-secrets")
    engineer = client_for(requester)
    assert engineer.get(reverse("import-list")).status_code == 200
    page = engineer.get(page_url(kube_cluster))
    assert page.status_code == 200 and b"ledger-secrets" in page.content
    assert b"Adopt selected" not in page.content and b"Discover now" not in page.content
    discover = engineer.post(reverse("import-discover", args=[kube_cluster.name]))
    adopt = engineer.post(
        reverse("import-decide", args=[kube_cluster.name]),
        {"action": "adopt", "candidate": [ledger.pk]},
    )
    assert (discover.status_code, adopt.status_code) == (403, 403)
    assert broker.llen("celery") == 0 and Binding.objects.count() == 0
    with pytest.raises(ImportRefused):
        candidates_adopt(candidate_ids=[ledger.pk], actor=requester)
    assert Client().get(page_url(kube_cluster)).status_code == 302  # login first
    assert client_for(approver).get(page_url(kube_cluster)).content.count(b"Adopt selected") == 1
    decide(client_for(admin_user), kube_cluster, "adopt", [ledger.pk])
    assert Binding.objects.get().owner == admin_user


@pytest.mark.django_db
def test_hostile_strings_from_the_cluster_are_rendered_escaped(fake, kube_cluster, approver):
    fake.add_many(
        [
            legacy.service_account("evil", "app-secrets", role=legacy.role_arn("ok")),
            legacy.secret_provider_class(
                "evil",
                "app-secrets",
                objects=[
                    {"objectName": "good/one", "objectAlias": HOSTILE},
                    {"objectName": "<img src=x onerror=alert(1)>"},
                    {"objectName": "fine", "jmesPath": [{"path": "a", "objectAlias": HOSTILE}]},
                ],
                region="<b>bold</b>",
            ),
            legacy.pod(
                "evil",
                "p",
                service_account_name="app-secrets",
                classes=["app-secrets"],
                owner=("<i>Kind</i>", HOSTILE),
            ),
            legacy.service_account("evil", "yaml-secrets", role="<svg onload=alert(1)>"),
            legacy.secret_provider_class(
                "evil", "yaml-secrets", objects="- {objectName: " + HOSTILE
            ),
            legacy.service_account("evil", "huge-secrets", role=legacy.role_arn("huge")),
            legacy.secret_provider_class(
                "evil", "huge-secrets", objects="- objectName: x\n" * 5000
            ),
        ]
    )
    discovery, _ = discover_cluster(kube_cluster.pk)
    assert len(discovery.found) == 3
    body = client_for(approver).get(page_url(kube_cluster)).content.decode()
    for raw in (HOSTILE, "<img src=x", "<svg onload", "<b>bold</b>", "<i>Kind</i>"):
        assert raw not in body
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in body
    assert "&lt;svg onload=alert(1)&gt;" in body
    assert "too large to read" in body and "not valid YAML" in body


# -- the task's record of each run ------------------------------------------------------------


@pytest.mark.django_db
def test_an_unreachable_cluster_leaves_failed_runs_the_page_shows(
    fake, kube_cluster, approver, broker
):
    fake.down()
    result = discover_bindings.apply(args=(kube_cluster.pk,))
    assert result.get() == "failed"
    outcomes = list(
        TaskRun.objects.filter(kind=KIND).order_by("id").values_list("outcome", flat=True)
    )
    assert outcomes == ["retrying", "retrying", "retrying", "failed"]
    page = client_for(approver).get(page_url(kube_cluster)).content.decode()
    assert "Connection refused" in page or "ConnectionRefused" in page or "MaxRetryError" in page
    assert ImportCandidate.objects.count() == 0


@pytest.mark.django_db
def test_a_discovery_while_another_runs_is_skipped(fake, kube_cluster, broker):
    with exclusive(lock_name(kube_cluster.pk), timeout=30) as mine:
        assert mine
        assert discover_bindings.apply(args=(kube_cluster.pk,)).get() == "skipped"
    assert fake.requests == []
    assert discover_bindings.apply(args=(kube_cluster.pk,)).get() == "ok"
    runs = list(TaskRun.objects.filter(kind=KIND).order_by("id").values_list("detail", flat=True))
    assert "skipped" in runs[0] and runs[1]["requests"] == 3


@pytest.mark.django_db
def test_the_review_page_costs_the_same_queries_for_few_or_many_candidates(
    fake, kube_cluster, approver
):
    client = client_for(approver)

    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(page_url(kube_cluster)).status_code == 200
        return len(ctx.captured_queries)

    fake.add_many(legacy.hand_made_binding("ns", "app-0"))
    discover_cluster(kube_cluster.pk)
    few = queries_for_page()
    for i in range(1, 40):
        fake.add_many(legacy.hand_made_binding("ns", f"app-{i}", replicas=1))
    discover_cluster(kube_cluster.pk)
    assert ImportCandidate.objects.count() == 40
    assert queries_for_page() == few


@pytest.mark.django_db
def test_the_overview_lists_clusters_with_their_counts(fake, kube_cluster, approver):
    load_legacy(fake)
    discover_bindings.apply(args=(kube_cluster.pk,))
    UserFactory(username="someone")
    body = client_for(approver).get(reverse("import-list")).content.decode()
    assert page_url(kube_cluster) in body
    assert "<td>3</td>" in body and "(succeeded)" in body
