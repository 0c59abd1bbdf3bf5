"""The parts of Kubernetes objects the sweep reads, as msgspec Structs.

Only the declared fields are built; everything else in a 2 KB pod is skipped
by the decoder, which keeps a 20k-pod sweep fast and its memory small.
Defaults everywhere: the API omits empty fields.
"""

from __future__ import annotations

import msgspec


class _S(msgspec.Struct, frozen=True, gc=False):
    """Base: immutable, and untracked by the cyclic GC (no cycles possible), so
    that decoding tens of thousands of objects does not trigger full GC passes."""


class OwnerRef(_S):
    kind: str = ""
    name: str = ""
    controller: bool = False


class Meta(_S):
    name: str = ""
    namespace: str = ""
    uid: str = ""
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    ownerReferences: tuple[OwnerRef, ...] = ()
    deletionTimestamp: str | None = None
    creationTimestamp: str | None = None


class Csi(_S):
    driver: str = ""
    volumeAttributes: dict[str, str] | None = None


class Volume(_S):
    name: str = ""
    csi: Csi | None = None


class PodSpec(_S):
    serviceAccountName: str = ""
    nodeName: str = ""
    volumes: tuple[Volume, ...] = ()


class PodStatus(_S):
    phase: str = ""


class Pod(_S):
    metadata: Meta = Meta()
    spec: PodSpec = PodSpec()
    status: PodStatus = PodStatus()


class ObjectVersion(_S):
    id: str = ""
    version: str = ""


class SpcPodStatusStatus(_S):
    mounted: bool = False
    podName: str = ""
    secretProviderClassName: str = ""
    objects: tuple[ObjectVersion, ...] = ()


class SpcPodStatus(_S):
    metadata: Meta = Meta()
    status: SpcPodStatusStatus = SpcPodStatusStatus()


class SpcSpec(_S):
    provider: str = ""
    parameters: dict[str, str] | None = None


class Spc(_S):
    metadata: Meta = Meta()
    spec: SpcSpec = SpcSpec()


class ObjectRef(_S):
    kind: str = ""
    namespace: str = ""
    name: str = ""
    uid: str = ""


class Event(_S):
    metadata: Meta = Meta()
    involvedObject: ObjectRef = ObjectRef()
    reason: str = ""
    message: str = ""
    count: int | None = None
    lastTimestamp: str | None = None
    eventTime: str | None = None


class PartialObject(_S):
    """ServiceAccounts and metadata-only Secrets: metadata is all we read."""

    metadata: Meta = Meta()


# -- cluster readiness (health/readiness.py) ---------------------------------


class Container(_S):
    name: str = ""
    image: str = ""
    args: tuple[str, ...] = ()


class TemplateSpec(_S):
    containers: tuple[Container, ...] = ()


class PodTemplate(_S):
    spec: TemplateSpec = TemplateSpec()


class DaemonSetSpec(_S):
    template: PodTemplate = PodTemplate()


class DaemonSetStatus(_S):
    desiredNumberScheduled: int = 0
    numberReady: int = 0


class DaemonSet(_S):
    metadata: Meta = Meta()
    spec: DaemonSetSpec = DaemonSetSpec()
    status: DaemonSetStatus = DaemonSetStatus()


class TokenRequest(_S):
    audience: str = ""


class CsiDriverSpec(_S):
    tokenRequests: tuple[TokenRequest, ...] | None = None


class CsiDriver(_S):
    metadata: Meta = Meta()
    spec: CsiDriverSpec = CsiDriverSpec()


class PolicyRule(_S):
    apiGroups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ()


class ClusterRole(_S):
    metadata: Meta = Meta()
    rules: tuple[PolicyRule, ...] | None = None
