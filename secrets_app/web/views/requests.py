"""Pages for filing and following access requests. Thin: the request page's
adapter (``RequestPage``) hands what was typed to the filing service, workflow
services change state, templates show."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from secrets_app.models import AccessRequest, RequestState, SecretGrant, Verdict
from secrets_app.requests import workflow
from secrets_app.requests.permissions import can_cancel, can_comment, can_decide
from secrets_app.requests.preview import build_preview, preview_for_request
from secrets_app.web.filters import RequestFilter
from secrets_app.web.forms.decisions import ApproveForm, CommentForm, RejectForm
from secrets_app.web.forms.requests import MAX_SECRETS, RequestPage, SecretGrantFormSet
from secrets_app.web.tables import RequestTable
from secrets_app.web.views.pulls import progress_context

#: States before any pull request could exist: no progress panel.
NOT_PROVISIONED = (
    RequestState.DRAFT,
    RequestState.PENDING,
    RequestState.REJECTED,
    RequestState.CANCELLED,
)


class MyRequestsView(SingleTableMixin, FilterView):
    template_name = "secrets_app/request_list.html"
    table_class = RequestTable
    filterset_class = RequestFilter
    table_pagination = {"per_page": 50}

    def get_queryset(self):
        return (
            AccessRequest.objects.filter(requester=self.request.user)
            .select_related("cluster")
            .annotate(secret_count=Count("secrets", distinct=True))
            .order_by("-created_at")
        )


@require_http_methods(["GET", "POST"])
def request_create(request: HttpRequest) -> HttpResponse:
    preview = None
    if request.method == "POST":
        page = RequestPage(request.POST, requester=request.user)
        action = request.POST.get("action", "submit")
        if action == "preview":
            checked = page.check()
            preview = build_preview(checked.spec) if checked else None
        else:
            filed = page.file(submit=action == "submit")
            if filed is not None:
                _show_warnings(request, page.warnings)
                verb = "submitted for approval" if action == "submit" else "saved as a draft"
                messages.success(request, f"Request #{filed.request.pk} {verb}.")
                return redirect(filed.request)
        _show_warnings(request, page.warnings)
    else:
        # Without JavaScript, "add another secret" reloads with ?secrets=N.
        wanted = request.GET.get("secrets", "1")
        count = min(int(wanted), MAX_SECRETS) if wanted.isdigit() and wanted != "0" else 1
        page = RequestPage(requester=request.user, secrets=count)
    return render(
        request,
        "secrets_app/request_form.html",
        {"form": page.form, "formset": page.formset, "preview": preview},
    )


def _show_warnings(request: HttpRequest, warnings: list[str]) -> None:
    for warning in warnings:
        messages.warning(request, warning)


def _request_queryset():
    return AccessRequest.objects.select_related("cluster", "requester").prefetch_related(
        Prefetch("secrets", queryset=SecretGrant.objects.order_by("position")),
        "decisions__approver",
    )


def request_detail(
    request: HttpRequest, pk: int, *, status: int = 200, extra: dict | None = None
) -> HttpResponse:
    access_request = get_object_or_404(_request_queryset(), pk=pk)
    user = request.user
    approvals = sum(1 for d in access_request.decisions.all() if d.verdict == Verdict.APPROVE)
    state = access_request.state
    show_progress = state not in NOT_PROVISIONED
    context = {
        "req": access_request,
        "secrets": access_request.secrets.all(),
        "timeline": access_request.audit_events.all(),
        "approvals": approvals,
        "can_decide": can_decide(user, access_request)
        and state == RequestState.PENDING
        and not any(d.approver_id == user.pk for d in access_request.decisions.all()),
        "can_cancel": can_cancel(user, access_request)
        and state in (RequestState.DRAFT, RequestState.PENDING),
        "can_submit": can_cancel(user, access_request) and state == RequestState.DRAFT,
        "can_comment": can_comment(user, access_request),
        "approve_form": ApproveForm(),
        "reject_form": RejectForm(),
        "comment_form": CommentForm(),
        "preview": preview_for_request(access_request),
        "show_progress": show_progress,
        "progress": progress_context(request, access_request) if show_progress else None,
        **(extra or {}),
    }
    return render(request, "secrets_app/request_detail.html", context, status=status)


def _run(request: HttpRequest, pk: int, action, *, success: str, **forms_extra) -> HttpResponse:
    """Call a workflow service; on refusal show the request page with the reason."""
    try:
        action()
    except workflow.WorkflowError as error:
        messages.error(request, error.message)
        return request_detail(request, pk, status=error.status, extra=forms_extra)
    messages.success(request, success)
    return redirect("request-detail", pk=pk)


@require_POST
def request_approve(request: HttpRequest, pk: int) -> HttpResponse:
    form = ApproveForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""
    return _run(
        request,
        pk,
        lambda: workflow.request_approve(request_id=pk, approver=request.user, comment=comment),
        success="Your approval is recorded.",
    )


def _run_with_form(
    request: HttpRequest, pk: int, form_class, *, key: str, invalid: str, action, success: str
) -> HttpResponse:
    """As ``_run``, for an action that takes a form's text (a reason, a comment)."""
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, invalid)
        return request_detail(request, pk, status=400, extra={key: form})
    return _run(request, pk, lambda: action(form.cleaned_data), success=success)


@require_POST
def request_reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _run_with_form(
        request,
        pk,
        RejectForm,
        key="reject_form",
        invalid="A rejection needs a reason for the requester.",
        action=lambda data: workflow.request_reject(
            request_id=pk, approver=request.user, reason=data["reason"]
        ),
        success="The request is rejected.",
    )


@require_POST
def request_comment(request: HttpRequest, pk: int) -> HttpResponse:
    return _run_with_form(
        request,
        pk,
        CommentForm,
        key="comment_form",
        invalid="A comment cannot be empty.",
        action=lambda data: workflow.request_comment(
            request_id=pk, author=request.user, body=data["body"]
        ),
        success="Comment added.",
    )


@require_POST
def request_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _run(
        request,
        pk,
        lambda: workflow.request_cancel(request_id=pk, actor=request.user),
        success="The request is cancelled.",
    )


@require_POST
def request_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _run(
        request,
        pk,
        lambda: workflow.request_submit(request_id=pk, actor=request.user),
        success="The request is submitted for approval.",
    )


def request_secret_form(request: HttpRequest) -> HttpResponse:
    """One more blank secret form (htmx), with the formset's total updated out of band."""
    raw = request.GET.get("index", "1")
    index = min(max(int(raw) if raw.isdigit() else 1, 1), MAX_SECRETS - 1)
    form = SecretGrantFormSet(prefix="secrets").empty_form
    form.prefix = f"secrets-{index}"
    return render(
        request,
        "secrets_app/_secret_form_fragment.html",
        {"sf": form, "index": index, "number": index + 1, "total": index + 1},
    )
