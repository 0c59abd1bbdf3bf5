"""What a sweep still finds in the cluster of a binding being revoked.

A revocation's merged pull requests delete the files; the ServiceAccount,
the SecretProviderClass and the pods mounting it go only when the cluster
applies the deletion. The sweep already lists all three kinds, cluster-wide,
so this is a look-up in its snapshot: no request per binding.
"""

from __future__ import annotations

from secrets_app.health.collector import ClusterSnapshot
from secrets_app.health.types import BindingTarget

#: Pod names shown per binding; the count says how many more.
MAX_POD_NAMES = 3
# Finished pods hold no mount; one being deleted still does until it is gone.
_FINISHED = frozenset({"Succeeded", "Failed"})


def cluster_leftovers(snapshot: ClusterSnapshot, target: BindingTarget) -> list[dict[str, str]]:
    """``[{"where": "cluster", "what": ...}]`` for each of the binding's
    objects the snapshot still holds; ``[]`` when none is left."""
    ns = target.namespace
    found: list[dict[str, str]] = []
    if (ns, target.service_account) in snapshot.service_accounts:
        found.append(_cluster(f"ServiceAccount {ns}/{target.service_account}"))
    if (ns, target.secret_provider_class) in snapshot.classes:
        found.append(_cluster(f"SecretProviderClass {ns}/{target.secret_provider_class}"))
    pods = sorted(
        p.name
        for p in snapshot.pods_by_class.get((ns, target.secret_provider_class), ())
        if p.phase not in _FINISHED
    )
    if pods:
        names = ", ".join(pods[:MAX_POD_NAMES])
        more = f" and {len(pods) - MAX_POD_NAMES} more" if len(pods) > MAX_POD_NAMES else ""
        noun = "pod mounts" if len(pods) == 1 else "pods mount"
        found.append(_cluster(f"{len(pods)} {noun} its class: {names}{more}"))
    return found


def _cluster(what: str) -> dict[str, str]:
    return {"where": "cluster", "what": what}
