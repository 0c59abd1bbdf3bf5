"""verify_binding_now: the expectation built from a binding, the stored
result (findings as JSON), the binding's verdict, and the binding page."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from secrets_app.aws_portal import expected_binding, verify_binding_now
from secrets_app.integrations.errors import RetryableError
from secrets_app.models import Binding, VerificationResult
from secrets_app.verification import Finding
from tests.aws.aws_fakes import json_error
from tests.aws.aws_world import ACCOUNT, NAMESPACE, REGION, build_guide_world, irsa_trust
from tests.aws_portal.aws_portal_support import guide_binding
from tests.factories import (
    AccessRequestFactory,
    BindingFactory,
    ClusterFactory,
    SecretGrantFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(clients):
    return build_guide_world(clients, customer_key=True)


def test_a_correct_binding_is_stored_as_ok(moto_cluster, portal_aws, world):
    binding = guide_binding(moto_cluster, world)
    result = verify_binding_now(binding.pk)
    assert result.ok is True
    assert result.error == ""
    findings = [Finding.from_dict(d) for d in result.findings]
    assert all(f.ok for f in findings), [f for f in findings if not f.ok]
    codes = {f.code for f in findings}
    assert {"trust.sub", "permissions.read_secret", "permissions.kms_decrypt"} <= codes
    binding.refresh_from_db()
    assert binding.verification_ok is True
    assert binding.verified_at == result.checked_at


def test_a_broken_trust_policy_is_named_and_the_page_shows_the_fix(
    client, requester, moto_cluster, portal_aws, world
):
    binding = guide_binding(moto_cluster, world)
    world.set_trust(irsa_trust(world.issuer, sub=f"system:serviceaccount:{NAMESPACE}:someone"))
    result = verify_binding_now(binding.pk)
    assert result.ok is False
    broken = [Finding.from_dict(d) for d in result.findings if not d["ok"]]
    assert [f.code for f in broken] == ["trust.sub"]
    assert broken[0].fix
    binding.refresh_from_db()
    assert binding.verification_ok is False

    client.force_login(requester)
    html = client.get(binding.get_absolute_url()).content.decode()
    assert "Problems found" in html
    assert escape(broken[0].message) in html
    assert escape(broken[0].fix) in html
    assert f'action="{reverse("binding-verify", args=[binding.pk])}"' in html


def test_an_outage_is_stored_as_the_error_and_keeps_the_verdict(moto_cluster, portal_aws, world):
    binding = guide_binding(moto_cluster, world)
    # 501: retryable for the portal, not retried by botocore, so this is quick.
    portal_aws.inject(lambda r: True, times=5, status=501, body=json_error("Down", "try later"))
    with pytest.raises(RetryableError):
        verify_binding_now(binding.pk, raise_retryable=True)
    assert not VerificationResult.objects.exists()
    result = verify_binding_now(binding.pk)
    assert result.ok is False
    assert "try later" in result.error
    assert Binding.objects.get(pk=binding.pk).verification_ok is None


def test_the_expectation_follows_the_grants(db):
    cluster = ClusterFactory(name="janus-dev", aws_account_id=ACCOUNT, region=REGION)
    request = AccessRequestFactory(cluster=cluster, service="svc", namespace="ns")
    kms = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    exact = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:exact-AbCdEf"
    SecretGrantFactory(request=request, position=0, secret=exact, alias="a")
    SecretGrantFactory(request=request, position=1, secret="by-name", alias="b", any_suffix=True)
    SecretGrantFactory(
        request=request, position=2, secret=exact, alias="c", any_suffix=True, kms_key_arn=kms
    )
    binding = BindingFactory(
        request=request,
        cluster=cluster,
        namespace="ns",
        service="svc",
        service_account="svc-secrets",
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/teams/svc-role",
    )
    expected = expected_binding(binding)
    prefix = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:"
    assert expected.secret_arns == (exact, f"{prefix}by-name-??????", f"{prefix}exact-??????")
    assert expected.kms_key_arns == {f"{prefix}exact-??????": kms}
    assert expected.role_name == "svc-role"  # IAM finds roles by name, not path
    assert (expected.cluster_name, expected.namespace, expected.service_account) == (
        "janus-dev",
        "ns",
        "svc-secrets",
    )
