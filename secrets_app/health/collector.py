"""One sweep of one cluster: cluster-wide paginated LIST calls, reduced to a snapshot.

The cost is fixed by the cluster's size, not by the number of bindings:
requests = sum over kinds of ceil(n / page_size), an empty kind costing one.
The kinds: pods, SecretProviderClassPodStatuses, SecretProviderClasses,
ServiceAccounts, events (one series per reason), managed Secrets and
namespaces; then, for cluster readiness (``readiness.py``), a fixed few more:
DaemonSets in the driver's namespace (and kube-system, the Pod Identity
agent's, when that differs), CSIDrivers, ClusterRoles and the Reloader
Deployments (metadata, by label). Each page is reduced to small records as soon as it arrives, so
memory is bounded by one page of JSON plus the compact snapshot.
Secrets are listed as metadata only: the portal never downloads secret data.

Namespace ownership rides along: every namespace is listed (metadata only)
for its team label, and each workload's active pods say which
ServiceAccounts it runs as today (``teams.record_namespaces`` stores both).
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import msgspec

from secrets_app.health import wire
from secrets_app.integrations.errors import PermanentError
from secrets_app.integrations.kube import (
    CLUSTER_ROLES,
    CSI_DRIVERS,
    DAEMONSETS,
    DEFAULT_PAGE_SIZE,
    DEPLOYMENTS,
    EVENTS,
    NAMESPACES,
    PODS,
    SECRETS,
    SERVICE_ACCOUNTS,
    SPC_POD_STATUSES,
    SPCS,
    KubeClient,
)

CSI_DRIVER = "secrets-store.csi.k8s.io"
MANAGED_SELECTOR = "secrets-store.csi.k8s.io/managed=true"
ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"
#: Event reasons the sweep lists, one request series per reason.
DEFAULT_EVENT_REASONS: tuple[str, ...] = ("FailedMount", "FailedToCreateSecret")
#: The namespace label naming the owning team (the portal's PORTAL_NAMESPACE_TEAM_LABEL).
DEFAULT_TEAM_LABEL = "team"
DEFAULT_DRIVER_NAMESPACE = "kube-system"
#: Where EKS runs the Pod Identity agent (an add-on: always kube-system).
AGENT_NAMESPACE = "kube-system"
#: Stakater Reloader's chart labels its Deployment ``app: reloader``.
DEFAULT_RELOADER_SELECTOR = "app=reloader"
SYNC_FAILURE_REASON = "FailedToCreateSecret"
_INACTIVE_PHASES = frozenset({"Succeeded", "Failed"})
#: Names kept per workload of pods without a secrets-store volume (drift shows a few).
MAX_PLAIN_POD_NAMES = 5
_VOLUME_IN_MESSAGE = re.compile(r'for volume "([^"]+)"')
_intern = sys.intern

# Snapshot records are msgspec Structs with gc=False: tens of thousands of them
# would otherwise make every GC pass during the sweep walk the whole snapshot.


class PodInfo(msgspec.Struct, frozen=True, gc=False):
    namespace: str
    name: str
    uid: str
    service_account: str
    phase: str
    active: bool  # not terminated and not being deleted
    # (volume name, volumeAttributes.secretProviderClass) of each secrets-store CSI volume
    volumes: tuple[tuple[str, str], ...]
    # Guessed from the controller ownerReference (ReplicaSet -> Deployment); extra
    # information only: pods belong to a binding because they mount its class.
    workload_kind: str
    workload: str
    node: str = ""  # spec.nodeName; "" until scheduled


class MountStatus(msgspec.Struct, frozen=True, gc=False):
    mounted: bool
    objects: tuple[tuple[str, str], ...]  # (id, version)


class ClassInfo(msgspec.Struct, frozen=True, gc=False):
    use_pod_identity: bool
    # For drift: the provider and the raw ``objects`` parameter (a YAML string),
    # parsed later and only for the classes a binding names.
    provider: str = ""
    objects: str = ""


class PlainPods(msgspec.Struct, gc=False):
    """Active pods of one workload that mount no secrets-store volume at all:
    a count and a few names, enough for drift to say the volume is missing."""

    count: int = 0
    names: list[tuple[str, str]] = msgspec.field(default_factory=list)  # (pod, ServiceAccount)


class DaemonSetInfo(msgspec.Struct, frozen=True, gc=False):
    namespace: str
    name: str
    desired: int  # status.desiredNumberScheduled
    ready: int  # status.numberReady
    # (name, image, args) per container: which component it is, and its flags
    containers: tuple[tuple[str, str, tuple[str, ...]], ...]


class EventInfo(msgspec.Struct, frozen=True, gc=False):
    reason: str
    message: str
    timestamp: str  # RFC 3339; compares correctly as a string
    pod_uid: str
    volume: str  # from 'for volume "<vol>"' in the message, "" if absent
    count: int


@dataclass(slots=True)
class ClusterSnapshot:
    pods_by_class: dict[tuple[str, str], list[PodInfo]] = field(default_factory=dict)
    pods_by_workload: dict[tuple[str, str], list[PodInfo]] = field(default_factory=dict)
    # (namespace, workload) -> its active pods without a secrets-store volume
    plain_pods_by_workload: dict[tuple[str, str], PlainPods] = field(default_factory=dict)
    mounts: dict[tuple[str, str, str], MountStatus] = field(default_factory=dict)
    classes: dict[tuple[str, str], ClassInfo] = field(default_factory=dict)
    # (namespace, name) -> role-arn annotation ("" when absent)
    service_accounts: dict[tuple[str, str], str] = field(default_factory=dict)
    # namespace -> its ServiceAccounts' names (to spot one the build renamed)
    accounts_by_namespace: dict[str, list[str]] = field(default_factory=dict)
    # (namespace, pod) -> latest event per (reason, volume)
    events: dict[tuple[str, str], list[EventInfo]] = field(default_factory=dict)
    synced_secrets: set[tuple[str, str]] = field(default_factory=set)
    # namespace -> the value of its team label ("" when unlabelled), every namespace
    namespace_labels: dict[str, str] = field(default_factory=dict)
    # namespace -> "<Kind>/<workload>" -> ServiceAccounts its active pods run as
    workload_accounts: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    # -- readiness: what is installed (``readiness.py`` judges it)
    daemonsets: list[DaemonSetInfo] = field(default_factory=list)
    # (namespace, DaemonSet) -> nodes its running pods are on (from the pod list)
    daemon_nodes: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    # CSIDriver name -> the audiences of its spec.tokenRequests
    csi_drivers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # ClusterRoles granting create and patch on core Secrets (sync needs them)
    secret_writer_roles: set[str] = field(default_factory=set)
    # "<namespace>/<name>" of Deployments matching the Reloader selector
    reloaders: list[str] = field(default_factory=list)
    # What readiness could not list (e.g. 403: the ClusterRole predates it)
    readiness_errors: list[str] = field(default_factory=list)
    requests: int = 0
    items_seen: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def sweep(
    client: KubeClient,
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    event_reasons: tuple[str, ...] = DEFAULT_EVENT_REASONS,
    team_label: str = DEFAULT_TEAM_LABEL,
    driver_namespace: str = DEFAULT_DRIVER_NAMESPACE,
    reloader_selector: str = DEFAULT_RELOADER_SELECTOR,
) -> ClusterSnapshot:
    """List everything mount health needs from one cluster.

    Raises ``RetryableError`` when the cluster cannot be read (the caller keeps
    its last snapshot and marks it stale) and ``PermanentError`` on e.g. 403.
    """
    started = time.perf_counter()
    before = client.requests
    snap = ClusterSnapshot()
    seen = snap.items_seen

    def pages(kind: str, resource, item_type, **kw: Any):
        seen.setdefault(kind, 0)
        for page in client.list_pages(resource, page_size=page_size, item_type=item_type, **kw):
            seen[kind] += len(page)
            yield page

    # The driver's namespace first: its DaemonSet is the one whose nodes count.
    system_namespaces = tuple(dict.fromkeys((driver_namespace, AGENT_NAMESPACE)))
    pod_keys: set[tuple[str, str]] = set()
    for page in pages("pods", PODS, wire.Pod):
        for item in page:
            pod = _pod_info(item)
            if pod is None:
                if item.metadata.namespace in system_namespaces:
                    _add_daemon_node(snap, item)
                _add_plain_pod(snap, item)
                continue
            pod_keys.add((pod.namespace, pod.name))
            if pod.active and pod.workload:
                _add_account(
                    snap, pod.namespace, pod.workload_kind, pod.workload, pod.service_account
                )
            for spc in {c for _, c in pod.volumes}:
                snap.pods_by_class.setdefault((pod.namespace, spc), []).append(pod)
            if pod.workload:
                snap.pods_by_workload.setdefault((pod.namespace, pod.workload), []).append(pod)

    for page in pages("secretproviderclasspodstatuses", SPC_POD_STATUSES, wire.SpcPodStatus):
        for item in page:
            st = item.status
            key = (_intern(item.metadata.namespace), st.podName, st.secretProviderClassName)
            objects = tuple((o.id, o.version) for o in st.objects)
            snap.mounts[key] = MountStatus(st.mounted, objects)

    for page in pages("secretproviderclasses", SPCS, wire.Spc):
        for item in page:
            params = item.spec.parameters or {}
            use_pi = params.get("usePodIdentity", "").lower() == "true"
            info = ClassInfo(use_pi, _intern(item.spec.provider), params.get("objects", ""))
            snap.classes[(_intern(item.metadata.namespace), item.metadata.name)] = info

    for page in pages("serviceaccounts", SERVICE_ACCOUNTS, wire.PartialObject):
        for item in page:
            meta = item.metadata
            role = (meta.annotations or {}).get(ROLE_ANNOTATION, "")
            namespace = _intern(meta.namespace)
            snap.service_accounts[(namespace, meta.name)] = role
            snap.accounts_by_namespace.setdefault(namespace, []).append(meta.name)

    for reason in event_reasons:
        selector = f"reason={reason}"
        for page in pages(f"events:{reason}", EVENTS, wire.Event, field_selector=selector):
            for item in page:
                _add_event(snap, pod_keys, item)

    secrets = pages(
        "secrets", SECRETS, wire.PartialObject, label_selector=MANAGED_SELECTOR, metadata_only=True
    )
    for page in secrets:
        for item in page:
            snap.synced_secrets.add((_intern(item.metadata.namespace), item.metadata.name))

    # Every namespace, not only the labelled ones (a labelSelector): a label
    # removed since the last sweep must clear the owner it gave, and the
    # admin gets a row for each namespace to set an owner on. Namespaces
    # are few (one page of 500 covers most clusters) and metadata is small.
    for page in pages("namespaces", NAMESPACES, wire.PartialObject, metadata_only=True):
        for item in page:
            meta = item.metadata
            snap.namespace_labels[_intern(meta.name)] = (meta.labels or {}).get(team_label, "")

    _readiness_lists(snap, pages, system_namespaces, reloader_selector)
    snap.requests = client.requests - before
    snap.seconds = time.perf_counter() - started
    return snap


def _pod_info(item: wire.Pod) -> PodInfo | None:
    volumes = [
        (vol.name, _intern((vol.csi.volumeAttributes or {}).get("secretProviderClass", "")))
        for vol in item.spec.volumes
        if vol.csi is not None and vol.csi.driver == CSI_DRIVER
    ]
    if not volumes:
        return None
    meta = item.metadata
    phase = item.status.phase
    kind, workload = _workload(meta)
    return PodInfo(
        namespace=_intern(meta.namespace),
        name=meta.name,
        uid=meta.uid,
        service_account=_intern(item.spec.serviceAccountName or "default"),
        phase=_intern(phase),
        active=phase not in _INACTIVE_PHASES and not meta.deletionTimestamp,
        volumes=tuple(volumes),
        workload_kind=kind,
        workload=workload,
        node=_intern(item.spec.nodeName),
    )


def _readiness_lists(snap: ClusterSnapshot, pages, namespaces, reloader_selector: str) -> None:
    """What the cluster has installed for bindings to work: a fixed number of
    LISTs (one per system namespace, CSIDrivers, ClusterRoles, Reloader),
    whatever the number of bindings. A refusal (a ClusterRole applied before
    these grants existed) leaves readiness unknown, not the mount health the
    rest of the sweep read."""
    try:
        _list_readiness(snap, pages, namespaces, reloader_selector)
    except PermanentError as error:
        snap.readiness_errors.append(str(error))


def _list_readiness(snap: ClusterSnapshot, pages, namespaces, reloader_selector: str) -> None:
    for namespace in namespaces:
        daemonsets = pages(
            f"daemonsets:{namespace}", DAEMONSETS, wire.DaemonSet, namespace=namespace
        )
        for page in daemonsets:
            for item in page:
                containers = tuple(
                    (c.name, c.image, c.args) for c in item.spec.template.spec.containers
                )
                snap.daemonsets.append(
                    DaemonSetInfo(
                        namespace=item.metadata.namespace or namespace,
                        name=item.metadata.name,
                        desired=item.status.desiredNumberScheduled,
                        ready=item.status.numberReady,
                        containers=containers,
                    )
                )
    for page in pages("csidrivers", CSI_DRIVERS, wire.CsiDriver):
        for item in page:
            audiences = tuple(t.audience for t in item.spec.tokenRequests or ())
            snap.csi_drivers[item.metadata.name] = audiences
    for page in pages("clusterroles", CLUSTER_ROLES, wire.ClusterRole):
        for item in page:
            if _writes_secrets(item.rules or ()):
                snap.secret_writer_roles.add(item.metadata.name)
    reloaders = pages(
        "reloader",
        DEPLOYMENTS,
        wire.PartialObject,
        label_selector=reloader_selector,
        metadata_only=True,
    )
    for page in reloaders:
        snap.reloaders += [f"{i.metadata.namespace}/{i.metadata.name}" for i in page]


def _writes_secrets(rules) -> bool:
    """Whether the rules let their holder create and patch core Secrets (what
    the driver needs to sync a SecretProviderClass's secretObjects)."""
    verbs: set[str] = set()
    for rule in rules:
        if "" in rule.apiGroups and ("secrets" in rule.resources or "*" in rule.resources):
            verbs.update(rule.verbs)
    return "*" in verbs or {"create", "patch"} <= verbs


def _add_daemon_node(snap: ClusterSnapshot, item: wire.Pod) -> None:
    """A running DaemonSet pod in a system namespace: its node has that component."""
    meta = item.metadata
    if item.status.phase != "Running" or not item.spec.nodeName:
        return
    owner = next((o for o in meta.ownerReferences if o.kind == "DaemonSet"), None)
    if owner is not None:
        key = (meta.namespace, owner.name)
        snap.daemon_nodes.setdefault(key, set()).add(item.spec.nodeName)


def _add_plain_pod(snap: ClusterSnapshot, item: wire.Pod) -> None:
    meta = item.metadata
    if item.status.phase in _INACTIVE_PHASES or meta.deletionTimestamp:
        return
    kind, workload = _workload(meta)
    if not workload:
        return
    account = _intern(item.spec.serviceAccountName or "default")
    _add_account(snap, meta.namespace, kind, workload, account)
    plain = snap.plain_pods_by_workload.get((meta.namespace, workload))
    if plain is None:
        plain = snap.plain_pods_by_workload[(_intern(meta.namespace), workload)] = PlainPods()
    plain.count += 1
    if len(plain.names) < MAX_PLAIN_POD_NAMES:
        plain.names.append((meta.name, account))


def _add_account(snap: ClusterSnapshot, ns: str, kind: str, workload: str, account: str) -> None:
    """Record that an active pod of ``kind``/``workload`` runs as ``account``
    (the filing warns when a patch would change it)."""
    workloads = snap.workload_accounts.get(ns)
    if workloads is None:
        workloads = snap.workload_accounts[_intern(ns)] = {}
    key = f"{kind}/{workload}"
    accounts = workloads.get(key)
    if accounts is None:
        accounts = workloads[key] = set()
    accounts.add(account)


def _workload(meta: wire.Meta) -> tuple[str, str]:
    owners = meta.ownerReferences
    owner = next((o for o in owners if o.controller), owners[0] if owners else None)
    if owner is None:
        return "", ""
    if owner.kind == "ReplicaSet":
        # Deployment pods: ReplicaSet "<deployment>-<pod-template-hash>".
        hash_ = (meta.labels or {}).get("pod-template-hash")
        if hash_ and owner.name.endswith("-" + hash_):
            return "Deployment", _intern(owner.name[: -len(hash_) - 1])
        return "Deployment", _intern(owner.name.rsplit("-", 1)[0])
    return _intern(owner.kind), _intern(owner.name)


def _add_event(snap: ClusterSnapshot, pod_keys: set[tuple[str, str]], item: wire.Event) -> None:
    involved = item.involvedObject
    if involved.kind != "Pod":
        return
    key = (involved.namespace or item.metadata.namespace, involved.name)
    if key not in pod_keys:
        return  # a pod without a secrets-store volume, or gone
    found = _VOLUME_IN_MESSAGE.search(item.message)
    event = EventInfo(
        reason=_intern(item.reason),
        message=item.message,
        timestamp=item.lastTimestamp or item.eventTime or item.metadata.creationTimestamp or "",
        pod_uid=involved.uid,
        volume=found.group(1) if found else "",
        count=item.count or 1,
    )
    bucket = snap.events.setdefault(key, [])
    for i, old in enumerate(bucket):
        if old.reason == event.reason and old.volume == event.volume:
            if event.timestamp >= old.timestamp:
                bucket[i] = event
            return
    bucket.append(event)
