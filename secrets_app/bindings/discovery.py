"""Import discovery: what a cluster holds that looks like a binding the portal
could adopt (made by hand, before the portal or beside it).

Read-only. Three cluster-wide paginated LISTs: SecretProviderClasses, pods
and ServiceAccounts (metadata only). The cost is fixed by the cluster's size,
never by the number of candidates: requests = sum over the three kinds of
max(1, ceil(n / page_size)). Deployments are not listed: a pod already says
which ServiceAccount runs it and which class it mounts, and its owner
reference names the workload, read exactly as the health sweep reads it.

Everything read is untrusted (see ``import_classes``). The joining and the
proposal are pure (records in, records out), so tests feed them hostile
input without a cluster.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from secrets_app.bindings.import_classes import (
    ClassRecord,
    Defaults,
    is_label,
    is_subdomain,
    read_class,
    shown,
)
from secrets_app.health import wire
from secrets_app.health.collector import ROLE_ANNOTATION, PodInfo
from secrets_app.health.collector import _pod_info as pod_info
from secrets_app.integrations.kube import (
    DEFAULT_PAGE_SIZE,
    PODS,
    SERVICE_ACCOUNTS,
    SPCS,
    KubeClient,
)
from secrets_app.rendering.name_rules import (
    IAM_ROLE_ARN,
    MAX_LABEL,
    MAX_SUBDOMAIN,
    SERVICE_ACCOUNT_SUFFIX,
)

__all__ = ["Defaults", "Discovery", "Found", "Proposal", "discover", "join", "propose"]

MAX_CLASSES = 20
MAX_WORKLOADS = 50
MAX_ROLE_ARN = 2048
MAX_KIND = 16
PORTAL_WORKLOAD_KINDS = ("Deployment", "StatefulSet")
ROLE_ARN = IAM_ROLE_ARN


@dataclass(slots=True)
class Found:
    """One place (namespace, ServiceAccount) worth proposing as a binding."""

    namespace: str
    service_account: str
    role_arn: str
    service: str
    classes: list[dict[str, Any]]
    workloads: list[dict[str, Any]]


@dataclass(slots=True)
class Proposal:
    """The binding a candidate would become, and what stands in the way."""

    service: str
    secret_provider_class: str = ""
    workload_kind: str = ""
    workload_name: str = ""
    secrets: list[dict[str, Any]] = field(default_factory=list)
    synced_secret_names: list[str] = field(default_factory=list)
    blocking: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def adoptable(self) -> bool:
        return not self.blocking


@dataclass(slots=True)
class Discovery:
    found: list[Found]
    requests: int
    seen: dict[str, int]


# -- joining --------------------------------------------------------------------


def join(
    pods: Iterable[PodInfo],
    classes: Mapping[tuple[str, str], ClassRecord],
    service_accounts: Mapping[tuple[str, str], str],
) -> list[Found]:
    """Places that use AWS classes, sorted by (namespace, ServiceAccount).

    A place is a ServiceAccount whose pods mount an AWS class of their
    namespace; or, when no pod runs (a workload scaled to zero), a
    ServiceAccount with a role annotation beside an AWS class of the same
    name, the guide's convention. ``service_accounts`` maps (namespace,
    name) to the role annotation, "" when absent.
    """
    usage: dict[tuple[str, str], dict[tuple[str, str, str], int]] = {}
    for pod in pods:
        for _volume, spc in pod.volumes:
            if (pod.namespace, spc) not in classes:
                continue
            kind, name = (pod.workload_kind, pod.workload) if pod.workload else ("Pod", pod.name)
            mounts = usage.setdefault((pod.namespace, pod.service_account), {})
            key = (kind[:MAX_KIND], name[:MAX_SUBDOMAIN], spc)
            mounts[key] = mounts.get(key, 0) + 1
    for place, role in service_accounts.items():
        if role and place in classes:
            usage.setdefault(place, {})
    found = []
    for (namespace, account), mounts in sorted(usage.items()):
        if not is_label(namespace) or not is_subdomain(account):
            continue
        names = sorted({spc for _, _, spc in mounts} or {account})
        workloads = [
            {"kind": kind, "name": name, "secret_provider_class": spc, "pods": count}
            for (kind, name, spc), count in sorted(mounts.items())
        ]
        record = Found(
            namespace=namespace,
            service_account=account,
            role_arn=service_accounts.get((namespace, account), "")[:MAX_ROLE_ARN],
            service="",
            classes=[classes[(namespace, n)].as_json() for n in names[:MAX_CLASSES]],
            workloads=workloads[:MAX_WORKLOADS],
        )
        record.service = propose(
            record.service_account, record.role_arn, record.classes, record.workloads
        ).service
        found.append(record)
    return found


def guess_service(workload_name: str, service_account: str) -> str:
    """The workload's name, else the ServiceAccount's without the guide's
    ``-secrets`` suffix; a DNS-1123 label either way."""
    for name in (workload_name, service_account.removesuffix(SERVICE_ACCOUNT_SUFFIX)):
        if is_label(name):
            return name
    return service_account[:MAX_LABEL].rstrip("-.") or "imported"


def propose(
    service_account: str,
    role_arn: str,
    classes: list[dict[str, Any]],
    workloads: list[dict[str, Any]],
) -> Proposal:
    """What adopting a candidate records, from what discovery stored."""
    classes = [c for c in classes if isinstance(c, dict) and c.get("name")]
    if not classes:
        return Proposal(
            service=guess_service("", service_account),
            blocking=["No SecretProviderClass of the AWS provider goes with it."],
        )
    names = [c["name"] for c in classes]
    primary = next((c for c in classes if c["name"] == service_account), classes[0])
    spc = primary["name"]
    mounting = [w for w in workloads if w.get("secret_provider_class") == spc]
    workload = mounting[0] if mounting else None
    proposal = Proposal(
        service=guess_service(workload["name"] if workload else "", service_account)
    )
    proposal.secret_provider_class = spc
    proposal.secrets = [dict(o) for o in primary.get("objects") or ()]
    proposal.synced_secret_names = list(primary.get("synced_secrets") or ())
    blocking, warnings = proposal.blocking, proposal.warnings
    if role_arn:
        if not ROLE_ARN.match(role_arn):
            blocking.append(
                f"The ServiceAccount's {ROLE_ANNOTATION} annotation is not an IAM role ARN: "
                f"{shown(role_arn)}"
            )
    elif not primary.get("use_pod_identity"):
        blocking.append(
            f"The ServiceAccount has no {ROLE_ANNOTATION} annotation and the class does not "
            "use Pod Identity: pods cannot mount it. Fix it in the cluster, then discover again."
        )
    if not proposal.secrets:
        blocking.append(f"The class {spc} names no Secrets Manager secret that could be read.")
    if len(names) > 1:
        others = ", ".join(n for n in names if n != spc)
        warnings.append(f"It also mounts {others}; the binding records {spc} only.")
    if workload is None:
        proposal.workload_kind, proposal.workload_name = "Deployment", proposal.service
        warnings.append(
            f"No running pod mounts {spc}: the workload is guessed as "
            f"Deployment {proposal.service}."
        )
    else:
        proposal.workload_kind, proposal.workload_name = workload["kind"], workload["name"]
        if workload["kind"] not in PORTAL_WORKLOAD_KINDS:
            warnings.append(
                f"The workload is a {shown(workload['kind'])}; the portal renders "
                "Deployments and StatefulSets only."
            )
        if len(mounting) > 1:
            others = ", ".join(shown(w["name"]) for w in mounting[1:])
            warnings.append(f"Other workloads mount {spc} too ({others}); the binding records one.")
    return proposal


# -- reading the cluster --------------------------------------------------------


def discover(
    client: KubeClient, defaults: Defaults, *, page_size: int = DEFAULT_PAGE_SIZE
) -> Discovery:
    """List the cluster and join it. Raises ``RetryableError`` or
    ``PermanentError`` when the cluster cannot be read."""
    before = client.requests
    seen = {"secretproviderclasses": 0, "pods": 0, "serviceaccounts": 0}
    classes: dict[tuple[str, str], ClassRecord] = {}
    # Classes as plain dicts: their parameters are whatever someone wrote.
    for page in client.list_pages(SPCS, page_size=page_size):
        seen["secretproviderclasses"] += len(page)
        for item in page:
            record = read_class(item, defaults)
            if record is not None:
                classes[(record.namespace, record.name)] = record
    pods: list[PodInfo] = []
    for page in client.list_pages(PODS, page_size=page_size, item_type=wire.Pod):
        seen["pods"] += len(page)
        for item in page:
            info = pod_info(item)
            if info is not None and any((info.namespace, c) in classes for _, c in info.volumes):
                pods.append(info)
    accounts: dict[tuple[str, str], str] = {}
    sa_pages = client.list_pages(
        SERVICE_ACCOUNTS, page_size=page_size, item_type=wire.PartialObject, metadata_only=True
    )
    for page in sa_pages:
        seen["serviceaccounts"] += len(page)
        for item in page:
            meta = item.metadata
            accounts[(meta.namespace, meta.name)] = (meta.annotations or {}).get(
                ROLE_ANNOTATION, ""
            )
    return Discovery(join(pods, classes, accounts), client.requests - before, seen)
