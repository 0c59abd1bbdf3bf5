"""Every failure mode, through the fake API and the real client, to status + diagnosis."""

from __future__ import annotations

import pytest

from fakes.cluster_gen import CATALOGUE_MODES, MODES, SYNC_NUMBERS, generate_cluster
from fakes.kube_api import FakeKubeApi
from secrets_app.health.collector import sweep
from secrets_app.health.diagnosis import CATALOGUE
from secrets_app.health.join import evaluate
from secrets_app.health.types import HealthStatus
from secrets_app.integrations.kube import Timeouts, connect_host


@pytest.fixture(scope="module")
def world():
    # One binding per mode, 4 pods each (plus pods without any CSI volume).
    wanting = len(MODES) - 2  # no_pods and sa_missing get none
    cluster = generate_cluster(
        pods=wanting * 4 * 10 // 9 + 1, bindings=len(MODES), mix=list(MODES), sync_fraction=1.0
    )
    with FakeKubeApi() as fake, connect_host(fake.url, timeouts=Timeouts(1, 2)) as client:
        fake.add_many(cluster.objects)
        health = evaluate(sweep(client, page_size=7), cluster.targets)
    by_mode = {cluster.modes[t.id]: health[t.id] for t in cluster.targets}
    return cluster, health, by_mode


def test_every_binding_gets_the_expected_status_and_diagnosis(world):
    cluster, health, _ = world
    for target in cluster.targets:
        got = health[target.id]
        want = cluster.expected[target.id]
        code = got.diagnosis.code if got.diagnosis else None
        assert (got.status.value, code) == (want.status, want.diagnosis), cluster.modes[target.id]


@pytest.mark.parametrize("mode", CATALOGUE_MODES)
def test_each_catalogue_failure(world, mode):
    number = int(mode.split(":")[1])
    result = world[2][mode]
    assert result.diagnosis == CATALOGUE[number]
    assert result.pods_expected == 4
    assert len(result.failing_pods) == 4
    pod, message = result.failing_pods[0]
    assert pod.startswith("svc-") and message == result.last_error
    if number in SYNC_NUMBERS:
        assert result.status is HealthStatus.DEGRADED
        assert result.pods_mounted == 4 and result.synced_secrets_missing
    else:
        assert result.status is HealthStatus.FAILING
        assert result.pods_mounted == 0


def test_healthy_binding_reports_versions_and_secrets(world):
    result = world[2]["healthy"]
    assert result.status is HealthStatus.HEALTHY
    assert (result.pods_expected, result.pods_mounted, result.failing_pods) == (4, 4, [])
    assert result.service_account_found and result.annotation_ok is True
    assert result.synced_secrets_present and not result.synced_secrets_missing
    assert list(result.object_versions.values()) == [("a1b2c3d4-0000-4000-8000-000000000001",)]
    assert result.diagnosis is None and result.last_error == ""


def test_static_findings(world):
    by_mode = world[2]
    assert by_mode["sa_missing"].service_account_found is False
    assert by_mode["missing_annotation"].annotation_ok is False
    assert by_mode["wrong_annotation"].annotation_ok is False
    assert "volume-class-mismatch" in by_mode["wrong_class"].findings
    assert by_mode["wrong_class"].pods_expected == 4
    assert "spc-missing" in by_mode["spc_missing"].findings
    assert by_mode["pending"].pods_waiting == 4
    assert by_mode["no_pods"].status is HealthStatus.PENDING
    degraded = by_mode["degraded"]
    assert (degraded.pods_mounted, len(degraded.failing_pods)) == (2, 2)
