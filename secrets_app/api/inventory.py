"""Read-only API of what exists: clusters, bindings and their health. Every
logged-in user may browse these, as on the pages."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from secrets_app.api.base import LIST_ERRORS, ListFiltersMixin, PortalAPIMixin, read_input
from secrets_app.api.create import problem_errors, shape_errors
from secrets_app.api.filters import BindingAPIFilter
from secrets_app.api.inputs import ChangeInput, ExtendInput, RevokeInput
from secrets_app.api.serializers import (
    BindingSerializer,
    ClusterSerializer,
    ErrorSerializer,
    HealthSnapshotSerializer,
    RequestDetailSerializer,
    VerifyAskedSerializer,
)
from secrets_app.api.views import detail_queryset
from secrets_app.models import Binding, BindingSecret, Cluster, HealthSnapshot, HealthStatus
from secrets_app.ownership.team_names import with_team_name
from secrets_app.requests import changes, extension, revocation
from secrets_app.requests.filing import FilingInvalid
from secrets_app.tasks.locks import Queued
from secrets_app.tasks.verification import enqueue_verification


def binding_queryset() -> QuerySet[Binding]:
    # A sliced Prefetch is one windowed query for the latest snapshot of
    # every binding on the page (Django >= 4.2).
    latest = HealthSnapshot.objects.order_by("-taken_at", "-id")[:1]
    return (
        with_team_name(Binding.objects.select_related("cluster"))
        .prefetch_related(
            Prefetch("secrets", queryset=BindingSecret.objects.order_by("alias", "id")),
            Prefetch("snapshots", queryset=latest, to_attr="latest"),
        )
        .order_by("cluster__name", "namespace", "service_account", "id")
    )


@extend_schema_view(
    list=extend_schema(
        summary="List clusters", responses={200: ClusterSerializer(many=True), 404: ErrorSerializer}
    ),
    retrieve=extend_schema(
        summary="One cluster", responses={200: ClusterSerializer, 404: ErrorSerializer}
    ),
)
class ClusterViewSet(PortalAPIMixin, viewsets.ReadOnlyModelViewSet):
    """Registered clusters (read-only; admins register them)."""

    queryset = Cluster.objects.order_by("name")
    serializer_class = ClusterSerializer


@extend_schema_view(
    list=extend_schema(
        summary="List bindings",
        description="Filter by the bindings page's filters, with the same names: q (search), "
        "cluster (name or id), environment, namespace, service, secret (ARN or name), "
        "requester (or owner), team, state, standing, health_status, source and drift. "
        "Any other query parameter but page, page_size and format is a 400.",
        parameters=[
            OpenApiParameter(
                "health",
                str,
                enum=HealthStatus.values,
                deprecated=True,
                description="The old name of health_status, still read: use health_status.",
            )
        ],
        responses={200: BindingSerializer(many=True), **LIST_ERRORS},
    ),
    retrieve=extend_schema(
        summary="One binding with its secrets and latest health",
        responses={200: BindingSerializer, 404: ErrorSerializer},
    ),
)
class BindingViewSet(PortalAPIMixin, ListFiltersMixin, viewsets.ReadOnlyModelViewSet):
    """Bindings: which workload may read which secrets, and their health."""

    queryset = Binding.objects.none()  # for the schema; see get_queryset
    serializer_class = BindingSerializer
    filterset_class = BindingAPIFilter

    def get_queryset(self) -> QuerySet[Binding]:
        return binding_queryset()

    @extend_schema(
        summary="The binding's latest health snapshot",
        responses={
            200: HealthSnapshotSerializer,
            404: OpenApiResponse(ErrorSerializer, description="No such binding, or no sweep yet."),
        },
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def health(self, request: Request, pk: str) -> Response:
        binding = self.get_object()
        snapshot = binding.latest[0] if binding.latest else None
        if snapshot is None:
            raise NotFound("No health sweep has seen this binding yet.", code="no_snapshot")
        return Response(HealthSnapshotSerializer(snapshot).data)

    @extend_schema(
        summary="Ask to revoke (the owner, the platform team and admins)",
        description="Files a revocation request: approved like a grant, then pull requests "
        "delete the binding's files and IAM role; once they merge the binding is revoking "
        "until a health sweep and an AWS check find nothing of it left, then revoked.",
        request=RevokeInput,
        responses={
            201: RequestDetailSerializer,
            400: OpenApiResponse(description="The reason is missing or too long."),
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: OpenApiResponse(ErrorSerializer, description="Not active, or already asked."),
        },
        filters=False,
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def revoke(self, request: Request, pk: str) -> Response:
        binding = self.get_object()
        body = read_input(RevokeInput, request)
        asked = revocation.request_revocation(
            binding_id=binding.pk, requester=request.user, reason=body["reason"]
        )
        data = RequestDetailSerializer(detail_queryset().get(pk=asked.pk)).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Ask for a change (the owner, the owning team and admins)",
        description="Files a change request: the binding's new list of secrets (each kept, "
        "changed or added; one left out is removed) and optionally a new mount path. It is "
        "approved like a grant; its pull requests modify the binding's files, and once they "
        "merge the binding takes the new values and is verified again.",
        request=ChangeInput,
        responses={
            201: RequestDetailSerializer,
            400: OpenApiResponse(description="Problems, keyed like the input."),
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: OpenApiResponse(
                ErrorSerializer,
                description="Not active, imported, or a change or revocation is already open.",
            ),
        },
        filters=False,
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def change(self, request: Request, pk: str) -> Response:
        binding = self.get_object()
        # Who may ask, and of which binding, before what was sent (403/409 first).
        changes.changeable(binding.pk, request.user)
        shape = ChangeInput(data=request.data)
        if not shape.is_valid():
            return Response(shape_errors(shape.errors, request.data), status=400)
        data = shape.validated_data
        try:
            filed = changes.request_change(binding_id=binding.pk, requester=request.user, data=data)
        except FilingInvalid as invalid:
            return Response(problem_errors(invalid.problems, len(data["secrets"])), status=400)
        created = detail_queryset().get(pk=filed.request.pk)
        created.api_warnings = filed.checked.warnings
        return Response(RequestDetailSerializer(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Ask to extend the expiry (the owner, the owning team and admins)",
        description="Files an extension request: the binding's new expiry date, approved "
        "like a grant (never by its requester). Once approved the binding expires on the "
        "new date; there are no pull requests.",
        request=ExtendInput,
        responses={
            201: RequestDetailSerializer,
            400: OpenApiResponse(
                description="Problems, keyed like the input: a date not after today or "
                "the current expiry, a binding that is not active or never expires."
            ),
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: OpenApiResponse(ErrorSerializer, description="An extension is already open."),
        },
        filters=False,
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def extend(self, request: Request, pk: str) -> Response:
        binding = self.get_object()
        body = read_input(ExtendInput, request)
        try:
            asked = extension.request_extension(
                binding_id=binding.pk,
                requester=request.user,
                expires_on=body["expires_on"],
                justification=body["justification"],
            )
        except FilingInvalid as invalid:
            return Response(problem_errors(invalid.problems, 0), status=400)
        data = RequestDetailSerializer(detail_queryset().get(pk=asked.pk)).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Verify against AWS now (queued; metadata only)",
        description="Queues one verification of the binding. While one is queued, asking "
        'again queues nothing and answers "already queued"; asked while one runs, one '
        "more is queued.",
        request=None,
        responses={
            202: VerifyAskedSerializer,
            404: ErrorSerializer,
            503: OpenApiResponse(ErrorSerializer, description="The task queue is unreachable."),
        },
        filters=False,
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def verify(self, request: Request, pk: str) -> Response:
        binding = self.get_object()
        asked = enqueue_verification(binding.pk)
        if asked == Queued.NOT_QUEUED:
            return Response(
                {"detail": "The verification could not be queued.", "code": "not_queued"},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        return Response({"status": asked.value}, status=status.HTTP_202_ACCEPTED)
