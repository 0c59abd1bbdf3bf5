"""Single sign-on routes. mozilla-django-oidc's views know nothing of
Django's LoginRequiredMiddleware, so they are marked public here; and they
answer 404 unless OIDC_ENABLED, so the routes can always be present."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.urls import path
from mozilla_django_oidc import views as oidc_views


def _when_enabled(view):
    @login_not_required
    def wrapped(request, *args, **kwargs):
        if not settings.OIDC_ENABLED:
            raise Http404("Single sign-on is not enabled.")
        return view(request, *args, **kwargs)

    return wrapped


urlpatterns = [
    path(
        "authenticate/",
        _when_enabled(oidc_views.OIDCAuthenticationRequestView.as_view()),
        name="oidc_authentication_init",
    ),
    path(
        "callback/",
        _when_enabled(oidc_views.OIDCAuthenticationCallbackView.as_view()),
        name="oidc_authentication_callback",
    ),
    path("logout/", _when_enabled(oidc_views.OIDCLogoutView.as_view()), name="oidc_logout"),
]
