"""A warning, not a refusal: the last health sweep of the chosen cluster
found something missing that this request needs (``health/readiness.py``).
The platform team may be installing it right now, and the request still
goes through review and pull requests; the requester should know before
filing that the mount will fail until it is there."""

from __future__ import annotations

from typing import Any

from secrets_app.health import readiness
from secrets_app.health.selectors import last_readiness
from secrets_app.models.clusters import IdentityMode
from secrets_app.requests.filing.draft import Draft


def cluster_readiness_warnings(draft: Draft) -> list[str]:
    """What the cluster lacks for this request ([] when it is ready, or when
    no sweep has judged it yet)."""
    if draft.cluster is None:
        return []
    checks = readiness.by_code(last_readiness(draft.cluster))
    if not checks:
        return []
    name = draft.cluster.name
    warnings = []

    def missing(code: str) -> dict[str, Any] | None:
        check = checks.get(code)
        return check if check is not None and not check.get("present", True) else None

    if found := missing(readiness.DRIVER):
        warnings.append(_say(name, "has no Secrets Store CSI driver", found))
    if any(s.sync_secret_name for s in draft.secrets) and (found := missing(readiness.SYNC)):
        warnings.append(_say(name, "cannot sync Secrets (the driver has no sync RBAC)", found))
    pod_identity = draft.cluster.identity_mode == IdentityMode.POD_IDENTITY
    if pod_identity and (found := missing(readiness.AGENT)):
        warnings.append(_say(name, "uses Pod Identity but runs no Pod Identity agent", found))
    if found := missing(readiness.TOKEN):
        warnings.append(_say(name, "has no CSIDriver token request for sts.amazonaws.com", found))
    if draft.fields.get("restart_on_change") and (found := missing(readiness.RELOADER)):
        warnings.append(_say(name, "runs no Stakater Reloader to restart pods", found))
    return warnings


def _say(cluster: str, what: str, check: dict[str, Any]) -> str:
    return (
        f"Cluster {cluster} {what}: this request will not work there until it is fixed. "
        f"{check.get('cause', '')} Fix: {check.get('fix', '')}"
    ).replace("  ", " ")
