"""A warning, not a refusal: the request's workload patch sets the pods'
``serviceAccountName``, and the last health sweep saw the workload's pods
run as another ServiceAccount. Whatever that one gives them (its IAM role,
RBAC, image pull secrets) is gone once the patch is applied. The requester
may mean it (a workload that ran as ``default``), so it is said, not
refused."""

from __future__ import annotations

from secrets_app.models import Namespace
from secrets_app.rendering.name_rules import built_name
from secrets_app.requests.filing.draft import Draft


def replaced_account_warnings(draft: Draft) -> list[str]:
    """What the requester should know before the patch replaces the
    workload's ServiceAccount ([] when nothing is known or nothing changes)."""
    fields = draft.fields
    if draft.cluster is None or not fields["namespace"] or not fields["workload_name"]:
        return []
    seen = (
        Namespace.objects.filter(cluster=draft.cluster, name=fields["namespace"])
        .values_list("workload_accounts", flat=True)
        .first()
    )
    # The sweep saw the names the build gave (after namePrefix/nameSuffix).
    prefix, suffix = fields.get("name_prefix", ""), fields.get("name_suffix", "")
    workload = f"{fields['workload_kind']}/{built_name(prefix, fields['workload_name'], suffix)}"
    wanted = built_name(prefix, fields["service_account"], suffix)
    today = [a for a in (seen or {}).get(workload, []) if a != wanted]
    if not today:
        return []
    names = ", ".join(today)
    plural = "s" if len(today) > 1 else ""
    return [
        f"Pods of {workload} in {fields['namespace']} run as ServiceAccount{plural} {names} "
        f"today; this request's patch replaces it with {wanted}: whatever {names} "
        "gives them (other roles, RBAC, image pull secrets) is lost."
    ]
