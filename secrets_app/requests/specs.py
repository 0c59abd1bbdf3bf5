"""Binding specs from the portal's records: one dictionary in the JSON form
the renderer reads (the same form ``render_binding`` takes from a file), so
that the portal, the command and the tests share one path."""

from __future__ import annotations

from typing import Any

from secrets_app.models import AccessRequest, Cluster, SecretGrant
from secrets_app.rendering import BindingSpec
from secrets_app.rendering.layout import DEFAULT_DEPLOY, DEFAULT_INFRA


def cluster_spec(cluster: Cluster) -> dict[str, Any]:
    return {
        "name": cluster.name,
        "account_id": cluster.aws_account_id,
        "region": cluster.region,
        "oidc_issuer": cluster.oidc_issuer or None,
        "identity": cluster.identity_mode,
        "layout": {
            "deploy": cluster.deploy_path_template or DEFAULT_DEPLOY,
            "infra": cluster.infra_path_template or DEFAULT_INFRA,
        },
    }


def secret_spec(grant: dict[str, Any]) -> dict[str, Any]:
    """One SecretGrant's fields (as a dict) in the spec's form."""
    spec: dict[str, Any] = {
        "arn": grant["secret"],
        "alias": grant["alias"],
        "any_suffix": bool(grant.get("any_suffix")),
        "jmes": [dict(e) for e in grant.get("jmes") or []],
        "kms_key_arn": grant.get("kms_key_arn") or None,
    }
    if grant.get("sync_secret_name"):
        spec["sync"] = {
            "secret_name": grant["sync_secret_name"],
            "type": grant.get("sync_secret_type") or "Opaque",
            "keys": [dict(k) for k in grant.get("sync_keys") or []],
        }
    return spec


def spec_data(
    *,
    cluster: Cluster,
    service: str,
    namespace: str,
    workload_kind: str,
    workload_name: str,
    containers: list[str],
    service_account: str,
    mount_path: str,
    secrets: list[dict[str, Any]],
    role_name: str = "",
    request_id: int | None = None,
    requester: str | None = None,
    **_ignored: Any,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "cluster": cluster_spec(cluster),
        "service": service,
        "namespace": namespace,
        "workload": {"kind": workload_kind, "name": workload_name, "containers": list(containers)},
        "service_account": service_account,
        "mount_path": mount_path,
        "secrets": [secret_spec(s) for s in secrets],
    }
    if role_name:
        data["role_name"] = role_name
    if request_id is not None or requester:
        data["request"] = {"id": request_id, "requester": requester}
    return data


def grant_fields(grant: SecretGrant) -> dict[str, Any]:
    """A saved SecretGrant as the dict ``secret_spec`` and ``request_create`` take."""
    return {
        "secret": grant.secret,
        "alias": grant.alias,
        "any_suffix": grant.any_suffix,
        "jmes": grant.jmes,
        "kms_key_arn": grant.kms_key_arn,
        "sync_secret_name": grant.sync_secret_name,
        "sync_secret_type": grant.sync_secret_type,
        "sync_keys": grant.sync_keys,
    }


def spec_data_for_request(request: AccessRequest) -> dict[str, Any]:
    grants = [grant_fields(g) for g in request.secrets.all()]
    return spec_data(
        cluster=request.cluster,
        service=request.service,
        namespace=request.namespace,
        workload_kind=request.workload_kind,
        workload_name=request.workload_name,
        containers=request.containers,
        service_account=request.service_account,
        mount_path=request.mount_path,
        role_name=request.role_name,
        secrets=grants,
        request_id=request.pk,
        requester=request.requester.get_username(),
    )


def spec_for_request(request: AccessRequest) -> BindingSpec:
    """The validated spec of a saved request (raises SpecInvalid)."""
    return BindingSpec.from_dict(spec_data_for_request(request))
