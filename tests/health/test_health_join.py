"""Join rules on hand-built snapshots (no HTTP)."""

from __future__ import annotations

from secrets_app.health.collector import (
    ClassInfo,
    ClusterSnapshot,
    EventInfo,
    MountStatus,
    PodInfo,
)
from secrets_app.health.diagnosis import CATALOGUE
from secrets_app.health.join import evaluate
from secrets_app.health.types import BindingTarget, HealthStatus

ROLE = "arn:aws:iam::111122223333:role/app"
MSG = 'MountVolume.SetUp failed for volume "v" : rpc error: ... ResourceNotFoundException'


def _target(id_=1, workload="app", spc="app-spc", secrets=()):
    return BindingTarget(id_, "ns", "app", spc, "Deployment", workload, ROLE, secrets, ())


def _pod(name, spc="app-spc", workload="app", uid="u", phase="Running", active=True):
    return PodInfo("ns", name, uid, "app", phase, active, (("v", spc),), "Deployment", workload)


def _snap(pods, *, pod_identity=False, role=ROLE):
    snap = ClusterSnapshot()
    for pod in pods:
        for _, spc in pod.volumes:
            snap.pods_by_class.setdefault(("ns", spc), []).append(pod)
        snap.pods_by_workload.setdefault(("ns", pod.workload), []).append(pod)
    snap.classes[("ns", "app-spc")] = ClassInfo(pod_identity)
    snap.service_accounts[("ns", "app")] = role
    return snap


def _mount(snap, pod, spc="app-spc"):
    snap.mounts[("ns", pod, spc)] = MountStatus(True, (("db", "v1"),))


def _event(snap, pod, uid="u", when="2025-01-01T00:00:00Z", message=MSG):
    event = EventInfo("FailedMount", message, when, uid, "v", 1)
    snap.events.setdefault(("ns", pod), []).append(event)


def test_pod_identity_needs_no_annotation():
    snap = _snap([_pod("a")], pod_identity=True, role="")
    _mount(snap, "a")
    result = evaluate(snap, [_target()])[1]
    assert result.annotation_ok is None
    assert result.status is HealthStatus.HEALTHY


def test_events_of_a_previous_pod_with_the_same_name_are_ignored():
    snap = _snap([_pod("a", uid="new")])
    _event(snap, "a", uid="old")
    result = evaluate(snap, [_target()])[1]
    assert result.failing_pods == [] and result.pods_waiting == 1
    assert result.status is HealthStatus.PENDING


def test_terminated_pods_are_not_expected():
    snap = _snap([_pod("a"), _pod("b", phase="Succeeded", active=False)])
    _mount(snap, "a")
    assert evaluate(snap, [_target()])[1].pods_expected == 1


def test_a_rollout_in_progress_is_pending_not_degraded():
    snap = _snap([_pod("a"), _pod("b")])
    _mount(snap, "a")
    result = evaluate(snap, [_target()])[1]
    assert (result.status, result.pods_mounted, result.pods_waiting) == (
        HealthStatus.PENDING,
        1,
        1,
    )


def test_latest_event_wins_and_is_diagnosed():
    snap = _snap([_pod("a")])
    _event(snap, "a", when="2025-01-01T00:00:00Z", message="something old and unknown")
    _event(snap, "a", when="2025-01-02T00:00:00Z")
    result = evaluate(snap, [_target()])[1]
    assert result.last_error == MSG
    assert result.diagnosis == CATALOGUE[5]
    assert result.status is HealthStatus.FAILING


def test_unknown_message_is_kept_verbatim_without_diagnosis():
    snap = _snap([_pod("a")])
    _event(snap, "a", message='MountVolume.SetUp failed for volume "v" : brand new error')
    result = evaluate(snap, [_target()])[1]
    assert result.diagnosis is None
    assert result.last_error.endswith("brand new error")


def test_bindings_sharing_a_class_are_narrowed_by_workload():
    snap = _snap([_pod("web-1", workload="web"), _pod("worker-1", workload="worker")])
    _mount(snap, "web-1")
    _event(snap, "worker-1")
    result = evaluate(snap, [_target(1, "web"), _target(2, "worker")])
    assert result[1].status is HealthStatus.HEALTHY and result[1].pods_expected == 1
    assert result[2].status is HealthStatus.FAILING and result[2].pods_expected == 1


def test_synced_secret_missing_only_counts_once_a_pod_is_mounted():
    snap = _snap([_pod("a")])
    target = _target(secrets=("app-db",))
    assert evaluate(snap, [target])[1].status is HealthStatus.PENDING
    _mount(snap, "a")
    result = evaluate(snap, [target])[1]
    assert result.status is HealthStatus.DEGRADED
    assert result.synced_secrets_missing == ("app-db",)
    assert result.diagnosis.code == "synced-secret-missing"
    snap.synced_secrets.add(("ns", "app-db"))
    assert evaluate(snap, [target])[1].status is HealthStatus.HEALTHY


def test_annotation_mismatch_with_mounted_pods_is_degraded():
    snap = _snap([_pod("a")], role=ROLE + "-old")
    _mount(snap, "a")
    result = evaluate(snap, [_target()])[1]
    assert result.status is HealthStatus.DEGRADED
    assert result.annotation_ok is False
    assert result.diagnosis.code == "sa-annotation-mismatch"
