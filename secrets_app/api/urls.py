"""Routes of the REST API, mounted under /api/ by portal/urls.py."""

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from secrets_app.api.audit import AuditViewSet
from secrets_app.api.base import NotFoundView
from secrets_app.api.docs import DocsView, SchemaView
from secrets_app.api.inventory import BindingViewSet, ClusterViewSet
from secrets_app.api.views import RequestViewSet

router = SimpleRouter(trailing_slash=True)
router.register("requests", RequestViewSet, basename="api-request")
router.register("bindings", BindingViewSet, basename="api-binding")
router.register("clusters", ClusterViewSet, basename="api-cluster")
router.register("audit", AuditViewSet, basename="api-audit")

urlpatterns = [
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("docs/", DocsView.as_view(url_name="api-schema"), name="api-docs"),
    *router.urls,
    # Ending in a slash, so that APPEND_SLASH still redirects /api/requests.
    re_path(r"^.*/$", NotFoundView.as_view(), name="api-not-found"),
]
