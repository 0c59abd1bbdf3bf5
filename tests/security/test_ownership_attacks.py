"""Issue #14's attacks by a plain requester, through the API and the request
page: each is refused on the field that caused it, naming the holder, with
nothing written (no request, no claim, no audit event) and no pull request
opened. The race is run for real: concurrent filings on PostgreSQL, one wins.

The world: alice (team-deploy) has an active binding of data-access-service
in janus-dev/deploy; bob is in team-bob, which owns namespace "bobs"; the
payments team owns "payments".
"""

from __future__ import annotations

import copy
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from secrets_app.models import (
    AccessRequest,
    AuditEvent,
    BindingSource,
    Claim,
    PullRequest,
    RequestState,
    SecretGrant,
)
from secrets_app.requests import claiming, workflow
from secrets_app.requests.filing import FilingInvalid, request_file
from secrets_app.tasks.provisioning import open_pull_requests
from tests.factories import (
    AccessRequestFactory,
    BindingFactory,
    ClusterFactory,
    NamespaceFactory,
    SecretGrantFactory,
    TeamFactory,
    UserFactory,
    own_namespace,
)
from tests.filing.test_filing_adapters import page_post
from tests.support.access_requests import approve
from tests.support.request_bodies import VALID_BODY

pytestmark = pytest.mark.django_db

ALICE_ROLE = "janus-dev_deploy_data-access-service"


@pytest.fixture
def alice_binding(cluster, requester):
    """alice's live binding: its grant's claims went to it, as on activation."""
    return BindingFactory(
        cluster=cluster,
        namespace="deploy",
        service="data-access-service",
        service_account="data-access-service-secrets",
        owner=requester,
        role_arn=f"arn:aws:iam::287796791794:role/{ALICE_ROLE}",
        files={
            "infra": [f"iam/287796791794/janus-dev/{ALICE_ROLE}.tf"],
            "deploy": [
                "clusters/janus-dev/deploy/data-access-service/secrets/kustomization.yaml",
            ],
        },
    )


@pytest.fixture
def bob(cluster):
    user = UserFactory(username="bob")
    own_namespace(user, cluster, "bobs", team="team-bob")
    NamespaceFactory(cluster=cluster, name="payments", team=TeamFactory(name="team-payments"))
    return user


def body(**changes):
    data = copy.deepcopy(VALID_BODY)
    data.update(changes)
    return data


def written() -> tuple[int, ...]:
    return (
        AccessRequest.objects.count(),
        SecretGrant.objects.count(),
        Claim.objects.count(),
        AuditEvent.objects.count(),
        PullRequest.objects.count(),
    )


def via_api(user, data) -> dict:
    client = APIClient()
    client.force_authenticate(user)
    response = client.post("/api/requests/", data, format="json")
    assert response.status_code == 400, response.content
    return response.json()


def via_page(user, data, cluster) -> dict:
    client = Client()
    client.force_login(user)
    post = page_post(data, cluster)
    response = client.post(reverse("request-create"), post)
    assert response.status_code == 200, response.status_code  # the form again, with errors
    form = response.context["form"]
    return {name: [str(e) for e in errors] for name, errors in form.errors.items()}


def refused_everywhere(user, data, cluster, field: str, *words: str) -> None:
    before = written()
    for errors in (via_api(user, data), via_page(user, data, cluster)):
        assert field in errors, errors
        text = " ".join(errors[field])
        for word in words:
            assert word in text, text
    assert written() == before


# --- role takeover -------------------------------------------------------------


def test_a_typed_role_name_of_another_team_is_refused(cluster, alice_binding, bob):
    data = body(service="bob-api", namespace="bobs", role_name=ALICE_ROLE)
    refused_everywhere(bob, data, cluster, "role_name", "Role names are derived", "bobs_bob-api")


def test_even_an_admin_cannot_name_a_role_another_binding_holds(cluster, alice_binding):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    data = body(service="bob-api", namespace="bobs", role_name=ALICE_ROLE)
    NamespaceFactory(cluster=cluster, name="bobs")
    refused_everywhere(
        admin, data, cluster, "role_name", f"IAM role {ALICE_ROLE}", f"binding #{alice_binding.pk}"
    )


def test_a_role_name_in_another_case_is_the_same_role(cluster, alice_binding):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    NamespaceFactory(cluster=cluster, name="bobs")
    data = body(service="bob-api", namespace="bobs", role_name=ALICE_ROLE.upper())
    refused_everywhere(admin, data, cluster, "role_name", f"binding #{alice_binding.pk}")


def test_a_role_held_by_an_open_request_is_refused_naming_it(cluster, bob):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    pending = AccessRequestFactory(
        cluster=cluster, namespace="bobs", service="bob-api", requester=bob
    )
    data = body(service="other", namespace="bobs", role_name="janus-dev_bobs_bob-api")
    refused_everywhere(admin, data, cluster, "role_name", f"request #{pending.pk}", "bob")


# --- same service, another ServiceAccount ----------------------------------------


def test_same_service_with_another_service_account_cannot_overwrite_its_files(
    cluster, alice_binding, requester
):
    data = body(service_account="another-account")
    refused_everywhere(
        requester,
        data,
        cluster,
        "service",
        "kustomization.yaml",
        f"binding #{alice_binding.pk}",
    )


def test_a_held_service_account_points_to_a_change_of_its_binding(
    cluster, alice_binding, requester
):
    data = body(service="another-service", service_account="data-access-service-secrets")
    refused_everywhere(
        requester,
        data,
        cluster,
        "service_account",
        f"ask for a change of binding #{alice_binding.pk}",
    )


# --- imported bindings -------------------------------------------------------------


def test_the_service_account_of_an_imported_binding_is_held(cluster, requester):
    imported = BindingFactory(
        cluster=cluster,
        namespace="deploy",
        service="legacy",
        service_account="legacy-reader",
        source=BindingSource.IMPORTED,
        role_arn="arn:aws:iam::287796791794:role/hand-made-legacy-reader",
    )
    data = body(service="legacy-two", service_account="legacy-reader")
    refused_everywhere(
        requester, data, cluster, "service_account", f"binding #{imported.pk}", "legacy-reader"
    )


# --- any workload ------------------------------------------------------------------


def test_another_teams_namespace_is_refused(cluster, bob):
    data = body(service="payments-api", namespace="payments", mount_path="/app")
    refused_everywhere(bob, data, cluster, "namespace", "belongs to team team-payments")


def test_a_namespace_nobody_owns_is_refused(cluster, bob):
    data = body(service="x", namespace="nobodys")
    refused_everywhere(bob, data, cluster, "namespace", "No team owns namespace nobodys")


def test_a_member_of_the_owning_team_may_file(cluster, bob):
    filed = request_file(requester=bob, data=body(service="bob-api", namespace="bobs"))
    assert filed.request.state == RequestState.PENDING
    kinds = sorted(Claim.objects.filter(request=filed.request).values_list("kind", flat=True))
    assert kinds.count("path") >= 4 and "role" in kinds and "service_account" in kinds


# --- claims end with their holder ----------------------------------------------------


def test_a_rejected_request_frees_its_claims(cluster, bob, approver):
    filed = request_file(requester=bob, data=body(service="bob-api", namespace="bobs"))
    assert Claim.objects.filter(request=filed.request).exists()
    workflow.request_reject(request_id=filed.request.pk, approver=approver, reason="no")
    assert not Claim.objects.filter(request=filed.request).exists()
    request_file(requester=bob, data=body(service="bob-api", namespace="bobs"))


# --- the race ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_filings_for_one_service_account_one_wins(cluster, requester):
    other = UserFactory(username="carol")
    other.groups.add(TeamFactory(name="team-deploy"))
    barrier = threading.Barrier(4)
    outcomes: list[object] = []

    def file(user, service):
        try:
            barrier.wait()
            outcomes.append(
                request_file(
                    requester=user,
                    data=body(service=service, service_account="shared-account"),
                ).request
            )
        except FilingInvalid as refused:
            outcomes.append(refused)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=file, args=(user, f"svc-{i}"))
        for i, user in enumerate([requester, other, requester, other])
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [o for o in outcomes if isinstance(o, AccessRequest)]
    lost = [o for o in outcomes if isinstance(o, FilingInvalid)]
    assert len(won) == 1 and len(lost) == 3, outcomes
    for refused in lost:
        assert [p.path for p in refused.problems] == ["service_account"], refused.problems
        assert f"request #{won[0].pk}" in refused.problems[0].message
    assert AccessRequest.objects.count() == 1


# --- checked again, under the lock, when the pull requests are written -------------------


@pytest.mark.django_db(transaction=True)
def test_the_pull_request_task_refuses_files_another_binding_holds(
    tmp_path, settings, requester, approver
):
    from secrets_app.integrations.localgit import init_demo_repository

    settings.LOCAL_REPOS_DIR = tmp_path
    for name in ("infra", "deploy"):
        init_demo_repository(tmp_path / f"{name}.git", base="main")
    cluster = ClusterFactory(name="janus-local", repo_backend="local")
    NamespaceFactory(cluster=cluster, name="deploy", team=TeamFactory(name="team-deploy"))
    # A request from before claims existed: it holds nothing, and meanwhile
    # another binding took its deploy folder.
    request = AccessRequestFactory(cluster=cluster, service="data-access-service")
    SecretGrantFactory(request=request)
    Claim.objects.filter(request=request).delete()
    holder = BindingFactory(cluster=cluster, service="other", service_account="other-secrets")
    path = "clusters/janus-local/deploy/data-access-service/secrets/kustomization.yaml"
    Claim.objects.create(kind="path", key=f"{tmp_path / 'deploy.git'}:{path}", binding=holder)
    approve(request, approver)

    assert open_pull_requests.apply(args=[request.pk]).get() == "failed"
    request.refresh_from_db()
    assert request.state == RequestState.FAILED
    assert not PullRequest.objects.filter(request=request).exists()
    last = AuditEvent.objects.filter(request=request).order_by("-pk").first()
    assert f"binding #{holder.pk}" in (last.message + str(last.after))


def test_confirm_takes_what_a_request_from_before_claims_lacks(cluster, requester):
    request = AccessRequestFactory(cluster=cluster, service="data-access-service")
    SecretGrantFactory(request=request)
    Claim.objects.filter(request=request).delete()
    claiming.confirm(request.pk)
    assert Claim.objects.filter(request=request, kind="path").count() >= 4


def test_a_revocation_cannot_delete_files_another_binding_holds(
    cluster, alice_binding, bob, approver
):
    from secrets_app.integrations.errors import PermanentError

    bobs = BindingFactory(cluster=cluster, namespace="bobs", service="bob-api", owner=bob)
    revocation = AccessRequestFactory(
        cluster=cluster,
        namespace="bobs",
        service="bob-api",
        service_account=bobs.service_account,
        kind="revoke",
        revokes=bobs,
        requester=bob,
        deletes={"infra": alice_binding.files["infra"], "deploy": []},
    )
    with pytest.raises(PermanentError, match=f"binding #{alice_binding.pk}"):
        claiming.confirm(revocation.pk)
    assert set(Claim.objects.filter(binding=alice_binding).values_list("key", flat=True)) >= {
        f"{cluster.repository('infra').lower()}:{alice_binding.files['infra'][0]}"
    }
