"""A service whose kustomization adds a ``namePrefix``/``nameSuffix``: the
request names them, the files keep the plain names (kustomize renames), and
everything that names the ServiceAccount as it runs (the trust policy, the
binding's records, the claims, the sweep) uses the built name. Real local git
repositories, the real merge path and a real ``kubectl kustomize`` build of
the merged deploy repository."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from secrets_app.health.collector import ClassInfo, ClusterSnapshot, EventInfo, PodInfo
from secrets_app.health.join import evaluate
from secrets_app.health.types import BindingTarget, HealthStatus
from secrets_app.models import AccessRequest, Binding, Claim
from secrets_app.ownership.claims import service_account_key
from secrets_app.rendering import BindingNames
from secrets_app.requests import provisioning
from secrets_app.requests.specs import spec_for_request
from tests.deploy.kustomize_layouts import kustomize, workload, write_yaml
from tests.factories import AccessRequestFactory, SecretGrantFactory, own_namespace
from tests.inventory.revocation_support import local_cluster, local_files
from tests.support.access_requests import approve
from tests.support.clients import api_client_for
from tests.support.request_bodies import VALID_BODY

pytestmark = pytest.mark.django_db

PREFIX, SUFFIX = "team-", "-v2"
PLAIN = "data-access-service-secrets"
BUILT = f"{PREFIX}{PLAIN}{SUFFIX}"


def _merged_grant(settings, tmp_path, requester, approver) -> tuple[AccessRequest, Binding]:
    cluster = local_cluster(settings, tmp_path, {"infra": {}, "deploy": {}})
    own_namespace(requester, cluster, "deploy")
    grant = AccessRequestFactory(
        cluster=cluster,
        requester=requester,
        service="data-access-service",
        workload_name="data-access-service",
        service_account=PLAIN,
        name_prefix=PREFIX,
        name_suffix=SUFFIX,
    )
    SecretGrantFactory(request=grant)
    approve(grant, approver)
    provisioning.open_pull_requests(grant.pk)
    for pull in sorted(grant.pull_requests.all(), key=lambda p: p.repository != "infra"):
        provisioning.merge_local_pull_request(pull, actor=approver)
    return grant, Binding.objects.get(request=grant)


def test_the_merged_files_build_the_account_the_role_trusts(
    settings, tmp_path, requester, approver
):
    grant, binding = _merged_grant(settings, tmp_path, requester, approver)
    assert (binding.service_account, binding.secret_provider_class) == (BUILT, BUILT)
    assert binding.workload_name == f"{PREFIX}data-access-service{SUFFIX}"
    assert Claim.objects.filter(
        key=service_account_key(grant.cluster_id, "deploy", BUILT), binding=binding
    ).exists()

    # The team's service folder includes the merged Component under its prefix.
    deploy = local_files(grant.cluster, "deploy")
    (kustomization,) = [p for p in deploy if p.endswith("/secrets/kustomization.yaml")]
    component = Path(kustomization).parent
    root = tmp_path / "build"
    for path, text in deploy.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    service = root / component.parent
    write_yaml(
        service / "kustomization.yaml",
        {
            "namespace": "deploy",
            "namePrefix": PREFIX,
            "nameSuffix": SUFFIX,
            "resources": ["deployment.yaml"],
            "components": ["secrets"],
        },
    )
    names = replace(BindingNames.from_spec(spec_for_request(grant)), workload_kind="Deployment")
    write_yaml(service / "deployment.yaml", workload(names, namespace=None))
    built = {o["kind"]: o for o in kustomize(service)}

    assert built["ServiceAccount"]["metadata"]["name"] == binding.service_account
    assert built["SecretProviderClass"]["metadata"]["name"] == binding.secret_provider_class
    assert built["Deployment"]["metadata"]["name"] == binding.workload_name
    pod = built["Deployment"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == BUILT
    (tf,) = [t for p, t in local_files(grant.cluster, "infra").items() if p.endswith(".tf")]
    assert re.search(rf'"system:serviceaccount:deploy:{re.escape(BUILT)}"', tf), tf


def test_the_api_takes_the_affixes_and_refuses_bad_ones_on_their_field(requester, cluster):
    client = api_client_for(requester)
    body = {**VALID_BODY, "name_prefix": "Team_", "name_suffix": "-" + "x" * 240}
    response = client.post("/api/requests/", body, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"name_prefix"}, errors
    assert "lower-case letters" in errors["name_prefix"][0]
    assert not AccessRequest.objects.exists()

    body = {**VALID_BODY, "name_prefix": "", "name_suffix": "-" + "x" * 240}
    errors = client.post("/api/requests/", body, format="json").json()
    assert list(errors) == ["name_suffix"] and "at most 253" in errors["name_suffix"][0]

    body = {**VALID_BODY, "name_prefix": PREFIX, "name_suffix": SUFFIX}
    response = client.post("/api/requests/", body, format="json")
    assert response.status_code == 201, response.json()
    saved = AccessRequest.objects.get()
    assert (saved.name_prefix, saved.name_suffix, saved.service_account) == (
        PREFIX,
        SUFFIX,
        PLAIN,
    )


def test_a_built_name_is_claimed_whichever_way_it_is_spelt(requester, cluster):
    client = api_client_for(requester)
    first = {**VALID_BODY, "name_prefix": PREFIX}
    assert client.post("/api/requests/", first, format="json").status_code == 201
    # Another request typing the built name itself would write the same
    # ServiceAccount (and the same folder: a second service name avoids that).
    second = {
        **VALID_BODY,
        "service": "data-access-service-b",
        "service_account": f"{PREFIX}{PLAIN}",
    }
    errors = client.post("/api/requests/", second, format="json").json()
    assert list(errors) == ["service_account"], errors
    assert "belongs to request" in errors["service_account"][0]


# --- the sweep spots a rename the request did not name ----------------------

ROLE = "arn:aws:iam::111122223333:role/app"
DENIED = (
    'MountVolume.SetUp failed for volume "v" : rpc error: code = Unknown desc = failed to '
    "mount secrets store objects for pod deploy/p, err: AccessDenied: Not authorized to "
    "perform sts:AssumeRoleWithWebIdentity"
)


def _snapshot(accounts: list[str]) -> ClusterSnapshot:
    snap = ClusterSnapshot()
    pod = PodInfo("deploy", "p", "u", BUILT, "Pending", True, (("v", BUILT),), "Deployment", "w")
    snap.pods_by_class[("deploy", BUILT)] = [pod]
    snap.pods_by_workload[("deploy", "w")] = [pod]
    snap.classes[("deploy", BUILT)] = ClassInfo(False)
    for name in accounts:
        snap.service_accounts[("deploy", name)] = ROLE
        snap.accounts_by_namespace.setdefault("deploy", []).append(name)
    snap.events[("deploy", "p")] = [
        EventInfo("FailedMount", DENIED, "2026-12-01T00:00:00Z", "u", "v", 1)
    ]
    return snap


def _target() -> BindingTarget:
    # A binding filed without the affixes: it names the plain ServiceAccount
    # (and, for this test, the class as built, so the pods are found).
    return BindingTarget(1, "deploy", PLAIN, BUILT, "Deployment", "w", ROLE, (), ())


def test_a_renamed_service_account_is_named_as_the_cause():
    health = evaluate(_snapshot([BUILT, "default"]), [_target()])[1]
    assert health.findings == ("sa-renamed",)
    assert health.renamed_service_account == BUILT
    assert health.status is HealthStatus.FAILING
    # The AccessDenied reads like a policy problem; the rename is the cause.
    assert health.diagnosis is not None and health.diagnosis.code == "sa-renamed"


def test_a_missing_service_account_with_no_renamed_one_stays_missing():
    health = evaluate(_snapshot(["default", "other"]), [_target()])[1]
    assert health.findings == ("sa-missing",)
    assert health.renamed_service_account == ""
