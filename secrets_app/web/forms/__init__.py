from .decisions import CommentForm, RejectForm
from .requests import AccessRequestForm, RequestPage, SecretGrantFormSet

__all__ = ["AccessRequestForm", "CommentForm", "RejectForm", "RequestPage", "SecretGrantFormSet"]
