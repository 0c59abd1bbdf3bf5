"""What every API view shares: token or session authentication past the
login middleware, JSON only, and errors as ``{"detail", "code"}``."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse
from rest_framework import pagination, status
from rest_framework.exceptions import APIException, NotFound
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView, exception_handler

from secrets_app.api.serializers import ErrorSerializer
from secrets_app.requests.states import WorkflowError


def portal_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus WorkflowError, with a machine-readable ``code``
    beside every ``detail``."""
    if isinstance(exc, WorkflowError):
        return Response({"detail": exc.message, "code": exc.code}, status=exc.status)
    response = exception_handler(exc, context)
    if (
        response is not None
        and isinstance(response.data, dict)
        and set(response.data) == {"detail"}
    ):
        detail = response.data["detail"]
        response.data["code"] = getattr(detail, "code", None) or "error"
    return response


class UnknownQueryParameters(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "unknown_parameters"


#: Query parameters every endpoint reads (DRF's format override).
ALWAYS_KNOWN = frozenset({"format"})


def refuse_unknown_query_parameters(view, request: Request) -> None:
    """A 400 naming every query parameter the endpoint does not read: a
    misspelt filter (``?helth=failing``) would otherwise list everything."""
    action = getattr(view, "action", None)
    if action is None:
        return  # not an operation (an unknown path, a method not allowed)
    known = set(ALWAYS_KNOWN)
    if action == "list":
        paginator = getattr(view, "paginator", None)
        if paginator is not None:
            known |= {paginator.page_query_param, paginator.page_size_query_param}
        filterset_class = getattr(view, "filterset_class", None)
        if filterset_class is not None:
            known |= set(filterset_class.base_filters)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        names = ", ".join(unknown)
        accepted = ", ".join(sorted(known))
        raise UnknownQueryParameters(
            f"Unknown query parameter{'s' if len(unknown) > 1 else ''}: {names}. "
            f"This endpoint reads: {accepted}."
        )


class PortalPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


# Mixed into every API viewset. (A comment, not a docstring: drf-spectacular
# would show a docstring as every operation's description.)
# DRF marks its views login_required = False, so LoginRequiredMiddleware lets
# token clients through to DRF's own IsAuthenticated (401, not a redirect).
class PortalAPIMixin:
    parser_classes = [JSONParser]
    pagination_class = PortalPagination

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        refuse_unknown_query_parameters(self, request)

    def get_exception_handler(self):
        return portal_exception_handler


class ListFiltersMixin:
    """django-filter's query parameters shape the list only: any object can
    be read (and acted on) by id, as on the pages."""

    filter_backends = [DjangoFilterBackend]

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        return super().filter_queryset(queryset) if self.action == "list" else queryset


def read_input(serializer_class: type[Serializer], request: Request) -> dict[str, Any]:
    """The request body checked by an input serializer (a 400 naming the
    fields otherwise)."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


#: The documented errors of a filtered list.
LIST_ERRORS = {
    400: OpenApiResponse(
        description='A filter value is invalid ({"<parameter>": ["..."]}), or a query '
        'parameter is unknown ({"detail": "...", "code": "unknown_parameters"}, naming it).'
    ),
    404: OpenApiResponse(ErrorSerializer, description="No such page."),
}


class NotFoundView(PortalAPIMixin, APIView):
    """Any other path under /api/: a JSON 404 (401 without credentials),
    never the site's HTML page."""

    schema = None  # not an operation

    def http_method_not_allowed(self, request, *args, **kwargs):
        # No handler is defined, so every method lands here, after DRF has
        # authenticated the request.
        raise NotFound()
