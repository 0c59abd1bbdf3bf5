"""Fixes name the binding's own values (role ARN, namespace, ServiceAccount,
secrets, issuer) instead of the catalogue's placeholders."""

from __future__ import annotations

import pytest
from django.utils.html import escape

from secrets_app.health.diagnosis import CATALOGUE, STATIC
from secrets_app.health.fixes import fix_for
from secrets_app.health.service import sweep_cluster
from secrets_app.models import Binding
from tests.factories import GUIDE_ISSUER, BindingFactory, BindingSecretFactory, ClusterFactory
from tests.health_portal.health_support import load_cluster

pytestmark = pytest.mark.django_db

ROLE = "arn:aws:iam::287796791794:role/janus-dev_shop_api"
# Nothing on a node or in the driver is the binding's: the catalogue says it.
GENERAL = {
    "csidriver-token-requests",
    "provider-not-on-node",
    "driver-not-on-node",
    "sync-rbac-forbidden",
    "ssm-invalid-parameters",
    "fetch-failed-all-regions",
}


@pytest.fixture
def binding():
    made = BindingFactory(
        cluster=ClusterFactory(name="janus-dev"),
        namespace="shop",
        service="api",
        service_account="api-sa",
        secret_provider_class="api-secrets",
        role_arn=ROLE,
        synced_secret_names=["api-db"],
    )
    BindingSecretFactory(binding=made)
    return Binding.objects.select_related("cluster").get(pk=made.pk)


def _codes():
    return sorted({d.code for d in CATALOGUE.values()} | set(STATIC))


@pytest.mark.parametrize("code", _codes())
def test_every_fix_names_real_values_or_defers_to_the_catalogue(binding, code):
    fix = fix_for(code, binding)
    if code in GENERAL:
        assert fix is None
        return
    assert fix and "<" not in fix, fix  # no <placeholder> left
    assert any(v in fix for v in (ROLE, "shop/api", "api-sa", "api-secrets")), fix


def test_the_trust_fix_spells_out_the_conditions(binding):
    fix = fix_for("irsa-trust-denied", binding)
    assert f"Fix the trust policy of {ROLE}" in fix
    assert f"arn:aws:iam::287796791794:oidc-provider/{GUIDE_ISSUER}" in fix
    assert f"{GUIDE_ISSUER}:sub = system:serviceaccount:shop:api-sa" in fix
    assert f"{GUIDE_ISSUER}:aud = sts.amazonaws.com" in fix


def test_annotation_and_policy_fixes_can_be_copied(binding):
    assert (
        f"kubectl annotate serviceaccount -n shop api-sa eks.amazonaws.com/role-arn={ROLE}"
        in fix_for("sa-annotation-missing", binding)
    )
    policy = fix_for("iam-policy-denies-secret", binding)
    # The ARN that survives re-creation of the secret, not the exact one.
    assert "arn:aws:secretsmanager:us-west-2:287796791794:secret:dcp-db-password-??????" in policy
    assert fix_for("region-mismatch", binding) == (
        "Set region: us-west-2 in the SecretProviderClass shop/api-secrets."
    )


def test_pod_identity_clusters_get_the_association(binding):
    binding.cluster.identity_mode = "pod_identity"
    fix = fix_for("irsa-role-not-associated", binding)
    assert 'usePodIdentity: "true"' in fix
    assert (
        "aws eks create-pod-identity-association --cluster-name janus-dev --namespace shop "
        f"--service-account api-sa --role-arn {ROLE}"
    ) in fix


def test_an_unregistered_issuer_is_said_in_words(binding):
    binding.cluster.oidc_issuer = ""
    assert "not registered in the portal" in fix_for("irsa-trust-denied", binding)


def test_the_binding_page_shows_the_fix_with_its_values(web, fake, kube_cluster):
    generated, bindings = load_cluster(
        fake, kube_cluster, pods=10, bindings=1, mix=["wrong_annotation"], seed=5
    )
    sweep_cluster(kube_cluster.pk)
    wrong = bindings[generated.targets[0].id]
    page = web.get(wrong.get_absolute_url()).content.decode()
    assert "ServiceAccount annotated with another role" in page
    expected = (
        f"Set eks.amazonaws.com/role-arn on {wrong.namespace}/{wrong.service_account} "
        f"to {wrong.role_arn}"
    )
    assert escape(expected) in page
    assert STATIC["sa-annotation-mismatch"].fix not in page  # not the general words
