from .audit import AuditEvent
from .clusters import Cluster, Environment, IdentityMode
from .requests import (
    AccessRequest,
    Comment,
    Decision,
    RequestState,
    SecretGrant,
    Verdict,
    WorkloadKind,
)

__all__ = [
    "AccessRequest",
    "AuditEvent",
    "Cluster",
    "Comment",
    "Decision",
    "Environment",
    "IdentityMode",
    "RequestState",
    "SecretGrant",
    "Verdict",
    "WorkloadKind",
]
