"""The sweep's HTTP behaviour: LISTs only, pagination, request budget, secrecy, faults."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest
import yaml

from fakes.cluster_gen import generate_cluster, namespace
from fakes.legacy_objects import deployment_pods, pod, statefulset_pods
from secrets_app.health.collector import DEFAULT_EVENT_REASONS, MANAGED_SELECTOR, sweep
from secrets_app.health.join import evaluate
from secrets_app.integrations.errors import PermanentError, RetryableError
from secrets_app.integrations.kube import METADATA_ONLY_LIST, PODS, Timeouts, connect_host
from tests.support.kube import expected_requests

RBAC = Path(__file__).resolve().parents[2] / "deploy/rbac/portal-health-clusterrole.yaml"
LIST_PATHS = {
    "/api/v1/pods",
    "/api/v1/serviceaccounts",
    "/api/v1/events",
    "/api/v1/secrets",
    "/api/v1/namespaces",
    "/apis/secrets-store.csi.x-k8s.io/v1/secretproviderclasses",
    "/apis/secrets-store.csi.x-k8s.io/v1/secretproviderclasspodstatuses",
    # cluster readiness: a fixed four more
    "/apis/apps/v1/namespaces/kube-system/daemonsets",
    "/apis/storage.k8s.io/v1/csidrivers",
    "/apis/rbac.authorization.k8s.io/v1/clusterroles",
    "/apis/apps/v1/deployments",
}


def test_request_count_is_the_sum_of_pages_per_kind(fake, client):
    cluster = generate_cluster(pods=1201, bindings=300, seed=3)
    fake.add_many(cluster.objects)
    snap = sweep(client)
    pod_requests = [r for r in fake.requests if r.path == "/api/v1/pods"]
    assert len(pod_requests) == 3  # 1201 pods at 500 a page
    assert snap.requests == len(fake.requests) == expected_requests(cluster.objects, 500)
    assert all(r.query["limit"] == "500" for r in fake.requests)


def test_only_cluster_wide_lists_never_a_call_per_object(fake, client):
    cluster = generate_cluster(pods=300, bindings=60, seed=4)
    fake.add_many(cluster.objects)
    sweep(client)
    assert {r.method for r in fake.requests} == {"GET"}
    assert {r.path for r in fake.requests} == LIST_PATHS
    reasons = {r.query.get("fieldSelector") for r in fake.requests if r.path == "/api/v1/events"}
    assert reasons == {f"reason={reason}" for reason in DEFAULT_EVENT_REASONS}


def test_an_empty_cluster_costs_one_request_per_kind(fake, client):
    snap = sweep(client)
    assert snap.requests == len(LIST_PATHS) - 1 + len(DEFAULT_EVENT_REASONS)


def test_small_pages_give_the_same_result_as_large_ones(fake, client):
    cluster = generate_cluster(pods=240, bindings=40, seed=5)
    fake.add_many(cluster.objects)
    small = sweep(client, page_size=7)
    pod_pages = [r for r in fake.requests if r.path == "/api/v1/pods"]
    assert len(pod_pages) == math.ceil(240 / 7)
    # Every page after the first carries the continue token of the one before.
    assert "continue" not in pod_pages[0].query
    assert all(r.query.get("continue") for r in pod_pages[1:])
    assert small.requests == expected_requests(cluster.objects, 7)
    large = sweep(client, page_size=500)
    assert evaluate(small, cluster.targets) == evaluate(large, cluster.targets)
    assert small.items_seen == large.items_seen


def test_secrets_are_listed_as_metadata_only(fake, client):
    cluster = generate_cluster(pods=400, bindings=80, seed=6, sync_fraction=1.0)
    fake.add_many(cluster.objects)
    snap = sweep(client, page_size=10)
    secret_requests = [r for r in fake.requests if r.path.endswith("/secrets")]
    assert secret_requests
    for request in secret_requests:
        assert request.accept == METADATA_ONLY_LIST
        assert request.query["labelSelector"] == MANAGED_SELECTOR
    assert fake.secret_data_served == 0
    assert snap.synced_secrets  # and yet the synced Secrets were seen


def test_unreachable_cluster_raises_retryable_fast(fake):
    client = connect_host(fake.url, timeouts=Timeouts(connect=0.5, read=0.5), backoff=0.01)
    fake.down()
    started = time.monotonic()
    with pytest.raises(RetryableError) as caught:
        sweep(client)
    assert time.monotonic() - started < 3
    assert caught.value.system == "kubernetes"


def test_a_hanging_server_times_out_as_retryable(fake):
    client = connect_host(fake.url, timeouts=Timeouts(connect=0.5, read=0.3), backoff=0.01)
    fake.delay_next(2, seconds=3)
    started = time.monotonic()
    with pytest.raises(RetryableError):
        sweep(client)
    assert time.monotonic() - started < 2  # two attempts of 0.3 s, not 2 x 3 s


def test_one_500_is_retried_with_the_same_continue_token(fake, client):
    cluster = generate_cluster(pods=30, bindings=5, seed=7)
    fake.add_many(cluster.objects)
    baseline = sweep(client, page_size=10).requests
    fake.clear_requests()
    first = list(client.list_pages(PODS, page_size=10))
    assert len(first) >= 2
    fake.clear_requests()
    # Fail the second page once: the retry repeats it, continue token and all.
    list(_one_page_then_fail(fake, client))
    failed, retried = fake.requests[1], fake.requests[2]
    assert failed.query == retried.query and "continue" in failed.query
    fake.clear_requests()
    fake.fail_next(1)
    snap = sweep(client, page_size=10)
    assert snap.requests == baseline + 1
    assert len(fake.requests) == baseline + 1


def test_persistent_500_raises_retryable_with_status(fake, client):
    fake.fail_next(5)
    with pytest.raises(RetryableError) as caught:
        sweep(client)
    assert caught.value.status == 500
    assert len(fake.requests) == 2  # attempts=2 per request, then give up


def test_retry_after_is_honoured(fake, client):
    fake.fail_next(1, status=429, retry_after=0.4)
    started = time.monotonic()
    sweep(client)
    assert time.monotonic() - started >= 0.4


def test_forbidden_is_permanent_and_not_retried(fake, client):
    fake.fail_next(1, status=403)
    with pytest.raises(PermanentError) as caught:
        sweep(client)
    assert caught.value.status == 403
    assert len(fake.requests) == 1


def _one_page_then_fail(fake, client):
    pages = client.list_pages(PODS, page_size=10)
    yield next(pages)
    fake.fail_next(1)
    yield from pages


def test_every_namespace_is_listed_metadata_only_with_its_team_label(fake, client):
    # Twelve namespaces at five a page: three requests, like any other kind.
    fake.add_many([namespace(f"ns-{i:02d}", {"team": f"team-{i % 3}"}) for i in range(11)])
    fake.add(namespace("sandbox", {"owner": "someone"}))  # no team label: ""
    snap = sweep(client, page_size=5)
    calls = [r for r in fake.requests if r.path == "/api/v1/namespaces"]
    assert len(calls) == 3 and all(r.accept == METADATA_ONLY_LIST for r in calls)
    # No labelSelector: a namespace whose label was removed must come back too.
    assert not any("labelSelector" in r.query for r in calls)
    assert snap.namespace_labels["ns-04"] == "team-1"
    assert snap.namespace_labels["sandbox"] == ""
    assert len(snap.namespace_labels) == snap.items_seen["namespaces"] == 12
    assert sweep(client, team_label="owner").namespace_labels["sandbox"] == "someone"


def test_workloads_record_the_service_accounts_of_their_active_pods(fake, client):
    done = pod("shop", "api-old", service_account_name="legacy", classes=[], phase="Succeeded")
    done["metadata"]["ownerReferences"] = [{"kind": "ReplicaSet", "name": "api-5d8f7c9b4"}]
    leaving = deployment_pods("shop", "api", service_account_name="leaving", classes=[])[0]
    leaving["metadata"]["name"] = "api-leaving"
    leaving["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:00Z"
    fake.add_many(
        [
            # Pods that mount a secrets-store volume and pods that mount none.
            *deployment_pods("shop", "api", service_account_name="api", classes=["api-spc"]),
            # A rollout under way: the new ReplicaSet's pods run as another account.
            *deployment_pods(
                "shop", "api", service_account_name="default", classes=[], template_hash="7c4b"
            ),
            *statefulset_pods("shop", "db", service_account_name="db", classes=[]),
            pod("shop", "loose", service_account_name="loose", classes=[]),  # no owner
            done,
            leaving,
        ]
    )
    snap = sweep(client)
    assert snap.workload_accounts == {
        "shop": {"Deployment/api": {"api", "default"}, "StatefulSet/db": {"db"}}
    }


def test_the_cluster_role_lets_the_sweep_list_everything_it_lists(fake, client):
    fake.add_many(generate_cluster(pods=30, bindings=5, seed=8).objects)
    sweep(client)
    role = next(
        doc for doc in yaml.safe_load_all(RBAC.read_text()) if doc and doc["kind"] == "ClusterRole"
    )
    granted = {
        (group, resource)
        for rule in role["rules"]
        if "list" in rule["verbs"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }
    for path in {r.path for r in fake.requests}:
        parts = path.strip("/").split("/")
        group = "" if parts[0] == "api" else parts[1]
        assert (group, parts[-1]) in granted, path
