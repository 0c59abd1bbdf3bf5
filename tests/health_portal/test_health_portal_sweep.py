"""sweep_cluster against the loopback fake: what it stores, what it costs, and
what happens when the cluster cannot be read."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fakes.cluster_gen import MODES
from secrets_app.health.diagnosis import CATALOGUE, STATIC
from secrets_app.health.service import binding_targets, sweep_cluster
from secrets_app.integrations.kube import METADATA_ONLY_LIST
from secrets_app.models import Binding, BindingState, ClusterSweep, HealthSnapshot, HealthStatus
from tests.factories import ClusterFactory
from tests.health_portal.health_support import load_cluster
from tests.support.health import OWNERSHIP_QUERIES
from tests.support.kube import expected_requests

pytestmark = pytest.mark.django_db

# Queries of one successful sweep, whatever the number of bindings: the cluster,
# bindings, their secrets, savepoint, snapshots, bindings' health, sweep, release;
# then the namespaces (OWNERSHIP_QUERIES). Cluster readiness adds none: its
# checklist rides on the sweep's INSERT, and whether a binding asks for
# Reloader comes with the bindings' query.
SWEEP_QUERIES = 8 + OWNERSHIP_QUERIES


def _check_stored(generated, bindings) -> None:
    stored = {b.pk: b for b in Binding.objects.all()}
    latest = {s.binding_id: s for s in HealthSnapshot.objects.order_by("taken_at")}
    for target_id, want in generated.expected.items():
        pk = bindings[target_id].pk
        mode = generated.modes[target_id]
        assert stored[pk].health_status == want.status, mode
        assert stored[pk].health_checked_at is not None
        snap = latest[pk]
        assert snap.status == want.status, mode
        assert snap.diagnosis_code == (want.diagnosis or ""), mode
        diagnosis = snap.details["diagnosis"]
        assert (diagnosis and diagnosis["code"]) == want.diagnosis, mode


def test_each_failure_mode_gets_its_status_and_diagnosis(fake, kube_cluster):
    generated, bindings = load_cluster(
        fake, kube_cluster, pods=120, bindings=len(MODES), mix=MODES, seed=7
    )
    with CaptureQueriesContext(connection) as queries:
        sweep = sweep_cluster(kube_cluster.pk)
    assert len(queries) == SWEEP_QUERIES
    assert sweep.ok and not sweep.error
    _check_stored(generated, bindings)
    # Every catalogue entry was exercised, and static findings beside them.
    codes = set(HealthSnapshot.objects.values_list("diagnosis_code", flat=True))
    assert {d.code for d in CATALOGUE.values()} <= codes
    assert {"sa-missing", "sa-annotation-missing", "synced-secret-missing"} <= codes & set(STATIC)
    assert sweep.counts == {
        s: Counter(e.status for e in generated.expected.values())[s] for s in HealthStatus.values
    }
    assert sweep.pods == 120


def test_details_carry_pods_versions_secrets_and_annotation(fake, kube_cluster):
    modes = ["healthy", "catalogue:3", "wrong_annotation", "synced_secret_missing"]
    generated, bindings = load_cluster(
        fake, kube_cluster, pods=40, bindings=4, mix=modes, seed=2, sync_fraction=1.0
    )
    sweep_cluster(kube_cluster.pk)
    snaps = {s.binding_id: s.details for s in HealthSnapshot.objects.all()}
    healthy, denied, annotated, unsynced = (snaps[bindings[t.id].pk] for t in generated.targets)
    arn = generated.targets[0].secret_ids[0]
    assert healthy["object_versions"] == {arn: ["a1b2c3d4-0000-4000-8000-000000000001"]}
    assert healthy["synced_secrets_present"] == ["svc-00000-db"]
    assert healthy["annotation_ok"] is True and healthy["failing_pods"] == []
    assert denied["failing_pods"] and all(
        "secretsmanager:GetSecretValue" in p["message"] for p in denied["failing_pods"]
    )
    assert denied["failing_pods_total"] == len(denied["failing_pods"])
    assert annotated["annotation_ok"] is False
    assert "sa-annotation-mismatch" in annotated["findings"]
    assert unsynced["synced_secrets_missing"] == ["svc-00003-db"]


def test_requests_are_pages_per_kind_and_secrets_are_metadata_only(fake, kube_cluster):
    generated, _ = load_cluster(fake, kube_cluster, pods=150, bindings=30, seed=4)
    sweep = sweep_cluster(kube_cluster.pk)
    assert sweep.requests == len(fake.requests) == expected_requests(generated.objects)
    assert {r.method for r in fake.requests} == {"GET"}
    secret_calls = [r for r in fake.requests if r.path.endswith("/secrets")]
    assert secret_calls and all(r.accept == METADATA_ONLY_LIST for r in secret_calls)
    assert fake.secret_data_served == 0


@pytest.mark.slow
def test_a_cluster_of_several_pages_per_kind(fake, kube_cluster):
    # The one large test: 1201 pods are three pages; 300 bindings in 6 namespaces.
    generated, bindings = load_cluster(fake, kube_cluster, pods=1201, bindings=300, seed=3)
    with CaptureQueriesContext(connection) as queries:
        sweep = sweep_cluster(kube_cluster.pk)
    assert len(queries) == SWEEP_QUERIES  # as for 26 bindings: bulk writes
    pod_pages = [r for r in fake.requests if r.path == "/api/v1/pods"]
    assert len(pod_pages) == 3 and all(r.query["limit"] == "500" for r in fake.requests)
    assert sweep.requests == expected_requests(generated.objects)
    assert sweep.pods == 1201
    assert HealthSnapshot.objects.count() == 300
    _check_stored(generated, bindings)


def test_only_live_bindings_are_swept(fake, kube_cluster):
    generated, bindings = load_cluster(
        fake, kube_cluster, pods=30, bindings=3, mix=["healthy"], seed=5
    )
    revoked = bindings[generated.targets[2].id]
    Binding.objects.filter(pk=revoked.pk).update(state=BindingState.REVOKED)
    Binding.objects.filter(pk=bindings[generated.targets[1].id].pk).update(
        state=BindingState.REVOKING
    )
    targets = binding_targets(kube_cluster)
    assert [t.id for t in targets] == [bindings[t.id].pk for t in generated.targets[:2]]
    assert targets[0].secret_ids == generated.targets[0].secret_ids
    assert targets[0].synced_secret_names == generated.targets[0].synced_secret_names
    sweep_cluster(kube_cluster.pk)
    assert not HealthSnapshot.objects.filter(binding=revoked).exists()
    assert HealthSnapshot.objects.count() == 2


def test_unreachable_cluster_keeps_last_snapshot_and_marks_unknown(fake, kube_cluster):
    load_cluster(fake, kube_cluster, pods=30, bindings=5, seed=6)
    first = sweep_cluster(kube_cluster.pk)
    before = dict(Binding.objects.values_list("pk", "health_checked_at"))
    fake.down()
    failed = sweep_cluster(kube_cluster.pk)  # recorded, not raised
    assert failed.ok is False
    assert f"on {fake.url}" in failed.error  # the adapter's message, naming the cluster
    assert failed.counts == {"unknown": 5}
    assert set(Binding.objects.values_list("health_status", flat=True)) == {"unknown"}
    # The last snapshot and its date survive: pages show them as stale.
    assert HealthSnapshot.objects.count() == 5
    assert dict(Binding.objects.values_list("pk", "health_checked_at")) == before
    assert ClusterSweep.objects.filter(ok=True).get() == first
    fake.up()
    again = sweep_cluster(kube_cluster.pk)
    assert again.ok and "unknown" not in set(
        Binding.objects.values_list("health_status", flat=True)
    )


def test_a_cluster_never_reached_records_the_failure(db):
    # Port 9 on loopback: nothing listens, the connection is refused at once.
    cluster = ClusterFactory(name="nowhere", kube_api_url="http://127.0.0.1:9")
    sweep = sweep_cluster(cluster.pk)
    assert sweep.ok is False and sweep.error
    assert sweep_cluster(10**9) is None  # a deleted cluster is not an error
