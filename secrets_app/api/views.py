"""Access requests: list, file, read, and the workflow actions. Thin: the
input serializers check shape, ``create.py`` validates like the page, the
workflow services decide, and ``base.portal_exception_handler`` maps their
refusals (403 forbidden/own_request, 404 not_found, 409 otherwise)."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from secrets_app.api import inputs
from secrets_app.api.base import LIST_ERRORS, ListFiltersMixin, PortalAPIMixin, read_input
from secrets_app.api.create import request_create_from_api, shape_errors
from secrets_app.api.edit import edit_body, request_edit_from_api
from secrets_app.api.filters import RequestAPIFilter
from secrets_app.api.serializers import (
    CommentSerializer,
    ErrorSerializer,
    RequestCreatedSerializer,
    RequestDetailSerializer,
    RequestListSerializer,
)
from secrets_app.models import AccessRequest, SecretGrant
from secrets_app.rendering.name_rules import is_number
from secrets_app.requests import workflow
from secrets_app.requests.drafts import editable_draft

_BAD_INPUT = OpenApiResponse(
    description="Field errors keyed like the input, e.g. "
    '{"namespace": ["..."], "secrets": [{"alias": ["..."]}, {}]}.'
)
_REFUSED = {
    403: OpenApiResponse(ErrorSerializer, description="Not allowed (forbidden, own_request)."),
    404: OpenApiResponse(ErrorSerializer, description="No such request."),
    409: OpenApiResponse(ErrorSerializer, description="Not in a state that allows this."),
}
#: What an action on one request answers.
_DONE = {200: RequestDetailSerializer, **_REFUSED}
_DONE_WITH_INPUT = {200: RequestDetailSerializer, 400: _BAD_INPUT, **_REFUSED}


@extend_schema_view(
    list=extend_schema(
        summary="List requests",
        description="Your own requests by default; `all=true` lists everyone's "
        "(every engineer may follow every request, as on the pages).",
        responses={200: RequestListSerializer(many=True), **LIST_ERRORS},
    ),
    retrieve=extend_schema(
        summary="One request with its secrets, decisions, comments and timeline",
        responses={200: RequestDetailSerializer, 404: ErrorSerializer},
    ),
    create=extend_schema(
        summary="File a request (validated exactly like the request form)",
        request=inputs.RequestCreateInput,
        responses={201: RequestCreatedSerializer, 400: _BAD_INPUT},
    ),
    update=extend_schema(
        summary="Edit a draft: the whole request again (its requester and admins)",
        description="Validated exactly like a new request; the draft's fields and secrets "
        "are replaced together, or nothing changes. `submit=true` submits it too (its "
        "requester only). A request that is no longer a draft answers 409.",
        request=inputs.RequestEditInput,
        responses={200: RequestCreatedSerializer, 400: _BAD_INPUT, **_REFUSED},
    ),
    partial_update=extend_schema(
        summary="Edit a draft: only the fields given (its requester and admins)",
        description="As PUT, with the draft's values for the fields left out; `secrets`, "
        "if given, is the whole new list.",
        request=inputs.RequestEditInput,
        responses={200: RequestCreatedSerializer, 400: _BAD_INPUT, **_REFUSED},
    ),
)
class RequestViewSet(
    PortalAPIMixin,
    ListFiltersMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Access requests and their workflow actions."""

    filterset_class = RequestAPIFilter
    queryset = AccessRequest.objects.none()  # for the schema; see get_queryset

    def get_queryset(self) -> QuerySet[AccessRequest]:
        if self.action == "list":
            return (
                AccessRequest.objects.select_related("cluster", "requester")
                .annotate(secret_count=Count("secrets", distinct=True))
                .order_by("-created_at", "-id")
            )
        return detail_queryset()

    def get_serializer_class(self):
        return RequestListSerializer if self.action == "list" else RequestDetailSerializer

    def create(self, request: Request) -> Response:
        shape = inputs.RequestCreateInput(data=request.data)
        if not shape.is_valid():
            errors = shape_errors(shape.errors, request.data)
            return Response(errors, status=status.HTTP_400_BAD_REQUEST)
        outcome = request_create_from_api(requester=request.user, data=shape.validated_data)
        if outcome.errors:
            return Response(outcome.errors, status=status.HTTP_400_BAD_REQUEST)
        created = detail_queryset().get(pk=outcome.request.pk)
        created.api_warnings = outcome.warnings
        return Response(RequestCreatedSerializer(created).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, pk: str) -> Response:
        return self._edit(request, pk, partial=False)

    def partial_update(self, request: Request, pk: str) -> Response:
        return self._edit(request, pk, partial=True)

    def _edit(self, request: Request, pk: str, *, partial: bool) -> Response:
        # Who may edit, and whether it is still a draft, before the body.
        draft = editable_draft(_id(pk), request.user)
        body = edit_body(draft, request.data, partial=partial)
        shape = inputs.RequestEditInput(data=body)
        if not shape.is_valid():
            return Response(shape_errors(shape.errors, body), status=status.HTTP_400_BAD_REQUEST)
        outcome = request_edit_from_api(
            editor=request.user, request_id=draft.pk, data=shape.validated_data
        )
        if outcome.errors:
            return Response(outcome.errors, status=status.HTTP_400_BAD_REQUEST)
        edited = detail_queryset().get(pk=draft.pk)
        edited.api_warnings = outcome.warnings
        return Response(RequestCreatedSerializer(edited).data)

    @extend_schema(
        summary="Approve (platform team; never your own request)",
        request=inputs.ApproveInput,
        responses=_DONE_WITH_INPUT,
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        body = read_input(inputs.ApproveInput, request)
        workflow.request_approve(
            request_id=_id(pk), approver=request.user, comment=body.get("comment", "")
        )
        return self._detail(pk)

    @extend_schema(
        summary="Reject with a reason (platform team; never your own request)",
        request=inputs.RejectInput,
        responses=_DONE_WITH_INPUT,
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        body = read_input(inputs.RejectInput, request)
        workflow.request_reject(request_id=_id(pk), approver=request.user, reason=body["reason"])
        return self._detail(pk)

    @extend_schema(
        summary="Comment (the requester, the platform team and admins)",
        request=inputs.CommentInput,
        responses={201: CommentSerializer, 400: _BAD_INPUT, **_REFUSED},
    )
    @action(detail=True, methods=["post"])
    def comment(self, request: Request, pk: str) -> Response:
        body = read_input(inputs.CommentInput, request)
        made = workflow.request_comment(request_id=_id(pk), author=request.user, body=body["body"])
        return Response(CommentSerializer(made).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Cancel a draft or pending request (the requester only)",
        request=None,
        responses=_DONE,
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        workflow.request_cancel(request_id=_id(pk), actor=request.user)
        return self._detail(pk)

    @extend_schema(
        summary="Submit a draft for approval (the requester only)",
        request=None,
        responses=_DONE,
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str) -> Response:
        workflow.request_submit(request_id=_id(pk), actor=request.user)
        return self._detail(pk)

    @staticmethod
    def _detail(pk: str) -> Response:
        return Response(RequestDetailSerializer(detail_queryset().get(pk=_id(pk))).data)


def _id(pk: str) -> int:
    # The route takes any segment so that a bad id is a JSON 404, not the
    # site's HTML one.
    if not is_number(pk):
        raise NotFound("No such request.", code="not_found")
    return int(pk)


def detail_queryset() -> QuerySet[AccessRequest]:
    return AccessRequest.objects.select_related("cluster", "requester", "binding").prefetch_related(
        Prefetch("secrets", queryset=SecretGrant.objects.order_by("position")),
        "decisions__approver",
        "comments__author",
        "audit_events",
    )
