"""A request whose workload patch would replace the ServiceAccount the
workload's pods run as today (as the health sweep saw them) is filed with a
warning, on the form's preview and in the API's ``warnings``."""

from __future__ import annotations

import copy
import html

import pytest
from django.urls import reverse

from fakes.cluster_gen import namespace
from fakes.cluster_ready import system_objects
from fakes.legacy_objects import deployment_pods, statefulset_pods
from secrets_app.health.service import sweep_cluster
from secrets_app.models import AccessRequest
from tests.conftest import DEPLOY_TEAM
from tests.support.access_requests import request_form_data, secrets_form_data
from tests.support.clients import api_client_for, client_for
from tests.support.request_bodies import VALID_BODY

pytestmark = pytest.mark.django_db

SERVICE = "data-access-service"
WANTED = f"{SERVICE}-secrets"  # the ServiceAccount the request names (its default)
WARNING = (
    f"Pods of Deployment/{SERVICE} in deploy run as ServiceAccount default today; this "
    f"request's patch replaces it with {WANTED}: whatever default gives them (other roles, "
    "RBAC, image pull secrets) is lost."
)


def swept(fake, cluster, *pods) -> None:
    """``cluster`` is served by the fake with ``pods`` in its namespace
    deploy (labelled for team-deploy), and swept. The cluster is ready
    (driver, provider, agent...): no readiness warning beside this one."""
    cluster.kube_api_url = fake.url
    cluster.save(update_fields=["kube_api_url"])
    fake.add_many([namespace("deploy", {"team": DEPLOY_TEAM}), *system_objects(), *pods])
    assert sweep_cluster(cluster.pk).ok


def preview(user, cluster, **fields) -> str:
    data = {**request_form_data(cluster, **fields), **secrets_form_data({}), "action": "preview"}
    response = client_for(user).post(reverse("request-create"), data)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_the_preview_warns_when_the_patch_replaces_the_pods_service_account(
    fake, cluster, requester
):
    swept(
        fake,
        cluster,
        *deployment_pods("deploy", SERVICE, service_account_name="default", classes=[]),
    )
    page = preview(requester, cluster)
    assert WARNING in page
    assert "Infra repository (Terraform)" in page  # the preview: a warning, not a refusal
    assert not AccessRequest.objects.exists()


def test_the_api_files_it_and_returns_the_warning(fake, cluster, requester):
    swept(
        fake,
        cluster,
        *deployment_pods("deploy", SERVICE, service_account_name="default", classes=[]),
    )
    response = api_client_for(requester).post("/api/requests/", VALID_BODY, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["warnings"] == [WARNING]


def test_a_rollout_with_two_accounts_names_both(fake, cluster, requester):
    old = deployment_pods("deploy", SERVICE, service_account_name="default", classes=[])
    new = deployment_pods(
        "deploy", SERVICE, service_account_name="builder", classes=[], template_hash="7c4b"
    )
    swept(fake, cluster, *old, *new)
    body = {**copy.deepcopy(VALID_BODY), "submit": False}
    warnings = (
        api_client_for(requester).post("/api/requests/", body, format="json").json()["warnings"]
    )
    assert warnings and warnings[0].startswith(
        f"Pods of Deployment/{SERVICE} in deploy run as ServiceAccounts builder, default today"
    )


@pytest.mark.parametrize(
    "pods",
    [
        # The pods run as the requested account already (a re-request, a change).
        lambda: deployment_pods("deploy", SERVICE, service_account_name=WANTED, classes=[]),
        # Another workload kind of the same name, or another workload.
        lambda: statefulset_pods("deploy", SERVICE, service_account_name="default", classes=[]),
        lambda: deployment_pods("deploy", "other", service_account_name="default", classes=[]),
        # Nothing running: nothing to replace.
        lambda: [],
    ],
    ids=["same-account", "statefulset", "other-workload", "no-pods"],
)
def test_no_warning_when_nothing_running_changes_account(fake, cluster, requester, pods):
    swept(fake, cluster, *pods())
    assert "patch replaces it" not in preview(requester, cluster)


def test_no_warning_before_any_sweep(cluster, requester):
    assert "patch replaces it" not in preview(requester, cluster)
