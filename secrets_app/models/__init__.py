from .audit import AuditEvent
from .bindings import (
    Binding,
    BindingSecret,
    BindingSource,
    BindingState,
    ClusterSweep,
    HealthSnapshot,
    HealthStatus,
    PullRequest,
    PullRequestState,
    TaskRun,
    VerificationResult,
)
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
    "Binding",
    "BindingSecret",
    "BindingSource",
    "BindingState",
    "Cluster",
    "ClusterSweep",
    "Comment",
    "Decision",
    "Environment",
    "HealthSnapshot",
    "HealthStatus",
    "IdentityMode",
    "PullRequest",
    "PullRequestState",
    "RequestState",
    "SecretGrant",
    "TaskRun",
    "Verdict",
    "VerificationResult",
    "WorkloadKind",
]
