from django.conf import settings

from secrets_app.accounts.roles import is_admin, is_approver


def roles(request):
    user = getattr(request, "user", None)
    sso = {"oidc_enabled": settings.OIDC_ENABLED}
    if user is None or not user.is_authenticated:
        return {"is_approver": False, "is_admin": False, **sso}
    return {"is_approver": is_approver(user), "is_admin": is_admin(user), **sso}
