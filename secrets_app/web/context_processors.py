from django.conf import settings

from secrets_app.accounts.roles import is_admin, is_approver
from secrets_app.models import (
    BindingState,
    HealthStatus,
    PullRequestState,
    RequestKind,
    RequestState,
    TaskRun,
)

#: The enums templates compare states with, as the code does:
#: ``{% if req.state == RequestState.ACTIVE %}`` (Django never calls a
#: choices class in a template, so its members resolve to their values).
STATES = {
    "RequestState": RequestState,
    "RequestKind": RequestKind,
    "BindingState": BindingState,
    "PullRequestState": PullRequestState,
    "HealthStatus": HealthStatus,
    "TaskOutcome": TaskRun.Outcome,
}


def roles(request):
    user = getattr(request, "user", None)
    sso = {"oidc_enabled": settings.OIDC_ENABLED}
    if user is None or not user.is_authenticated:
        return {"is_approver": False, "is_admin": False, **sso}
    return {"is_approver": is_approver(user), "is_admin": is_admin(user), **sso}


def states(request):
    return STATES
