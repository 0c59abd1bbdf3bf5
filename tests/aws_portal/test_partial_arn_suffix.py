"""A partial ARN whose name ends like a suffix (``billing/db-master``) is
resolved by the AWS lookup to the secret's full ARN, so the grant names the
real secret; without the lookup the spec grants both readings (see
tests/rendering/test_review_fixes.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from secrets_app.models import SecretGrant
from secrets_app.rendering.name_rules import parse_secret_ref
from secrets_app.rendering.terraform import secret_resources
from secrets_app.requests.specs import spec_for_request
from tests.aws.aws_world import ACCOUNT, REGION
from tests.support.access_requests import request_form_data, secrets_form_data

pytestmark = pytest.mark.django_db


def test_the_lookup_resolves_a_partial_arn_that_looks_full(
    client, requester, moto_cluster, portal_aws, clients
):
    full = clients("secretsmanager").create_secret(Name="billing/db-master", SecretString="x")[
        "ARN"
    ]
    typed = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:billing/db-master"
    assert parse_secret_ref(typed).suffix == "master"  # what the text alone suggests
    client.force_login(requester)
    response = client.post(
        reverse("request-create"),
        {**request_form_data(moto_cluster), **secrets_form_data({"secret": typed})},
    )
    assert response.status_code == 302
    (grant,) = SecretGrant.objects.all()
    assert grant.secret == full
    spec = spec_for_request(grant.request)
    granted = secret_resources(spec, 0)
    assert granted[0] == full
    # moto's random suffix has no upper-case letter 4% of the time: then the
    # renderer still cannot tell, and grants both readings with a warning.
    if not parse_secret_ref(full).suffix_may_be_name:
        assert granted == (full,) and spec.warnings == ()
