from .decisions import CommentForm, RejectForm
from .requests import AccessRequestForm, SecretGrantFormSet, active_cluster_from

__all__ = [
    "AccessRequestForm",
    "CommentForm",
    "RejectForm",
    "SecretGrantFormSet",
    "active_cluster_from",
]
