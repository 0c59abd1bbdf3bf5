"""Drift: the pure checks on hand-built snapshots, then the health sweep that
writes drift and failing_since against the loopback fake Kubernetes API, the
binding page and the inventory filter."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fakes.kube_api import FakeKubeApi
from secrets_app.bindings import drift
from secrets_app.bindings.drift_store import binding_refresh_aws_drift
from secrets_app.health.collector import ClassInfo, ClusterSnapshot, PlainPods, PodInfo
from secrets_app.health.service import sweep_cluster
from secrets_app.health.types import BindingTarget
from secrets_app.models import Binding, BindingState, VerificationResult
from tests.factories import BindingFactory, ClusterFactory
from tests.health_portal.health_support import load_cluster
from tests.support.clients import client_for
from tests.support.health import OWNERSHIP_QUERIES

ROLE = "arn:aws:iam::111122223333:role/app"
ARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbCdEf"
OBJECTS = f'- objectName: "{ARN}"\n  objectType: secretsmanager\n  objectAlias: db-password\n'
# Queries of one sweep, as tests/health_portal asserts: drift adds none (the
# latest AWS findings ride in the bindings query, drift in the same bulk update).
# The namespaces the sweep records after are OWNERSHIP_QUERIES more.
SWEEP_QUERIES = 8 + OWNERSHIP_QUERIES
HOSTILE = "<script>alert(1)</script>"


# --- pure checks -----------------------------------------------------------


def expect(**kw) -> BindingTarget:
    base = {
        "id": 1,
        "namespace": "ns",
        "service_account": "app",
        "secret_provider_class": "app-spc",
        "workload_kind": "Deployment",
        "workload_name": "app",
        "role_arn": ROLE,
        "secrets": (drift.ExpectedSecret(ARN, "prod/db", "db-password"),),
    }
    return BindingTarget(**(base | kw))


def pod(name="app-1", spc="app-spc", sa="app", workload="app", active=True) -> PodInfo:
    volumes = (("secrets", spc),) if spc else ()
    return PodInfo("ns", name, "u-" + name, sa, "Running", active, volumes, "Deployment", workload)


def snapshot(pods=None, *, role=ROLE, provider="aws", objects=OBJECTS, pod_identity=False):
    snap = ClusterSnapshot()
    for p in [pod()] if pods is None else pods:
        for _, spc in p.volumes:
            snap.pods_by_class.setdefault(("ns", spc), []).append(p)
        snap.pods_by_workload.setdefault(("ns", p.workload), []).append(p)
    snap.classes[("ns", "app-spc")] = ClassInfo(pod_identity, provider, objects)
    if role is not None:
        snap.service_accounts[("ns", "app")] = role
    return snap


def codes(records) -> list[str]:
    return [r["code"] for r in records]


def test_a_binding_that_matches_has_no_drift():
    records = drift.check(snapshot(), expect())
    assert records == [] and drift.has_drift(records) is False


def test_every_record_says_where_expected_actual_and_why():
    (record,) = drift.check(snapshot(role="arn:aws:iam::111122223333:role/other"), expect())
    assert record == {
        "code": "sa-annotation-mismatch",
        "where": "serviceaccount",
        "expected": ROLE,
        "actual": "arn:aws:iam::111122223333:role/other",
        "message": "The ServiceAccount app is annotated with another role than the binding's.",
        "unknown": False,
    }


def test_service_account_missing_or_unannotated():
    assert codes(drift.check(snapshot(role=None), expect())) == ["sa-missing"]
    (missing,) = drift.check(snapshot(role=""), expect())
    assert missing["code"] == "sa-annotation-missing" and missing["expected"] == ROLE


def test_pod_identity_expects_no_annotation_but_the_class_parameter():
    pi = expect(pod_identity=True)
    assert drift.check(snapshot(role="", pod_identity=True), pi) == []
    (record,) = drift.check(snapshot(role="", pod_identity=False), pi)
    assert record["code"] == "spc-identity" and record["expected"] == "usePodIdentity true"
    # And the other way round: an IRSA cluster whose class asks for Pod Identity.
    assert codes(drift.check(snapshot(pod_identity=True), expect())) == ["spc-identity"]


def test_class_missing_or_with_another_provider():
    snap = snapshot()
    del snap.classes[("ns", "app-spc")]
    assert codes(drift.check(snap, expect())) == ["spc-missing"]
    (record,) = drift.check(snapshot(provider="vault"), expect())
    assert (record["code"], record["expected"], record["actual"]) == (
        "spc-provider",
        "aws",
        "vault",
    )


def test_class_objects_missing_extra_and_renamed():
    other = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/api-key-QwErTy"
    extra = OBJECTS + f'- objectName: "{other}"\n  objectAlias: api-key\n'
    (record,) = drift.check(snapshot(objects=extra), expect())
    assert record["code"] == "spc-object-extra" and other in record["actual"]

    (record,) = drift.check(snapshot(objects=""), expect())
    assert record["code"] == "spc-object-missing" and ARN in record["expected"]

    renamed = OBJECTS.replace("db-password", "password")
    (record,) = drift.check(snapshot(objects=renamed), expect())
    assert (record["code"], record["expected"], record["actual"]) == (
        "spc-object-alias",
        "db-password",
        "password",
    )


def test_a_class_naming_the_secret_by_name_is_the_same_secret():
    by_name = '- objectName: "prod/db"\n  objectType: secretsmanager\n  objectAlias: db-password\n'
    assert drift.check(snapshot(objects=by_name), expect()) == []


@pytest.mark.parametrize("text", ["a: b", "- just a string", "[unclosed", "x" * 70_000])
def test_unreadable_objects_are_drift_not_a_crash(text):
    assert codes(drift.check(snapshot(objects=text), expect())) == ["spc-objects-unreadable"]


def test_no_running_pod_is_unknown_not_drift():
    records = drift.check(snapshot(pods=[pod(active=False)]), expect())
    assert codes(records) == ["workload-no-pods"]
    assert records[0]["unknown"] is True
    assert "no running pods to check the volume" in records[0]["message"]
    assert drift.has_drift(records) is False


def test_pods_that_mount_another_class_or_none():
    records = drift.check(snapshot(pods=[pod(), pod("app-2", spc="typo-spc")]), expect())
    assert codes(records) == ["workload-volume-class"]
    assert records[0]["actual"] == "secretProviderClass typo-spc"

    snap = snapshot(pods=[])
    snap.plain_pods_by_workload[("ns", "app")] = PlainPods(3, [("app-x", "app"), ("app-y", "app")])
    (record,) = drift.check(snap, expect())
    assert record["code"] == "workload-volume-missing"
    assert record["message"].startswith("3 pod(s) of Deployment app mount no secrets-store volume")


def test_pods_that_mount_the_class_with_another_service_account():
    records = drift.check(snapshot(pods=[pod(), pod("app-2", sa="default")]), expect())
    assert codes(records) == ["workload-service-account"]
    assert records[0]["actual"] == "serviceAccountName default"


def test_failed_error_findings_of_the_latest_verification_are_aws_drift():
    findings = [
        {"code": "role.exists", "ok": True, "severity": "info", "message": "fine"},
        {"code": "trust.sub", "ok": False, "severity": "error", "message": "sub is x", "fix": "f"},
        {"code": "kms.key", "ok": False, "severity": "warning", "message": "maybe"},
        "not a finding",
    ]
    (record,) = drift.check(snapshot(), expect(), aws_findings=findings)
    assert record["where"] == "aws" and record["code"] == "trust.sub"
    assert (record["expected"], record["actual"]) == ("f", "sub is x")
    assert drift.check(snapshot(), expect(), aws_findings=None) == []
    merged = drift.merge_aws([*drift.check(snapshot(role=""), expect()), record], [])
    assert codes(merged) == ["sa-annotation-missing"]


# --- the sweep -------------------------------------------------------------


@pytest.fixture
def kube_cluster(db, fake):
    return ClusterFactory(name="kind-drift", kube_api_url=fake.url)


MODES = ["healthy", "wrong_annotation", "sa_missing", "spc_missing", "wrong_class", "no_pods"]


def swept(fake, kube_cluster, modes=MODES, **kw):
    generated, bindings = load_cluster(
        fake, kube_cluster, pods=40, bindings=len(modes), mix=modes, seed=11, **kw
    )
    return {mode: bindings[t.id] for mode, t in zip(modes, generated.targets, strict=True)}


def fresh(binding) -> Binding:
    return Binding.objects.get(pk=binding.pk)


@pytest.mark.django_db
def test_the_sweep_stores_drift_per_binding_with_the_same_queries(fake, kube_cluster):
    by_mode = swept(fake, kube_cluster)
    failing = VerificationResult.objects.create(
        binding=by_mode["healthy"],
        ok=False,
        findings=[{"code": "trust.aud", "ok": False, "severity": "error", "message": "aud"}],
    )
    # A later outage says nothing about the binding: the failing result still counts.
    VerificationResult.objects.create(binding=by_mode["healthy"], ok=False, error="down")
    with CaptureQueriesContext(connection) as queries:
        sweep = sweep_cluster(kube_cluster.pk)
    assert sweep.ok and len(queries) == SWEEP_QUERIES

    rows = {mode: fresh(b) for mode, b in by_mode.items()}
    assert all(r.drift_checked_at == sweep.finished_at for r in rows.values())
    assert codes(rows["healthy"].drift) == ["trust.aud"]
    assert rows["healthy"].drift[0]["where"] == "aws" and rows["healthy"].has_drift
    assert codes(rows["wrong_annotation"].drift) == ["sa-annotation-mismatch"]
    assert codes(rows["sa_missing"].drift)[0] == "sa-missing"
    assert codes(rows["spc_missing"].drift) == ["spc-missing"]
    assert codes(rows["wrong_class"].drift) == ["workload-volume-class"]
    assert codes(rows["no_pods"].drift) == ["workload-no-pods"]
    assert rows["no_pods"].has_drift is False  # unknown, not drift
    assert all(rows[m].has_drift for m in ("wrong_annotation", "sa_missing", "wrong_class"))

    # A newer verification that passes clears the AWS part, keeps the cluster part.
    failing.delete()
    VerificationResult.objects.create(binding=by_mode["healthy"], ok=True, findings=[])
    sweep_cluster(kube_cluster.pk)
    assert fresh(by_mode["healthy"]).drift == [] and fresh(by_mode["healthy"]).has_drift is False


@pytest.mark.django_db
def test_failing_since_is_set_once_and_cleared_on_recovery(fake, kube_cluster):
    by_mode = swept(fake, kube_cluster, modes=["healthy", "sa_missing"])
    first = sweep_cluster(kube_cluster.pk)
    broken = fresh(by_mode["sa_missing"])
    assert broken.health_status == "failing" and broken.failing_since == first.finished_at
    assert fresh(by_mode["healthy"]).failing_since is None

    sweep_cluster(kube_cluster.pk)  # still failing: the first time stays
    assert fresh(broken).failing_since == first.finished_at

    ns, name = broken.namespace, broken.service_account
    fake.add(
        {
            "kind": "ServiceAccount",
            "metadata": {
                "name": name,
                "namespace": ns,
                "annotations": {"eks.amazonaws.com/role-arn": broken.role_arn},
            },
        }
    )
    sweep_cluster(kube_cluster.pk)
    recovered = fresh(broken)
    assert recovered.health_status == "pending" and recovered.failing_since is None
    assert codes(recovered.drift) == ["workload-no-pods"] and recovered.has_drift is False


@pytest.mark.django_db
def test_a_revoked_binding_is_not_checked(fake, kube_cluster):
    by_mode = swept(fake, kube_cluster, modes=["wrong_annotation", "healthy"])
    Binding.objects.filter(pk=by_mode["wrong_annotation"].pk).update(state=BindingState.REVOKED)
    sweep_cluster(kube_cluster.pk)
    revoked = fresh(by_mode["wrong_annotation"])
    assert (revoked.drift, revoked.has_drift, revoked.drift_checked_at) == ([], None, None)
    assert fresh(by_mode["healthy"]).has_drift is False
    assert binding_refresh_aws_drift(binding_id=revoked.pk) is None


@pytest.mark.django_db
def test_an_unreachable_cluster_leaves_drift_as_it_was(fake, kube_cluster):
    by_mode = swept(fake, kube_cluster, modes=["wrong_annotation", "sa_missing"])
    sweep_cluster(kube_cluster.pk)
    before = {
        b.pk: (b.drift, b.has_drift, b.drift_checked_at, b.failing_since)
        for b in Binding.objects.all()
    }
    fake.down()
    assert sweep_cluster(kube_cluster.pk).ok is False
    after = {
        b.pk: (b.drift, b.has_drift, b.drift_checked_at, b.failing_since)
        for b in Binding.objects.all()
    }
    assert after == before
    assert before[by_mode["wrong_annotation"].pk][1] is True


@pytest.mark.django_db
def test_a_verification_refreshes_only_the_aws_part(fake, kube_cluster):
    by_mode = swept(fake, kube_cluster, modes=["wrong_annotation"])
    binding = by_mode["wrong_annotation"]
    sweep_cluster(kube_cluster.pk)
    problem = {"code": "role.exists", "ok": False, "severity": "error", "message": "no role"}
    VerificationResult.objects.create(binding=binding, ok=False, findings=[problem])
    binding_refresh_aws_drift(binding_id=binding.pk)
    assert codes(fresh(binding).drift) == ["sa-annotation-mismatch", "role.exists"]
    VerificationResult.objects.create(binding=binding, ok=True, findings=[])
    binding_refresh_aws_drift(binding_id=binding.pk)
    assert codes(fresh(binding).drift) == ["sa-annotation-mismatch"]


@pytest.mark.django_db
def test_aws_drift_alone_does_not_claim_the_cluster_was_checked(kube_cluster):
    load_cluster(FakeKubeApi(), kube_cluster, pods=4, bindings=1, mix=["healthy"], seed=1)
    binding = Binding.objects.get()
    VerificationResult.objects.create(binding=binding, ok=True, findings=[])
    binding_refresh_aws_drift(binding_id=binding.pk)
    assert fresh(binding).has_drift is None  # still "not checked"
    problem = {"code": "trust.sub", "ok": False, "severity": "error", "message": "sub"}
    VerificationResult.objects.create(binding=binding, ok=False, findings=[problem])
    binding_refresh_aws_drift(binding_id=binding.pk)
    assert fresh(binding).has_drift is True


# --- pages -----------------------------------------------------------------


@pytest.fixture
def web(requester) -> Client:
    return client_for(requester)


@pytest.mark.django_db
def test_the_drift_filter_and_column(web, fake, kube_cluster):
    by_mode = swept(fake, kube_cluster, modes=["healthy", "wrong_annotation", "no_pods"])
    unchecked = by_mode["no_pods"]
    Binding.objects.filter(pk=unchecked.pk).update(state=BindingState.REVOKED)
    sweep_cluster(kube_cluster.pk)
    url = reverse("binding-list")

    def listed(params):
        response = web.get(url, params)
        assert response.status_code == 200
        return {row.record.pk for row in response.context["table"].page.object_list}

    assert listed({"drift": "yes"}) == {by_mode["wrong_annotation"].pk}
    assert listed({"drift": "no"}) == {by_mode["healthy"].pk}
    assert listed({"drift": "unchecked"}) == {unchecked.pk}
    assert len(listed({})) == 3
    html = web.get(url).content.decode()
    assert 'class="badge sev-error">drift<' in html and "not checked" in html
    for hostile in (HOSTILE, "%", "yes' OR 1=1 --", "\x00", "x" * 5000):
        assert web.get(url, {"drift": hostile}).status_code == 200


@pytest.mark.django_db
def test_the_binding_page_lists_differences_with_cluster_text_escaped(web, fake, kube_cluster):
    by_mode = swept(fake, kube_cluster, modes=["healthy"])
    binding = by_mode["healthy"]
    page = web.get(binding.get_absolute_url()).content.decode()
    assert "Not compared yet" in page

    # The cluster is not trusted: an annotation or object name may carry markup.
    fake.add(
        {
            "kind": "ServiceAccount",
            "metadata": {
                "name": binding.service_account,
                "namespace": binding.namespace,
                "annotations": {"eks.amazonaws.com/role-arn": HOSTILE},
            },
        }
    )
    sweep_cluster(kube_cluster.pk)
    page = web.get(binding.get_absolute_url()).content.decode()
    assert "sa-annotation-mismatch" in page and binding.role_arn in page
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_api_drift_filter(client, requester):
    drifting = BindingFactory(has_drift=True)
    BindingFactory(has_drift=False)
    unchecked = BindingFactory(has_drift=None)
    client.force_login(requester)

    def ids(value):
        answer = client.get("/api/bindings/", {"drift": value}).json()
        return [b["id"] for b in answer["results"]]

    assert ids("yes") == [drifting.pk]
    assert ids("unchecked") == [unchecked.pk]
    assert client.get("/api/bindings/?drift=<script>").status_code == 400
