"""The OpenAPI schema and its Swagger UI, served from the portal's own
static files (drf-spectacular-sidecar): the CSP allows only 'self'."""

from __future__ import annotations

from django.http import HttpResponse
from django.template import engines
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request

from secrets_app.api.base import portal_exception_handler

# The stock page carries an inline <style>, which the CSP blocks (and the
# browser reports); this one keeps the page as is without it. The init
# script is already a separate file (the "split" view, ?script).
_PAGE = engines["django"].from_string(
    """{% extends "drf_spectacular/swagger_ui.html" %}
{% block head %}<title>{{ title }}</title><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{% if favicon_href %}<link rel="icon" href="{{ favicon_href }}">{% endif %}
<link rel="stylesheet" href="{{ swagger_ui_css }}">{% endblock %}"""
)


class SchemaView(SpectacularAPIView):
    """The schema, for tokens and sessions alike (401 without either)."""

    permission_classes = [IsAuthenticated]

    def get_exception_handler(self):
        return portal_exception_handler


class DocsView(SpectacularSwaggerSplitView):
    """The Swagger UI page. A page for people: the login middleware sends
    anonymous visitors to the login form, and the UI then calls the API with
    the session."""

    permission_classes = [IsAuthenticated]

    @classmethod
    def as_view(cls, **initkwargs):
        view = super().as_view(**initkwargs)
        # Unlike the API, this is a page: anonymous visitors go to the login
        # form (LoginRequiredMiddleware) instead of getting a bare 401.
        view.login_required = True
        return view

    @extend_schema(exclude=True)
    def get(self, request: Request, *args, **kwargs) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        if request.GET.get("script") is not None:
            return response  # the init script, rendered by drf-spectacular
        return HttpResponse(_PAGE.render(response.data, request))
