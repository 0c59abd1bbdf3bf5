"""Verification reads the Pod Identity trust policy's session-tag conditions:
the role kept to the binding's cluster, namespace and ServiceAccount (what
the renderer writes), left open to any association (a warning), or pinned
to another ServiceAccount (an error: the binding's pods are refused)."""

from __future__ import annotations

from typing import Any

from secrets_app.rendering import BindingSpec, trust_policy
from secrets_app.verification import has_errors, verify_binding
from tests.aws.aws_world import (
    ACCOUNT,
    CLUSTER,
    NAMESPACE,
    REGION,
    ROLE,
    SERVICE_ACCOUNT,
    build_guide_world,
    pod_identity_trust,
)

CLUSTER_ARN = f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{CLUSTER}"


def _scoped(service_account: str = SERVICE_ACCOUNT) -> dict[str, Any]:
    trust = pod_identity_trust()
    trust["Statement"][0]["Condition"] = {
        "StringEquals": {
            "aws:RequestTag/eks-cluster-arn": CLUSTER_ARN,
            "aws:RequestTag/kubernetes-namespace": NAMESPACE,
            "aws:RequestTag/kubernetes-service-account": service_account,
        }
    }
    return trust


def _scope(clients, adapter, trust):
    world = build_guide_world(clients, trust="pod_identity")
    world.set_trust(trust)
    findings = verify_binding(adapter, world.expected(identity="pod_identity"))
    (scope,) = [f for f in findings if f.code == "trust.pod_identity_scope"]
    return scope, findings


def test_the_rendered_trust_policy_is_scoped(clients, adapter):
    spec = BindingSpec.from_dict(
        {
            "cluster": {
                "name": CLUSTER,
                "account_id": ACCOUNT,
                "region": REGION,
                "identity": "pod_identity",
            },
            "service": "data-access-service",
            "namespace": NAMESPACE,
            "workload": {"name": "data-access-service", "containers": ["app"]},
            "service_account": SERVICE_ACCOUNT,
            "role_name": ROLE,
            "secrets": [{"arn": "dcp-db-password", "alias": "db"}],
        }
    )
    scope, findings = _scope(clients, adapter, trust_policy(spec))
    assert scope.ok, scope.message
    assert not has_errors(findings)


def test_a_trust_policy_without_conditions_is_a_warning(clients, adapter):
    scope, findings = _scope(clients, adapter, pod_identity_trust())
    assert (scope.ok, scope.severity) == (False, "warning")
    assert "aws:RequestTag/kubernetes-service-account" in scope.message
    assert "aws:RequestTag/kubernetes-service-account" in scope.fix
    assert not has_errors(findings)


def test_a_trust_policy_for_another_service_account_is_an_error(clients, adapter):
    scope, findings = _scope(clients, adapter, _scoped("someone-else"))
    assert (scope.ok, scope.severity) == (False, "error")
    assert "cannot assume the role" in scope.message
    assert has_errors(findings)
