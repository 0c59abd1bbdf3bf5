"""The audit log, read-only, newest first: for admins, as in the Django
admin (engineers follow a request's own timeline on the request)."""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import BasePermission

from secrets_app.accounts.roles import is_admin
from secrets_app.api.base import LIST_ERRORS, ListFiltersMixin, PortalAPIMixin
from secrets_app.api.serializers import ErrorSerializer
from secrets_app.models import AuditEvent


class IsAdmin(BasePermission):
    message = "The audit log is for admins."

    def has_permission(self, request, view) -> bool:
        return is_admin(request.user)


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name", help_text="Empty for the system.")
    object = serializers.CharField(source="object_repr", help_text="What it was, as named then.")

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "actor",
            "action",
            "object_type",
            "object_id",
            "object",
            "request",
            "message",
            "before",
            "after",
        ]


class AuditFilter(filters.FilterSet):
    action = filters.CharFilter(label="An action, e.g. binding.expiry_set.")
    object_type = filters.CharFilter(label="What changed: request, binding, pullrequest, ...")
    object_id = filters.CharFilter(label="Its id (with object_type).")
    request = filters.NumberFilter(field_name="request_id", label="A request's events.")
    actor = filters.CharFilter(field_name="actor_name", label="Who acted (username).")

    class Meta:
        model = AuditEvent
        fields = ["action", "object_type", "object_id", "request", "actor"]


@extend_schema_view(
    list=extend_schema(
        summary="The audit log, newest first (admins)",
        responses={
            200: AuditEventSerializer(many=True),
            403: OpenApiResponse(ErrorSerializer, description="Not an admin."),
            **LIST_ERRORS,
        },
    ),
)
class AuditViewSet(
    PortalAPIMixin, ListFiltersMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    """Every recorded change, newest first."""

    permission_classes = [IsAdmin]
    serializer_class = AuditEventSerializer
    filterset_class = AuditFilter
    queryset = AuditEvent.objects.order_by("-created_at", "-id")
