"""Filing on a cluster whose last sweep found it cannot serve the request:
a warning on the form's preview and in the API's ``warnings``, never a
refusal. The cluster is swept for real from the fake API."""

from __future__ import annotations

import copy
import html

import pytest
from django.urls import reverse

from fakes.cluster_gen import namespace
from fakes.cluster_ready import system_objects
from secrets_app.health.service import sweep_cluster
from secrets_app.models import AccessRequest
from secrets_app.models.clusters import IdentityMode
from tests.conftest import DEPLOY_TEAM
from tests.support.access_requests import request_form_data, secrets_form_data
from tests.support.clients import api_client_for, client_for
from tests.support.request_bodies import VALID_BODY

pytestmark = pytest.mark.django_db

NO_DRIVER = "Cluster janus-dev has no Secrets Store CSI driver: this request will not work"
NO_SYNC = "Cluster janus-dev cannot sync Secrets (the driver has no sync RBAC)"
NO_AGENT = "Cluster janus-dev uses Pod Identity but runs no Pod Identity agent"
NO_TOKEN = "Cluster janus-dev has no CSIDriver token request for sts.amazonaws.com"
ALL = (NO_DRIVER, NO_SYNC, NO_AGENT, NO_TOKEN)


def swept(fake, cluster, kind: str | None) -> None:
    """``cluster`` served by the fake with the system objects of ``kind``
    (``fakes.cluster_ready``; None: nothing installed), and swept."""
    cluster.kube_api_url = fake.url
    cluster.save(update_fields=["kube_api_url"])
    fake.add_many([namespace("deploy", {"team": DEPLOY_TEAM}), *system_objects_of(kind)])
    assert sweep_cluster(cluster.pk).ok


def system_objects_of(kind: str | None) -> list[dict]:
    if kind is None:
        return []
    return system_objects() if kind == "ready" else system_objects(kind)


def preview(user, cluster) -> str:
    data = {**request_form_data(cluster), **secrets_form_data({}), "action": "preview"}
    response = client_for(user).post(reverse("request-create"), data)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def api_warnings(user, body=VALID_BODY) -> list[str]:
    body = {**copy.deepcopy(body), "submit": False}
    response = api_client_for(user).post("/api/requests/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["warnings"]


def _found(warnings: list[str]) -> set[str]:
    return {w for w in ALL if any(x.startswith(w) for x in warnings)}


def test_the_preview_warns_when_the_cluster_has_no_driver(fake, cluster, requester):
    swept(fake, cluster, "no_driver")
    page = preview(requester, cluster)
    assert NO_DRIVER in page
    assert "helm install csi-secrets-store" in page  # the fix comes with it
    assert "Infra repository (Terraform)" in page  # the preview: a warning, not a refusal
    assert not AccessRequest.objects.exists()


def test_the_preview_warns_of_the_missing_token_request(fake, cluster, requester):
    swept(fake, cluster, "no_token_request")
    page = preview(requester, cluster)
    assert NO_TOKEN in page and NO_DRIVER not in page


def test_the_api_files_and_warns_when_sync_is_off_and_the_request_syncs(fake, cluster, requester):
    swept(fake, cluster, "no_sync_rbac")
    assert _found(api_warnings(requester)) == {NO_SYNC}  # VALID_BODY syncs a Secret
    assert AccessRequest.objects.count() == 1
    unsynced = copy.deepcopy(VALID_BODY)
    for secret in unsynced["secrets"]:
        secret.pop("sync_secret_name", None)
        secret.pop("sync_keys", None)
    assert _found(api_warnings(requester, unsynced)) == set()


def test_the_pod_identity_agent_only_matters_for_a_pod_identity_cluster(fake, cluster, requester):
    swept(fake, cluster, "no_pod_identity_agent")
    assert _found(api_warnings(requester)) == set()  # an IRSA cluster
    cluster.identity_mode = IdentityMode.POD_IDENTITY
    cluster.save(update_fields=["identity_mode"])
    assert _found(api_warnings(requester)) == {NO_AGENT}


def test_a_bare_cluster_gets_every_warning_that_applies(fake, cluster, requester):
    cluster.identity_mode = IdentityMode.POD_IDENTITY
    cluster.save(update_fields=["identity_mode"])
    swept(fake, cluster, None)
    assert _found(api_warnings(requester)) == set(ALL)


@pytest.mark.parametrize("kind", ["ready", "no_rotation", "no_reloader"])
def test_no_warning_on_a_cluster_that_can_serve_it(fake, cluster, requester, kind):
    swept(fake, cluster, kind)
    assert _found(api_warnings(requester)) == set()


def test_no_warning_before_any_sweep(cluster, requester):
    assert _found(api_warnings(requester)) == set()
    assert not any(w in preview(requester, cluster) for w in ALL)


def test_restart_on_change_warns_where_no_reloader_runs(fake, cluster, requester):
    swept(fake, cluster, "no_reloader")
    asks = {**copy.deepcopy(VALID_BODY), "restart_on_change": True}
    (warning,) = [w for w in api_warnings(requester, asks) if "Reloader" in w]
    assert warning.startswith("Cluster janus-dev runs no Stakater Reloader to restart pods")
    assert not [w for w in api_warnings(requester) if "Reloader" in w]
