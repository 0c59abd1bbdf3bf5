from .audit import AuditEvent
from .bindings import Binding, BindingSecret, BindingSource, BindingState
from .clusters import Cluster, Environment, IdentityMode
from .health import ClusterSweep, HealthSnapshot, HealthStatus
from .imports import ImportCandidate
from .notifications import Notification
from .ownership import Claim, ClaimKind, Namespace
from .pull_requests import PullRequest, PullRequestPurpose, PullRequestState, WebhookDelivery
from .requests import (
    AccessRequest,
    Comment,
    Decision,
    RequestKind,
    RequestState,
    SecretGrant,
    Verdict,
    WorkloadKind,
)
from .reviews import AccessReview, ReviewDecision, ReviewItem
from .task_runs import TaskRun
from .upgrades import Upgrade, UpgradeBinding
from .verification import VerificationResult

__all__ = [
    "AccessRequest",
    "AccessReview",
    "AuditEvent",
    "Binding",
    "BindingSecret",
    "BindingSource",
    "BindingState",
    "Claim",
    "ClaimKind",
    "Cluster",
    "ClusterSweep",
    "Comment",
    "Decision",
    "Environment",
    "HealthSnapshot",
    "HealthStatus",
    "IdentityMode",
    "ImportCandidate",
    "Namespace",
    "Notification",
    "PullRequest",
    "PullRequestPurpose",
    "PullRequestState",
    "RequestKind",
    "RequestState",
    "ReviewDecision",
    "ReviewItem",
    "SecretGrant",
    "TaskRun",
    "Upgrade",
    "UpgradeBinding",
    "Verdict",
    "VerificationResult",
    "WebhookDelivery",
    "WorkloadKind",
]
