"""Binding specs from the portal's records: one dictionary in the JSON form
the renderer reads (the same form ``render_binding`` takes from a file), so
that the portal, the command and the tests share one path."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from secrets_app.models import AccessRequest, Cluster
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


def secret_spec(grant: Mapping[str, Any]) -> dict[str, Any]:
    """One secret's filed fields (``SecretGrant.FILED_FIELDS``) in the spec's form."""
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
    fields: Mapping[str, Any],
    secrets: Sequence[Mapping[str, Any]],
    *,
    cluster: Mapping[str, Any] | Cluster,
    request_id: int | None = None,
    requester: str | None = None,
) -> dict[str, Any]:
    """The spec of a request's binding fields (``AccessRequest.BINDING_FIELDS``)
    and secrets; ``cluster`` is a Cluster or the spec's own cluster object."""
    data: dict[str, Any] = {
        "cluster": cluster_spec(cluster) if isinstance(cluster, Cluster) else dict(cluster),
        "service": fields["service"],
        "namespace": fields["namespace"],
        "workload": {
            "kind": fields["workload_kind"],
            "name": fields["workload_name"],
            "containers": list(fields["containers"]),
        },
        "service_account": fields["service_account"],
        "mount_path": fields["mount_path"],
        "secrets": [secret_spec(s) for s in secrets],
    }
    if fields.get("role_name"):
        data["role_name"] = fields["role_name"]
    if fields.get("restart_on_change"):
        data["workload"]["restart_on_change"] = True
    for affix in ("name_prefix", "name_suffix"):
        if fields.get(affix):
            data[affix] = fields[affix]
    if request_id is not None or requester:
        data["request"] = {"id": request_id, "requester": requester}
    return data


def spec_data_for_request(request: AccessRequest) -> dict[str, Any]:
    return spec_data(
        request.filed(AccessRequest.BINDING_FIELDS),
        [g.filed() for g in request.secrets.all()],
        cluster=request.cluster,
        request_id=request.pk,
        requester=request.requester.get_username(),
    )


def spec_for_request(request: AccessRequest) -> BindingSpec:
    """The validated spec of a saved request (raises SpecInvalid)."""
    return BindingSpec.from_dict(spec_data_for_request(request))
