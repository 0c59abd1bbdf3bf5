"""The preview shows every file the pull requests will carry, before submit
and before approval; the renderer's own checks land on the right fields."""

import pytest
import yaml
from django.test import Client

from secrets_app.models import AccessRequest
from tests.factories import AccessRequestFactory, SecretGrantFactory
from tests.support.access_requests import post_guide_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(requester):
    client = Client()
    client.force_login(requester)
    return client


def test_preview_on_the_form_shows_both_repositories_and_saves_nothing(alice, cluster):
    response = post_guide_request(alice, cluster, action="preview")
    assert response.status_code == 200
    preview = response.context["preview"]
    titles = [title for title, _files in preview.repositories]
    assert titles == ["Infra repository (Terraform)", "Deploy repository"]
    deploy_files = dict(preview.repositories[1][1])
    folder = "clusters/janus-dev/deploy/data-access-service/secrets/"
    assert set(deploy_files) == {
        folder + name
        for name in (
            "serviceaccount.yaml",
            "secretproviderclass.yaml",
            "deployment-patch.yaml",
            "kustomizeconfig.yaml",
            "kustomization.yaml",
        )
    }
    account = yaml.safe_load(deploy_files[folder + "serviceaccount.yaml"])
    assert account["metadata"]["name"] == "data-access-service-secrets"
    body = response.content.decode()
    assert "data-access-service-secrets" in body and "aws_iam_role" in body
    assert not AccessRequest.objects.exists()


def test_request_page_shows_the_preview_before_approval(requester, approver, cluster):
    request = AccessRequestFactory(requester=requester, cluster=cluster)
    SecretGrantFactory(request=request)
    client = Client()
    client.force_login(approver)
    response = client.get(request.get_absolute_url())
    preview = response.context["preview"]
    assert not preview.problems
    assert preview.names.role_name == f"janus-dev_deploy_{request.service}"
    assert "secretproviderclass.yaml" in response.content.decode()


def test_renderer_problems_land_on_the_field(alice, cluster):
    # JMES alias equal to the other secret's alias is caught by the formset;
    # an unparseable JMES path only by the renderer's check.
    response = post_guide_request(
        alice, cluster, action="preview", **{"secrets-1-jmes": "a[?? as api-user"}
    )
    assert response.status_code == 200
    errors = response.context["formset"].forms[1].errors
    assert "jmes" in errors, errors
    assert response.context["preview"] is None
